"""marketsim: an agent-based market simulator for marketing and sales strategy.

The public names load on first use, so `marketsim validate` and `--help` do not pay
for numba, Mesa and SciPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketsim.core.lazy import lazy_attributes
from marketsim.core.version import __version__

if TYPE_CHECKING:
    from marketsim.core.errors import ScenarioError
    from marketsim.drivers.optimize.runner import optimize
    from marketsim.drivers.results import Result
    from marketsim.drivers.simulation import simulate
    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import load_scenario, prepare
    from marketsim.scenario.schema import Scenario

_HOMES = {
    "MarketModel": "marketsim.engine.model",
    "Result": "marketsim.drivers.results",
    "Scenario": "marketsim.scenario.schema",
    "ScenarioError": "marketsim.core.errors",
    "load_scenario": "marketsim.plugins.prepare",
    "optimize": "marketsim.drivers.optimize.runner",
    "prepare": "marketsim.plugins.prepare",
    "simulate": "marketsim.drivers.simulation",
}

__all__ = [
    "MarketModel",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "optimize",
    "prepare",
    "simulate",
]


__getattr__ = lazy_attributes(__name__, _HOMES)
