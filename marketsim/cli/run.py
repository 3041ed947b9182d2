"""`marketsim run`: simulate one scenario and write its output directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from marketsim.cli import common
from marketsim.cli.app import command, failing_as


@command()
def run(
    file: common.FileArg,
    out: common.OutOpt = None,
    seed: common.SeedOpt = None,
    replicates: Annotated[int, common.replicates_option("Independent replicates, at least 1.")] = 1,
    overrides: common.SetOpt = None,
    force: common.ForceOpt = False,
    workers: common.WorkersOpt = 1,
    quiet: common.QuietOpt = False,
    cluster: common.ClusterOpt = None,
    contribution: Annotated[
        bool | None,
        typer.Option(
            "--contribution/--no-contribution",
            help="Measure each channel's incremental revenue by re-running without it on the "
            "same random streams (default: when that costs at most 100 M people-steps).",
            show_default=False,
        ),
    ] = None,
    plugin_path: common.PluginPath = None,
    posterior: common.PosteriorOpt = None,
) -> None:
    """Simulate a scenario and write summary.json, timeseries.csv, report.html and more.

    An existing non-empty output directory is replaced only with --force, and only once
    every new file is complete. Exits 0 on success, 1 if the run fails, 2 on bad input.
    """
    from marketsim.io.output import check_destination, default_out_dir
    from marketsim.plugins.prepare import load_scenario

    common.use_plugin_paths(plugin_path)
    common.check_options(seed=seed, replicates=replicates, workers=workers)
    scenario = load_scenario(file, overrides or ())
    common.warn(scenario)
    draws = common.read_draws(posterior, [scenario], replicates)
    out = out if out is not None else default_out_dir(scenario.name)
    protect = [Path(file), *([posterior] if posterior else [])]
    check_destination(out, force=force, protect=protect)

    from marketsim.drivers.contribution import (
        CHEAP_PEOPLE_STEPS,
        channel_contributions,
        contribution_cost,
        measured_by_default,
        with_contributions,
    )
    from marketsim.drivers.simulation import simulate
    from marketsim.io.files import run_files
    from marketsim.report.pages import PAGES

    if contribution is None:
        contribution = measured_by_default(scenario, replicates)
        cost = contribution_cost(scenario, replicates)
        if not contribution and cost and not quiet:
            print(
                f"note: channel increments not measured: {cost / 1e6:,.0f} M more people-steps "
                f"than the {CHEAP_PEOPLE_STEPS / 1e6:,.0f} M measured without asking; "
                "--contribution measures them",
                file=sys.stderr,
            )
    console = Console()
    runs = 1 + (sum(c.enabled for c in scenario.channels) if contribution else 0)
    progress = common.DelayedProgress(
        console,
        runs * replicates * scenario.horizon,
        scenario.name,
        enabled=not quiet and console.is_terminal,
    )
    with common.session(min(workers, replicates), cluster, quiet=quiet) as executor:
        with progress, failing_as("the run"):
            result = simulate(
                scenario,
                seed=seed,
                replicates=replicates,
                executor=executor,
                progress=progress.advance,
                posterior=draws,
            )
            if contribution:
                found = channel_contributions(result, executor=executor, progress=progress.advance)
                result = with_contributions(result, found)
        written = common.write_output(result, out, run_files(PAGES), force=force, protect=protect)
    tables = [common.headline_table(console, result)]
    if result.scenario.channels:
        tables.append(common.channel_table(console, result))
    tables += common.posterior_note(result.summary.posterior)
    common.finish(console, out, written, *tables, quiet=quiet)
