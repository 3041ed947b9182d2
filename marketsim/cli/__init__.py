"""The `marketsim` command: one module per command, registered on one typer app.

Exit codes (the user-facing contract): 0 success, 1 run-time failure, 2 bad input or
usage. Bad input is reported on stderr one problem a line, scenario problems as
`FILE:LINE:COL: dotted.path: message`, and nothing is written.
"""

from __future__ import annotations

from marketsim.cli import compare as compare  # compare strategies
from marketsim.cli import optimize as optimize  # optimize and sweep
from marketsim.cli import plugins as plugins  # plugins list / show
from marketsim.cli import report as report  # rebuild a report from files
from marketsim.cli import run, validate
from marketsim.cli.app import app, main

__all__ = ["app", "main", "run", "validate"]
