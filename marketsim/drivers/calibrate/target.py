"""What a calibration fits: the scenario on the history's spend, the free parameters, the data.

The history's spend replaces each channel's plan over the steps it covers (after them,
the channel spends what its own plan gives those steps), so the simulated market is
driven by what the company actually spent. Every evaluation simulates only the steps
it needs: the fitted ones during the search, the whole history for the final fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution

from marketsim.core.errors import InputError
from marketsim.drivers.calibrate.fit import nrmse, scale_of
from marketsim.engine.channels.base import spend_plan
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import prepare
from marketsim.scenario.calibration import OBSERVABLES, CalibrateSpec
from marketsim.scenario.history import History
from marketsim.scenario.paths import locate, with_values
from marketsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Parameter:
    """A free parameter as the search sees it."""

    path: str
    low: float
    high: float
    log: bool
    integer: bool
    start: float
    """The scenario's own value, clipped into the range: the first trial."""

    def distribution(self) -> BaseDistribution:
        """Optuna's distribution of the parameter."""
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        return FloatDistribution(self.low, self.high, log=self.log)

    def value(self, raw: float) -> float | int:
        """A trial's value as the scenario takes it."""
        return int(raw) if self.integer else float(raw)


@dataclass(frozen=True)
class Target:
    """Everything one evaluation needs; picklable, so worker processes get it whole."""

    scenario: Scenario
    """The scenario spending the history's spend, prepared."""
    parameters: tuple[Parameter, ...]
    observed: dict[str, np.ndarray]
    """Each matched series over the whole history (NaN where not observed)."""
    weights: dict[str, float]
    scales: dict[str, float]
    """Each series' yardstick, from its fitted observations."""
    steps: int
    fitted: int
    """Steps fitted: the history's first `fitted` steps (the rest are held out)."""
    replicates: int
    seed: int

    def with_values(self, values: Mapping[str, float]) -> Scenario:
        """The scenario with the parameters set to `values`, prepared."""
        typed = {p.path: p.value(values[p.path]) for p in self.parameters}
        return prepare(with_values(self.scenario, typed))

    def simulate(
        self, values: Mapping[str, float], *, steps: int, seed: int, replicates: int
    ) -> dict[str, np.ndarray]:
        """Each matched series of each replicate, [replicate, step], over the first `steps`."""
        scenario = self.with_values(values)
        runs = []
        for r in range(replicates):
            model = MarketModel(scenario, seed=seed, replicate=r, materialize_customers=False)
            for _ in range(steps):
                model.step()
            runs.append(model.ledger.rows)
        return {
            s: np.array([[row[s] for row in rows] for rows in runs], dtype=np.float64)
            for s in self.weights
        }

    def errors(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each matched series' NRMSE over the fitted steps (replicate means of the search)."""
        runs = self.simulate(values, steps=self.fitted, seed=self.seed, replicates=self.replicates)
        return {
            s: nrmse(runs[s].mean(axis=0), y[: self.fitted], self.scales[s])
            for s, y in self.observed.items()
        }


def with_history(scenario: Scenario, history: History) -> Scenario:
    """`scenario` spending what the history says over its steps, its own plan after.

    Likewise each event with a column is on as the history says over its steps, and on
    its own steps and dates after them.
    """
    data = scenario.model_dump(mode="json")
    for i, event in enumerate(scenario.demand.events):
        on = history.events.get(event.id)
        if on is not None:
            weights = event.on(scenario.horizon, scenario.demand.start, scenario.step)
            weights[: history.steps] = on.tolist()
            data["demand"]["events"][i].update(weights=weights, steps=[], dates=[])
    for i, channel in enumerate(scenario.channels):
        spent = history.spend.get(channel.id)
        if spent is None:
            continue
        plan = spend_plan(channel, scenario.horizon)
        plan[: history.steps] = spent
        data["channels"][i].update(
            budget=float(plan.sum()), schedule=plan.tolist(), start=0, end=None
        )
    return prepare(Scenario.model_validate(data))


def build_target(scenario: Scenario, history: History, spec: CalibrateSpec, seed: int) -> Target:
    """The fit `spec` asks for, on `history`.

    Raises:
        InputError: too few steps left to fit after the hold-out, or a matched series
            with no observation in the fitted steps.

    """
    fitted = history.steps - spec.holdout_steps
    if fitted < 2:
        raise InputError(
            f"--holdout-steps: expected at most {history.steps - 2} (the history has "
            f"{history.steps} steps and at least 2 must be fitted), found {spec.holdout_steps}"
        )
    weights = dict(spec.match) if spec.match else {s: 1.0 for s in history.observed}
    weights = {s: weights[s] for s in OBSERVABLES if s in weights}
    observed = {s: history.observed[s] for s in weights}
    empty = [s for s, y in observed.items() if not np.isfinite(y[:fitted]).any()]
    if empty:
        raise InputError(
            f"{history.file}: no observation of {', '.join(empty)} in the {fitted} fitted steps"
        )
    data = scenario.model_dump(mode="json")
    parameters = []
    for p in spec.parameters:
        low, high = p.bounds
        where = locate(data, p.path.split("."))
        node = where.container[where.key]
        integer = isinstance(node, int)
        parameters.append(
            Parameter(p.path, low, high, p.log_scale, integer, float(np.clip(node, low, high)))
        )
    return Target(
        scenario=with_history(scenario.model_copy(update={"calibrate": None}), history),
        parameters=tuple(parameters),
        observed=observed,
        weights=weights,
        scales={s: scale_of(y[:fitted]) for s, y in observed.items()},
        steps=history.steps,
        fitted=fitted,
        replicates=spec.replicates,
        seed=seed,
    )
