"""`marketsim calibrate`: fit a scenario's free parameters to a company's history."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketsim.cli import common
from marketsim.cli.app import command, failing_as
from marketsim.cli.common import option
from marketsim.cli.tables import Column, fitted
from marketsim.core.errors import InputError, MarketsimError

if TYPE_CHECKING:
    from collections.abc import Callable

    from marketsim.drivers.calibrate import Calibration, Target
    from marketsim.drivers.execution import Executor
    from marketsim.drivers.optimize.study import Storage
    from marketsim.scenario.calibration import CalibrateSpec
    from marketsim.scenario.history import History
    from marketsim.scenario.schema import Scenario


@command()
def calibrate(
    file: common.FileArg,
    data: Annotated[
        Path,
        typer.Option(
            "--data", metavar="HISTORY.csv", help="The company's history.", show_default=False
        ),
    ],
    lift: Annotated[
        Path | None,
        typer.Option(
            "--lift",
            metavar="LIFT.csv",
            help="Lift tests to match (channel, window, measured increment, se).",
            show_default=False,
        ),
    ] = None,
    holdout_steps: Annotated[
        int | None, option("Last steps kept out of the fit and forecast (default 0).", "K")
    ] = None,
    method: Annotated[
        str | None,
        option("How to fit: optimize (best and near-best sets) or abc (a posterior).", "NAME"),
    ] = None,
    trials: Annotated[
        int | None,
        option("Completed trials wanted (default 100); with abc, most sets simulated.", "N"),
    ] = None,
    population: Annotated[
        int | None, option("abc: particles per generation (default 50).", "N")
    ] = None,
    generations: Annotated[int | None, option("abc: most generations (default 8).", "G")] = None,
    replicates: Annotated[
        int | None,
        option(
            "Replicates per trial on common random numbers (default 2).", "R", "--replicates", "-r"
        ),
    ] = None,
    sampler: Annotated[
        str | None, option("Optuna sampler: cmaes, tpe, random or gp (default cmaes).", "NAME")
    ] = None,
    workers: Annotated[
        int | None, option("Worker processes running trials (default 1).", "W", "--workers", "-w")
    ] = None,
    seed: common.SeedOpt = None,
    out: common.OutOpt = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue the study (or ABC run) in DIR, keeping its work."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", "-f", help="Start afresh in a non-empty DIR (its study is deleted)."
        ),
    ] = False,
    overrides: common.SetOpt = None,
    quiet: common.QuietOpt = False,
    cluster: common.ClusterOpt = None,
    plugin_path: common.PluginPath = None,
) -> None:
    """Fit the parameters named in the scenario's calibrate: section to a history.

    Writes calibrated.yaml, calibration.json, posterior.csv, fit.csv, calibration.html
    and the study (abc.db with --method abc) into DIR. Exits 0 on success, 1 if the run
    fails, 2 on bad input.
    """
    from marketsim.drivers.calibrate import build_target
    from marketsim.drivers.calibrate.abc import ABC_DB, ABC_RECORD
    from marketsim.drivers.optimize.study import DB_FILE, JOURNAL_FILE, Storage
    from marketsim.io.output import default_out_dir
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.history import read_history
    from marketsim.scenario.lift import read_lift

    cli = {
        "holdout_steps": holdout_steps,
        "method": method,
        "trials": trials,
        "population": population,
        "generations": generations,
        "replicates": replicates,
        "sampler": sampler,
        "workers": workers,
    }
    common.use_plugin_paths(plugin_path)
    common.check_options(seed=seed, replicates=1, workers=1)
    scenario = load_scenario(file, overrides or ())
    common.warn(scenario)
    spec = merge_settings(scenario, cli, file)
    history = read_history(data, scenario, list(spec.match or ()))
    fitted = history.steps - spec.holdout_steps
    lifts = read_lift(lift, scenario, history, fitted) if lift is not None and fitted >= 2 else ()
    target = build_target(scenario, history, spec, scenario.seed if seed is None else seed, lifts)
    out = out if out is not None else default_out_dir(f"{scenario.name}-calibrate")
    abc = spec.method == "abc"
    where = Storage.resolve(None, out, shared=spec.workers > 1 or cluster is not None)
    store = out / ABC_DB if abc else where.file
    protect = [Path(file), data, *([lift] if lift is not None else [])]
    common.check_out(out, store, "calibration", resume=resume, force=force, protect=protect)
    created = not out.exists()
    if created:
        out.mkdir(parents=True)
    try:
        if force and not resume:
            for stale in (DB_FILE, JOURNAL_FILE, f"{JOURNAL_FILE}.lock", ABC_DB, ABC_RECORD):
                (out / stale).unlink(missing_ok=True)
        start = _open(target, spec, history, where, out, scenario.name, resume=resume)
    except MarketsimError:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise

    from marketsim.io.files import calibration_files
    from marketsim.report.pages import PAGES

    console = Console(stderr=True)
    bar = common.PhasedProgress(console, enabled=not quiet and console.is_terminal)
    kept = (
        f"the work done is kept in {store if abc else where.display}; continue with the same "
        "command and --resume"
    )
    with common.session(spec.workers, cluster, interrupted=kept, quiet=quiet) as executor, bar:
        with failing_as("the calibration"):
            calibration = start(executor, bar.trials)
        files = (
            calibration_files(None, out, PAGES, [out / ABC_DB, out / ABC_RECORD])
            if abc
            else calibration_files(where, out, PAGES)
        )
        written = common.write_output(calibration, out, files, force=True, protect=protect)
    common.finish(Console(), out, written, *outcome_tables(calibration), quiet=quiet)
    stopped = _stopped_early(calibration, spec)
    if stopped and not quiet:
        console.print(stopped, highlight=False)


def _stopped_early(calibration: Calibration, spec: CalibrateSpec) -> str:
    """Why ABC ran fewer generations than asked, if it did (the budget ran out first)."""
    r = calibration.record
    done = len(r.generations or [])
    if r.method != "abc" or done >= spec.generations:
        return ""
    if r.acceptance.threshold <= spec.min_epsilon:
        return ""
    return (
        f"note: ABC stopped after {done} of {spec.generations} generations, its budget of "
        f"{spec.trials} sets simulated spent ({r.trials.get('simulated', 0)}); for a "
        "tighter posterior, continue with --resume and a larger --trials"
    )


def _open(
    target: Target,
    spec: CalibrateSpec,
    history: History,
    where: Storage,
    out: Path,
    name: str,
    *,
    resume: bool,
) -> Callable[[Executor, Callable[[int, int, float | None], None]], Calibration]:
    """Open the study or ABC run (refusing one that fits something else); how to run it."""
    from marketsim.drivers.calibrate import (
        abc_search,
        analyse,
        analyse_abc,
        open_run,
        open_study,
        search,
    )

    if spec.method == "abc":
        open_run(target, spec, out, resume=resume)

        def run_abc(executor: Executor, progress: Any) -> Calibration:
            found = abc_search(target, spec, out, executor, resume=resume, progress=progress)
            return analyse_abc(target, found, spec, history)

        return run_abc
    study = open_study(target, spec.sampler, where, name, resume=resume)

    def run_study(executor: Executor, progress: Any) -> Calibration:
        search(target, spec.sampler, spec.trials, where, study, executor, progress=progress)
        return analyse(target, study, spec, history)

    return run_study


def merge_settings(scenario: Scenario, cli: dict[str, Any], file: str) -> CalibrateSpec:
    """The scenario's `calibrate:` settings with the command line's given values on top.

    Raises:
        InputError: the scenario has no `calibrate:` section, or an option value the
            settings' rules refuse, named by its option.

    """
    from pydantic import ValidationError

    if scenario.calibrate is None:
        raise InputError(
            f"{file}: no calibrate: section naming the parameters to fit (docs/calibrate.md)"
        )
    data = scenario.calibrate.model_dump() | {k: v for k, v in cli.items() if v is not None}
    try:
        return type(scenario.calibrate).model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            field = str(err["loc"][0]) if err["loc"] else ""
            given = field in cli and cli[field] is not None
            option = f"--{field.replace('_', '-')}" if given else f"calibrate.{field}"
            problems.append(f"{option}: {common.explain(err)}")
        raise InputError("\n".join(problems)) from None


def outcome_tables(calibration: Calibration) -> tuple[Table, ...]:
    """The estimates with their intervals, the fit in and out of sample, the lift tests."""
    r = calibration.record
    if r.method == "abc":
        title = (
            f"{r.scenario}: ABC-SMC posterior of {r.acceptance.accepted} particles after "
            f"{len(r.generations or [])} generations ({r.trials.get('simulated', 0)} sets "
            f"simulated, tolerance {r.acceptance.threshold:.4g}); best particle's distance "
            f"{r.best_distance:.4g}"
        )
    else:
        title = (
            f"{r.scenario}: best of {r.trials.get('complete', 0)} trials (distance "
            f"{r.best_distance:.4g}), {r.acceptance.accepted} near-best sets"
        )
    console = Console()
    estimates = fitted(
        console,
        title,
        [
            Column("parameter", "left"),
            Column("before", drop=1),
            Column("estimate"),
            Column("90% interval"),
            Column("pinned down"),
        ],
        [
            [
                p.path,
                f"{p.start:.4g}",
                f"{p.estimate:.4g}",
                f"{p.low90:.4g} to {p.high90:.4g}",
                "yes" if p.identified else "[bold]no[/bold]",
            ]
            for p in r.parameters
        ],
    )
    fit = fitted(
        console,
        "fit (NRMSE, MAPE, R^2)",
        [Column("series", "left"), Column("in sample"), Column("hold-out")],
        [
            [series, _metrics(f.in_sample), _metrics(f.holdout) if f.holdout else ""]
            for series, f in r.fit.items()
        ],
    )
    if not r.lift:
        return estimates, fit
    lift = fitted(
        console,
        "lift tests (measured against simulated increment)",
        [
            Column("test", "left"),
            Column("outcome", "left", drop=1),
            Column("measured"),
            Column("se", drop=2),
            Column("simulated"),
            Column("z"),
        ],
        [
            [
                t.name,
                t.outcome,
                f"{t.measured:.4g}",
                f"{t.se:.3g}",
                f"{t.simulated:.4g}",
                f"{t.z:+.2f}",
            ]
            for t in r.lift
        ],
    )
    return estimates, fit, lift


def _metrics(m: Any) -> str:
    parts = [
        "" if m.nrmse is None else f"{m.nrmse:.3f}",
        "" if m.mape is None else f"{m.mape:.1%}",
        "" if m.r2 is None else f"{m.r2:.2f}",
    ]
    return " / ".join(parts)
