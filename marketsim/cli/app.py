"""The typer app every command registers on, and the one place errors become exit codes.

Exit codes (the user-facing contract): 0 success, 1 run-time failure, 2 bad input or
usage. Every command is registered with `command`, which reports a `MarketsimError`
on stderr (scenario problems as `FILE:LINE:COL: dotted.path: message`, everything else
as `error: ...`) and exits with its code: an `InputError` 2, a `RunError` 1. Anything
else escaping a command is a bug: a run-time failure with its traceback, never bad
input. `marketsim --traceback COMMAND` prints the whole chain of an error too (a
plugin's own exception and where it was raised, under the run's message).
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer

from marketsim.core.errors import MarketsimError, RunError
from marketsim.core.hooks import plugin_kernel_mode

app = typer.Typer(
    name="marketsim",
    help="Agent-based market simulator: validate and run marketing scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

F = TypeVar("F", bound=Callable[..., Any])

_options = {"traceback": False}
"""Options of the whole command line (`marketsim --traceback ...`)."""


def command(name: str | None = None, *, on: typer.Typer | None = None) -> Callable[[F], F]:
    """Register a command on `on` (default: the app) with the error mapping above."""

    def register(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                plugin_kernel_mode()  # a bad setting stops any command before it starts
                return fn(*args, **kwargs)
            except MarketsimError as e:
                if _options["traceback"]:
                    traceback.print_exception(e, file=sys.stderr)
                for line in e.lines():
                    print(line, file=sys.stderr)
                raise typer.Exit(e.exit_code) from None

        return (on or app).command(name)(run)

    return register


@contextmanager
def failing_as(what: str) -> Iterator[None]:
    """Report any failure inside as `error: WHAT failed: ...` (a run-time failure, exit 1).

    Bad input found on the way (a `MarketsimError`) and Ctrl-C pass through unchanged.
    """
    try:
        yield
    except MarketsimError:
        raise
    except Exception as e:
        raise RunError(f"{what} failed: {type(e).__name__}: {e}") from e


def _version(value: bool) -> None:
    if value:
        from marketsim.core.version import __version__

        print(f"marketsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    show_traceback: Annotated[
        bool,
        typer.Option("--traceback", help="On an error, also print its whole chain of causes."),
    ] = False,
) -> None:
    """Agent-based market simulator: validate and run marketing scenarios."""
    _options["traceback"] = show_traceback


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `marketsim` command."""
    app(args=None if argv is None else list(argv), prog_name="marketsim")
