"""Compiling the numba kernels before the first real run: `marketsim warm-up`.

A scenario's kernels are compiled by simulating a small copy of it, so exactly the
specialisations its runs call are compiled (the network it builds, its sales
organisation, its traits) and nothing is listed twice: the code that runs is the list.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from unittest import mock

from marketsim.core.hooks import MODE_VARIABLE, inlines
from marketsim.drivers.simulation import simulate
from marketsim.kernels.customer_step import compile_every_variant
from marketsim.scenario.examples import SMALL_MARKET
from marketsim.scenario.scale import scaled
from marketsim.scenario.schema import Scenario

WARM_PEOPLE = 500
"""People a scenario is shrunk to (at most): kernels compile for types, not sizes."""


def warm_up(scenarios: Sequence[Scenario], *, every_variant: bool = True) -> None:
    """Compile and cache the kernels `scenarios` use (default: the built-in small market).

    With `every_variant`, the four variants of the customer step are compiled too, used
    by these scenarios or not, so a later scenario with traits or plugins waits for none.
    A scenario large enough to run its plugins' kernel hooks inlined has that kernel
    compiled too (its small copy would call them by pointer).
    """
    if every_variant:
        compile_every_variant()
    for scenario in scenarios or [Scenario.model_validate(SMALL_MARKET)]:
        small = scaled(scenario, min(WARM_PEOPLE, scenario.people))
        simulate(small, replicates=1)
        if scenario.behaviours and inlines(scenario.people):
            with mock.patch.dict(os.environ, {MODE_VARIABLE: "inline"}):
                simulate(small, replicates=1)
