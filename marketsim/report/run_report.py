"""The report of one run: headline metrics, time, funnel, channels, segments, sales team."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from marketsim.core.format import interval, number, signed
from marketsim.drivers import metrics as M
from marketsim.drivers.records import RunSummary, Stats, TraitBandSummary
from marketsim.io.runs import RunData, run_data
from marketsim.report import figures as F
from marketsim.report.page import Section, cards, escape, page, table

if TYPE_CHECKING:
    from marketsim.drivers.results import Result


def run_html(result: Result) -> str:
    """report.html of a live run: the page `marketsim report` would draw from its files."""
    return run_page(run_data(result))


def headline_metrics(run: RunData) -> dict[str, Stats]:
    """The headline cards' metrics with 95% CIs: per kind of customer, never pooled."""
    return {name: run.summary.metrics[name] for name in M.headline(run.summary.customer_types)}


def over_time_figures(series: dict[str, Any], types: Sequence[str], unit: str) -> list[str]:
    """Revenue and spend per step, and customers of each kind in `types`, over time."""
    return [
        F.plot_over_time(F.over_time_info(series, "revenue", "revenue per step", step_unit=unit)),
        F.plot_over_time(F.over_time_info(series, "spend", "spend per step", step_unit=unit)),
        *(
            F.plot_over_time(
                F.over_time_info(series, f"customers_{kind}", f"customers ({kind})", step_unit=unit)
            )
            for kind in types
        ),
    ]


def run_sections(run: RunData) -> list[Section]:
    """Every section of a run's report."""
    summary = run.summary
    unit = summary.step
    runs = {run.name: run.timeseries}
    summaries = {run.name: summary}
    n = summary.replicates

    metrics = headline_metrics(run)
    headline = cards(
        (
            M.LABELS[name],
            number(metrics[name].mean, M.kind_of(name)),
            f"95% CI {interval(metrics[name].ci95_low, metrics[name].ci95_high, M.kind_of(name))}",
        )
        for name in metrics
    )
    sections = [
        Section(
            "Headline",
            html=headline,
            note=f"Means over {n} replicate{'s' * (n != 1)} with 95% confidence intervals of "
            "the mean. Consumers and accounts are counted apart; the cost per customer won is "
            "the marketing spend that reached that kind of customer plus its sales costs and "
            "commissions, over the new customers of that kind (docs/model.md, section 6).",
        ),
        Section(
            "Over time",
            figures=[
                *over_time_figures(runs, summary.customer_types, unit),
                *_channel_spend_figure(run, unit),
            ],
        ),
        _funnel_section(runs, run, unit, summaries),
    ]
    if run.channel_ids:
        sections.append(_channel_section(summaries, single=summary))
    if summary.by_segment:
        sections.append(Section("Segments", figures=[F.plot_bars(F.segment_info(summaries))]))
    if summary.by_trait:
        sections.append(_trait_section(summary.by_trait))
    if run.has_sales:
        sections.append(_sales_section(runs, {run.name: run.agents}, summaries))
    plugin_columns = [c for c in run.timeseries.columns if str(c).startswith("plugin.")]
    if plugin_columns:
        sections.append(_plugin_section(runs, plugin_columns, unit))
    sections.append(_scenario_section(run))
    return sections


def run_page(run: RunData) -> str:
    """The complete HTML report of a run."""
    summary = run.summary
    n = summary.replicates
    subtitle = (
        f"{n} replicate{'s' * (n != 1)}, seed {summary.seed}, {summary.horizon} {summary.step}s"
    )
    notice = summary.posterior.note() if summary.posterior else ""
    return page(f"{run.name}: run report", run_sections(run), subtitle=subtitle, notice=notice)


def _channel_spend_figure(run: RunData, unit: str) -> list[Any]:
    columns = [(f"spend_{c}", c) for c in run.channel_ids if f"spend_{c}" in run.timeseries]
    if not columns:
        return []
    info = F.stack_info(run.timeseries, columns, "spend per step by channel (mean)", step_unit=unit)
    return [F.plot_stack(info)]


def _funnel_section(
    runs: dict[str, Any],
    run: RunData | None,
    unit: str,
    summaries: dict[str, RunSummary] | None = None,
) -> Section:
    infos = F.funnel_infos(summaries) if summaries else []
    pooled = not infos
    if pooled:
        infos = [F.funnel_info(runs)]
    tables = []
    for info in infos:
        rows = []
        for k, stage in enumerate(info.stages):
            row = [stage]
            for s in info.series:
                row += [number(s.reached[k], "count"), number(s.conversion[k], "ratio")]
            rows.append(row)
        columns = [info.kind or "stage"]
        for s in info.series:
            prefix = f"{s.name}: " if len(info.series) > 1 else ""
            columns += [f"{prefix}at or beyond", f"{prefix}from previous stage"]
        tables.append(table(columns, rows))
    figures = [F.plot_funnel(info) for info in infos]
    if run is not None:
        stages = [(f"stage_{s}", s) for s in F.STAGES if (run.timeseries[f"stage_{s}"] > 0).any()]
        figures.append(
            F.plot_stack(
                F.stack_info(run.timeseries, stages, "people per stage (mean)", step_unit=unit)
            )
        )
    note = (
        "People at or beyond each stage at the end of the horizon, and the share of the "
        "stage before who got that far. "
        + (
            "Stages count every person, consumers and b2b buying-centre members together."
            if pooled
            else "One funnel per kind of customer: consumers pass market, aware, "
            "interested and customer only (they never qualify or negotiate; a consumer "
            "lead counts as interested); accounts' stages count every member of a buying "
            "centre."
        )
    )
    return Section("Funnel", figures=figures, html="".join(tables), note=note)


def _channel_section(
    summaries: dict[str, RunSummary], *, single: RunSummary | None = None
) -> Section:
    info = F.channel_info(summaries)
    html = _channel_table(single, info.series[0]) if single is not None else ""
    if info.measured:
        note = (
            "Incremental revenue is measured: each channel switched off in turn on the same "
            "random numbers, the difference with a 95% CI. It is what the channel earns; "
            "last- and first-touch attribution only share out revenue by who touched the "
            "buyer, shown beside it. ROI = (revenue credited - spend) / spend, without the "
            "cost of goods; incremental profit includes it and every cost the channel moves."
        )
    else:
        note = (
            "Not measured: revenue here is attributed to the last (or first) channel that "
            "touched the buyer, which shares out revenue but does not say what a channel "
            "earns. Run with --contribution to measure each channel's incremental revenue. "
            "ROI = (attributed revenue - spend) / spend, without the cost of goods."
        )
    return Section(
        "Channels",
        figures=[F.plot_channel_money(info), F.plot_channel_roi(info)],
        html=html,
        note=note,
    )


def _channel_table(summary: RunSummary, series: F.ChannelSeries) -> str:
    columns = ["channel", "type", "spend"]
    if series.measured:
        columns += ["incremental profit", "95% CI"]
    for credit in series.credits:
        columns.append(f"revenue, {credit.label}")
        if credit.basis == "incremental":
            columns.append("95% CI")
        columns.append(f"ROI, {credit.basis.replace('_', ' ')}")
    rows = []
    for k, cid in enumerate(series.channels):
        entry = summary.by_channel[cid]
        row = [cid, entry.type, number(series.spend[k])]
        if series.measured:
            profit = series.incremental_profit[k]
            row += [signed(profit.mean), interval(profit.ci95_low, profit.ci95_high)]
        for credit in series.credits:
            row.append(number(credit.revenue[k]))
            if credit.basis == "incremental":
                row.append(interval(credit.low[k], credit.high[k]))
            row.append(number(credit.roi[k], "ratio"))
        rows.append(row)
    for source, value in series.unattributed.items():
        row = [source, "no channel", ""] + [""] * (len(columns) - 3)
        row[columns.index("revenue, last touch (attribution)")] = number(value)
        rows.append(row)
    return table(columns, rows, align=["left", "left", *["right"] * (len(columns) - 2)])


def _trait_section(by_trait: dict[str, list[TraitBandSummary]]) -> Section:
    figures, rows = [], []
    for trait, bands in by_trait.items():
        label = trait.replace("_", " ").replace("habit:", "media habit: ")
        names = [_band_name(b) for b in bands]
        per_person = [b.revenue_per_person for b in bands]
        figures.append(
            F.plot_bars(
                F.BarsInfo(
                    f"Revenue per person by {label}",
                    "consumers where it varies, bands of equal size unless a mix; 95% CI",
                    names,
                    [""],
                    [[s.mean for s in per_person]],
                    [[s.ci95_low for s in per_person]],
                    [[s.ci95_high for s in per_person]],
                )
            )
        )
        for name, band in zip(names, bands, strict=True):
            rows.append(
                [
                    label,
                    name,
                    number(band.people.mean),
                    number(band.customers.mean),
                    number(band.customer_share.mean, "ratio"),
                    number(band.units.mean),
                    number(band.revenue.mean),
                    number(band.revenue_per_person.mean),
                    interval(band.revenue_per_person.ci95_low, band.revenue_per_person.ci95_high),
                ]
            )
    columns = [
        "trait",
        "band",
        "people",
        "customers",
        "share customers",
        "units",
        "revenue",
        "revenue per person",
        "95% CI",
    ]
    return Section(
        "By trait",
        figures=figures,
        html=table(columns, rows, align=["left", "left", *["right"] * (len(columns) - 2)]),
        note="Consumers of the segments where each trait varies, by band of that trait: "
        "a discrete mix by value, any other distribution by quintile. Customers at the "
        "horizon; units and revenue over the run. Means over replicates.",
    )


def _band_name(band: TraitBandSummary) -> str:
    low, high = f"{band.low:.3g}", f"{band.high:.3g}"
    return low if low == high else f"{low} to {high}"


def _sales_section(
    runs: dict[str, Any], agents: dict[str, Any], summaries: dict[str, RunSummary]
) -> Section:
    pipeline = F.pipeline_info(runs)
    figures = [F.plot_pipeline(pipeline)]
    utilisation = F.utilisation_info(agents)
    if utilisation.names:
        figures.append(F.plot_utilisation(utilisation))
    figures.append(F.plot_bars(F.closer_info(summaries)))
    columns = ["strategy" if len(pipeline.names) > 1 else "", *pipeline.stages]
    losses = list(pipeline.lost[0]) if pipeline.lost else []
    columns += losses
    rows = [
        [
            name,
            *(number(v) for v in pipeline.totals[i]),
            *(number(v) for v in pipeline.lost[i].values()),
        ]
        for i, name in enumerate(pipeline.names)
    ]
    return Section(
        "Sales team",
        figures=figures,
        html=table(columns, rows),
        note="Totals over the horizon, means over replicates. The win rate is deals won over "
        "proposals decided (won, lost to a competitor or to no decision). Utilisation is the "
        "share of each rep's or broker's capacity (calls, meetings, prospects) used; a new "
        "rep's capacity grows over the ramp.",
    )


def _plugin_section(runs: dict[str, Any], columns: list[str], unit: str) -> Section:
    """What the scenario's plugins measured each step (`plugin.<name>.<metric>` columns)."""
    return Section(
        "Plugin metrics",
        figures=[
            F.plot_over_time(F.over_time_info(runs, column, column, step_unit=unit))
            for column in columns
        ],
        note="Per-step outputs the scenario's behaviour plugins declare (PluginMetric), "
        "as in timeseries.csv: the mean over replicates and their 5th to 95th percentiles.",
    )


def _scenario_section(run: RunData) -> Section:
    import yaml

    description = str(run.scenario.get("description") or "").strip()
    text = yaml.safe_dump(run.scenario, sort_keys=False, allow_unicode=True)
    html = (
        (f"<p>{escape(description)}</p>" if description else "")
        + "<details><summary>scenario.resolved.yaml</summary>"
        + f"<pre>{escape(text)}</pre></details>"
    )
    return Section("Scenario", html=html, note="Every default filled in, and the seed used.")
