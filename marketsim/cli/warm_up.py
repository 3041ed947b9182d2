"""`marketsim warm-up`: compile the numba kernels now, so the first real run does not wait."""

from __future__ import annotations

from typing import Annotated

import typer

from marketsim.cli import common
from marketsim.cli.app import command, failing_as


@command("warm-up")
def warm_up(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FILE",
            help="Scenarios whose kernels to compile (default: a small built-in market).",
            show_default=False,
        ),
    ] = None,
    used_only: Annotated[
        bool,
        typer.Option(
            "--used-only",
            help="Compile only what these scenarios use, not every customer-step variant.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No message while kernels compile.")
    ] = False,
    plugin_path: common.PluginPath = None,
) -> None:
    """Compile and cache the kernels runs need (done by `make demo` and `make test`).

    Each scenario is simulated once at 500 people, which compiles exactly the kernels
    its runs use; every variant of the customer step is compiled too unless --used-only.
    Kernels already in numba's cache load instead. Writes nothing else; exits 0 when done.
    """
    from marketsim.drivers.warm_up import warm_up as compile_kernels
    from marketsim.plugins.prepare import load_scenario

    common.use_plugin_paths(plugin_path)
    scenarios = [load_scenario(f) for f in files or ()]
    with common.compile_notice(quiet), failing_as("the warm-up"):
        compile_kernels(scenarios, every_variant=not used_only)
