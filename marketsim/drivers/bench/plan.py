"""A benchmark ready to run: the suite's markets and cells built, the seed chosen.

Nothing runs until every market and every (market, strategy) has been built and
checked, so bad input is reported whole and before any output exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from marketsim.core.errors import Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.drivers import metrics
from marketsim.drivers.bench.cells import Cell, build_cells
from marketsim.drivers.bench.markets import Market, build_markets
from marketsim.scenario.suite import SuiteFile


@dataclass(frozen=True)
class Bench:
    """What a benchmark runs: markets, every (market, strategy) cell, seed and replicates."""

    suite: SuiteFile
    markets: list[Market]
    cells: list[Cell]
    seed: int
    replicates: int

    @property
    def strategies(self) -> list[str]:
        """The strategies' names, in suite order."""
        return [s.name for s in self.suite.spec.strategies]

    @property
    def metrics(self) -> list[str]:
        """The metrics reported: the objective first, then the suite's others."""
        return list(dict.fromkeys([self.suite.spec.objective, *self.suite.spec.metrics]))


def plan(
    suite: SuiteFile,
    *,
    overrides: Sequence[str] = (),
    replicates: int | None = None,
    seed: int | None = None,
) -> Bench:
    """Build every market and cell of `suite`; `replicates` and `seed` override the suite's.

    Raises:
        ScenarioError: every problem found, located in the suite or the scenario files.

    """
    problems = check_metrics(suite)
    try:
        markets = build_markets(suite, overrides)
    except ScenarioError as e:
        raise ScenarioError([*problems, *e.problems]) from None
    if problems:
        raise ScenarioError(problems)
    if seed is None:
        seed = suite.spec.seed if suite.spec.seed is not None else markets[0].scenario.seed
    cells = build_cells(suite, markets, seed)
    return Bench(suite, markets, cells, seed, replicates or suite.spec.replicates)


def check_metrics(suite: SuiteFile) -> list[Problem]:
    """The suite's objective and metrics must be metrics marketsim measures."""
    doc, spec = suite.doc, suite.spec
    problems = []
    named = [(("objective",), spec.objective)]
    named += [(("metrics", i), m) for i, m in enumerate(spec.metrics)]
    for path, name in named:
        if name not in metrics.ALL:
            message = f"expected a metric, one of {quoted(metrics.ALL)}, found {show(name)}"
            problems.append(doc.problem(path, message + did_you_mean(name, metrics.ALL)))
    return problems
