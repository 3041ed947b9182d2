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
from marketsim.cli.optimize import _check_out, _explain, _opt
from marketsim.core.errors import InputError, MarketsimError

if TYPE_CHECKING:
    from marketsim.drivers.calibrate import Calibration
    from marketsim.scenario.calibration import CalibrateSpec
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
    holdout_steps: Annotated[
        int | None, _opt("Last steps kept out of the fit and forecast (default 0).", "K")
    ] = None,
    method: Annotated[
        str | None, _opt("How to fit: optimize (the best set and near-best sets).", "NAME")
    ] = None,
    trials: Annotated[int | None, _opt("Completed trials wanted (default 100).", "N")] = None,
    replicates: Annotated[
        int | None,
        _opt(
            "Replicates per trial on common random numbers (default 2).", "R", "--replicates", "-r"
        ),
    ] = None,
    sampler: Annotated[
        str | None, _opt("Optuna sampler: cmaes, tpe, random or gp (default cmaes).", "NAME")
    ] = None,
    workers: Annotated[
        int | None, _opt("Worker processes running trials (default 1).", "W", "--workers", "-w")
    ] = None,
    seed: common.SeedOpt = None,
    out: common.OutOpt = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the study in DIR, keeping its trials.")
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
    and the study into DIR. Exits 0 on success, 1 if the run fails, 2 on bad input.
    """
    from marketsim.drivers.calibrate import analyse, build_target, open_study, search
    from marketsim.drivers.optimize.study import DB_FILE, JOURNAL_FILE, Storage
    from marketsim.io.output import default_out_dir
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.history import read_history

    cli = {
        "holdout_steps": holdout_steps,
        "method": method,
        "trials": trials,
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
    target = build_target(scenario, history, spec, scenario.seed if seed is None else seed)
    out = out if out is not None else default_out_dir(f"{scenario.name}-calibrate")
    where = Storage.resolve(None, out, spec.workers)
    _check_out(out, where, resume=resume, force=force, protect=Path(file))
    created = not out.exists()
    if created:
        out.mkdir(parents=True)
    try:
        if force and not resume:
            for stale in (DB_FILE, JOURNAL_FILE, f"{JOURNAL_FILE}.lock"):
                (out / stale).unlink(missing_ok=True)
        study = open_study(target, spec.sampler, where, scenario.name, resume=resume)
    except MarketsimError:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise

    from marketsim.io.files import calibration_files
    from marketsim.report.pages import PAGES

    console = Console(stderr=True)
    bar = common.PhasedProgress(console, enabled=not quiet and console.is_terminal)
    kept = (
        f"completed trials are kept in {where.display}; continue with the same command and --resume"
    )
    with common.session(spec.workers, cluster, interrupted=kept) as executor, bar:
        with failing_as("the calibration"):
            search(target, spec.sampler, spec.trials, where, study, executor, progress=bar.trials)
            calibration = analyse(target, study, spec, history)
        written = common.write_output(
            calibration,
            out,
            calibration_files(where, out, PAGES),
            force=True,
            protect=[Path(file), data],
        )
    common.finish(Console(), out, written, *outcome_tables(calibration), quiet=quiet)


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
            problems.append(f"{option}: {_explain(err)}")
        raise InputError("\n".join(problems)) from None


def outcome_tables(calibration: Calibration) -> tuple[Table, Table]:
    """The estimates with their intervals, and the fit in and out of sample."""
    r = calibration.record
    estimates = Table(
        title=(
            f"{r.scenario}: best of {r.trials.get('complete', 0)} trials (distance "
            f"{r.best_distance:.4g}), {r.acceptance.accepted} near-best sets"
        ),
        title_justify="left",
    )
    for name in ("parameter", "before", "estimate", "90% interval", "pinned down"):
        estimates.add_column(name, justify="left" if name == "parameter" else "right")
    for p in r.parameters:
        estimates.add_row(
            p.path,
            f"{p.start:.4g}",
            f"{p.estimate:.4g}",
            f"{p.low90:.4g} to {p.high90:.4g}",
            "yes" if p.identified else "[bold]no[/bold]",
        )
    fit = Table(title="fit (NRMSE, MAPE, R^2)", title_justify="left")
    fit.add_column("series")
    for name in ("in sample", "hold-out"):
        fit.add_column(name, justify="right")
    for series, f in r.fit.items():
        fit.add_row(series, _metrics(f.in_sample), _metrics(f.holdout) if f.holdout else "")
    return estimates, fit


def _metrics(m: Any) -> str:
    parts = [
        "" if m.nrmse is None else f"{m.nrmse:.3f}",
        "" if m.mape is None else f"{m.mape:.1%}",
        "" if m.r2 is None else f"{m.r2:.2f}",
    ]
    return " / ".join(parts)
