"""Every figure of the reports, in two steps: a plain record of its data, then the drawing.

`*_info` functions take what an output directory holds (run summaries, timeseries and
agents frames, comparison records) and return a small frozen dataclass of lists and
numbers; `plot_*` functions turn that record into a plotly figure and compute nothing.
Tests check the records without a browser (as Optuna does in `visualization/_edf.py`).

Runs and comparisons share the functions: a record holds one series per strategy, and a
run is a comparison of one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from marketsim.core.format import number, p_value
from marketsim.core.stages import STAGES
from marketsim.drivers.metrics import LABELS
from marketsim.drivers.records import ComparisonRecord, RunSummary, Stats

COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c")
"""One colour per strategy (or series), in order; cycled beyond eight."""

GOOD, BAD, NEUTRAL = "#1a7f37", "#cf222e", "#8c8c8c"

BAND = (0.05, 0.95)
"""Quantiles of the replicates shaded around the mean over time."""

PIPELINE_STAGES = (
    ("leads", "leads"),
    ("calls", "calls"),
    ("appointments", "appointments"),
    ("opportunities", "opportunities"),
    ("proposals", "proposals"),
    ("deals_won", "deals won"),
)
"""The sales pipeline as the timeseries counts it: (column, label)."""


_LAYOUT = {
    "template": "none",
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "colorway": list(COLORS),
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
}


_AXIS = {
    "gridcolor": "#eaeef2",
    "linecolor": "#d0d7de",
    "zerolinecolor": "#d0d7de",
    "showgrid": True,
    "automargin": True,
}


def _styled(fig: Any) -> Any:
    """`fig` with the reports' neutral axes."""
    fig.update_xaxes(**_AXIS)
    fig.update_yaxes(**_AXIS)
    return fig


def color(i: int) -> str:
    """The colour of series `i`."""
    return COLORS[i % len(COLORS)]


# --------------------------------------------------------------------------- over time


@dataclass(frozen=True)
class Band:
    """One strategy's mean over replicates per step, with a band of replicates."""

    name: str
    steps: list[int]
    mean: list[float]
    low: list[float]
    high: list[float]


@dataclass(frozen=True)
class OverTimeInfo:
    """A quantity per step, one band per strategy."""

    title: str
    column: str
    step_unit: str
    replicates: int
    series: list[Band]


def over_time_info(
    runs: Mapping[str, pd.DataFrame],
    column: str,
    title: str,
    *,
    step_unit: str = "step",
) -> OverTimeInfo:
    """Mean and the 5th to 95th percentile of replicates of `column` at every step.

    Args:
        runs: timeseries per strategy name (one entry for a run).
        column: the timeseries column, e.g. "revenue" (per step) or "customers" (stock).
        title: the figure's title.
        step_unit: what a step is (week, month, ...), for the axis.

    """
    series = []
    replicates = 0
    for name, frame in runs.items():
        table = frame.pivot(index="step", columns="replicate", values=column).sort_index()
        values = table.to_numpy(dtype=np.float64)
        replicates = max(replicates, values.shape[1])
        series.append(
            Band(
                name=name,
                steps=[int(s) for s in table.index],
                mean=values.mean(axis=1).tolist(),
                low=np.quantile(values, BAND[0], axis=1).tolist(),
                high=np.quantile(values, BAND[1], axis=1).tolist(),
            )
        )
    return OverTimeInfo(title, column, step_unit, replicates, series)


def plot_over_time(info: OverTimeInfo) -> Any:
    """Lines of the means with shaded replicate bands."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, band in enumerate(info.series):
        c = color(i)
        fig.add_trace(
            go.Scatter(
                x=band.steps + band.steps[::-1],
                y=band.high + band.low[::-1],
                fill="toself",
                fillcolor=_alpha(c, 0.14),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                name=f"{band.name} band",
                legendgroup=band.name,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=band.steps,
                y=band.mean,
                mode="lines",
                line={"color": c, "width": 2},
                name=band.name,
                legendgroup=band.name,
                showlegend=len(info.series) > 1,
            )
        )
    band_text = (
        f"mean of {info.replicates} replicates; shaded: 5th to 95th percentile"
        if info.replicates > 1
        else "one replicate"
    )
    fig.update_layout(
        **_LAYOUT,
        title={"text": f"{info.title}<br><sup>{band_text}</sup>"},
        xaxis_title=info.step_unit,
        yaxis_title=info.title,
        yaxis_rangemode="tozero",
        height=360,
    )
    return _styled(fig)


@dataclass(frozen=True)
class StackInfo:
    """Several quantities per step (means over replicates), drawn stacked."""

    title: str
    step_unit: str
    steps: list[int]
    names: list[str]
    values: list[list[float]]


def stack_info(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str]],
    title: str,
    *,
    step_unit: str = "step",
) -> StackInfo:
    """Means over replicates per step of each (column, label) of `columns`."""
    means = frame.groupby("step", sort=True)[[c for c, _ in columns]].mean()
    return StackInfo(
        title=title,
        step_unit=step_unit,
        steps=[int(s) for s in means.index],
        names=[label for _, label in columns],
        values=[means[c].tolist() for c, _ in columns],
    )


def plot_stack(info: StackInfo) -> Any:
    """Stacked areas, one per quantity."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (name, values) in enumerate(zip(info.names, info.values, strict=True)):
        fig.add_trace(
            go.Scatter(
                x=info.steps,
                y=values,
                name=name,
                mode="lines",
                stackgroup="one",
                line={"width": 0.5, "color": color(i)},
            )
        )
    fig.update_layout(
        **_LAYOUT, title=info.title, xaxis_title=info.step_unit, yaxis_title="", height=360
    )
    return _styled(fig)


# --------------------------------------------------------------------------- funnel


@dataclass(frozen=True)
class FunnelSeries:
    """One strategy's funnel at the end of the horizon (means over replicates)."""

    name: str
    reached: list[float]
    conversion: list[float | None]


@dataclass(frozen=True)
class FunnelInfo:
    """People at or beyond each stage at the end; conversion from the stage before."""

    stages: list[str]
    series: list[FunnelSeries]
    kind: str | None = None
    """The kind of customer whose funnel it is (None: every person, pooled)."""


def funnel_infos(summaries: Mapping[str, RunSummary]) -> list[FunnelInfo]:
    """Per kind of customer, each strategy's funnel at the horizon, from `summary.funnel`.

    Consumers pass market, aware, interested and customer only: they never qualify or
    negotiate, so their funnel never shows a b2b stage. Empty when a summary has no
    funnel (written before it was recorded): `funnel_info` pools the stages instead.
    """
    if any(s.funnel is None for s in summaries.values()):
        return []
    kinds = list(dict.fromkeys(k for s in summaries.values() for k in s.funnel or {}))
    out = []
    for kind in kinds:
        series = []
        stages: list[str] = []
        for name, summary in summaries.items():
            counts = (summary.funnel or {}).get(kind)
            if counts is None:
                continue
            stages = list(counts)
            at = np.array([counts[st].mean or 0.0 for st in stages], dtype=np.float64)
            reached = np.cumsum(at[::-1])[::-1]
            conversion: list[float | None] = [None]
            for before, after in itertools.pairwise(reached):
                conversion.append(float(after / before) if before > 0 else None)
            series.append(FunnelSeries(name, reached.tolist(), conversion))
        labels = ["market", *stages[1:]]
        out.append(FunnelInfo(labels, series, kind))
    return out


def funnel_info(runs: Mapping[str, pd.DataFrame]) -> FunnelInfo:
    """At the last step, the mean number of people at or beyond each funnel stage.

    The first stage counts everyone in the market; stages nobody was ever in (qualified
    and opportunity without a sales team, say) are left out. `conversion[k]` is the share of those
    at or beyond stage k-1 who are at or beyond stage k (None for the first stage or an
    empty stage before).
    """
    used = [
        k
        for k, s in enumerate(STAGES)
        if k in (0, len(STAGES) - 1) or any((f[f"stage_{s}"] > 0).any() for f in runs.values())
    ]
    labels = ["market" if k == 0 else STAGES[k] for k in used]
    series = []
    for name, frame in runs.items():
        last = frame[frame["step"] == frame["step"].max()]
        counts = np.array([last[f"stage_{s}"].mean() for s in STAGES], dtype=np.float64)
        reached = np.cumsum(counts[::-1])[::-1][used]
        conversion: list[float | None] = [None]
        for before, after in itertools.pairwise(reached):
            conversion.append(float(after / before) if before > 0 else None)
        series.append(FunnelSeries(name, reached.tolist(), conversion))
    return FunnelInfo(labels, series)


def plot_funnel(info: FunnelInfo) -> Any:
    """A funnel chart; strategies side by side; text: count and conversion from before."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, s in enumerate(info.series):
        text = [
            f"{number(v)}" + ("" if c is None else f" ({number(c, 'ratio')} of previous)")
            for v, c in zip(s.reached, s.conversion, strict=True)
        ]
        fig.add_trace(
            go.Funnel(
                y=info.stages,
                x=s.reached,
                name=s.name,
                text=text,
                textinfo="text",
                marker={"color": color(i)},
                connector={"line": {"color": "#d0d7de"}},
            )
        )
    fig.update_layout(
        **_LAYOUT,
        title={
            "text": f"Funnel{f' of {info.kind}' if info.kind else ''} at the end of the horizon"
            "<br><sup>people at or beyond each stage (mean over replicates)</sup>"
        },
        height=80 + 60 * len(info.stages) * max(1, len(info.series)) ** 0.5,
        showlegend=len(info.series) > 1,
    )
    return _styled(fig)


# --------------------------------------------------------------------------- channels


BASES = {
    "incremental": "incremental (measured)",
    "last_touch": "last touch (attribution)",
    "first_touch": "first touch (attribution)",
}
"""How revenue is credited to a channel, and what each basis is called in every report."""


@dataclass(frozen=True)
class Credit:
    """Revenue credited to each channel on one basis, with its 95% CI and the ROI it implies.

    ROI = (credited revenue - spend) / spend, None without spend.
    """

    basis: str
    revenue: list[float | None]
    low: list[float | None]
    high: list[float | None]
    roi: list[float | None]

    @property
    def label(self) -> str:
        """What the basis is called."""
        return BASES[self.basis]


@dataclass(frozen=True)
class ChannelSeries:
    """One strategy's money per channel (means over replicates).

    `credits` holds the incremental revenue first where it was measured, then the two
    attribution rules; `unattributed` is the revenue no channel touched last.
    """

    name: str
    channels: list[str]
    spend: list[float | None]
    credits: list[Credit]
    incremental_profit: list[Stats]
    unattributed: dict[str, float | None]

    @property
    def measured(self) -> bool:
        """Whether each channel's incremental revenue was measured."""
        return self.credits[0].basis == "incremental"

    @property
    def leading(self) -> Credit:
        """The basis to read first: the measured increment, else last-touch attribution."""
        return self.credits[0]


@dataclass(frozen=True)
class ChannelInfo:
    """Spend, credited revenue and ROI per channel, per strategy."""

    channels: list[str]
    series: list[ChannelSeries]

    @property
    def measured(self) -> bool:
        """Whether every strategy's increments were measured."""
        return all(s.measured for s in self.series)


def channel_info(summaries: Mapping[str, RunSummary]) -> ChannelInfo:
    """Per channel: mean spend and the revenue credited to it, incremental first.

    Where the run measured contributions (`--contribution`) the incremental revenue
    leads; last- and first-touch attribution follow, labelled as attribution. Channels
    are in the order first seen across strategies.
    """
    channels: list[str] = []
    for summary in summaries.values():
        channels += [c for c in summary.by_channel if c not in channels]
    series = []
    for name, summary in summaries.items():
        entries = [summary.by_channel.get(cid) for cid in channels]
        spend = [e.spend.mean if e else None for e in entries]
        measured = any(e is not None and e.incremental_revenue for e in entries)
        bases = ["incremental", "last_touch", "first_touch"][0 if measured else 1 :]
        fields = {
            "incremental": "incremental_revenue",
            "last_touch": "attributed_revenue",
            "first_touch": "first_touch_revenue",
        }
        credits = []
        for basis in bases:
            stats = [(getattr(e, fields[basis]) if e else None) or Stats() for e in entries]
            revenue = [st.mean for st in stats]
            credits.append(
                Credit(
                    basis,
                    revenue,
                    [st.ci95_low for st in stats],
                    [st.ci95_high for st in stats],
                    [_roi(r, x) for r, x in zip(revenue, spend, strict=True)],
                )
            )
        profit = [(e.incremental_profit if e else None) or Stats() for e in entries]
        unattributed = {
            source.replace("_", " "): stats.mean
            for source, stats in summary.unattributed_revenue.items()
        }
        series.append(ChannelSeries(name, channels, spend, credits, profit, unattributed))
    return ChannelInfo(channels, series)


def _roi(revenue: float | None, spend: float | None) -> float | None:
    return (revenue - spend) / spend if spend and revenue is not None else None


def _credits_shown(info: ChannelInfo) -> list[tuple[int, ChannelSeries, Credit, float]]:
    """(colour, series, credit, opacity) drawn: every basis for one strategy, else the first."""
    several = len(info.series) > 1
    shown = []
    for i, s in enumerate(info.series):
        for k, credit in enumerate(s.credits[:1] if several else s.credits):
            shown.append((i, s, credit, (1.0, 0.55, 0.3)[k]))
    return shown


def _credit_name(s: ChannelSeries, credit: Credit, several: bool) -> str:
    return f"{s.name}: {credit.label}" if several else credit.label


def plot_channel_money(info: ChannelInfo) -> Any:
    """Spend (left) and the revenue credited with 95% CIs (right) per channel."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    title = (
        "revenue credited: incremental and attribution"
        if info.measured
        else ("revenue credited by attribution (not measured)")
    )
    fig = make_subplots(rows=1, cols=2, subplot_titles=("spend", title), horizontal_spacing=0.08)
    several = len(info.series) > 1
    for i, s in enumerate(info.series):
        fig.add_trace(
            go.Bar(x=s.channels, y=s.spend, name=s.name, marker_color=color(i), legendgroup=s.name),
            row=1,
            col=1,
        )
    for i, s, credit, opacity in _credits_shown(info):
        sources = list(s.unattributed) if credit.basis == "last_touch" else []
        fig.add_trace(
            go.Bar(
                x=s.channels + sources,
                y=credit.revenue + [s.unattributed[k] for k in sources],
                error_y=_whiskers(
                    credit.revenue + [None] * len(sources),
                    credit.low + [None] * len(sources),
                    credit.high + [None] * len(sources),
                ),
                name=_credit_name(s, credit, several),
                marker={"color": color(i), "opacity": opacity},
                legendgroup=s.name,
            ),
            row=1,
            col=2,
        )
    note = (
        "incremental: the market with the channel minus without it, on the same random "
        "numbers; attribution shares out revenue by touches and is not the channel's effect"
        if info.measured
        else "attribution shares out revenue by touches: not the channel's effect; "
        "measure it with marketsim run --contribution"
    )
    fig.update_layout(
        **{**_LAYOUT, "margin": {**_LAYOUT["margin"], "t": 110}},
        title={"text": f"Spend and revenue by channel<br><sup>{note}</sup>"},
        barmode="group",
        height=460,
    )
    return _styled(fig)


def plot_channel_roi(info: ChannelInfo) -> Any:
    """ROI per channel on each credit basis: (credited revenue - spend) / spend."""
    import plotly.graph_objects as go

    fig = go.Figure()
    several = len(info.series) > 1
    for i, s, credit, opacity in _credits_shown(info):
        fig.add_trace(
            go.Bar(
                x=s.channels,
                y=credit.roi,
                name=_credit_name(s, credit, several),
                marker={"color": color(i), "opacity": opacity},
                text=[number(r, "ratio") for r in credit.roi],
                textposition="outside",
            )
        )
    fig.add_hline(y=0, line={"color": "#57606a", "width": 1})
    if info.measured:
        title = (
            "ROI by channel: incremental (measured) beside attribution"
            "<br><sup>(revenue credited - spend) / spend; only the incremental bars say "
            "what the channel earns</sup>"
        )
    else:
        title = (
            "Attribution ROI by channel (last and first touch), not measured"
            "<br><sup>(attributed revenue - spend) / spend: how touches share out revenue, "
            "not what a channel earns; measure it with --contribution</sup>"
        )
    fig.update_layout(
        **{**_LAYOUT, "showlegend": True, "margin": {**_LAYOUT["margin"], "t": 90}},
        title={"text": title},
        yaxis_tickformat=".0%",
        barmode="group",
        height=400,
    )
    return _styled(fig)


# --------------------------------------------------------------------------- segments


@dataclass(frozen=True)
class BarsInfo:
    """Means with 95% CIs per category, one series per strategy."""

    title: str
    subtitle: str
    categories: list[str]
    names: list[str]
    mean: list[list[float | None]]
    low: list[list[float | None]]
    high: list[list[float | None]]
    kind: str = "amount"


def segment_info(summaries: Mapping[str, RunSummary]) -> BarsInfo:
    """Revenue per segment with its 95% CI, per strategy."""
    return _bars_from(
        {name: {k: v.revenue for k, v in s.by_segment.items()} for name, s in summaries.items()},
        "Revenue by segment",
        "means over replicates; 95% CI",
    )


def closer_info(summaries: Mapping[str, RunSummary]) -> BarsInfo:
    """Revenue by who closed it: self-service, reps, brokers or a renewal."""
    info = _bars_from(
        {name: s.revenue_by_closer for name, s in summaries.items()},
        "Revenue by who closed the sale",
        "means over replicates; 95% CI",
    )
    labels = [c.replace("_", " ") for c in info.categories]
    return BarsInfo(info.title, info.subtitle, labels, info.names, info.mean, info.low, info.high)


def _bars_from(
    stats_by_strategy: Mapping[str, Mapping[str, Stats]], title: str, subtitle: str
) -> BarsInfo:
    """One bar per category (in the order first seen) and strategy."""
    categories: list[str] = []
    for by in stats_by_strategy.values():
        categories += [c for c in by if c not in categories]
    names, mean, low, high = [], [], [], []
    for name, by in stats_by_strategy.items():
        stats = [by.get(c) or Stats() for c in categories]
        names.append(name)
        mean.append([s.mean for s in stats])
        low.append([s.ci95_low for s in stats])
        high.append([s.ci95_high for s in stats])
    return BarsInfo(title, subtitle, categories, names, mean, low, high)


def plot_bars(info: BarsInfo) -> Any:
    """Grouped bars with 95% CI whiskers."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, name in enumerate(info.names):
        fig.add_trace(
            go.Bar(
                x=info.categories,
                y=info.mean[i],
                name=name,
                marker_color=color(i),
                error_y=_whiskers(info.mean[i], info.low[i], info.high[i]),
            )
        )
    fig.update_layout(
        **{**_LAYOUT, "showlegend": len(info.names) > 1},
        title={"text": f"{info.title}<br><sup>{info.subtitle}</sup>"},
        barmode="group",
        height=380,
    )
    if info.kind == "ratio":
        fig.update_yaxes(tickformat=".0%")
    return _styled(fig)


# --------------------------------------------------------------------------- sales


@dataclass(frozen=True)
class PipelineInfo:
    """The sales pipeline over the horizon: totals per stage (means over replicates)."""

    stages: list[str]
    names: list[str]
    totals: list[list[float]]
    lost: list[dict[str, float]]


def pipeline_info(runs: Mapping[str, pd.DataFrame]) -> PipelineInfo:
    """Leads, calls, appointments, opportunities, proposals and deals won, per strategy.

    Also where the pipeline leaks: leads lost in the hand-off, leads gone cold,
    appointments not held, and proposals lost to a competitor or to no decision.
    """
    names, totals, lost = [], [], []
    for name, frame in runs.items():
        per_rep = frame.groupby("replicate").sum(numeric_only=True)
        names.append(name)
        totals.append([_column_mean(per_rep, c) for c, _ in PIPELINE_STAGES])
        lost.append(
            {
                label: _column_mean(per_rep, c)
                for c, label in (
                    ("leads_lost", "leads lost in hand-off"),
                    ("leads_cold", "leads gone cold"),
                    ("no_shows", "no-shows"),
                    ("deals_lost_competitor", "lost to a competitor"),
                    ("deals_lost_no_decision", "lost to no decision"),
                )
            }
        )
    return PipelineInfo([label for _, label in PIPELINE_STAGES], names, totals, lost)


def plot_pipeline(info: PipelineInfo) -> Any:
    """Pipeline totals per stage, strategies side by side."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, name in enumerate(info.names):
        fig.add_trace(
            go.Bar(
                x=info.stages,
                y=info.totals[i],
                name=name,
                marker_color=color(i),
                text=[number(v) for v in info.totals[i]],
                textposition="outside",
            )
        )
    fig.update_layout(
        **{**_LAYOUT, "showlegend": len(info.names) > 1},
        title={
            "text": "Sales pipeline over the horizon<br><sup>totals, mean over replicates</sup>"
        },
        barmode="group",
        height=380,
    )
    return _styled(fig)


@dataclass(frozen=True)
class UtilisationInfo:
    """Mean utilisation (share of capacity used) of each rep or broker, per strategy."""

    names: list[str]
    agents: list[list[str]]
    roles: list[list[str]]
    utilisation: list[list[float]]
    deals: list[list[float]]


def utilisation_info(agents: Mapping[str, pd.DataFrame]) -> UtilisationInfo:
    """Per strategy, each agent's utilisation and deals, means over replicates."""
    names, who, roles, util, deals = [], [], [], [], []
    for name, frame in agents.items():
        if frame.empty:
            continue
        means = frame.groupby(["role", "agent"], sort=False)[["utilisation", "deals"]].mean()
        names.append(name)
        who.append([str(a) for _, a in means.index])
        roles.append([str(r) for r, _ in means.index])
        util.append(means["utilisation"].astype(float).tolist())
        deals.append(means["deals"].astype(float).tolist())
    return UtilisationInfo(names, who, roles, util, deals)


def plot_utilisation(info: UtilisationInfo) -> Any:
    """Bars of each agent's utilisation; hover shows role and deals."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, name in enumerate(info.names):
        fig.add_trace(
            go.Bar(
                x=info.agents[i],
                y=info.utilisation[i],
                name=name,
                marker_color=color(i),
                customdata=np.column_stack([info.roles[i], info.deals[i]]).tolist(),
                hovertemplate="%{x} (%{customdata[0]})<br>utilisation %{y:.0%}"
                "<br>deals %{customdata[1]}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        **{**_LAYOUT, "showlegend": len(info.names) > 1},
        title={
            "text": "Utilisation of reps and brokers"
            "<br><sup>share of capacity used, mean over replicates</sup>"
        },
        yaxis_tickformat=".0%",
        yaxis_range=[0, 1.05],
        barmode="group",
        height=380,
    )
    return _styled(fig)


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class MetricMeansInfo:
    """Each metric's mean with its 95% CI, per strategy."""

    metrics: list[str]
    names: list[str]
    mean: list[list[float | None]]
    low: list[list[float | None]]
    high: list[list[float | None]]


def metric_means_info(record: ComparisonRecord) -> MetricMeansInfo:
    """From comparison.json: every metric's mean and 95% CI for every strategy."""
    names = [s.name for s in record.strategies]
    metrics = list(record.metrics)
    get = record.metrics
    return MetricMeansInfo(
        metrics=metrics,
        names=names,
        mean=[[get[m][n].mean for n in names] for m in metrics],
        low=[[get[m][n].ci95_low for n in names] for m in metrics],
        high=[[get[m][n].ci95_high for n in names] for m in metrics],
    )


def plot_metric_means(info: MetricMeansInfo) -> Any:
    """Small multiples: one panel per metric, one bar per strategy with its 95% CI."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cols = 3
    rows = (len(info.metrics) + cols - 1) // cols
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[LABELS.get(m, m) for m in info.metrics],
        vertical_spacing=0.16,
        horizontal_spacing=0.08,
    )
    for k, metric in enumerate(info.metrics):
        row, col = k // cols + 1, k % cols + 1
        fig.add_trace(
            go.Bar(
                x=info.names,
                y=info.mean[k],
                marker_color=[color(i) for i in range(len(info.names))],
                error_y=_whiskers(info.mean[k], info.low[k], info.high[k]),
                showlegend=False,
                name=LABELS.get(metric, metric),
            ),
            row=row,
            col=col,
        )
        if metric == "roi":
            fig.update_yaxes(tickformat=".0%", row=row, col=col)
    fig.update_layout(
        **{**_LAYOUT, "margin": {**_LAYOUT["margin"], "t": 110}},
        title={"text": "Strategies side by side<br><sup>mean over replicates; bars: 95% CI</sup>"},
        height=300 * rows + 110,
    )
    return _styled(fig)


@dataclass(frozen=True)
class DifferenceInfo:
    """Relative paired differences against the baseline, with CIs and significance."""

    baseline: str
    labels: list[str]
    strategies: list[str]
    relative: list[float | None]
    low: list[float | None]
    high: list[float | None]
    significant: list[bool]
    better: list[bool | None]
    p_holm: list[float | None]


def difference_info(record: ComparisonRecord) -> DifferenceInfo:
    """From comparison.json: each (strategy, metric) difference relative to the baseline."""
    diffs = record.differences
    return DifferenceInfo(
        baseline=record.baseline,
        labels=[LABELS.get(d.metric, d.metric) for d in diffs],
        strategies=[d.strategy for d in diffs],
        relative=[d.relative for d in diffs],
        low=[d.relative_ci95_low for d in diffs],
        high=[d.relative_ci95_high for d in diffs],
        significant=[d.significant for d in diffs],
        better=[d.better for d in diffs],
        p_holm=[d.p_holm for d in diffs],
    )


def plot_differences(info: DifferenceInfo) -> Any:
    """A forest plot: each difference in % of the baseline with its 95% CI.

    Green diamonds: significantly better, red diamonds: significantly worse, grey
    circles: not significant (after the Holm correction).
    """
    import plotly.graph_objects as go

    several = len(set(info.strategies)) > 1
    labels = [
        f"{label} · {strategy}" if several else label
        for label, strategy in zip(info.labels, info.strategies, strict=True)
    ]
    verdicts = (
        ("significantly better", GOOD, "diamond", lambda k: info.better[k] is True),
        ("significantly worse", BAD, "diamond", lambda k: info.better[k] is False),
        ("not significant", NEUTRAL, "circle", lambda k: info.better[k] is None),
    )
    fig = go.Figure()
    for name, c, symbol, chosen in verdicts:
        idx = [k for k in range(len(labels)) if chosen(k)]
        fig.add_trace(
            go.Scatter(
                x=[info.relative[k] for k in idx],
                y=[labels[k] for k in idx],
                mode="markers",
                name=name,
                marker={"size": 12, "symbol": symbol, "color": c},
                error_x=_whiskers(
                    [info.relative[k] for k in idx],
                    [info.low[k] for k in idx],
                    [info.high[k] for k in idx],
                ),
                customdata=[[p_value(info.p_holm[k])] for k in idx],
                hovertemplate="%{y}: %{x:+.2%}<br>p (Holm) %{customdata[0]}<extra></extra>",
                showlegend=True,
            )
        )
    fig.add_vline(x=0, line={"color": "#57606a", "width": 1})
    fig.update_layout(
        **_LAYOUT,
        title={
            "text": f"Differences against {info.baseline}"
            "<br><sup>paired, in % of the baseline mean; bars: 95% CI; "
            "significance after Holm correction</sup>"
        },
        xaxis_tickformat="+.1%",
        yaxis={"categoryorder": "array", "categoryarray": labels[::-1]},
        height=140 + 36 * len(labels),
    )
    return _styled(fig)


# --------------------------------------------------------------------------- helpers


def _column_mean(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].mean()) if column in frame.columns else 0.0


def _gap(a: float | None, b: float | None) -> float:
    return 0.0 if a is None or b is None else float(a - b)


def _whiskers(
    mean: Sequence[float | None], low: Sequence[float | None], high: Sequence[float | None]
) -> dict[str, Any]:
    return {
        "type": "data",
        "symmetric": False,
        "array": [_gap(h, m) for h, m in zip(high, mean, strict=True)],
        "arrayminus": [_gap(m, lo) for lo, m in zip(low, mean, strict=True)],
        "color": "#57606a",
        "thickness": 1.5,
    }


def _alpha(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
