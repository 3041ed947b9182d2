"""The optimiser's page (optimization.html) and the sweep's page (sweep.html).

Each page is drawn from the records written beside it (summary.json, trials.csv,
curves.csv; sweep.csv), so it can be rebuilt from the files alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go

from marketsim.core.format import interval, number, signed
from marketsim.drivers.metrics import kind_of
from marketsim.drivers.records import MarginalReturn, OptimizationSummary, Stats
from marketsim.report.page import Section, cards, page, table

if TYPE_CHECKING:
    from marketsim.drivers.optimize.runner import Outcome
    from marketsim.drivers.sweep import SweepResult

BLUE, ORANGE, GREY = "#1f6feb", "#d1242f", "#8c959f"
BAND = "rgba(31,111,235,0.15)"


def _ci(stats: Stats, kind: str = "amount") -> str:
    return f"95% CI {interval(stats.ci95_low, stats.ci95_high, kind)}"


def _finite(x: Any) -> float | None:
    """A cell of a CSV-born frame as a number, None where it is empty (NaN)."""
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def _band(fig: go.Figure, x: Sequence[float], low: Sequence[float], high: Sequence[float]) -> None:
    fig.add_trace(
        go.Scatter(
            x=[*x, *reversed(list(x))],
            y=[*high, *reversed(list(low))],
            fill="toself",
            fillcolor=BAND,
            line={"width": 0},
            hoverinfo="skip",
            name="95% CI",
        )
    )


# --------------------------------------------------------------------------- optimisation


def optimization_html(outcome: Outcome) -> str:
    """optimization.html of a finished optimisation."""
    return optimization_page(outcome.summary, outcome.trials, outcome.curves)


def sweep_html(result: SweepResult) -> str:
    """sweep.html of a finished sweep."""
    subtitle = f"seed {result.seed}, {result.replicates} replicates a point"
    axes = [a.path for a in result.axes]
    return sweep_page(
        result.frame,
        axes,
        title=f"Sweep: {result.scenario.name}",
        subtitle=subtitle,
        notice=result.posterior.note() if result.posterior else "",
    )


def optimization_page(
    summary: OptimizationSummary, trials: pd.DataFrame, curves: pd.DataFrame
) -> str:
    """The complete optimization.html page."""
    objective = summary.objective
    kind = kind_of(objective)
    best, base, uplift = summary.best, summary.baseline, summary.uplift
    re = summary.reevaluation
    relative = f"; {number(uplift.relative, 'percent')}" if uplift.relative is not None else ""
    head = cards(
        [
            (f"best {objective}", number(best.objective.mean, kind), _ci(best.objective, kind)),
            (f"baseline {objective}", number(base.objective.mean, kind), _ci(base.objective, kind)),
            (
                "uplift",
                number(uplift.absolute.mean, kind),
                _ci(uplift.absolute, kind) + relative,
            ),
            (
                "trials",
                str(summary.trials.get("complete", 0)),
                f"of {summary.trials['requested']} requested",
            ),
        ]
    )
    sections = [
        Section(
            "Result",
            html=head,
            note=(
                f"Best plan and the scenario as written, both re-evaluated on fresh seed "
                f"{re.seed} "
                f"with {re.replicates} replicates (not the search's own numbers); the uplift is "
                "the paired difference replicate by replicate."
            ),
        ),
        *_explanation_sections(summary),
        Section("Allocation", html=_allocation_table(summary)),
        Section(
            "Search history",
            figures=[_history(trials, summary)],
            note="Each completed trial's search value; the line is the best so far.",
        ),
    ]
    if summary.importance:
        sections.append(
            Section(
                "What matters",
                figures=[_importance(summary.importance)],
                html=_importance_table(summary),
                note="PED-ANOVA importance of each decision for the objective, over completed "
                "trials, beside the money it takes in the best plan (a headcount at its cost "
                "over the horizon): a decision can take most of the money and matter little "
                "within the range searched, or the reverse.",
            )
        )
    if summary.pareto:
        sections.append(
            Section("Pareto front", figures=[_pareto(trials, summary)], note=_pareto_note(summary))
        )
    if not curves.empty:
        sections.append(
            Section(
                "Response curves",
                figures=[_curve(curves, ch, summary) for ch in dict.fromkeys(curves["channel"])],
                note=(
                    "One channel's budget varied over its range, the others held at the best plan "
                    "(so total spend changes along a curve), on the re-evaluation's replicates. "
                    "The line is the chosen plan's mean plus each point's paired difference from "
                    "it, the band the 95% interval of that difference: every point shares the "
                    "chosen point's random numbers, so the band shows the curve's shape, not the "
                    "market's spread. The diamond is the chosen budget, the dashed line the "
                    "budget as written (the current plan)."
                ),
            )
        )
    if summary.marginal_roi:
        sections.append(
            Section(
                "Marginal ROI at the optimum",
                figures=[_marginal(summary.marginal_roi)],
                html=_marginal_table(summary.marginal_roi),
                note=(
                    "Extra objective per extra unit of budget, by finite differences on common "
                    "random numbers. Where no bound binds these should be about equal: otherwise "
                    "moving money from the lowest to the highest would do better."
                ),
            )
        )
    sections.append(Section("Candidates re-evaluated", html=_candidates_table(summary)))
    subtitle = (
        f"{summary.scenario}: maximise {objective} ({summary.risk}) with total budget "
        f"{number(summary.total_budget)}; sampler {summary.study.sampler}, "
        f"seed {summary.study.seed}, {summary.search.replicates} replicates a trial"
    )
    notice = summary.posterior.note() if summary.posterior else ""
    return page(f"Optimisation: {summary.scenario}", sections, subtitle=subtitle, notice=notice)


def _allocation_table(summary: OptimizationSummary) -> str:
    best, base = summary.best, summary.baseline
    rows = []
    for cid, value in best.budgets.items():
        bound = summary.bounds.get(cid)
        high = number(bound.max) if bound and bound.max is not None else "no limit"
        limits = f"{number(bound.min if bound else None)} to {high}"
        m = summary.marginal_roi.get(cid) or Stats()
        rows.append(
            [
                cid,
                number(base.budgets.get(cid)),
                number(value),
                limits,
                number(m.mean, "slope"),
                interval(m.ci95_low, m.ci95_high, "slope"),
            ]
        )
    for key, value in best.decision.items():
        if not key.startswith("budget."):
            rows.append(
                [
                    key,
                    "",
                    str(value if isinstance(value, str | int) else round(value, 4)),
                    "",
                    "",
                    "",
                ]
            )
    return table(["decision", "baseline", "best", "bounds", "marginal ROI", "95% CI"], rows)


def _history(trials: pd.DataFrame, summary: OptimizationSummary) -> go.Figure:
    fig = go.Figure()
    done = trials[trials["state"] == "complete"] if not trials.empty else trials
    if not done.empty:
        y = done["objective"].astype(float)
        fig.add_trace(
            go.Scatter(x=done["trial"], y=y, mode="markers", name="trial", marker={"color": GREY})
        )
        fig.add_trace(
            go.Scatter(
                x=done["trial"],
                y=y.cummax(),
                mode="lines",
                name="best so far",
                line={"color": BLUE},
            )
        )
    return _layout(fig, "Objective by trial", "trial", f"{summary.objective} ({summary.risk})")


def _importance(importance: dict[str, float]) -> go.Figure:
    names = list(importance)[::-1]
    fig = go.Figure(
        go.Bar(x=[importance[n] for n in names], y=names, orientation="h", marker={"color": BLUE})
    )
    return _layout(
        fig, "Decision importance", "importance (sums to 1)", "", height=120 + 28 * len(names)
    )


def _pareto(trials: pd.DataFrame, summary: OptimizationSummary) -> go.Figure:
    fig = go.Figure()
    done = trials[trials["state"] == "complete"]
    front = done[done["pareto"].astype(bool)].sort_values("objective_2")
    x_label = "spend" if summary.pareto == "spend" else "risk measure"
    fig.add_trace(
        go.Scatter(
            x=done["objective_2"],
            y=done["objective"],
            mode="markers",
            name="trial",
            marker={"color": GREY},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=front["objective_2"],
            y=front["objective"],
            mode="lines+markers",
            name="Pareto front",
            line={"color": ORANGE},
        )
    )
    return _layout(fig, "Pareto front", x_label, summary.objective)


def _pareto_note(summary: OptimizationSummary) -> str:
    if summary.pareto == "spend":
        return (
            "Objective against total spend: "
            "each point on the front is the best found for its spend."
        )
    return (
        "Mean against the risk measure: "
        "each point on the front is the best mean found for its risk."
    )


def _curve(curves: pd.DataFrame, channel: str, summary: OptimizationSummary) -> go.Figure:
    metric = "profit" if summary.objective == "roi" else summary.objective
    mine = curves[curves["channel"] == channel]
    rows = mine[~mine["chosen"].astype(bool)]
    chosen = mine[mine["chosen"].astype(bool)]
    fig = go.Figure()
    paired = f"{metric}_diff_mean" in curves
    center = summary.best.objective.mean if summary.objective != "roi" else None
    if paired and center is None and f"{metric}_mean" in chosen:
        center = float(chosen[f"{metric}_mean"].iloc[0])
    if paired and center is not None:
        low = (rows[f"{metric}_diff_ci95_low"] + center).tolist()
        high = (rows[f"{metric}_diff_ci95_high"] + center).tolist()
        mean, at = (rows[f"{metric}_diff_mean"] + center).tolist(), [center] * len(chosen)
        name = "chosen mean + paired difference"
    else:  # curves.csv written before paired differences were recorded
        low, high = rows[f"{metric}_ci95_low"].tolist(), rows[f"{metric}_ci95_high"].tolist()
        mean, at = rows[f"{metric}_mean"].tolist(), chosen[f"{metric}_mean"].tolist()
        name = "mean"
    _band(fig, rows["budget"].tolist(), low, high)
    fig.add_trace(
        go.Scatter(x=rows["budget"], y=mean, mode="lines+markers", name=name, line={"color": BLUE})
    )
    fig.add_trace(
        go.Scatter(
            x=chosen["budget"],
            y=at,
            mode="markers",
            name="chosen",
            marker={"color": ORANGE, "size": 12, "symbol": "diamond"},
        )
    )
    current = summary.baseline.budgets.get(channel)
    if current is not None:
        fig.add_vline(
            x=current,
            line={"color": GREY, "dash": "dash"},
            annotation_text="current plan",
            annotation_position="top left",
        )
    return _layout(fig, f"{channel}: response curve", f"{channel} budget", metric)


def _explanation_sections(summary: OptimizationSummary) -> list[Section]:
    """Before the search, whether it converged, the budget's size, what the best plan costs."""
    e = summary.explanation
    if e is None:
        return []
    rows = []
    for r in e.ranges:
        count = r.decision.startswith("headcount.")
        kind = "count" if count else "amount"
        high = number(r.high, kind) if r.high is not None else "no limit"
        rows.append([r.decision, number(r.low, kind), high, number(r.most, kind), r.note or ""])
    ranges = table(
        ["decision", "lowest", "highest asked", "most the total affords", ""],
        rows,
        align=["left", "right", "right", "right", "left"],
    )
    trimmed = (
        f" {e.trimmed} trials asked for more reps than the money left by the other team "
        "and were cut to fit (trials.csv, column trimmed)."
        if e.trimmed
        else " No trial was cut to fit."
    )
    out = [
        Section(
            "What fits the budget",
            html=ranges,
            note="Each decision's range as set, and the most the total budget affords once "
            "every channel has its minimum and every team its smallest size: the search "
            "never asks for more." + trimmed,
        )
    ]
    verdicts = []
    if e.convergence is not None:
        verdicts.append(["convergence", e.convergence.message])
    if e.sizing is not None:
        verdicts.append(["budget size", e.sizing.message])
    verdicts += [["constraint", c] for c in e.constraints]
    if verdicts:
        out.append(
            Section(
                "Is the answer settled?",
                html=table(["check", "finding"], verdicts, align=["left", "left"]),
                note="Convergence: where no bound binds, the marginal returns of the best plan "
                "should agree within their intervals (paired over replicates). Budget size: "
                "if every channel still returns more profit than it costs at the margin, more "
                "money would pay; the amount extrapolates each channel's marginal profit "
                "along its curvature to zero.",
            )
        )
    if e.side_effects:
        rows = []
        classes = []
        for x in e.side_effects:
            kind = "count" if "customers" in x.metric else "amount"
            d = x.difference
            rows.append(
                [
                    x.label,
                    number(x.baseline, kind),
                    number(x.best, kind),
                    signed(d.mean, kind),
                    interval(d.ci95_low, d.ci95_high, kind),
                    "worse" if x.worse else "",
                ]
            )
            classes.append("worse" if x.worse else "")
        losses = " ".join(f"{loss[0].upper()}{loss[1:]}." for loss in e.losses)
        out.append(
            Section(
                "Side effects against the baseline",
                html=table(
                    ["", "baseline", "best", "difference", "95% CI", ""], rows, row_classes=classes
                ),
                note="What the best plan does besides its objective, paired replicate by "
                "replicate on the fresh seeds: customers held, customer equity, and each "
                "segment's customers and profit. " + (losses or "Nothing is significantly worse."),
            )
        )
    return out


def _importance_table(summary: OptimizationSummary) -> str:
    e = summary.explanation
    cost = e.cost if e is not None else {}
    money = sum(cost.values())
    rows = [
        [
            name,
            f"{value:.3f}",
            number(cost.get(name)),
            number(cost[name] / money, "ratio") if money and name in cost else "",
        ]
        for name, value in summary.importance.items()
    ]
    rows += [
        [name, "n/a (did not vary)", number(v), number(v / money, "ratio") if money else ""]
        for name, v in cost.items()
        if name not in summary.importance
    ]
    return table(["decision", "importance", "money in the best plan", "share of the money"], rows)


def _marginal(marginal: dict[str, MarginalReturn]) -> go.Figure:
    names = list(marginal)
    means = [marginal[n].mean for n in names]
    errors = [
        (m.ci95_high - m.mean) if m.ci95_high is not None and m.mean is not None else 0
        for m in marginal.values()
    ]
    fig = go.Figure(
        go.Bar(x=names, y=means, error_y={"type": "data", "array": errors}, marker={"color": BLUE})
    )
    metric = next(iter(marginal.values())).metric
    return _layout(fig, "Marginal ROI per channel", "channel", f"d {metric} / d budget")


def _marginal_table(marginal: dict[str, MarginalReturn]) -> str:
    rows = [
        [
            cid,
            number(m.budget),
            number(m.delta),
            m.difference,
            number(m.mean, "slope"),
            interval(m.ci95_low, m.ci95_high, "slope"),
        ]
        for cid, m in marginal.items()
    ]
    return table(["channel", "budget", "step", "difference", "marginal ROI", "95% CI"], rows)


def _candidates_table(summary: OptimizationSummary) -> str:
    kind = kind_of(summary.objective)
    rows = []
    classes = []
    for c in summary.candidates:
        budgets = ", ".join(
            f"{k.removeprefix('budget.')} {number(v)}"
            for k, v in c.decision.items()
            if k.startswith("budget.") and not isinstance(v, str)
        )
        rows.append(
            [
                str(c.trial) + (" (baseline plan)" if c.baseline_plan else ""),
                number(c.search_values[0], kind),
                number(c.objective.mean, kind),
                interval(c.objective.ci95_low, c.objective.ci95_high, kind),
                budgets,
            ]
        )
        classes.append("significant" if c.trial == summary.best.trial else "")
    return table(
        ["trial", "search value", "re-evaluated mean", "95% CI", "budgets"],
        rows,
        align=["left", "right", "right", "right", "left"],
        row_classes=classes,
    )


# --------------------------------------------------------------------------- sweep

SWEEP_METRICS = ("revenue", "profit", "spend", "roi")


def sweep_page(
    frame: pd.DataFrame,
    axes: Sequence[str],
    *,
    title: str,
    subtitle: str = "",
    notice: str = "",
    metrics: Sequence[str] = SWEEP_METRICS,
) -> str:
    """The complete sweep.html page: one figure per metric against the first axis.

    With several axes, each combination of the others is its own line; `notice` is
    `page`'s (a run on a calibration's posterior says so).
    """
    x = axes[0]
    others = list(axes[1:])
    groups = [((), frame)] if not others else list(frame.groupby(others, sort=False))
    figures = []
    for metric in metrics:
        if f"{metric}_mean" not in frame:
            continue
        fig = go.Figure()
        for key, rows in groups:
            label = ", ".join(
                f"{a}={v:g}"
                for a, v in zip(others, key if isinstance(key, tuple) else (key,), strict=True)
            )
            if not others:
                low, high = rows[f"{metric}_ci95_low"], rows[f"{metric}_ci95_high"]
                if low.notna().all():
                    _band(fig, rows[x].tolist(), low.tolist(), high.tolist())
            fig.add_trace(
                go.Scatter(
                    x=rows[x], y=rows[f"{metric}_mean"], mode="lines+markers", name=label or "mean"
                )
            )
        figures.append(_layout(fig, metric, x, metric))
    columns = [*axes, *(f"{m} mean" for m in metrics), *(f"{m} 95% CI" for m in metrics)]
    rows = []
    for _, r in frame.iterrows():
        rows.append(
            [
                *(f"{r[a]:g}" for a in axes),
                *(number(_finite(r.get(f"{m}_mean")), kind_of(m)) for m in metrics),
                *(
                    interval(
                        _finite(r.get(f"{m}_ci95_low")),
                        _finite(r.get(f"{m}_ci95_high")),
                        kind_of(m),
                    )
                    for m in metrics
                ),
            ]
        )
    sections = [
        Section(
            "Response",
            figures=figures,
            note="Mean over replicates with its 95% interval; "
            "every point uses the same random streams.",
        ),
        Section("Points", html=table(columns, rows)),
    ]
    return page(title, sections, subtitle=subtitle, notice=notice)
