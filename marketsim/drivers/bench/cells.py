"""The cells of a benchmark: every strategy applied to every market, checked before any run.

A strategy is a list of changes applied on top of each market's scenario, in the order
file, overlay, `set`, `scale`, `shift`. A strategy `file` (an optimiser's `best.yaml`)
stands for its plan: where its products, channels, sales organisation and brokers
differ from the suite's `scenario`, those values are set in every market; its segments
(the market) and run settings are never taken.

Every problem of every cell is found before anything runs: a change naming a path some
market lacks is reported where it was written, naming the markets (or "every market")
with did-you-mean; markets whose horizon or step differ are refused, since every
statistic compares totals over the same calendar.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from marketsim.core.errors import Problem, ScenarioError, show
from marketsim.core.version import __version__
from marketsim.drivers.bench.markets import Market, changed, grouped
from marketsim.plugins.prepare import load_scenario, prepare
from marketsim.scenario.changes import Change, differences, node_at
from marketsim.scenario.paths import locate
from marketsim.scenario.schema import Scenario
from marketsim.scenario.source import Document, Location, read_document
from marketsim.scenario.suite import StrategyDef, SuiteFile

PLAN = ("products", "channels", "sales", "brokers")
"""The sections of a strategy file that are its plan: what the company decides."""


@dataclass(frozen=True)
class Cell:
    """One (market, strategy): the prepared scenario every replicate of it runs."""

    market: str
    strategy: str
    scenario: Scenario
    signature: str
    """What the cell's rows mean (scenario, seed, version), to refuse mixing on resume."""


def build_cells(suite: SuiteFile, markets: Sequence[Market], seed: int) -> list[Cell]:
    """Every (market, strategy) of the suite, market-major, each scenario prepared.

    Raises:
        ScenarioError: every change that cannot apply in some market, and every market
            whose calendar differs from the first's.

    """
    raw: list[tuple[Problem, str, str]] = []
    strategies: list[tuple[StrategyDef, tuple[Change, ...]]] = []
    problems: list[Problem] = []
    for strategy in suite.strategies:
        try:
            strategies.append((strategy, (*file_changes(suite, strategy), *strategy.changes)))
        except ScenarioError as e:
            problems += e.problems
    if problems:
        raise ScenarioError(problems)
    cells = []
    for market in markets:
        for strategy, changes in strategies:
            name = strategy.spec.name
            try:
                scenario = prepare(
                    changed(market.scenario, changes, suite.doc.name, strategy.where)
                )
            except ScenarioError as e:
                raw += [(p, market.name, name) for p in e.problems]
                continue
            cells.append(Cell(market.name, name, scenario, signature(scenario, seed)))
    problems = grouped(raw, [m.name for m in markets])
    if problems:
        raise ScenarioError(problems)
    problems = check_calendar(cells, markets)
    if problems:
        raise ScenarioError(problems)
    return cells


def signature(scenario: Scenario, seed: int) -> str:
    """A digest of what a cell's rows mean: its scenario, the seed and marketsim's version."""
    data = {"scenario": scenario.model_dump(mode="json"), "seed": seed, "version": __version__}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def check_calendar(cells: Sequence[Cell], markets: Sequence[Market]) -> list[Problem]:
    """Cells whose horizon or step differ from the first cell's, located at their market."""
    if not cells:
        return []
    first = cells[0]
    where = {m.name: m.where for m in markets}
    calendar = (first.scenario.horizon, first.scenario.step)
    seen: set[tuple[str, int, str]] = set()
    problems = []
    for cell in cells[1:]:
        own = (cell.scenario.horizon, cell.scenario.step)
        if own == calendar or (cell.market, *own) in seen:
            continue
        seen.add((cell.market, *own))
        problems.append(
            Problem(
                *where[cell.market],
                "",
                f"market {cell.market!r} (strategy {cell.strategy!r}) runs {own[0]} {own[1]}s, "
                f"but market {first.market!r} runs {calendar[0]} {calendar[1]}s: every run of a "
                "suite covers the same calendar, so horizon and step must match",
            )
        )
    return problems


def file_changes(suite: SuiteFile, strategy: StrategyDef) -> list[Change]:
    """A strategy file's plan as `set` changes: where it differs from the suite's scenario.

    Raises:
        ScenarioError: the file is not a valid scenario, or adds or leaves out an item of
            the plan (a channel, a product, a broker) the suite's scenario has.

    """
    if strategy.file is None or suite.base_scenario is None:
        return []
    theirs = load_scenario(strategy.file).model_dump(mode="json")
    ours = load_scenario(suite.base_scenario).model_dump(mode="json")
    doc = read_document(strategy.file)
    changes, problems = [], []
    for section in PLAN:
        for path in differences(ours.get(section), theirs.get(section), (section,)):
            where = _written(doc, theirs, path)
            mine, yours = node_at(ours, path), node_at(theirs, path)
            if (
                len(path) >= 2
                and (mine is None) != (yours is None)
                and _is_item(ours, theirs, path)
            ):
                verb = "adds" if mine is None else "leaves out"
                message = (
                    f"the strategy file {verb} {show(path[-1])}, which the suite's scenario "
                    f"{'lacks' if mine is None else 'has'}: a strategy changes the items "
                    "every market has (switch one off with enabled: false)"
                )
                problems.append(Problem(*where, ".".join(path), message))
                continue
            changes.append(Change("set", ".".join(path), yours, where))
    if problems:
        raise ScenarioError(problems)
    return changes


def _is_item(ours: object, theirs: object, path: tuple[str, ...]) -> bool:
    """Whether `path` names an item of a list (by its id), not a key of a mapping."""
    parent = node_at(ours, path[:-1]) or node_at(theirs, path[:-1])
    return isinstance(parent, list)


def _written(doc: Document, data: dict, path: tuple[str, ...]) -> Location:
    """Where `path` (list items by id) was written in the file `doc` was read from."""
    try:
        spot = locate(data, list(path))
    except ValueError:
        return doc.locate(())
    return doc.locate(spot.path)
