"""The typer app every command registers on, and how a command fails."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    name="marketsim",
    help="Agent-based market simulator: validate and run marketing scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)


class BadInput(Exception):
    """Input that cannot be used; each line of `str()` is one problem (exit code 2)."""


def fail(message: str, code: int) -> NoReturn:
    """Print `message` on stderr and exit with `code` (1 run-time, 2 bad input)."""
    print(message, file=sys.stderr)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from marketsim import __version__

        print(f"marketsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Agent-based market simulator: validate and run marketing scenarios."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `marketsim` command."""
    app(args=None if argv is None else list(argv), prog_name="marketsim")
