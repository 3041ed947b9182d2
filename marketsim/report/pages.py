"""Every page the commands write, as the io layer's `Pages` takes them.

Each page's module is imported when the page is drawn, so a command imports only the
pages it writes (a run does not import the calibration page's optuna, for one).
"""

from __future__ import annotations

from marketsim.core.lazy import lazy_function
from marketsim.io.files import Pages

PAGES = Pages(
    run=lazy_function("marketsim.report.run_report", "run_html"),
    comparison=lazy_function("marketsim.report.compare_report", "comparison_html"),
    optimization=lazy_function("marketsim.report.optimization", "optimization_html"),
    sweep=lazy_function("marketsim.report.optimization", "sweep_html"),
    bench=lazy_function("marketsim.report.bench_report", "bench_html"),
    calibration=lazy_function("marketsim.report.calibration", "calibration_html"),
)
"""The drawing function of every page: run, comparison, optimisation, sweep, benchmark and
calibration."""
