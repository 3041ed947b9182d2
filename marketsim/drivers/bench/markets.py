"""The markets of a suite: each entry's scenario with its changes, sampled families drawn.

A market is a validated scenario (not yet prepared: strategies change it first) with
what was changed to make it. A sampled family draws `count` points in the unit cube
by Latin hypercube or scrambled Sobol (`scipy.stats.qmc`, seeded by the family's
`seed`) and maps each coordinate onto its range; whole-number bounds give whole
numbers. A posterior family's market NAME[i] takes posterior draw i
(`marketsim.drivers.posterior.draw`, the rule replicate i of `run --posterior` follows).
The values drawn are the market's *parameters*, the features scenario discovery
explains wins with.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from marketsim.core.errors import Problem, ScenarioError, quoted
from marketsim.drivers.posterior import draw as posterior_draw
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario.changes import Change, apply_changes, values_at
from marketsim.scenario.references import check_references
from marketsim.scenario.resources import check_fits_in_memory
from marketsim.scenario.schema import Scenario
from marketsim.scenario.source import Document, Location
from marketsim.scenario.suite import (
    ListedMarket,
    MarketDef,
    MarketSpec,
    PosteriorMarkets,
    SampledMarkets,
    SuiteFile,
)
from marketsim.scenario.validate import model_problems

NAMED_MARKETS = 4
"""Markets named in one problem before the rest are counted."""


@dataclass(frozen=True)
class Market:
    """One market of a suite: its scenario, and the parameter values that define it."""

    name: str
    family: str
    kind: str
    """`listed` (a scenario with changes), `lhs` / `sobol` (drawn) or `posterior`."""
    file: Path
    scenario: Scenario
    values: dict[str, float]
    """The values drawn for each range or posterior parameter, by dotted path."""
    features: dict[str, float]
    """Every varied setting's value in this market (a `*` path: the mean of its matches)."""
    where: Location


def draw(spec: SampledMarkets) -> list[dict[str, float]]:
    """The family's points: one value per range for each of its `count` markets.

    Sobol points keep their balance only in powers of two; other counts take the first
    `count` points of the sequence (scipy's warning about it is silenced, the docs say it).
    """
    from scipy.stats import qmc

    dims = len(spec.ranges)
    if spec.sample == "sobol":
        sampler: Any = qmc.Sobol(d=dims, scramble=True, rng=spec.seed)
    else:
        sampler = qmc.LatinHypercube(d=dims, rng=spec.seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The balance properties of Sobol")
        unit = sampler.random(spec.count)
    points = []
    for row in unit:
        point = {}
        for u, (path, (low, high)) in zip(row, spec.ranges.items(), strict=True):
            if isinstance(low, int) and isinstance(high, int):
                point[path] = min(high, low + math.floor(float(u) * (high - low + 1)))
            else:
                point[path] = float(low + float(u) * (high - low))
        points.append(point)
    return points


def build_markets(suite: SuiteFile, overrides: Sequence[str] = ()) -> list[Market]:
    """Every market of `suite`, sampled families drawn, in the order the suite lists them.

    `overrides` are `--set` texts applied to every scenario file as it is loaded.

    Raises:
        ScenarioError: with every problem found, in the scenario files (and `--set`) or
            located in the suite where the change at fault was written.

    """
    bases: dict[Path, Scenario] = {}
    problems: list[Problem] = []
    for file in dict.fromkeys(m.scenario for m in suite.markets):
        try:
            bases[file] = load_scenario(file, overrides)
        except ScenarioError as e:
            problems += e.problems
    if problems:
        raise ScenarioError(problems)
    varied = feature_paths(suite)
    members = [(entry, m) for entry in suite.markets for m in _members(entry)]
    raw: list[tuple[Problem, str, str | None]] = []
    markets = []
    for entry, (name, values, changes) in members:
        try:
            scenario = changed(bases[entry.scenario], changes, suite.doc.name, entry.where)
        except ScenarioError as e:
            raw += [(p, name, None) for p in e.problems]
            continue
        data = scenario.model_dump(mode="json")
        features = {p: v for p in varied if (v := feature_value(data, p)) is not None}
        kind = _kind(entry.spec)
        markets.append(
            Market(
                name, entry.spec.name, kind, entry.scenario, scenario, values, features, entry.where
            )
        )
    problems = grouped(raw, [name for _, (name, _, _) in members])
    if problems:
        raise ScenarioError(problems)
    return markets


def grouped(
    raw: Sequence[tuple[Problem, str, str | None]], markets: Sequence[str]
) -> list[Problem]:
    """One problem per place and message, saying which markets (or every market) it is in.

    `raw` holds each problem with the market it was found in and the strategy being
    applied (None for the market's own changes).
    """
    found: dict[tuple[Problem, str | None], list[str]] = {}
    for problem, market, strategy in raw:
        found.setdefault((problem, strategy), []).append(market)
    problems = []
    for (problem, strategy), names in found.items():
        if len(names) == len(markets) and len(markets) > 1:
            place = "in every market"
        elif len(names) <= NAMED_MARKETS:
            place = f"in market{'s' * (len(names) > 1)} {quoted(names)}"
        else:
            place = (
                f"in markets {quoted(names[:NAMED_MARKETS])} and {len(names) - NAMED_MARKETS} more"
            )
        who = f"strategy {strategy!r} {place}" if strategy is not None else place
        problems.append(dataclasses.replace(problem, message=f"{who}: {problem.message}"))
    return problems


def _kind(spec: MarketSpec) -> str:
    if isinstance(spec, SampledMarkets):
        return spec.sample
    return "posterior" if isinstance(spec, PosteriorMarkets) else "listed"


def _members(entry: MarketDef) -> list[tuple[str, dict[str, float], tuple[Change, ...]]]:
    """(name, values drawn, changes) of each market an entry stands for."""
    spec = entry.spec
    if isinstance(spec, ListedMarket):
        return [(spec.name, {}, entry.changes)]
    if isinstance(spec, PosteriorMarkets):
        assert entry.posterior is not None  # read with the suite
        points = [
            entry.posterior.values_of(posterior_draw(entry.posterior, i)) for i in range(spec.draws)
        ]
    else:
        points = draw(spec)
    members = []
    for name, point in zip(spec.names(), points, strict=True):
        drawn = tuple(Change("set", p, v, entry.ranges[p]) for p, v in point.items())
        members.append((name, point, (*entry.changes, *drawn)))
    return members


def feature_paths(suite: SuiteFile) -> list[str]:
    """The settings markets vary: every range, and every market's own `set` and `scale`."""
    paths: dict[str, None] = {}
    for entry in suite.markets:
        own = entry.changes[len(suite.spec.set) :]
        paths.update(dict.fromkeys(c.path for c in own))
        paths.update(dict.fromkeys(entry.ranges))
    return list(paths)


def feature_value(data: Any, path: str) -> float | None:
    """The number `path` names in `data`; with a `*`, the mean of the numbers it matches."""
    found = [v for v in values_at(data, path) if isinstance(v, int | float)]
    numbers = [float(v) for v in found if not isinstance(v, bool)]
    return sum(numbers) / len(numbers) if numbers else None


def changed(base: Scenario, changes: Sequence[Change], source: str, where: Location) -> Scenario:
    """`base` with `changes` applied and validated again (not prepared).

    Problems are located where the change at fault was written, others at `where` (the
    entry that asked for the changes).

    Raises:
        ScenarioError: a change that cannot apply, or a result the schema refuses.

    """
    data = base.model_dump(mode="json")
    written: dict[tuple[str | int, ...], Location] = {(): where}
    problems = apply_changes(data, changes, written)
    if not problems:
        doc = Document(source, data, written, dict(written))
        try:
            scenario = Scenario.model_validate(data)
            problems = check_references(scenario, doc.problem)
            if not problems:
                check_fits_in_memory(scenario, doc.problem)
                return scenario
        except ValidationError as e:
            problems = model_problems(Scenario, e, doc.problem)
        except ScenarioError as e:
            problems = e.problems
    raise ScenarioError(problems)
