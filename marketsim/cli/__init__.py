"""The `marketsim` command: one module per command, registered on one typer app.

Exit codes (the user-facing contract): 0 success, 1 run-time failure, 2 bad input or
usage, mapped in one place (`marketsim.cli.app.command`). Bad input is reported on
stderr one problem a line, scenario problems as `FILE:LINE:COL: dotted.path: message`,
and nothing is written. Command modules import what they run only when they run it, so
`--help` and `validate` start fast.
"""

from __future__ import annotations

from marketsim.cli import (
    bench,
    calibrate,
    compare,
    optimize,
    plugins,
    report,
    run,
    sweep,
    validate,
    warm_up,
)
from marketsim.cli.app import app, main

__all__ = [
    "app",
    "bench",
    "calibrate",
    "compare",
    "main",
    "optimize",
    "plugins",
    "report",
    "run",
    "sweep",
    "validate",
    "warm_up",
]
