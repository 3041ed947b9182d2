"""Carrying a calibration's uncertainty forward: replicate r runs on posterior draw r.

Draw r is a weighted pick from posterior.csv's sets made with the counter-based RNG:
u_r = uniform(stream_key(calibration seed, r, -1), entity 0, `P_POSTERIOR`), and draw r
is the first set whose cumulative normalised weight exceeds u_r. It depends on the
calibration's seed and r alone, so it is the same whether 5 or 50 replicates run, on
resume, for every strategy of a comparison, every point of a sweep and every trial of
an optimisation (their comparisons stay paired), and whatever the seed of the market's
own randomness. Draws are with replacement: more replicates than sets is fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsim.core.errors import Problem, ScenarioError
from marketsim.core.purposes import P_POSTERIOR
from marketsim.drivers.records import PosteriorUse
from marketsim.kernels.rng import stream_key, uniform_py
from marketsim.plugins.prepare import prepare
from marketsim.scenario.paths import with_values
from marketsim.scenario.posterior import Posterior, check_posterior
from marketsim.scenario.schema import Scenario

RULE = (
    "draw r = the first set whose cumulative normalised weight exceeds "
    "u_r = uniform(stream_key(calibration seed, r, -1), 0, P_POSTERIOR); with replacement"
)


def draw(posterior: Posterior, replicate: int) -> int:
    """The posterior.csv set (0-based row) replicate `replicate` uses."""
    u = uniform_py(int(stream_key(posterior.seed, replicate, -1)), 0, P_POSTERIOR)
    cumulative = np.cumsum(posterior.weights)
    row = int(np.searchsorted(cumulative, u * cumulative[-1], side="right"))
    return min(row, posterior.sets - 1)


@dataclass(frozen=True)
class Draws:
    """A posterior as the replicates use it; picklable, so workers apply draws themselves."""

    posterior: Posterior

    def rows(self, replicates: int) -> list[int]:
        """The set each of replicates 0..replicates-1 uses."""
        return [draw(self.posterior, r) for r in range(replicates)]

    def scenario(self, scenario: Scenario, replicate: int) -> Scenario:
        """`scenario` with draw `replicate`'s values, prepared to run."""
        values = self.posterior.values_of(draw(self.posterior, replicate))
        return prepare(with_values(scenario, values))

    def check(self, scenario: Scenario, replicates: int) -> None:
        """Refuse a scenario the draws of `replicates` replicates cannot be applied to.

        Raises:
            ScenarioError: a parameter path names no number of the scenario (at its
                posterior.csv column), or the scenario refuses a drawn value (at its cell).

        """
        problems = check_posterior(self.posterior, scenario)
        if problems:
            raise ScenarioError(problems)
        for row in sorted(set(self.rows(replicates))):
            values = self.posterior.values_of(row)
            try:
                with_values(scenario, values)
            except ScenarioError as e:
                problems += [self._refused(scenario, row, p) for p in e.problems]
        if problems:
            raise ScenarioError(problems)

    def _refused(self, scenario: Scenario, row: int, problem: Problem) -> Problem:
        """The schema's `problem` with set `row`, at the cell of the value refused."""
        values = self.posterior.values_of(row)
        if problem.path not in values:
            message = f"scenario {scenario.name!r} refuses set {row + 1}: {problem.message}"
            return Problem(self.posterior.file, self.posterior.lines[row], 1, problem.path, message)
        message = f"scenario {scenario.name!r} refuses {problem.path}={values[problem.path]}: "
        return self.posterior.at(row, problem.path, message + problem.message)

    def use(self, replicates: int) -> PosteriorUse:
        """The record of `replicates` replicates drawn from this posterior."""
        p = self.posterior
        return PosteriorUse(
            dir=p.dir,
            method=p.method,
            seed=p.seed,
            parameters=list(p.paths),
            sets=p.sets,
            draws=replicates,
            distinct=len(set(self.rows(replicates))),
            rule=RULE,
        )


def scenario_of(scenario: Scenario, replicate: int, posterior: Draws | None) -> Scenario:
    """The scenario replicate `replicate` runs: `scenario` itself, or with its draw applied."""
    return scenario if posterior is None else posterior.scenario(scenario, replicate)
