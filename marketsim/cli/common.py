"""What several commands share: options, their checks, result tables and the progress bar."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from marketsim.core.errors import InputError
from marketsim.core.format import interval, number, signed
from marketsim.core.limits import MAX_SEED

if TYPE_CHECKING:
    from marketsim.drivers.execution import Executor
    from marketsim.drivers.posterior import Draws
    from marketsim.drivers.records import PosteriorUse
    from marketsim.drivers.results import Result
    from marketsim.io.output import OutputFile
    from marketsim.scenario.schema import Scenario

PROGRESS_DELAY = 1.0
"""Seconds a run must last before its progress bar appears."""


def write_output(
    payload: Any, out: Path, files: Sequence[OutputFile[Any]], **options: Any
) -> list[Path]:
    """`write_files` for a command: an unusable `out` is bad input, a failed write exit 1."""
    from marketsim.cli.app import failing_as
    from marketsim.io.output import write_files

    with failing_as(f"writing the output to {out}"):
        return write_files(payload, out, files, **options)


def check_out(
    out: Path, store: Path | None, what: str, *, resume: bool, force: bool, protect: Sequence[Path]
) -> None:
    """Refuse an output directory a resumable command may not use; touch nothing.

    Args:
        out: the output directory.
        store: the file in `out` that `--resume` continues (a study, a database), if any.
        what: what the command keeps there, for the messages (`study`, `benchmark`).
        resume: `--resume` was given.
        force: `--force` was given.
        protect: input files `out` must not hold.

    """
    from marketsim.io.output import OutputError, check_destination

    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    if resume and store is not None and not store.exists():
        raise OutputError(f"--resume: no {what} in {out} to resume (expected {store})")
    if out.is_dir() and any(out.iterdir()) and not resume and not force:
        raise OutputError(
            f"output directory {out} exists and is not empty; continue its {what} with "
            "--resume, start afresh with --force, or choose another --out"
        )
    check_destination(out, force=True, protect=list(protect))


def option(help: str, metavar: str = "", *names: str) -> Any:
    """A command-line option with no default shown (the settings' defaults are in `help`)."""
    return typer.Option(*names, metavar=metavar or None, help=help, show_default=False)


def explain(err: Any) -> str:
    """A pydantic error on an option's value, in the words of the error format."""
    ctx = err.get("ctx") or {}
    found = err.get("input")
    for key, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in ctx:
            noun = "an integer" if isinstance(found, int) else "a number"
            return f"expected {noun} {symbol} {ctx[key]}, found {found}"
    if err["type"] == "literal_error":
        return f"expected {ctx.get('expected', 'one of the choices')}, found {found!r}"
    return str(err["msg"]).removeprefix("Value error, ")


def warn(scenario: Scenario) -> None:
    """Say on stderr what the scenario allows but probably does not mean."""
    for problem in scenario.warnings:
        print(problem, file=sys.stderr)


def listing(out: Path, written: Sequence[Path]) -> str:
    """The files and folders written into `out`, for the closing line of a command."""
    tops = []
    for path in written:
        parts = path.relative_to(out).parts
        tops.append(parts[0] + ("/" if len(parts) > 1 else ""))
    return ", ".join(dict.fromkeys(tops))


def check_options(*, seed: int | None, replicates: int, workers: int) -> None:
    """Refuse option values no run can use, all problems at once."""
    problems = []
    if seed is not None and not 0 <= seed <= MAX_SEED:
        problems.append(f"--seed: expected an integer from 0 to {MAX_SEED}, found {seed}")
    if replicates < 1:
        problems.append(f"--replicates: expected an integer >= 1, found {replicates}")
    if workers < 1:
        problems.append(f"--workers: expected an integer >= 1, found {workers}")
    if problems:
        raise InputError("\n".join(problems))


FileArg = Annotated[
    str, typer.Argument(metavar="FILE", help="Scenario YAML file.", show_default=False)
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        metavar="DIR",
        help="Output directory (default: a folder named after the scenario under runs/).",
        show_default=False,
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N", help="Seed, at least 0 (default: the scenario's).", show_default=False
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="dotted.path=VALUE",
        help="Change a scenario value, e.g. --set channels.tv.budget=90000 (repeatable).",
        show_default=False,
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", "-f", help="Replace a non-empty output directory.")
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", "-w", metavar="W", help="Worker processes, at least 1.")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar or tables; print the output path.")
]
ClusterOpt = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS",
        help="Run on a Dask cluster, e.g. tcp://scheduler:8786.",
        show_default=False,
    ),
]
"""Options shared by the commands that run scenarios, defined once."""

PosteriorOpt = Annotated[
    Path | None,
    typer.Option(
        "--posterior",
        metavar="DIR",
        help="Run replicate r on draw r of the calibration in DIR (marketsim calibrate's "
        "output), so intervals include what the data leave unknown.",
        show_default=False,
    ),
]
"""`--posterior DIR` of run, compare, sweep and optimize."""


def read_draws(path: Path | None, scenarios: Sequence[Scenario], replicates: int) -> Draws | None:
    """The posterior in `path` (None without one), checked against every scenario.

    Raises:
        InputError: `path` is not a calibration, or its draws cannot be applied to one
            of the scenarios (every problem of every scenario at once).

    """
    if path is None:
        return None
    from marketsim.core.errors import ScenarioError
    from marketsim.drivers.posterior import Draws
    from marketsim.plugins.prepare import prepare
    from marketsim.scenario.posterior import read_posterior

    draws = Draws(read_posterior(path))
    problems = []
    for scenario in scenarios:
        try:
            draws.check(prepare(scenario), replicates)
        except ScenarioError as e:
            problems += e.problems
    if problems:
        raise ScenarioError(dict.fromkeys(problems))
    _same_where_drawn(draws, scenarios)
    return draws


def _same_where_drawn(draws: Draws, scenarios: Sequence[Scenario]) -> None:
    """Refuse strategies that differ at a path the posterior sets (the draw would erase it).

    Raises:
        InputError: naming each scenario, path and the two values.

    """
    from marketsim.scenario.paths import locate

    first, *others = scenarios
    base = first.model_dump(mode="json")
    differ = []
    for scenario in others:
        data = scenario.model_dump(mode="json")
        for path in draws.posterior.paths:
            a, b = (locate(d, path.split(".")) for d in (base, data))
            mine, theirs = a.container[a.key], b.container[b.key]
            if mine != theirs:
                differ.append(
                    f"--posterior: {scenario.name} sets {path} = {theirs} ({first.name}: "
                    f"{mine}), but the posterior in {draws.posterior.dir} sets it in every "
                    "replicate, so the difference would be erased; compare strategies that "
                    "differ elsewhere"
                )
    if differ:
        raise InputError("\n".join(differ))


def posterior_note(used: PosteriorUse | None) -> list[str]:
    """The terminal's line saying the intervals include calibration uncertainty, if they do."""
    return [] if used is None else [f"[dim]{escape(used.note())}[/dim]"]


def replicates_option(help: str) -> Any:
    """`--replicates R` / `-r R`, with the command's own help."""
    return typer.Option("--replicates", "-r", metavar="R", help=help)


PluginPath = Annotated[
    list[Path] | None,
    typer.Option(
        "--plugin-path",
        metavar="DIR",
        help="Also look for behaviour plugins in DIR (repeatable); so does MARKETSIM_PLUGIN_PATH.",
        show_default=False,
    ),
]
"""The `--plugin-path DIR` option of every command that loads scenarios."""


def use_plugin_paths(paths: list[Path] | None) -> None:
    """Search `paths` for plugins from now on (and in worker processes); folders only."""
    if not paths:
        return
    from marketsim.plugins.discovery import add_plugin_paths

    try:
        add_plugin_paths(paths)
    except NotADirectoryError as e:
        raise InputError(f"--plugin-path: {e}") from None


def headline_table(console: Console, result: Result) -> Table:
    """Headline metrics: mean and 95% confidence interval of the mean over replicates."""
    from marketsim.cli.tables import Column, fitted
    from marketsim.drivers.metrics import LABELS, headline, kind_of

    summary = result.summary
    n = summary.replicates
    title = (
        f"{summary.scenario}: {n} replicate{'s' * (n != 1)}, seed {summary.seed}, "
        f"{summary.horizon} {summary.step}s"
    )
    rows = []
    for name in headline(summary.customer_types):
        stats = summary.metrics[name]
        kind = kind_of(name)
        ci = interval(stats.ci95_low, stats.ci95_high, kind)
        rows.append([LABELS[name], number(stats.mean, kind), ci])
    columns = [Column("metric", "left"), Column("mean"), Column("95% CI", drop=1)]
    return fitted(console, title, columns, rows)


def channel_table(console: Console, result: Result) -> Table:
    """Spend and the revenue credited per channel: incremental first where measured.

    Attribution is labelled as such; on a narrow terminal the columns least needed go
    first (first touch, the channel type, attribution ROI, intervals, incremental profit,
    and last touch beside a measured increment).
    """
    from marketsim.cli.tables import Column, fitted
    from marketsim.report.figures import channel_info

    summary = result.summary
    series = channel_info({summary.scenario: summary}).series[0]
    measured = series.measured
    columns = [Column("channel", "left"), Column("type", "left", drop=5), Column("spend")]
    if measured:
        columns += [
            Column("incremental\nrevenue"),
            Column("95% CI", drop=3),
            Column("ROI\n(incremental)"),
            Column("incremental\nprofit", drop=2),
        ]
    columns += [Column(LAST_TOUCH, drop=int(measured)), Column("ROI\n(last touch)", drop=4)]
    columns += [Column("first touch\n(attribution)", drop=6)]
    rows = []
    for k, cid in enumerate(series.channels):
        row: list[str] = [cid, summary.by_channel[cid].type, number(series.spend[k])]
        credits = {c.basis: c for c in series.credits}
        if series.measured:
            inc = credits["incremental"]
            row += [
                number(inc.revenue[k]),
                interval(inc.low[k], inc.high[k]),
                number(inc.roi[k], "ratio"),
                signed(series.incremental_profit[k].mean),
            ]
        last = credits["last_touch"]
        row += [number(last.revenue[k]), number(last.roi[k], "ratio")]
        row += [number(credits["first_touch"].revenue[k])]
        rows.append(row)
    for source, value in series.unattributed.items():
        blank = [""] * (len(columns) - 3)
        row = [source, "", "", *blank]
        row[[c.header for c in columns].index(LAST_TOUCH)] = number(value)
        rows.append(row)
    title = (
        "by channel (means): incremental as measured, attribution beside it"
        if series.measured
        else "by channel (means): attribution only, not what a channel earns; "
        "--contribution measures that"
    )
    return fitted(console, title, columns, rows)


LAST_TOUCH = "last touch\n(attribution)"


# progress


class DelayedProgress:
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
        delay: float | None = None,
    ) -> None:
        self._console = console
        self._total = total
        self._description = description
        self._enabled = enabled
        self._delay = PROGRESS_DELAY if delay is None else delay
        self._lock = threading.Lock()
        self._done = 0
        self._closed = False
        self._bar: Progress | None = None
        self._task: Any = None
        self._timer: threading.Timer | None = None

    def __enter__(self) -> DelayedProgress:
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


class PhasedProgress:
    """Trials done, best so far and time left; then each analysis phase."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.search: Any = None
        self.current: Any = None

    def __enter__(self) -> PhasedProgress:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def trials(self, done: int, wanted: int, best: float | None) -> None:
        """Show `done` of `wanted` trials and the best value so far."""
        if not self.enabled:
            return
        note = "" if best is None else f"best {number(best)}"
        if self.search is None:
            self.search = self.progress.add_task("trials", total=wanted, completed=done, note=note)
        self.progress.update(self.search, completed=min(done, wanted), note=note)

    def phase(self, name: str, jobs: int) -> None:
        """Start a phase of `jobs` simulations."""
        if self.enabled:
            self.current = self.progress.add_task(name, total=jobs, note="replicates")

    def job(self, _: object) -> None:
        """Count one simulation of the current phase."""
        if self.enabled and self.current is not None:
            self.progress.advance(self.current)


COMPILE_SECONDS = 20
"""About how long compiling the kernels of a first run takes on a free 2-core machine."""


@contextlib.contextmanager
def compile_notice(quiet: bool) -> Iterator[None]:
    """Say on stderr, once, that numba is compiling the kernels: why a first run waits.

    Nothing is said when every kernel comes from numba's cache, or when `quiet`.

    Kernels compiled in worker processes (`--workers`, `--cluster`) are not announced.
    """
    if quiet:
        yield
        return
    from marketsim.kernels.compiling import on_first_compile

    def notify() -> None:
        print(
            "compiling marketsim's kernels for this machine "
            f"(once, about {COMPILE_SECONDS} s; `marketsim warm-up` does it ahead)…",
            file=sys.stderr,
            flush=True,
        )

    with on_first_compile(notify):
        yield


@contextlib.contextmanager
def session(
    workers: int,
    cluster: str | None,
    *,
    quiet: bool,
    interrupted: str = "no output was written",
) -> Iterator[Executor]:
    """Where a command's simulations run, with SIGTERM treated as Ctrl-C.

    An interruption is said on stderr (`interrupted: ...`) and exits 130. Unless `quiet`,
    the first kernel numba has to compile here is announced (`compile_notice`).
    """
    from marketsim.drivers.execution import make_executor

    try:
        with (
            make_executor(workers, cluster) as executor,
            interrupt_on_sigterm(),
            compile_notice(quiet),
        ):
            yield executor
    except KeyboardInterrupt:
        print(f"interrupted: {interrupted}", file=sys.stderr)
        raise typer.Exit(130) from None


def finish(console: Console, out: Path, written: Sequence[Path], *tables: Any, quiet: bool) -> None:
    """A command's last words: the output path alone when quiet, else tables and files."""
    if quiet:
        print(out)
        return
    for table in tables:
        console.print(table, highlight=False)
    console.print(
        f"Wrote [bold]{out}[/bold]: {listing(out, written)}", highlight=False, soft_wrap=True
    )


@contextlib.contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
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
