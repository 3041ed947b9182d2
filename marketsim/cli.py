"""The `marketsim` command: validate and run scenarios, print the scenario JSON Schema.

Exit codes (the user-facing contract): 0 success, 1 run-time failure, 2 bad input or
usage. Bad input is reported on stderr one problem a line, scenario problems as
`FILE:LINE:COL: dotted.path: message`, and nothing is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from marketsim.output import (
    OutputError,
    check_destination,
    default_out_dir,
    write_run,
)
from marketsim.scenario import ScenarioError, load_scenario, scenario_json_schema

if TYPE_CHECKING:
    from marketsim.results import Result

MAX_SEED = 2**63 - 1
PROGRESS_DELAY = 1.0
"""Seconds a run must last before its progress bar appears."""

app = typer.Typer(
    name="marketsim",
    help="Agent-based market simulator: validate and run marketing scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


class BadInput(Exception):
    """Input that cannot be used; each line of `str()` is one problem (exit code 2)."""


def _fail(message: str, code: int) -> NoReturn:
    print(message, file=sys.stderr)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from marketsim import __version__

        print(f"marketsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Agent-based market simulator: validate and run marketing scenarios."""


@app.command()
def validate(
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE", help="Scenario YAML files.", show_default=False),
    ],
) -> None:
    """Check scenario files: print `FILE: ok` for each good one, the problems of the others.

    Exits 0 when every file is valid, else 2.
    """
    bad = False
    for file in files:
        try:
            load_scenario(file)
        except ScenarioError as e:
            print(e, file=sys.stderr)
            bad = True
        else:
            print(f"{file}: ok")
    if bad:
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion and checking)."""
    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")


@app.command()
def run(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="Scenario YAML file.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Output directory (default: runs/*scenario name*).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            metavar="N", help="Seed, at least 0 (default: the scenario's seed).", show_default=False
        ),
    ] = None,
    replicates: Annotated[
        int,
        typer.Option("--replicates", "-r", metavar="R", help="Independent replicates, at least 1."),
    ] = 1,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="dotted.path=VALUE",
            help="Change a scenario value, e.g. --set channels.tv.budget=90000 (repeatable).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", "-f", help="Replace a non-empty output directory.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", metavar="W", help="Worker processes, at least 1.")
    ] = 1,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress bar or tables; print only the output path."
        ),
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Run replicates on a Dask cluster, e.g. tcp://scheduler:8786.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Simulate a scenario and write summary.json, timeseries.csv, scenario.resolved.yaml.

    An existing non-empty output directory is replaced only with --force, and only once
    every new file is complete. Exits 0 on success, 1 if the run fails, 2 on bad input.
    """
    try:
        _check_options(seed=seed, replicates=replicates, workers=workers)
        scenario = load_scenario(file, overrides or ())
        out = out if out is not None else default_out_dir(scenario.name)
        check_destination(out, force=force, protect=[Path(file)])
    except (BadInput, ScenarioError, OutputError) as e:
        _fail(str(e), 2)

    from marketsim.execution import make_executor
    from marketsim.simulation import simulate

    try:
        executor = make_executor(min(workers, replicates), cluster)
    except (OSError, TimeoutError, RuntimeError) as e:
        _fail(f"--cluster {cluster}: cannot reach the Dask scheduler: {e}", 2)
    console = Console()
    show_progress = not quiet and console.is_terminal
    try:
        with _interrupt_on_sigterm():
            progress = _DelayedProgress(
                console, replicates * scenario.horizon, scenario.name, enabled=show_progress
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
            except Exception as e:
                _fail(f"error: the run failed: {type(e).__name__}: {e}", 1)
            try:
                written = write_run(result, out, force=force, protect=[Path(file)])
            except OutputError as e:
                _fail(str(e), 2)
            except Exception as e:
                _fail(f"error: cannot write the output to {out}: {type(e).__name__}: {e}", 1)
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        raise

    if quiet:
        print(out)
        return
    console.print(headline_table(result))
    if result.scenario.channels:
        console.print(channel_table(result))
    names = ", ".join(p.name for p in written)
    console.print(f"Wrote [bold]{out}[/bold]: {names}", highlight=False, soft_wrap=True)


def _check_options(*, seed: int | None, replicates: int, workers: int) -> None:
    problems = []
    if seed is not None and not 0 <= seed <= MAX_SEED:
        problems.append(f"--seed: expected an integer from 0 to {MAX_SEED}, found {seed}")
    if replicates < 1:
        problems.append(f"--replicates: expected an integer >= 1, found {replicates}")
    if workers < 1:
        problems.append(f"--workers: expected an integer >= 1, found {workers}")
    if problems:
        raise BadInput("\n".join(f"error: {p}" for p in problems))


# --------------------------------------------------------------------------- tables


def headline_table(result: Result) -> Table:
    """Headline metrics: mean and 95% confidence interval of the mean over replicates."""
    summary = result.summary
    n = summary["replicates"]
    title = (
        f"{summary['scenario']}: {n} replicate{'s' * (n != 1)}, seed {summary['seed']}, "
        f"{summary['horizon']} {summary.get('step', 'step')}s"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    from marketsim.results import HEADLINE

    for name in HEADLINE:
        stats = summary["metrics"].get(name)
        if stats is None:
            continue
        kind = "ratio" if name == "roi" else "amount"
        table.add_row(name, _number(stats["mean"], kind), _interval(stats, kind))
    return table


def channel_table(result: Result) -> Table:
    """Spend and last-touch attributed revenue per channel (means over replicates)."""
    table = Table(title="by channel (means)", title_justify="left")
    table.add_column("channel")
    table.add_column("type")
    table.add_column("spend", justify="right")
    table.add_column("revenue (last touch)", justify="right")
    for cid, entry in result.summary["by_channel"].items():
        spend = entry["spend"]["mean"]
        revenue = entry.get("attributed_revenue", {}).get("mean")
        table.add_row(cid, entry.get("type", ""), _number(spend), _number(revenue))
    for source, stats in result.summary.get("unattributed_revenue", {}).items():
        label = source.replace("_", " ")
        table.add_row(f"[dim]{label}[/dim]", "", "", _number(stats["mean"]))
    return table


def _number(x: float | None, kind: str = "amount") -> str:
    if x is None:
        return "n/a"
    if kind == "ratio":
        return f"{x:,.1%}"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"


def _interval(stats: dict[str, Any], kind: str) -> str:
    low, high = stats.get("ci95_low"), stats.get("ci95_high")
    if low is None or high is None:
        return "n/a"
    return f"{_number(low, kind)} to {_number(high, kind)}"


# --------------------------------------------------------------------------- progress


class _DelayedProgress:
    """A progress bar of steps done that appears only if the run lasts over `delay` seconds.

    `advance` may be called from any thread; the bar is drawn on `console` and removed
    when the run ends.
    """

    def __init__(
        self,
        console: Console,
        total: int,
        description: str,
        *,
        enabled: bool = True,
        delay: float = PROGRESS_DELAY,
    ) -> None:
        self._console = console
        self._total = total
        self._description = description
        self._enabled = enabled
        self._delay = delay
        self._lock = threading.Lock()
        self._done = 0
        self._closed = False
        self._bar: Progress | None = None
        self._task: Any = None
        self._timer: threading.Timer | None = None

    def __enter__(self) -> _DelayedProgress:
        if self._enabled:
            self._timer = threading.Timer(self._delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._closed = True
            if self._bar is not None:
                self._bar.stop()

    @property
    def shown(self) -> bool:
        """Whether the bar has been displayed."""
        return self._bar is not None

    def advance(self, steps: int) -> None:
        """Count `steps` more simulated steps."""
        with self._lock:
            self._done += steps
            if self._bar is not None:
                self._bar.update(self._task, completed=self._done)

    def _show(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("steps"),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._task = self._bar.add_task(
                self._description, total=self._total, completed=self._done
            )
            self._bar.start()


@contextlib.contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C in this process, so partial output is cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pid = os.getpid()

    def interrupt(signum: int, frame: object) -> None:
        if os.getpid() != pid:  # a forked worker: die as it would have
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `marketsim` command."""
    app(args=None if argv is None else list(argv), prog_name="marketsim")
