"""`marketsim bench`: every strategy of a suite in every market, and which plan holds up."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from marketsim.cli import common
from marketsim.cli.app import command, failing_as
from marketsim.core.errors import InputError, MarketsimError
from marketsim.core.format import number, signed

if TYPE_CHECKING:
    from marketsim.drivers.bench.cells import Cell
    from marketsim.drivers.bench.plan import Bench
    from marketsim.drivers.bench.records import BenchRecord
    from marketsim.drivers.metrics import ReplicateMetrics

RULES_SHOWN = 2
"""Rules printed per pair of strategies (the report and bench.json have them all)."""


@command()
def bench(
    suite: Annotated[
        str, typer.Argument(metavar="SUITE", help="Suite YAML file.", show_default=False)
    ],
    replicates: Annotated[
        int | None,
        typer.Option(
            "--replicates",
            "-r",
            metavar="R",
            help="Paired replicates per (market, strategy), at least 2 (default: the suite's).",
            show_default=False,
        ),
    ] = None,
    seed: common.SeedOpt = None,
    out: common.OutOpt = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue in DIR, keeping the runs stored there.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", "-f", help="Start afresh in a non-empty DIR (its runs are deleted)."
        ),
    ] = False,
    workers: common.WorkersOpt = 1,
    cluster: common.ClusterOpt = None,
    overrides: common.SetOpt = None,
    quiet: common.QuietOpt = False,
    plugin_path: common.PluginPath = None,
) -> None:
    """Run every strategy of a suite in every market: a leaderboard and when each plan wins.

    Every (market, strategy, replicate) runs on common random numbers and is stored in
    DIR/results.db as it finishes, so an interrupted benchmark continues with --resume.
    Writes bench.json, leaderboard.csv, results.csv, report.html and results.db. --set
    changes every scenario the suite loads. Exits 0 on success, 1 if a run fails, 2 on
    bad input (nothing is run or written unless the whole suite is valid).
    """
    from marketsim.drivers.bench.plan import plan
    from marketsim.io.output import default_out_dir
    from marketsim.scenario.suite import read_suite

    common.use_plugin_paths(plugin_path)
    common.check_options(seed=seed, replicates=max(2, replicates or 2), workers=workers)
    if replicates is not None and replicates < 2:
        raise InputError(
            f"--replicates: expected an integer >= 2 (strategies are paired over "
            f"replicates), found {replicates}"
        )
    suite_file = read_suite(suite)
    ready = plan(suite_file, overrides=overrides or (), replicates=replicates, seed=seed)
    out = out if out is not None else default_out_dir(f"{suite_file.spec.name}-bench")
    protect = [Path(suite), *{m.file for m in ready.markets}]
    from marketsim.io.files import RESULTS_DB

    common.check_out(
        out, out / RESULTS_DB, "benchmark", resume=resume, force=force, protect=protect
    )
    _run(ready, out, resume=resume, force=force, workers=workers, cluster=cluster, quiet=quiet)


def _run(
    ready: Bench,
    out: Path,
    *,
    resume: bool,
    force: bool,
    workers: int,
    cluster: str | None,
    quiet: bool,
) -> None:
    from marketsim.drivers.bench.outcome import bench_record
    from marketsim.drivers.bench.run import pending, run
    from marketsim.io.files import RESULTS_DB, bench_files
    from marketsim.io.results_db import ResultStore
    from marketsim.report.pages import PAGES

    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    db = out / RESULTS_DB
    try:
        if force and not resume:
            for stale in (db, db.with_name(f"{RESULTS_DB}-wal"), db.with_name(f"{RESULTS_DB}-shm")):
                stale.unlink(missing_ok=True)
        store = ResultStore(db)
    except OSError as e:
        raise InputError(f"cannot open the results database {db}: {e}") from None
    try:
        store.claim(ready.cells, ready.markets)
    except MarketsimError:
        store.close()
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    done = store.done()
    todo = len(pending(ready, done))
    total = len(ready.cells) * ready.replicates
    console = Console(stderr=True)
    if resume and not quiet:
        console.print(f"resuming: {total - todo} of {total} runs already stored in {db}")
    bar = common.PhasedProgress(console, enabled=not quiet and console.is_terminal)
    kept = f"finished runs are kept in {db}; continue with the same command and --resume"

    def save(cell: Cell, replicate: int, result: ReplicateMetrics) -> None:
        store.save(cell.market, cell.strategy, replicate, ready.seed, result)
        bar.job(None)

    with store, common.session(workers, cluster, interrupted=kept, quiet=quiet) as executor, bar:
        bar.phase("runs", todo)
        with failing_as("the benchmark"):
            run(ready, save, executor=executor, done=done)
            keys = [(c.market, c.strategy) for c in ready.cells]
            record = bench_record(ready, store.load(keys, ready.replicates))
        # The database moves into the new directory: replacing `out` is always allowed.
        protect = [ready.suite.path, *{m.file for m in ready.markets}]
        written = common.write_output(
            record, out, bench_files(PAGES, store), force=True, protect=protect
        )
    console = Console()
    common.finish(console, out, written, *bench_tables(console, record), quiet=quiet)


def bench_tables(console: Console, record: BenchRecord) -> list[Table]:
    """The leaderboard (fitted to the terminal), what each criterion picks, the rules found."""
    from marketsim.cli.tables import Column, fitted
    from marketsim.drivers.metrics import LABELS, change_kind, kind_of

    kind = kind_of(record.objective)
    label = LABELS.get(record.objective, record.objective)
    title = (
        f"{record.suite}: {len(record.strategies)} strategies x {len(record.markets)} markets "
        f"x {record.replicates} replicates, ranked by {label}"
    )
    columns = [
        Column("strategy", "left"),
        Column("mean rank"),
        Column("win rate", drop=1),
        Column(f"mean {label}"),
        Column("worst", drop=2),
        Column("mean regret"),
        Column("max regret", drop=3),
        Column("p90 regret", drop=4),
        Column(f"vs {record.baseline}"),
    ]
    rows = [
        [
            s.strategy,
            f"{s.mean_rank.value:.2f}",
            number(s.win_rate.value, "ratio"),
            number(s.mean.value, kind),
            number(s.worst.value, kind),
            number(s.regret_mean.value, kind),
            number(s.regret_max.value, kind),
            number(s.regret_p90.value, kind),
            "baseline"
            if s.strategy == record.baseline
            else signed(s.versus_baseline.value, change_kind(record.objective)),
        ]
        for s in record.leaderboard
    ]
    table = fitted(console, title, columns, rows)
    criteria = Table(title="decision criteria", title_justify="left", show_header=False)
    criteria.add_column("criterion")
    criteria.add_column("picks")
    for c in record.criteria:
        tied = f" (tied with {', '.join(c.tied)})" if c.tied else ""
        criteria.add_row(c.label, f"{c.strategy}{tied}")
    criteria.add_row("", record.agreement)
    rules = Table(title="when does one strategy beat another", title_justify="left")
    rules.add_column("rule")
    rules.add_column("coverage", justify="right")
    rules.add_column("density", justify="right")
    for found in record.discovery:
        if not found.rules:
            rules.add_row(found.note, "", "")
        for rule in found.rules[:RULES_SHOWN]:
            rules.add_row(rule.text, number(rule.coverage, "ratio"), number(rule.density, "ratio"))
    return [table, criteria, rules]
