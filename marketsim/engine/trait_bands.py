"""Outcomes by trait band: who bought, among consumers who differ.

A trait is banded over the consumers of the segments where it varies. Drawn from
discrete mixes, it is banded by value, so each group of a mix is one band; otherwise
(and always for media habits, which are relative to the segment's mean) by quintile,
in real people (a sampled segment's agents weigh `represents / size`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsim.core.stages import CUSTOMER
from marketsim.engine.population import Population
from marketsim.scenario.schema import Scenario, Segment
from marketsim.scenario.traits import Mix, Trait, varies

QUANTILES = 5
MAX_VALUES = 8
"""A discrete trait with more values than this is banded by quintile instead."""


@dataclass(frozen=True)
class TraitBand:
    """One band of one trait in one replicate, at the horizon.

    Attributes:
        trait: the trait (`price_sensitivity`, ...) or `habit:<medium>`.
        low / high: the smallest and largest value in the band.
        people: real people in the band.
        customers: of them, customers at the horizon.
        units: units they bought over the run.
        revenue: what they paid over the run.

    """

    trait: str
    low: float
    high: float
    people: float
    customers: float
    units: float
    revenue: float


def trait_bands(scenario: Scenario, population: Population) -> list[TraitBand]:
    """Bands of every varying trait, over the consumers of the segments where it varies."""
    traits = population.traits
    columns = [(name, getattr(traits, name)) for name in traits.varied()]
    columns += [(f"habit:{m}", traits.habit[:, j]) for j, m in enumerate(traits.media)]
    scale = np.array([s.scale for s in scenario.segments], dtype=np.float64)[population.segment]
    bands = []
    for name, column in columns:
        specs = [_spec(s, name) if s.kind == "b2c" else None for s in scenario.segments]
        who = np.array([varies(spec) for spec in specs])[population.segment]
        if not who.any():
            continue
        values, weight = column[who], scale[who]
        outcomes = (
            weight,
            weight * (population.stage[who] == CUSTOMER),
            weight * population.purchases[who],
            weight * population.spent[who].astype(np.float64),
        )
        habit = name.startswith("habit:")
        levels = None if habit else _levels([spec for spec in specs if varies(spec)])
        band = _quantile_band(values, weight) if levels is None else np.searchsorted(levels, values)
        for b in range(QUANTILES if levels is None else len(levels)):
            members = band == b
            if not members.any():
                continue
            people, customers, units, revenue = (float(x[members].sum()) for x in outcomes)
            low, high = float(values[members].min()), float(values[members].max())
            bands.append(TraitBand(name, low, high, people, customers, units, revenue))
    return bands


def _spec(segment: Segment, name: str) -> Trait | None:
    """The segment's distribution of a trait or of a medium's habit."""
    if name.startswith("habit:"):
        habit = segment.media.get(name.removeprefix("habit:"))
        return None if habit is None else habit.habit
    return getattr(segment.traits, name)


def _levels(specs: list[Trait]) -> np.ndarray | None:
    """The values a trait drawn from discrete mixes can take (float32, sorted), else None."""
    if not all(isinstance(spec, Mix) for spec in specs):
        return None
    found = {float(v) for spec in specs for v in spec.values}
    if len(found) > MAX_VALUES:
        return None
    return np.array(sorted(found), dtype=np.float32)


def _quantile_band(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Each person's quintile by weighted rank (ties in index order)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weight[order])
    middle = (cumulative - weight[order] / 2) / cumulative[-1]
    band = np.empty(values.shape[0], dtype=np.int64)
    band[order] = np.minimum((middle * QUANTILES).astype(np.int64), QUANTILES - 1)
    return band
