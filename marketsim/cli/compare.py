"""`marketsim compare`: simulate strategies on common random numbers and compare them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from marketsim.cli import common
from marketsim.cli.app import command, failing_as
from marketsim.core.errors import InputError, InputErrors, ScenarioError

if TYPE_CHECKING:
    from marketsim.drivers.compare import Strategy
    from marketsim.drivers.posterior import Draws
    from marketsim.drivers.records import ComparisonRecord, Difference, Part, Stats
    from marketsim.scenario.schema import Scenario

DEFAULT_REPLICATES = 10
MAX_DIR_NAME = 100


@command()
def compare(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE",
            help="Scenario YAML files, one per strategy; the first is the baseline.",
            show_default=False,
        ),
    ],
    out: common.OutOpt = None,
    seed: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Seed for every strategy, at least 0 (default: the baseline's seed).",
            show_default=False,
        ),
    ] = None,
    replicates: Annotated[
        int, common.replicates_option("Paired replicates per strategy, at least 2.")
    ] = DEFAULT_REPLICATES,
    force: common.ForceOpt = False,
    workers: common.WorkersOpt = 1,
    quiet: common.QuietOpt = False,
    cluster: common.ClusterOpt = None,
    contribution: Annotated[
        bool,
        typer.Option(
            "--contribution",
            help="Also measure every strategy's channel increments, so differences are taken "
            "apart by channel on them rather than on attribution.",
        ),
    ] = False,
    plugin_path: common.PluginPath = None,
    posterior: common.PosteriorOpt = None,
) -> None:
    """Compare strategies: every scenario on the same random streams, against the first.

    Reports each metric's mean with a 95% CI per strategy and, against the baseline, the
    paired difference with its 95% CI and a Holm-corrected p-value. Writes
    comparison.json, comparison.csv, report.html and each strategy's run files under
    strategies/. Exits 0 on success, 1 if a run fails, 2 on bad input (nothing is run
    unless every file is valid).
    """
    from marketsim.drivers.compare import Strategy, check_alignment, strategy_names
    from marketsim.io.output import check_destination, default_out_dir

    common.use_plugin_paths(plugin_path)
    _check_options(files, seed=seed, replicates=replicates, workers=workers)
    scenarios = _load_all(files)
    problems = check_alignment(scenarios, files)
    if problems:
        raise InputError("\n".join(problems))
    draws = common.read_draws(posterior, scenarios, replicates)
    names = strategy_names([s.name for s in scenarios], files)
    out = out if out is not None else default_out_dir(_dir_name(names))
    protect = [*(Path(f) for f in files), *([posterior] if posterior else [])]
    check_destination(out, force=force, protect=protect)
    strategies = [
        Strategy(name, file, scenario)
        for name, file, scenario in zip(names, files, scenarios, strict=True)
    ]
    _run(strategies, out, seed, replicates, force, workers, quiet, cluster, contribution, draws)


def _check_options(files: list[str], *, seed: int | None, replicates: int, workers: int) -> None:
    problems = []
    if len(files) < 2:
        problems.append(f"FILE: compare needs two or more scenario files, found {len(files)}")
    if replicates < 2:
        problems.append(
            f"--replicates: expected an integer >= 2 (differences are paired "
            f"over replicates), found {replicates}"
        )
    try:
        common.check_options(seed=seed, replicates=max(replicates, 1), workers=workers)
    except InputError as e:
        problems.append(str(e))
    if problems:
        raise InputError("\n".join(problems))


def _load_all(files: list[str]) -> list[Scenario]:
    """Every scenario, or an error naming every bad file (so nothing runs)."""
    from marketsim.plugins.prepare import load_scenario

    scenarios, bad = [], []
    for file in files:
        try:
            scenarios.append(load_scenario(file))
        except ScenarioError as e:
            bad.append(e)
        else:
            common.warn(scenarios[-1])
    if bad:
        raise InputErrors(
            bad,
            f"{len(bad)} of {len(files)} scenario file{'s' * (len(files) != 1)} "
            f"{'is' if len(bad) == 1 else 'are'} invalid; nothing was run",
        )
    return scenarios


def _dir_name(names: list[str]) -> str:
    name = "compare-" + "-vs-".join(names)
    return name if len(name) <= MAX_DIR_NAME else name[:MAX_DIR_NAME]


def _run(
    strategies: list[Strategy],
    out: Path,
    seed: int | None,
    replicates: int,
    force: bool,
    workers: int,
    quiet: bool,
    cluster: str | None,
    contribution: bool,
    draws: Draws | None,
) -> None:
    from marketsim.drivers.compare import compare
    from marketsim.io.files import comparison_files
    from marketsim.report.pages import PAGES

    console = Console()
    protect = [Path(s.file) for s in strategies]
    if draws is not None:
        protect.append(Path(draws.posterior.dir))
    runs = sum(1 + contribution * sum(c.enabled for c in s.scenario.channels) for s in strategies)
    total = runs * replicates * strategies[0].scenario.horizon
    progress = common.DelayedProgress(
        console, total, "compare", enabled=not quiet and console.is_terminal
    )
    with common.session(min(workers, replicates), cluster, quiet=quiet) as executor:
        with progress, failing_as("the comparison"):
            comparison = compare(
                strategies,
                seed=seed,
                replicates=replicates,
                executor=executor,
                progress=progress.advance,
                contribution=contribution,
                posterior=draws,
            )
        written = common.write_output(
            comparison, out, comparison_files(comparison, PAGES), force=force, protect=protect
        )
    note = (
        f"[dim]Paired over {replicates} replicates on common random numbers; p-values "
        f"Holm-corrected over {comparison.record.family}; ▲ significantly better, "
        f"▼ significantly worse at {comparison.record.alpha:g}, n.s. not significant. "
        "Cells: mean ± half-width of the 95% CI.[/dim]"
    )
    record = comparison.record
    common.finish(
        console,
        out,
        written,
        *comparison_tables(console, record),
        note,
        *common.posterior_note(record.posterior),
        *decomposition_tables(console, record),
        quiet=quiet,
    )


def comparison_tables(console: Console, record: ComparisonRecord) -> list[Table]:
    """The terminal tables: a row per metric, the baseline's mean, each strategy's difference.

    Cells show `mean ± half-width of the 95% CI`; a difference that is significant after
    the Holm correction is marked and coloured (green better, red worse). A change of a
    ratio (ROI, win rate) is in percentage points. Strategies that do not fit the width
    go on to another table.
    """
    from marketsim.cli.tables import fitted_groups

    names = [s.name for s in record.strategies]
    title = f"{' vs '.join(names)}: {record.replicates} paired replicates, seed {record.seed}"
    return fitted_groups(console, names[1:], lambda group: _table(record, title, group))


def _table(record: ComparisonRecord, title: str, group: Sequence[str]) -> Table:
    from marketsim.drivers.metrics import LABELS, change_kind, kind_of

    baseline = record.baseline
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column(f"{baseline}\n(baseline)", justify="right", no_wrap=True)
    for name in group:
        table.add_column(f"{name}\nminus {baseline}", justify="right", no_wrap=True)
    for metric, by_strategy in record.metrics.items():
        cells: list[str | Text] = [
            LABELS.get(metric, metric),
            _pm(by_strategy[baseline], kind_of(metric)),
        ]
        for name in group:
            diff = record.difference(name, metric)
            assert diff is not None
            cells.append(_difference_cell(diff, change_kind(metric)))
        table.add_row(*cells)
    return table


def _pm(stats: Stats | Difference | Part, kind: str, *, signed: bool = False) -> str:
    """`mean ± half-width` of a 95% CI, or the mean alone when there is no interval."""
    from marketsim.core.format import number
    from marketsim.core.format import signed as plus

    text = (plus if signed else number)(stats.mean, kind)
    if stats.mean is None or stats.ci95_low is None or stats.ci95_high is None:
        return text
    half = number((stats.ci95_high - stats.ci95_low) / 2, kind).lstrip("+")
    return f"{text} ± {half}"


def _difference_cell(diff: Difference, kind: str) -> Text:
    from marketsim.core.format import number, p_value

    p = diff.p_holm
    p_text = "p n/a" if p is None else ("p < 0.001" if p < 0.001 else f"p = {p_value(p)}")
    head = _pm(diff, kind, signed=True)
    if diff.relative is not None and kind != "points":
        head += f" ({number(diff.relative, 'percent')})"
    if not diff.significant:
        return Text(f"{head}\nn.s. {p_text}")
    mark = "▲" if diff.better else "▼"
    return Text(f"{head}\n{mark} {p_text}", style="bold green" if diff.better else "bold red")


# --------------------------------------------------------------------------- why


def decomposition_tables(console: Console, record: ComparisonRecord) -> list[Any]:
    """Per significant revenue or profit difference: where it came from, and the bottleneck.

    The largest parts of each dimension (components, customer type, segment, channel),
    the customers held per segment, the funnel stages whose conversion changed, each
    team's use of its capacity; then a sentence per bottleneck.
    """
    from marketsim.cli.tables import Column, fitted
    from marketsim.drivers.decompose import bottlenecks
    from marketsim.report.compare_report import decomposition_rows

    out: list[Any] = []
    for d in record.decompositions:
        rows = decomposition_rows(d)
        columns = [
            Column("by", "left"),
            Column("part", "left"),
            Column(record.baseline, drop=2),
            Column(d.strategy, drop=2),
            Column("difference"),
            Column("95% CI", drop=1),
            Column("share", drop=3),
        ]
        label = "revenue" if d.metric == "revenue" else "profit"
        title = (
            f"why {d.strategy}'s {label} differs from {record.baseline}'s: "
            f"{_pm(d.total, 'amount', signed=True)}"
        )
        out.append(fitted(console, title, columns, rows))
        for sentence in bottlenecks(d, record.baseline):
            out.append(f"[dim]- {sentence}[/dim]")
    return out
