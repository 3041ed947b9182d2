"""The report of a comparison: the verdict, differences, and the strategies side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketsim.core.format import interval, number, p_value, signed
from marketsim.drivers.metrics import LABELS, joint_types, kind_of
from marketsim.drivers.records import ComparisonRecord, Difference
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
                row += [
                    signed(diff.mean, kind),
                    interval(diff.ci95_low, diff.ci95_high, kind),
                    number(diff.relative, "percent"),
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
        Section("Over time", figures=over_time_figures(series, types, unit)),
        _funnel_section(series, None, unit),
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
    return page(title, compare_sections(data), subtitle=subtitle)


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
