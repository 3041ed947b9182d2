"""A reusable test suite for behaviour plugins: supply one fixture, get a dozen checks.

Like Optuna's sampler test cases, a plugin author subclasses `PluginTestSuite` in a
pytest module and defines the fixture `plugin_case`:

    import pytest
    from marketsim.testing import PluginCase, PluginTestSuite

    class TestSaturation(PluginTestSuite):
        @pytest.fixture
        def plugin_case(self):
            return PluginCase("saturating_wom", {"cap": 3.0}, plugin_path=["my_plugins"])

The suite checks that the plugin is discovered and loads by name; declares a name,
version, description, hooks and a parameter schema with defaults; accepts its
parameters in a scenario and refuses bad ones (unknown names, values outside the
schema) with located `FILE:LINE:COL: behaviours.N.param: ...` errors; keeps the
model's invariants over a short run (population size, stage counts summing to the
population and matching every person's stage, profit = revenue - cost of goods -
spend - commissions, nothing NaN or infinite, plugin state included); is
deterministic (two runs identical) and gives byte-identical `timeseries.csv` on 1 and
2 threads in a market of `LARGE_MARKET` people (more than two of the kernel's parallel
blocks; `marketsim run` in separate processes); and gives the same results on the
numba and the plain-Python engine. Every run is guarded: a hook result out of range
(NaN, a chance of 5, a negative exposure) or an exception fails it, naming the plugin,
the hook, the step and the person. `plugin_path` folders are searched by
`PluginCase.load` and by everything run after it.

The default market (`SMALL_MARKET`) has consumers on a small-world network and in a
well-mixed crowd, b2b accounts worked by inside and outside reps, a reseller that
mis-sells (so there are detractors), advertising, search and a promotion: every hook
point is reached. Pass `scenario=` to use your own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketsim.core.lazy import lazy_attributes
from marketsim.testing.case import (
    LARGE_MARKET,
    SMALL_MARKET,
    PluginCase,
    check_invariants,
    run_case,
)

if TYPE_CHECKING:
    from marketsim.testing.suite import PluginTestSuite

__all__ = [
    "LARGE_MARKET",
    "SMALL_MARKET",
    "PluginCase",
    "PluginTestSuite",
    "check_invariants",
    "run_case",
]


# The suite is built from pytest fixtures: pytest loads only when it is asked for.
__getattr__ = lazy_attributes(__name__, {"PluginTestSuite": "marketsim.testing.suite"})
