"""What a calibration fits: the scenario on the history's spend, the free parameters, the data.

The history's spend replaces each channel's plan over the steps it covers (after them,
the channel spends what its own plan gives those steps), so the simulated market is
driven by what the company actually spent. Every evaluation simulates only the steps
it needs: the fitted ones during the search, the whole history for the final fit.

A lift test is matched by its simulated counterpart, measured as `run --contribution`
measures a channel: the same replicates (common random numbers) run again with the
channel's spend set to 0 over the test's window, and the increment is the paired
difference of the outcome summed over the window. Its error is the relative miss
`|simulated - measured| / (|measured| + se)`, so a test measured near 0 still counts
in units of its own uncertainty.
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
from marketsim.scenario.calibration import OBSERVABLES, CalibrateSpec, Prior
from marketsim.scenario.history import History
from marketsim.scenario.lift import LiftTest
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
    prior: Prior | None = None
    """The prior the scenario gives (ABC draws from it; otherwise uniform over the range)."""

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

    lifts: tuple[LiftTest, ...] = ()
    lift_scenarios: tuple[Scenario, ...] = ()
    """Per lift test, the scenario with the channel's spend at 0 over its window."""

    @property
    def all_weights(self) -> dict[str, float]:
        """The weight of every error in the distance: each series, then each lift test."""
        return self.weights | {lift_key(t): t.weight for t in self.lifts}

    def with_values(self, values: Mapping[str, float], base: Scenario | None = None) -> Scenario:
        """The scenario (or `base`) with the parameters set to `values`, prepared."""
        typed = {p.path: p.value(values[p.path]) for p in self.parameters}
        return prepare(with_values(self.scenario if base is None else base, typed))

    def simulate(
        self, values: Mapping[str, float], *, steps: int, seed: int, replicates: int
    ) -> dict[str, np.ndarray]:
        """Each matched series of each replicate, [replicate, step], over the first `steps`."""
        series = {*self.weights, *(t.outcome for t in self.lifts)}
        return _runs(self.with_values(values), steps, seed, replicates, series)

    def increments(
        self, values: Mapping[str, float], runs: dict[str, np.ndarray], *, seed: int
    ) -> dict[str, np.ndarray]:
        """Each lift test's simulated increment per replicate, paired with `runs`."""
        replicates = next(iter(runs.values())).shape[0]
        found = {}
        for test, base in zip(self.lifts, self.lift_scenarios, strict=True):
            window = slice(test.start, test.end + 1)
            off = _runs(
                self.with_values(values, base), test.end + 1, seed, replicates, {test.outcome}
            )
            found[test.name] = runs[test.outcome][:, window].sum(axis=1) - off[test.outcome][
                :, window
            ].sum(axis=1)
        return found

    def errors(self, values: Mapping[str, float]) -> dict[str, float]:
        """Each series' NRMSE over the fitted steps and each lift test's relative miss."""
        runs = self.simulate(values, steps=self.fitted, seed=self.seed, replicates=self.replicates)
        found = {
            s: nrmse(runs[s].mean(axis=0), y[: self.fitted], self.scales[s])
            for s, y in self.observed.items()
        }
        if self.lifts:
            simulated = self.increments(values, runs, seed=self.seed)
            for test in self.lifts:
                found[lift_key(test)] = lift_error(float(simulated[test.name].mean()), test)
        return found


def lift_key(test: LiftTest) -> str:
    """The name of a lift test's error among the series' (`lift.NAME`)."""
    return f"lift.{test.name}"


def lift_error(simulated: float, test: LiftTest) -> float:
    """The relative miss of a simulated increment: |simulated - measured| / (|measured| + se)."""
    return abs(simulated - test.incremental) / (abs(test.incremental) + test.se)


def _runs(
    scenario: Scenario, steps: int, seed: int, replicates: int, series: set[str]
) -> dict[str, np.ndarray]:
    ledgers = []
    for r in range(replicates):
        model = MarketModel(scenario, seed=seed, replicate=r, materialize_customers=False)
        model.run_model(steps)
        ledgers.append(model.ledger)
    return {s: np.array([ledger.series(s) for ledger in ledgers], dtype=np.float64) for s in series}


def without_spend(scenario: Scenario, channel_id: str, start: int, end: int) -> Scenario:
    """`scenario` with one channel spending nothing in steps `start`..`end` (a lift window)."""
    channel = next(c for c in scenario.channels if c.id == channel_id)
    plan = spend_plan(channel, scenario.horizon)
    plan[start : end + 1] = 0.0
    return _replanned(scenario, {channel_id: plan})


def with_history(scenario: Scenario, history: History) -> Scenario:
    """`scenario` spending what the history says over its steps, its own plan after.

    Likewise each event with a column is on as the history says over its steps, and on
    its own steps and dates after them.
    """
    plans = {}
    for channel in scenario.channels:
        spent = history.spend.get(channel.id)
        if spent is not None:
            plans[channel.id] = spend_plan(channel, scenario.horizon)
            plans[channel.id][: history.steps] = spent
    events = {}
    for event in scenario.demand.events:
        on = history.events.get(event.id)
        if on is not None:
            events[event.id] = event.on(scenario.horizon, scenario.demand.start, scenario.step)
            events[event.id][: history.steps] = on.tolist()
    return _replanned(scenario, plans, events)


def _replanned(
    scenario: Scenario,
    plans: Mapping[str, np.ndarray],
    events: Mapping[str, list[float]] | None = None,
) -> Scenario:
    """`scenario` with each channel in `plans` on its plan, each event in `events` on cue."""
    data = scenario.model_dump(mode="json")
    for i, event in enumerate(scenario.demand.events):
        if events and event.id in events:
            data["demand"]["events"][i].update(weights=events[event.id], steps=[], dates=[])
    for i, channel in enumerate(scenario.channels):
        if channel.id in plans:
            plan = plans[channel.id]
            data["channels"][i].update(
                budget=float(plan.sum()), schedule=plan.tolist(), start=0, end=None
            )
    return prepare(Scenario.model_validate(data))


def build_target(
    scenario: Scenario,
    history: History,
    spec: CalibrateSpec,
    seed: int,
    lifts: tuple[LiftTest, ...] = (),
) -> Target:
    """The fit `spec` asks for, on `history` and the lift tests `lifts`.

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
    weights = {s: weights[s] for s in (*OBSERVABLES, *history.observed) if s in weights}
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
            Parameter(
                p.path, low, high, p.log_scale, integer, float(np.clip(node, low, high)), p.prior
            )
        )
    fitted_scenario = with_history(scenario.model_copy(update={"calibrate": None}), history)
    return Target(
        scenario=fitted_scenario,
        parameters=tuple(parameters),
        observed=observed,
        weights=weights,
        scales={s: scale_of(y[:fitted]) for s, y in observed.items()},
        steps=history.steps,
        fitted=fitted,
        replicates=spec.replicates,
        seed=seed,
        lifts=lifts,
        lift_scenarios=tuple(
            without_spend(fitted_scenario, t.channel, t.start, t.end) for t in lifts
        ),
    )
