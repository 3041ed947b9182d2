"""`marketsim report`: draw a run's or comparison's report.html again from its files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketsim.cli.app import app, fail


@app.command()
def report(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Output directory of `marketsim run` or `marketsim compare`.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Where to write the page (default: DIR/report.html).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw report.html from the files of a run or comparison directory (nothing is re-run).

    Exits 0 on success, 2 when DIR is not a run or comparison or a file in it is invalid,
    1 if the page cannot be written. The old page is replaced only by a complete new one.
    """
    from marketsim.report.rebuild import ReportError, rebuild

    if out is not None and not out.parent.is_dir():
        fail(f"error: --out: {out.parent} is not a directory", 2)
    if out is not None and out.is_dir():
        fail(f"error: --out: {out} is a directory; give a file name", 2)
    try:
        written = rebuild(directory, out)
    except ReportError as e:
        fail(f"error: {e}", 2)
    except OSError as e:
        fail(f"error: cannot write the report: {e}", 1)
    print(written)
