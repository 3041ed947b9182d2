"""marketsim: an agent-based market simulator for marketing and sales strategy."""

from __future__ import annotations

from marketsim.model import MarketModel
from marketsim.results import Result
from marketsim.scenario import Scenario, ScenarioError, load_scenario
from marketsim.simulate import simulate

__version__ = "0.1.0"
__all__ = ["MarketModel", "Result", "Scenario", "ScenarioError", "load_scenario", "simulate"]
