"""Calibration: fit a scenario's free parameters to a company's history (`marketsim calibrate`).

The pieces:

- `target`: the scenario on the history's spend, the free parameters, the observed
  series and one evaluation (simulate, then each series' NRMSE);
- `fit`: the distance minimised and the fit metrics (NRMSE, MAPE, R^2);
- `search`: the Optuna study (stored and resumed as the optimiser's) and its workers;
- `abc`: ABC-SMC by pyabc (`--method abc`), a posterior sample;
- `analysis`: near-best sets or the posterior, estimates with 90% intervals, what the
  data leave open, and the fit of the best set in and out of sample and on lift tests;
- `records`: calibration.json's typed records.

`docs/calibrate.md` explains how to pose a calibration and read its results.
"""

from __future__ import annotations

from marketsim.drivers.calibrate.abc import abc_search, open_run
from marketsim.drivers.calibrate.analysis import Calibration, analyse, analyse_abc
from marketsim.drivers.calibrate.search import open_study, search
from marketsim.drivers.calibrate.target import Target, build_target, with_history, without_spend
from marketsim.drivers.execution import make_executor
from marketsim.drivers.optimize.study import Storage
from marketsim.scenario.calibration import CalibrateSpec
from marketsim.scenario.history import History
from marketsim.scenario.lift import LiftTest
from marketsim.scenario.schema import Scenario

__all__ = [
    "Calibration",
    "Target",
    "abc_search",
    "analyse",
    "analyse_abc",
    "build_target",
    "calibrate",
    "open_run",
    "open_study",
    "search",
    "with_history",
    "without_spend",
]


def calibrate(
    scenario: Scenario,
    history: History,
    spec: CalibrateSpec | None = None,
    *,
    lifts: tuple[LiftTest, ...] = (),
    seed: int | None = None,
) -> Calibration:
    """The whole calibration from Python, its study in a temporary file; no files written.

    Args:
        scenario: the scenario; its `calibrate:` section is used unless `spec` is given.
        history: the history (`marketsim.scenario.history.read_history`).
        spec: the settings.
        lifts: lift tests to match (`marketsim.scenario.lift.read_lift`).
        seed: the simulations' and sampler's seed (default: the scenario's).

    Raises:
        InputError: the scenario has no `calibrate:` section and no `spec` is given, or
            the history leaves too little to fit.

    """
    import tempfile
    from pathlib import Path

    from marketsim.core.errors import InputError

    spec = spec or scenario.calibrate
    if spec is None:
        raise InputError(f"scenario {scenario.name!r} has no calibrate: section to fit")
    target = build_target(scenario, history, spec, scenario.seed if seed is None else seed, lifts)
    with tempfile.TemporaryDirectory(prefix="marketsim-calibrate-") as tmp:
        if spec.method == "abc":
            open_run(target, spec, Path(tmp), resume=False)
            with make_executor(spec.workers) as executor:
                particles = abc_search(target, spec, Path(tmp), executor, resume=False)
            return analyse_abc(target, particles, spec, history)
        where = Storage.resolve(None, Path(tmp), shared=spec.workers > 1)
        study = open_study(target, spec.sampler, where, scenario.name, resume=False)
        with make_executor(spec.workers) as executor:
            search(target, spec.sampler, spec.trials, where, study, executor)
        return analyse(target, study, spec, history)
