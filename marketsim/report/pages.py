"""Every page the commands write, as the io layer's `Pages` takes them."""

from __future__ import annotations

from marketsim.io.files import Pages
from marketsim.report.bench_report import bench_html
from marketsim.report.calibration import calibration_html
from marketsim.report.compare_report import comparison_html
from marketsim.report.optimization import optimization_html, sweep_html
from marketsim.report.run_report import run_html

PAGES = Pages(
    run=run_html,
    comparison=comparison_html,
    optimization=optimization_html,
    sweep=sweep_html,
    bench=bench_html,
    calibration=calibration_html,
)
"""The drawing function of every page: run, comparison, optimisation, sweep, benchmark and
calibration."""
