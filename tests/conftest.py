from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from marketsim.plugins.discovery import PATH_VARIABLE
from marketsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = sorted((ROOT / "tests" / "contract").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _plugin_path_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test leaves MARKETSIM_PLUGIN_PATH as it found it.

    `--plugin-path` and `add_plugin_paths` write it for the worker processes to inherit;
    left behind, a folder would follow later tests (in whatever order pytest-xdist runs
    them) onto their workers. (`monkeypatch.delenv` of an unset variable restores
    nothing, so tests cannot rely on it.)
    """
    monkeypatch.setenv(PATH_VARIABLE, os.environ.get(PATH_VARIABLE, ""))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the modules holding `slow` tests first, each module's tests in their order.

    `make test` spreads whole modules over one process a core (pytest-xdist,
    `--dist loadfile --no-loadscope-reorder`, which keeps this order rather than
    putting the modules with the most tests first), so a long module left to the end
    would run alone.
    """
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


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


def diverse_data() -> dict[str, Any]:
    """The all-features scenario with people who differ in every way the model allows.

    Every trait family, media habits and media with their own retention, a frequency
    threshold and wear-out, stocking up, imperfect quality, dissatisfied customers who
    churn more, keep quiet or speak against, churn that hears price and trust, adstock on
    awareness and forgetting.
    """
    data = copy.deepcopy(EVERYTHING)
    young, families, hubs, crowd = data["segments"]
    young |= {
        "traits": {
            "price_sensitivity": {"dist": "lognormal", "mean": 1.5, "sd": 0.8},
            "purchase_rate": {"dist": "gamma", "mean": 1.0, "shape": 0.8},
            "word_of_mouth": {"dist": "beta", "mean": 0.5, "sd": 0.2},
            "attitude": {"dist": "mix", "values": [0.5, 1.5], "weights": [0.4, 0.6]},
        },
        "media": {
            "tv": {"habit": {"dist": "gamma", "mean": 1.0, "shape": 1.5}, "retention": 0.8},
            "social": {"habit": {"dist": "beta", "mean": 0.4, "sd": 0.25}},
        },
        "awareness_adstock": 0.5,
        "awareness_decay": 0.05,
        "dissatisfied_churn": 3.0,
        "dissatisfied_word_of_mouth": "against",
        "churn_price_response": 1.0,
        "churn_trust_response": 1.0,
    }
    families |= {
        "traits": {"price_sensitivity": {"dist": "gamma", "mean": 2.0, "shape": 2.0}},
        "media": {"tv": {"retention": 0.4}},
        "dissatisfied_word_of_mouth": "silent",
        "churn": 0.03,
    }
    hubs |= {"traits": {"attitude": 1.2}, "awareness_decay": 0.02}
    crowd |= {"dissatisfied_word_of_mouth": "silent", "churn": 0.02}
    tv, social = data["channels"][0], data["channels"][1]
    tv |= {"medium": "tv", "frequency_threshold": 2, "wear_out": 0.3}
    social |= {"medium": "social", "wear_out": 0.1}
    data["channels"][4] |= {"medium": "press"}
    data["products"][0] |= {"stockpile": 3.0, "quality": 0.8}
    data["products"][1] |= {"quality": 0.7}
    return data


@pytest.fixture
def diverse() -> Scenario:
    return Scenario.model_validate(diverse_data())


# --------------------------------------------------------------------------- Dask clusters
