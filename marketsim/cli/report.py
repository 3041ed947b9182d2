"""`marketsim report`: draw a report.html again from the files of a run, comparison or bench."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from marketsim.cli.app import command, failing_as
from marketsim.core.errors import InputError


@command()
def report(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Output directory of `marketsim run`, `compare` or `bench`.",
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
    """Draw report.html from the files of a run, comparison or benchmark (nothing is re-run).

    Exits 0 on success, 2 when DIR is none of them or a file in it is invalid,
    1 if the page cannot be written. The old page is replaced only by a complete new one.
    """
    from marketsim.report.rebuild import rebuild

    if out is not None and not out.parent.is_dir():
        raise InputError(f"--out: {out.parent} is not a directory")
    if out is not None and out.is_dir():
        raise InputError(f"--out: {out} is a directory; give a file name")
    with failing_as("writing the report"):
        written = rebuild(directory, out)
    print(written)
