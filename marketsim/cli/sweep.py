"""`marketsim sweep`: a scenario over a range of values, a response curve with intervals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from marketsim.cli import common
from marketsim.cli.app import command, failing_as
from marketsim.core.errors import InputError, InputErrors, Problem, ScenarioError
from marketsim.core.format import interval, number

if TYPE_CHECKING:
    from marketsim.drivers.sweep import SweepResult


@command()
def sweep(
    file: common.FileArg,
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            metavar="dotted.path=START:STOP:N",
            help="A setting and its values: START:STOP:N evenly spaced, or A,B,C (repeatable: "
            "every combination).",
            show_default=False,
        ),
    ],
    replicates: Annotated[int, common.replicates_option("Replicates per point, at least 1.")] = 3,
    seed: common.SeedOpt = None,
    out: common.OutOpt = None,
    overrides: common.SetOpt = None,
    force: common.ForceOpt = False,
    workers: common.WorkersOpt = 1,
    quiet: common.QuietOpt = False,
    cluster: common.ClusterOpt = None,
    plugin_path: common.PluginPath = None,
    posterior: common.PosteriorOpt = None,
) -> None:
    """Simulate a scenario over a range of values: a response curve with 95% intervals.

    Writes sweep.csv (one row per point: the values, then each metric's mean, std and
    95% interval) and sweep.html. Exits 0 on success, 1 if the run fails, 2 on bad input.
    """
    from marketsim.drivers.sweep import check_axes, grid, override_text, parse_vary
    from marketsim.io.output import check_destination, default_out_dir
    from marketsim.plugins.prepare import load_scenario

    common.use_plugin_paths(plugin_path)
    common.check_options(seed=seed, replicates=replicates, workers=workers)
    problems = []
    axes = []
    for text in vary:
        try:
            axes.append(parse_vary(text))
        except ValueError as e:
            problems.append(f"--vary: {e}")
    if len({a.path for a in axes}) < len(axes):
        problems.append("--vary: each setting may be varied once")
    if problems:
        raise InputError("\n".join(problems))
    try:
        points = grid(axes)
    except ValueError as e:
        raise InputError(f"--vary: {e}") from None
    sets = list(overrides or ())
    scenarios = []
    located: dict[Problem, None] = {}  # in the file or a --set: reported as they are
    notes: dict[str, None] = {}  # made by a --vary value
    for point in points:
        texts = [override_text(p, v) for p, v in point.items()]
        try:
            scenarios.append(load_scenario(file, [*sets, *texts]))
        except ScenarioError as e:
            where = ", ".join(texts)
            for problem in e.problems:
                if problem.file != "--set" or problem.line <= len(sets):
                    located[problem] = None
                elif problem.path in point:  # this value is refused
                    notes[f"--vary {where}: {problem.path}: {problem.message}"] = None
                else:  # the path itself is wrong, whatever the value
                    notes[f"--vary: {problem.path}: {problem.message}"] = None
    if located or notes:
        raise InputErrors([ScenarioError(located)] if located else [], *notes)
    scenario = scenarios[0]
    draws = common.read_draws(posterior, [scenario], replicates)
    if draws is not None:
        check_axes(axes, draws)
    out = out if out is not None else default_out_dir(f"{scenario.name}-sweep")
    protect = [Path(file), *([posterior] if posterior else [])]
    check_destination(out, force=force, protect=protect)

    from marketsim.drivers.metrics import customer_types, headline
    from marketsim.drivers.sweep import SweepResult, curve_frame, evaluate
    from marketsim.io.files import sweep_files
    from marketsim.report.pages import PAGES

    console = Console(stderr=True)
    run_seed = scenario.seed if seed is None else seed
    bar = common.PhasedProgress(console, enabled=not quiet and console.is_terminal)
    with common.session(workers, cluster, quiet=quiet) as executor, bar:
        bar.phase("sweep", len(scenarios) * replicates)
        with failing_as("the sweep"):
            results = evaluate(
                scenarios,
                seed=run_seed,
                replicates=replicates,
                executor=executor,
                on_done=bar.job,
                posterior=draws,
            )
        result = SweepResult(
            scenario,
            tuple(axes),
            run_seed,
            replicates,
            curve_frame(points, results, headline(customer_types(scenario))),
            None if draws is None else draws.use(replicates),
        )
        written = common.write_output(result, out, sweep_files(PAGES), force=force, protect=protect)
    console = Console()
    table = sweep_table(console, result)
    common.finish(
        console, out, written, table, *common.posterior_note(result.posterior), quiet=quiet
    )


def sweep_table(console: Console, result: SweepResult) -> Table:
    """Each point's revenue and profit with 95% intervals, fitted to the terminal."""
    from marketsim.cli.tables import Column, fitted

    axes = [a.path for a in result.axes]
    columns = [Column(a) for a in axes]
    for m in ("revenue", "profit"):
        columns += [Column(f"{m} mean"), Column("95% CI", drop=1)]
    rows = []
    for _, r in result.frame.iterrows():
        cells = [f"{r[a]:g}" for a in axes]
        for m in ("revenue", "profit"):
            cells += [
                number(_cell(r[f"{m}_mean"])),
                interval(_cell(r[f"{m}_ci95_low"]), _cell(r[f"{m}_ci95_high"])),
            ]
        rows.append(cells)
    title = f"{result.scenario.name}: {result.replicates} replicates a point"
    return fitted(console, title, columns, rows)


def _cell(x: float | None) -> float | None:
    """A frame cell as a number, None where undefined (None or NaN: one replicate)."""
    return None if x is None or x != x else float(x)
