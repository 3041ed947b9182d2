from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from marketsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = sorted((ROOT / "tests" / "contract").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

EVERYTHING: dict[str, Any] = {
    "name": "everything",
    "horizon": 20,
    "seed": 5,
    "products": [
        {"id": "widget", "price": 40.0, "unit_cost": 15.0, "repurchase_every": 6},
        {"id": "gizmo", "price": 90.0, "unit_cost": 50.0},
    ],
    "segments": [
        {
            "id": "young",
            "size": 900,
            "network": {"type": "small_world", "degree": 6, "rewire": 0.2},
            "initial_awareness": 0.1,
            "churn": 0.02,
            "potential": 0.8,
        },
        {
            "id": "families",
            "size": 700,
            "network": {"type": "random", "degree": 5},
            "products": ["gizmo"],
            "reference_price": 100.0,
        },
        {"id": "hubs", "size": 600, "network": {"type": "scale_free", "degree": 4}},
        {"id": "crowd", "size": 500, "network": {"type": "well_mixed", "degree": 8}},
    ],
    "channels": [
        {"id": "tv", "type": "advertising", "budget": 4000, "cost_per_contact": 0.05},
        {
            "id": "social",
            "type": "advertising",
            "budget": 1500,
            "targets": ["young", "hubs"],
            "cost_per_contact": 0.02,
            "schedule": [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0],
        },
        {"id": "search", "type": "inbound", "budget": 2000, "cost_per_contact": 0.5},
        {"id": "sale", "type": "promotion", "budget": 300, "start": 5, "end": 9},
        {"id": "press", "type": "publicity", "budget": 40000, "cost_per_burst": 2000},
        {"id": "pr", "type": "public_relations", "budget": 30000, "cost_scale": 5000},
    ],
}


def make_scenario(**changes: Any) -> Scenario:
    """The all-features test scenario, with top-level keys replaced."""
    data = copy.deepcopy(EVERYTHING)
    data.update(changes)
    return Scenario.model_validate(data)


@pytest.fixture
def everything() -> Scenario:
    return make_scenario()
