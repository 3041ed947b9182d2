"""Outcomes by trait band: who bought, among consumers who differ.

A trait is banded over the consumers of the segments where it varies. Drawn from
discrete mixes, it is banded by value, so each group of a mix is one band; otherwise
(and always for media habits, which are relative to the segment's mean) by quintile,
in real people (a sampled segment's agents weigh `represents / size`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from marketsim.engine.population import Population
from marketsim.kernels.bands import band_totals, bands_by_key, keys_at_ranks, order_keys
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
    offsets = population.offsets
    bands = []
    for name, column in columns:
        specs = [_spec(s, name) if s.kind == "b2c" else None for s in scenario.segments]
        blocks = [
            (int(offsets[s]), int(offsets[s + 1]), segment.scale)
            for s, segment in enumerate(scenario.segments)
            if varies(specs[s])
        ]
        if blocks:
            levels = None if name.startswith("habit:") else _levels([s for s in specs if varies(s)])
            bands += _bands_of(name, column, blocks, levels, population)
    return bands


def _bands_of(
    name: str,
    column: np.ndarray,
    blocks: list[tuple[int, int, int]],
    levels: np.ndarray | None,
    population: Population,
) -> list[TraitBand]:
    """One trait's bands over the rows `blocks` (first, stop, people per agent).

    Segments are contiguous blocks of rows, so the trait's people are gathered by
    slices, and the totals are one pass over those rows (`band_totals`).
    """

    def take(array: np.ndarray) -> np.ndarray:
        if len(blocks) == 1:
            return array[blocks[0][0] : blocks[0][1]]
        return np.concatenate([array[lo:hi] for lo, hi, _ in blocks])

    values = take(column)
    scales = sorted({k for *_, k in blocks})
    unit, weight = float(scales[0]), None
    if len(scales) > 1:
        unit = 1.0
        weight = np.repeat([float(k) for *_, k in blocks], [hi - lo for lo, hi, _ in blocks])
    if levels is None:
        band, low, high = _quantile_bands(values, weight)
    else:
        band, low, high = np.searchsorted(levels, values).astype(np.int8), levels, levels
    lo, hi, scale = (np.array(part) for part in zip(*blocks, strict=True))
    per_agent = np.ones(len(blocks)) if weight is None else scale.astype(np.float64)
    people, customers, units, revenue = unit * band_totals(
        band, lo, hi, per_agent, population.stage, population.purchases, population.spent, len(low)
    )
    return [
        TraitBand(
            name,
            float(low[b]),
            float(high[b]),
            float(people[b]),
            float(customers[b]),
            float(units[b]),
            float(revenue[b]),
        )
        for b in range(len(low))
        if people[b] > 0
    ]


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


def _quantile_bands(
    values: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each person's quintile by (weighted) rank, ties in row order; each band's range.

    A person falls in the quintile holding the middle of their weight in the ranking.
    Unweighted, the quintiles' first ranks are known, so only the keys at those ranks
    and at the bands' last ranks are needed (`keys_at_ranks`: a select, not a sort), and
    each person's band is found by comparing their key with them, with no scatter
    through the order.
    """
    m = values.shape[0]
    bits = _bits(values)
    keys = order_keys(bits)
    if weight is None:
        start = np.array([_first_rank(b, m) for b in range(QUANTILES)])
        stop = np.append(start[1:], m)
        ends = np.concatenate([np.minimum(start, m - 1), np.maximum(stop - 1, 0)])
        at = keys_at_ranks(keys, ends)
        band = bands_by_key(bits, np.where(start[1:] < m, at[1:QUANTILES], _NO_KEY))
        first, last = _rows(at[:QUANTILES]), _rows(at[QUANTILES:])
    else:
        order = _rows(np.sort(keys))
        cumulative = np.cumsum(weight[order])
        middle = (cumulative - weight[order] / 2) / cumulative[-1]
        ranked = np.minimum((middle * QUANTILES).astype(np.int64), QUANTILES - 1)
        band = np.empty(m, dtype=np.int8)
        band[order] = ranked
        start = np.searchsorted(ranked, np.arange(QUANTILES), side="left")
        stop = np.searchsorted(ranked, np.arange(QUANTILES), side="right")
        first, last = order[np.minimum(start, m - 1)], order[np.maximum(stop - 1, 0)]
    return band, values[first], values[last]


_NO_KEY = np.uint64(2**64 - 1)
"""Above every key (a finite float's ordered bits never reach all ones)."""


def _first_rank(band: int, m: int) -> int:
    """The first of m ranks whose middle falls in quintile `band`: ((2r + 1) Q) // (2m)."""
    return bisect.bisect_left(range(m), band, key=lambda r: (2 * r + 1) * QUANTILES // (2 * m))


def _bits(values: np.ndarray) -> np.ndarray:
    """The float32 values' bits, contiguous (a habit is a column of a matrix)."""
    return np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)


def _rows(keys: np.ndarray) -> np.ndarray:
    """The rows that sorted `order_keys` stand for: `np.argsort(values, kind="stable")`.

    Each value's bits, made to order as the floats do, above its row: sorting these
    distinct 64-bit keys needs no stable sort (numpy's is a merge sort, ten times slower
    here; its default one is vectorised), and ties come out in row order.
    """
    return (keys & np.uint64(0xFFFFFFFF)).view(np.int64)
