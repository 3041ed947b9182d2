"""marketsim: an agent-based market simulator for marketing and sales strategy.

The public names load on first use, so `marketsim validate` and `--help` do not pay
for numba, Mesa and SciPy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marketsim.drivers.results import Result
    from marketsim.drivers.simulation import simulate
    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario import Scenario, ScenarioError

__version__ = "0.1.0"
__all__ = ["MarketModel", "Result", "Scenario", "ScenarioError", "load_scenario", "simulate"]

_HOMES = {
    "MarketModel": "marketsim.engine.model",
    "Result": "marketsim.drivers.results",
    "Scenario": "marketsim.scenario",
    "ScenarioError": "marketsim.core.errors",
    "load_scenario": "marketsim.plugins.prepare",
    "simulate": "marketsim.drivers.simulation",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'marketsim' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
