"""The report of a comparison: the verdict, differences, and the strategies side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketsim.core.format import interval, number, p_value, signed
from marketsim.drivers.decompose import bottlenecks, excludes_zero
from marketsim.drivers.metrics import LABELS, change_kind, joint_types, kind_of
from marketsim.drivers.records import ComparisonRecord, Decomposition, Difference, Part
from marketsim.io.runs import ComparisonData, comparison_data
from marketsim.report import figures as F
from marketsim.report.page import Section, escape, page, table
from marketsim.report.run_report import (
    _channel_section,
    _funnel_section,
    _sales_section,
    over_time_figures,
)

if TYPE_CHECKING:
    from marketsim.drivers.compare import Comparison


def comparison_html(comparison: Comparison) -> str:
    """report.html of a live comparison, as `marketsim report` draws it from the files."""
    return compare_page(comparison_data(comparison))


def verdict_rows(record: ComparisonRecord) -> tuple[list[str], list[list[str]], list[str]]:
    """The comparison table: columns, text rows and a CSS class per row (significant)."""
    columns = [
        "metric",
        "strategy",
        "mean",
        "95% CI",
        "difference",
        "95% CI of difference",
        "relative",
        "p (Holm)",
        "verdict",
    ]
    rows, classes = [], []
    for metric, by_strategy in record.metrics.items():
        kind = kind_of(metric)
        for strategy in record.strategies:
            name = strategy.name
            stats = by_strategy[name]
            row = [
                LABELS.get(metric, metric),
                name,
                number(stats.mean, kind),
                interval(stats.ci95_low, stats.ci95_high, kind),
            ]
            diff = record.difference(name, metric)
            if diff is None:
                row += ["baseline", "", "", "", ""]
                classes.append("")
            else:
                change = change_kind(metric)
                row += [
                    signed(diff.mean, change),
                    interval(diff.ci95_low, diff.ci95_high, change),
                    number(diff.relative, "percent") if change != "points" else "",
                    p_value(diff.p_holm),
                    verdict(diff),
                ]
                classes.append("significant" if diff.significant else "")
            rows.append(row)
    return columns, rows, classes


def verdict(diff: Difference) -> str:
    """The verdict on a difference: better, worse or no significant difference."""
    if not diff.significant:
        return "no significant difference"
    return "better" if diff.better else "worse"


def compare_sections(data: ComparisonData) -> list[Section]:
    """Every section of a comparison's report."""
    record = data.record
    runs = data.runs
    unit = record.step
    series = {name: run.timeseries for name, run in runs.items()}
    summaries = {name: run.summary for name, run in runs.items()}
    types = joint_types(run.summary.customer_types for run in runs.values())
    columns, rows, classes = verdict_rows(record)
    sections = [
        Section(
            "Verdict",
            html=table(
                columns,
                rows,
                align=["left", "left", *["right"] * 6, "left"],
                row_classes=classes,
            ),
            note=f"Against the baseline {record.baseline}: the mean paired difference over "
            f"{record.replicates} replicates on common random numbers, its 95% CI, and the "
            f"p-value after Holm correction over {record.family}. "
            f"Bold rows are significant at {record.alpha:g}.",
        ),
        Section(
            "Differences",
            figures=[F.plot_differences(F.difference_info(record))],
        ),
        Section("Side by side", figures=[F.plot_metric_means(F.metric_means_info(record))]),
        *_why_sections(record),
        Section("Over time", figures=over_time_figures(series, types, unit)),
        _funnel_section(series, None, unit, summaries),
    ]
    if any(run.channel_ids for run in runs.values()):
        sections.append(_channel_section(summaries))
    sections.append(Section("Segments", figures=[F.plot_bars(F.segment_info(summaries))]))
    if any(run.has_sales for run in runs.values()):
        agents = {name: run.agents for name, run in runs.items()}
        sections.append(_sales_section(series, agents, summaries))
    sections.append(_method_section(record))
    return sections


def compare_page(data: ComparisonData) -> str:
    """The complete HTML report of a comparison."""
    record = data.record
    names = [s.name for s in record.strategies]
    title = f"{' vs '.join(names)}: comparison"
    subtitle = (
        f"baseline {record.baseline}; {record.replicates} replicates each on common "
        f"random numbers, seed {record.seed}, {record.horizon} {record.step}s"
    )
    notice = record.posterior.note() if record.posterior else ""
    return page(title, compare_sections(data), subtitle=subtitle, notice=notice)


def _method_section(record: ComparisonRecord) -> Section:
    rows = [[s.name, s.scenario, s.file, s.dir] for s in record.strategies]
    text = (
        "<p>Every strategy was simulated with the same seed and replicate indices, so "
        "replicate r of each strategy used the same random streams (common random numbers) "
        "and differences are measured pair by pair. Each difference has a Student-t 95% "
        "confidence interval and a two-sided paired t-test; p-values are Holm-adjusted over "
        f"{escape(record.family)}. Consumers and accounts are compared apart; the cost per "
        "customer won is the marketing spend that reached that kind of customer plus its "
        "sales costs and commissions, over the new customers of that kind. Total ROI is "
        "profit over everything spent (marketing, sales, commissions, cost of goods); "
        "marketing ROI is gross margin less marketing spend over marketing spend.</p>"
    )
    return Section(
        "Method",
        html=text + table(["strategy", "scenario", "file", "output"], rows, align=["left"] * 4),
    )


# --------------------------------------------------------------------------- why


DECOMPOSITION_COLUMNS = ("by", "part", "baseline", "other", "difference", "95% CI", "share")


def decomposition_rows(d: Decomposition) -> list[list[str]]:
    """A decomposition as rows of `DECOMPOSITION_COLUMNS`, for the terminal and the report.

    The five largest parts of each dimension (components, customer type, segment,
    customers held, channel), the funnel conversions and pipeline stages that moved
    (intervals clear of zero), and each team's utilisation.
    """
    rows = _part_rows("components", d.components)
    if len(d.by_type) > 1:
        rows += _part_rows("customer type", d.by_type)
    rows += _part_rows("segment", d.by_segment)
    rows += _part_rows("customers held", d.customers, "count")
    basis = "incremental" if d.channel_basis == "incremental" else "last touch, attribution"
    rows += _part_rows(f"channel ({basis})", d.by_channel)
    for kind, stages in d.funnel.items():
        moved = [s for s in stages[1:] if excludes_zero(s.conversion)]
        for i, s in enumerate(moved):
            rows.append(
                [
                    f"{kind} funnel" if i == 0 else "",
                    f"to {s.stage}",
                    number(s.conversion_baseline, "ratio"),
                    number(s.conversion_other, "ratio"),
                    number(s.conversion.mean, "points"),
                    interval(s.conversion.ci95_low, s.conversion.ci95_high, "points"),
                    number(s.share, "ratio") if s.share is not None else "",
                ]
            )
    moved = [s for s in d.pipeline if excludes_zero(s.reached)]
    for i, s in enumerate(moved):
        rows.append(
            [
                "sales pipeline" if i == 0 else "",
                s.stage,
                number(s.reached_baseline, "count"),
                number(s.reached_other, "count"),
                signed(s.reached.mean, "count"),
                interval(s.reached.ci95_low, s.reached.ci95_high, "count"),
                "",
            ]
        )
    for i, c in enumerate(d.capacity):
        rows.append(
            [
                "utilisation" if i == 0 else "",
                c.team,
                number(c.baseline, "ratio"),
                number(c.other, "ratio"),
                number(c.difference.mean, "points"),
                interval(c.difference.ci95_low, c.difference.ci95_high, "points"),
                "",
            ]
        )
    return rows


def _part_rows(dimension: str, parts: list[Part], kind: str = "amount") -> list[list[str]]:
    """Rows of the largest five `parts` of one dimension, in their own order."""
    chosen = sorted(parts, key=lambda p: -abs(p.difference.mean or 0.0))[:5]
    rows = []
    for i, p in enumerate(sorted(chosen, key=parts.index)):
        diff = p.difference
        rows.append(
            [
                dimension if i == 0 else "",
                p.label,
                number(p.baseline, kind),
                number(p.other, kind),
                signed(diff.mean, kind),
                interval(diff.ci95_low, diff.ci95_high, kind),
                number(p.share, "ratio") if p.share is not None else "",
            ]
        )
    return rows


def _why_sections(record: ComparisonRecord) -> list[Section]:
    """A section per significant revenue or profit difference, taken apart."""
    out = []
    for d in record.decompositions:
        columns = list(DECOMPOSITION_COLUMNS)
        columns[2:4] = [record.baseline, d.strategy]
        sentences = "".join(f"<li>{escape(s)}</li>" for s in bottlenecks(d, record.baseline))
        html = table(columns, decomposition_rows(d), align=["left", "left", *["right"] * 5])
        if sentences:
            html += f'<ul class="bottlenecks">{sentences}</ul>'
        total = d.total
        out.append(
            Section(
                f"Why {d.strategy}'s {d.metric} differs: "
                f"{signed(total.mean)} ({interval(total.ci95_low, total.ci95_high)})",
                html=html,
                note="The difference taken apart on the same paired replicates, each part "
                "with its own 95% CI: components, customer types and segments add up to the "
                "difference; channels on their measured increments where both strategies "
                "measured them (compare --contribution), else on last-touch attribution "
                "with word of mouth and organic (which add up); the funnel's conversions in "
                "percentage points with each stage's share of the change in customers held; "
                "teams at 95% utilisation or more are the bottleneck.",
            )
        )
    return out
