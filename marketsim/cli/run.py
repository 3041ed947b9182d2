"""`marketsim run`: simulate one scenario and write its output directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from marketsim.cli import common
from marketsim.cli.app import BadInput, app, fail
from marketsim.io.output import OutputError, check_destination, default_out_dir
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario import ScenarioError


@app.command()
def run(
    file: common.FileArg,
    out: common.OutOpt = None,
    seed: common.SeedOpt = None,
    replicates: Annotated[
        int,
        typer.Option("--replicates", "-r", metavar="R", help="Independent replicates, at least 1."),
    ] = 1,
    overrides: common.SetOpt = None,
    force: common.ForceOpt = False,
    workers: common.WorkersOpt = 1,
    quiet: common.QuietOpt = False,
    cluster: common.ClusterOpt = None,
    contribution: Annotated[
        bool,
        typer.Option(
            "--contribution",
            help="Also measure each channel's incremental revenue by re-running without it "
            "on the same random streams.",
        ),
    ] = False,
    plugin_path: common.PluginPath = None,
) -> None:
    """Simulate a scenario and write summary.json, timeseries.csv, report.html and more.

    An existing non-empty output directory is replaced only with --force, and only once
    every new file is complete. Exits 0 on success, 1 if the run fails, 2 on bad input.
    """
    common.use_plugin_paths(plugin_path)
    try:
        common.check_options(seed=seed, replicates=replicates, workers=workers)
        scenario = load_scenario(file, overrides or ())
        out = out if out is not None else default_out_dir(scenario.name)
        check_destination(out, force=force, protect=[Path(file)])
    except (BadInput, ScenarioError, OutputError) as e:
        fail(str(e), 2)

    from marketsim.drivers.contribution import channel_contributions, with_contributions
    from marketsim.drivers.execution import make_executor
    from marketsim.drivers.simulation import simulate

    try:
        executor = make_executor(min(workers, replicates), cluster)
    except (OSError, TimeoutError, RuntimeError) as e:
        fail(f"--cluster {cluster}: cannot reach the Dask scheduler: {e}", 2)
    console = Console()
    show_progress = not quiet and console.is_terminal
    try:
        with common.interrupt_on_sigterm():
            runs = 1 + (sum(c.enabled for c in scenario.channels) if contribution else 0)
            progress = common.DelayedProgress(
                console, runs * replicates * scenario.horizon, scenario.name, enabled=show_progress
            )
            try:
                with progress:
                    result = simulate(
                        scenario,
                        seed=seed,
                        replicates=replicates,
                        executor=executor,
                        progress=progress.advance,
                    )
                    if contribution:
                        found = channel_contributions(
                            result, executor=executor, progress=progress.advance
                        )
                        result = with_contributions(result, found)
            except Exception as e:
                fail(f"error: the run failed: {type(e).__name__}: {e}", 1)
            written = common.write_output(result, out, force=force, protect=[Path(file)])
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        raise

    if quiet:
        print(out)
        return
    console.print(common.headline_table(result))
    if result.scenario.channels:
        console.print(common.channel_table(result))
    names = ", ".join(p.name for p in written)
    console.print(f"Wrote [bold]{out}[/bold]: {names}", highlight=False, soft_wrap=True)
