"""The calibration's page (calibration.html), drawn from the records written beside it.

calibration.json, fit.csv and posterior.csv hold everything the page shows, so it can
be rebuilt from the files alone: observed against simulated per series with the band of
the best set's replicates and the hold-out shaded, the estimates with their intervals,
the fit metrics in and out of sample, and each parameter's near-best values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from marketsim.core.format import number
from marketsim.drivers.calibrate.records import CalibrationRecord, FitMetrics
from marketsim.report.optimization import BAND, BLUE, GREY, ORANGE, _layout
from marketsim.report.page import Section, cards, page, table

if TYPE_CHECKING:
    from marketsim.drivers.calibrate import Calibration


def calibration_html(calibration: Calibration) -> str:
    """calibration.html of a finished calibration."""
    return calibration_page(calibration.record, calibration.fit, calibration.posterior)


def calibration_page(record: CalibrationRecord, fit: pd.DataFrame, posterior: pd.DataFrame) -> str:
    """The complete calibration.html page."""
    held = record.holdout_steps
    head = cards(
        [
            ("best distance", f"{record.best_distance:.4g}", f"trial {record.best_trial}"),
            (
                "trials",
                str(record.trials.get("complete", 0)),
                f"of {record.trials['requested']} requested",
            ),
            (
                "near-best sets",
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
        Section(
            "Estimates",
            html=_estimates(record),
            note=(
                "The estimate is the best set's value; the 90% interval spans the near-best "
                f"sets ({record.acceptance.rule}). Not a posterior: a wide interval says the "
                "data do not pin the parameter down."
            ),
        ),
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
        Section(
            "Near-best values",
            figures=[_marginal(posterior, p.path, p.range, p.log) for p in record.parameters],
            note="Each parameter's values over the near-best sets, weighted; the range "
            "searched is the axis.",
        ),
    ]
    return page(
        f"Calibration: {record.scenario}",
        sections,
        subtitle=f"{record.method}, {record.sampler}, seed {record.seed}, "
        f"{record.replicates} replicates a trial",
    )


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
    return _layout(fig, series.replace("_", " "), "step", series.replace("_", " "), height=320)


def _marginal(
    posterior: pd.DataFrame, path: str, bounds: tuple[float, float], log: bool
) -> go.Figure:
    fig = go.Figure(
        go.Histogram(
            x=posterior[path],
            y=posterior["weight"],
            histfunc="sum",
            nbinsx=20,
            marker={"color": BLUE},
            name="near-best sets",
        )
    )
    fig = _layout(fig, path, path, "weight", height=260)
    if log:
        import math

        fig.update_xaxes(type="log", range=[math.log10(bounds[0]), math.log10(bounds[1])])
    else:
        fig.update_xaxes(range=list(bounds))
    return fig
