"""Run a scenario's replicates and gather them into a `Result`."""

from __future__ import annotations

from functools import partial

from marketsim.drivers.breakdown import of_model
from marketsim.drivers.execution import Executor, InProcess, Progress
from marketsim.drivers.posterior import Draws, scenario_of
from marketsim.drivers.results import Replicate, Result, agents, summarize, timeseries
from marketsim.engine.model import Engine, MarketModel
from marketsim.plugins.prepare import prepare
from marketsim.scenario.schema import Scenario


def run_replicate(
    scenario: Scenario,
    seed: int,
    replicate: int,
    progress: Progress | None = None,
    *,
    engine: Engine = "kernel",
    posterior: Draws | None = None,
) -> Replicate:
    """Simulate one replicate to the horizon: its ledger and its breakdown.

    With a `posterior`, the replicate runs on `scenario` with draw `replicate`'s values.
    This is where every command turns a replicate into a model, so each of them (and
    every re-run of a replicate: channel increments, sweep points, optimiser trials)
    carries the draw. `progress(1)` is called after every step.
    """
    scenario = scenario_of(scenario, replicate, posterior)
    model = MarketModel(
        scenario, seed=seed, replicate=replicate, materialize_customers=False, engine=engine
    )
    model.run_model(progress=progress)
    return Replicate(model.ledger, of_model(model))


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replicates: int = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
    engine: Engine = "kernel",
    posterior: Draws | None = None,
) -> Result:
    """Simulate `replicates` runs of `scenario` on common random numbers.

    Args:
        scenario: a scenario (see `load_scenario`).
        seed: overrides the scenario's seed.
        replicates: independent runs; replicate r uses the same random streams in every
            scenario, so differences between scenarios are paired.
        executor: where replicates run; in this process by default.
        progress: called with the number of steps just completed.
        engine: "kernel" (numba, the default) or "reference" (plain Python, slow).
        posterior: replicate r runs on the posterior's draw r (checked against the
            scenario first: `Draws.check`).

    """
    if replicates < 1:
        raise ValueError(f"`replicates >= 1` must hold, but got {replicates=}")
    seed = scenario.seed if seed is None else seed
    if seed < 0:
        raise ValueError(f"`seed >= 0` must hold, but got {seed=}")
    scenario = prepare(scenario)  # once, not once per replicate
    if posterior is not None:
        posterior.check(scenario, replicates)
    job = partial(run_replicate, scenario, seed, engine=engine, posterior=posterior)
    runs = (executor or InProcess()).map(job, range(replicates), progress=progress)
    return Result(
        scenario=scenario,
        seed=seed,
        timeseries=timeseries(runs),
        summary=summarize(scenario, seed, runs, posterior),
        agents=agents(runs),
        breakdowns=tuple(r.breakdown for r in runs),
        posterior=posterior,
    )
