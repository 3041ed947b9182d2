"""The calibration's page (calibration.html), drawn from the records written beside it.

calibration.json, fit.csv and posterior.csv hold everything the page shows, so it can
be rebuilt from the files alone: observed against simulated per series with the band of
the best set's replicates and the hold-out shaded, the estimates with their intervals,
the fit metrics in and out of sample, each lift test against its simulated increment,
each parameter's near-best values (or posterior, with ABC) alone and in pairs, and
ABC's generations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from marketsim.core.format import number
from marketsim.drivers.calibrate.records import CalibrationRecord, FitMetrics
from marketsim.report.optimization import BAND, BLUE, GREY, ORANGE, _layout
from marketsim.report.page import Section, cards, page, table
from marketsim.scenario.calibration import split_series

if TYPE_CHECKING:
    from marketsim.drivers.calibrate import Calibration


def calibration_html(calibration: Calibration) -> str:
    """calibration.html of a finished calibration."""
    return calibration_page(calibration.record, calibration.fit, calibration.posterior)


def calibration_page(record: CalibrationRecord, fit: pd.DataFrame, posterior: pd.DataFrame) -> str:
    """The complete calibration.html page."""
    held = record.holdout_steps
    abc = record.method == "abc"
    sets = "particles" if abc else "near-best sets"
    head = cards(
        [
            ("best distance", f"{record.best_distance:.4g}", f"{_best_label(record)}"),
            (
                ("sets simulated", str(record.trials.get("simulated", 0)))
                if abc
                else ("trials", str(record.trials.get("complete", 0)))
            )
            + (f"of {record.trials['requested']} requested",),
            (
                sets,
                str(record.acceptance.accepted),
                f"effective {record.acceptance.effective:.1f}",
            ),
            (
                "not pinned down",
                str(len(record.not_identified)),
                ", ".join(record.not_identified) or "every parameter is",
            ),
        ]
    )
    interval = (
        "The estimate is the best particle's value; the 90% interval is the posterior's "
        f"({record.acceptance.rule})."
        if abc
        else "The estimate is the best set's value; the 90% interval spans the near-best "
        f"sets ({record.acceptance.rule}). Not a posterior: a wide interval says the "
        "data do not pin the parameter down."
    )
    sections = [
        Section(
            "Result",
            html=head,
            note=(
                f"{record.fitted_steps} steps of {record.data} fitted"
                + (f", the last {held} held out" if held else "")
                + f"; distance: {record.distance}."
            ),
        ),
        Section("Estimates", html=_estimates(record), note=interval),
        Section(
            "Fit",
            html=_metrics(record),
            figures=[_series(fit, s, record) for s in record.fit],
            note=(
                f"Observed against the best set's mean over {record.evaluation_replicates} "
                f"replicates on fresh seed {record.evaluation_seed}, with their 5-95% band"
                + ("; the shaded steps were held out of the fit." if held else ".")
            ),
        ),
    ]
    if record.lift:
        sections.append(
            Section(
                "Lift tests",
                html=_lift_table(record),
                figures=[_lift_figure(record)],
                note="Each test's measured increment with its 95% interval (1.96 se) against "
                "the best set's simulated increment over the same window (the channel's spend "
                "set to 0 there, common random numbers), with the 5-95% band of replicates.",
            )
        )
    sections.append(
        Section(
            "Posterior" if abc else "Near-best values",
            figures=[
                *(_marginal(posterior, p.path, p.range, p.log, sets) for p in record.parameters),
                *([_pairs(posterior, record)] if len(record.parameters) > 1 else []),
            ],
            note=f"Each parameter's values over the {sets}, weighted, then every pair "
            "(a tilted cloud: the data fix a combination of the two); the range searched "
            "is the axis.",
        )
    )
    if record.generations:
        sections.append(
            Section(
                "Generations",
                html=table(
                    ["generation", "tolerance", "sets simulated", "acceptance rate"],
                    [
                        [
                            str(g.generation),
                            f"{g.epsilon:.4g}",
                            str(g.simulations),
                            number(g.acceptance_rate, "percent"),
                        ]
                        for g in record.generations
                    ],
                ),
                note="ABC-SMC: each generation keeps the sets within its tolerance, the median "
                "distance of the one before.",
            )
        )
    how = "ABC-SMC" if abc else f"{record.method}, {record.sampler}"
    return page(
        f"Calibration: {record.scenario}",
        sections,
        subtitle=f"{how}, seed {record.seed}, {record.replicates} replicates a set",
    )


def _best_label(record: CalibrationRecord) -> str:
    kind = "particle" if record.method == "abc" else "trial"
    return f"{kind} {record.best_trial}"


def _lift_table(record: CalibrationRecord) -> str:
    rows = [
        [
            t.name,
            t.channel,
            f"{t.start}-{t.end}",
            t.outcome,
            f"{t.measured:.4g}",
            f"{t.se:.3g}",
            f"{t.simulated:.4g}",
            f"{t.low:.4g} to {t.high:.4g}",
            f"{t.z:+.2f}",
        ]
        for t in record.lift
    ]
    columns = ["test", "channel", "steps", "outcome", "measured", "se", "simulated", "5-95%", "z"]
    align = ["left", "left", "right", "left", "right", "right", "right", "right", "right"]
    return table(columns, rows, align=align)


def _lift_figure(record: CalibrationRecord) -> go.Figure:
    names = [t.name for t in record.lift]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[t.measured for t in record.lift],
            error_y={"type": "data", "array": [1.96 * t.se for t in record.lift]},
            mode="markers",
            marker={"color": ORANGE, "size": 10},
            name="measured (95%)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[t.simulated for t in record.lift],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [t.high - t.simulated for t in record.lift],
                "arrayminus": [t.simulated - t.low for t in record.lift],
            },
            mode="markers",
            marker={"color": BLUE, "size": 10, "symbol": "diamond"},
            name="simulated (5-95%)",
        )
    )
    return _layout(fig, "lift tests", "test", "increment", height=320)


def _pairs(posterior: pd.DataFrame, record: CalibrationRecord) -> go.Figure:
    """Every pair of parameters over the sets, a grid's lower triangle (SVG, no WebGL)."""
    from plotly.subplots import make_subplots

    params = record.parameters
    k = len(params) - 1
    fig = make_subplots(rows=k, cols=k, horizontal_spacing=0.04, vertical_spacing=0.04)
    size = 4 + 10 * posterior["weight"] / posterior["weight"].max()
    for row, y in enumerate(params[1:], start=1):
        for col, x in enumerate(params[:row], start=1):
            fig.add_trace(
                go.Scatter(
                    x=posterior[x.path],
                    y=posterior[y.path],
                    mode="markers",
                    marker={"color": BLUE, "size": size, "opacity": 0.6},
                    showlegend=False,
                    hovertemplate=f"{x.path}=%{{x:.4g}}<br>{y.path}=%{{y:.4g}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
            fig.update_xaxes(type="log" if x.log else "linear", row=row, col=col)
            fig.update_yaxes(type="log" if y.log else "linear", row=row, col=col)
            if row == k:
                fig.update_xaxes(title_text=_short(x.path), row=row, col=col)
            if col == 1:
                fig.update_yaxes(title_text=_short(y.path), row=row, col=col)
    return _layout(fig, "pairs (marker size: weight)", "", "", height=max(320, 220 * k))


def _short(path: str) -> str:
    """The last two parts of a path: enough to tell parameters apart on an axis."""
    return ".".join(path.split(".")[-2:])


def _estimates(record: CalibrationRecord) -> str:
    rows = [
        [
            p.path,
            f"{p.start:.4g}",
            f"{p.estimate:.4g}",
            f"{p.low90:.4g} to {p.high90:.4g}",
            f"{p.range[0]:.4g} to {p.range[1]:.4g}" + (" (log)" if p.log else ""),
            "yes" if p.identified else "no",
            p.note,
        ]
        for p in record.parameters
    ]
    columns = ["parameter", "before", "estimate", "90% interval", "range", "pinned down", "note"]
    align = ["left", "right", "right", "right", "right", "left", "left"]
    return table(columns, rows, align=align)


def _cell(m: FitMetrics | None, field: str) -> str:
    value = None if m is None else getattr(m, field)
    if value is None:
        return ""
    return number(value, "percent") if field == "mape" else f"{value:.3f}"


def _metrics(record: CalibrationRecord) -> str:
    rows = [
        [
            series,
            f"{f.weight:g}",
            *(_cell(f.in_sample, k) for k in ("nrmse", "mape", "r2")),
            *(_cell(f.holdout, k) for k in ("nrmse", "mape", "r2")),
        ]
        for series, f in record.fit.items()
    ]
    columns = ["series", "weight", "NRMSE", "MAPE", "R^2", "hold-out NRMSE", "MAPE", "R^2"]
    return table(columns, rows)


def _series(fit: pd.DataFrame, series: str, record: CalibrationRecord) -> go.Figure:
    rows = fit[fit["series"] == series]
    x = rows["step"].tolist()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[*x, *reversed(x)],
            y=[*rows["high"], *reversed(rows["low"].tolist())],
            fill="toself",
            fillcolor=BAND,
            line={"width": 0},
            hoverinfo="skip",
            name="5-95% of replicates",
        )
    )
    fig.add_trace(go.Scatter(x=x, y=rows["simulated"], name="simulated mean", line={"color": BLUE}))
    fig.add_trace(
        go.Scatter(
            x=x, y=rows["observed"], name="observed", mode="markers", marker={"color": ORANGE}
        )
    )
    if record.holdout_steps:
        fig.add_vrect(
            x0=record.fitted_steps - 0.5,
            x1=record.steps - 0.5,
            fillcolor=GREY,
            opacity=0.15,
            line_width=0,
            annotation_text="held out",
        )
    label = series_label(series)
    return _layout(fig, label, "step", label, height=320)


def series_label(series: str) -> str:
    """A series as a title: `new customers`, or `new customers, segment urban_young`."""
    name, segment = split_series(series)
    label = name.replace("_", " ")
    return label if segment is None else f"{label}, segment {segment}"


def _marginal(
    posterior: pd.DataFrame, path: str, bounds: tuple[float, float], log: bool, sets: str
) -> go.Figure:
    """A weighted histogram over the range searched; on a log scale, bins of equal ratio.

    Plotly bins on the values, not on a log axis, so a log-scale parameter is binned by
    log10 of its values and the axis labelled with the values themselves.
    """
    import numpy as np

    values = posterior[path].to_numpy(dtype=np.float64)
    low, high = bounds
    if log:
        values, low, high = np.log10(values), np.log10(low), np.log10(high)
    fig = go.Figure(
        go.Histogram(
            x=values,
            y=posterior["weight"],
            histfunc="sum",
            xbins={"start": low, "end": high, "size": (high - low) / 20},
            marker={"color": BLUE},
            name=sets,
        )
    )
    fig = _layout(fig, path, path, "weight", height=260)
    fig.update_xaxes(range=[low, high])
    if log:
        ticks = [
            m * 10.0**e
            for e in range(int(np.floor(low)), int(np.ceil(high)) + 1)
            for m in (1, 2, 5)
            if low <= np.log10(m * 10.0**e) <= high
        ]
        fig.update_xaxes(tickvals=np.log10(ticks).tolist(), ticktext=[f"{t:g}" for t in ticks])
    return fig
