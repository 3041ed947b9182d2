"""Good scenarios: the contract files load, resolve and round-trip; the schema describes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from marketsim.plugins.prepare import load_scenario, scenario_from_text
from marketsim.scenario import (
    Scenario,
    dump_resolved,
    estimate_population_bytes,
    scenario_json_schema,
)
from marketsim.scenario.resources import MEMORY_LIMIT_ENV, human_bytes

CONTRACT = sorted((Path(__file__).parent / "contract").glob("*.yaml"))


@pytest.fixture(params=CONTRACT, ids=lambda p: p.stem)
def contract(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_contract_files_exist():
    assert {p.stem for p in CONTRACT} >= {"minimal-b2c", "minimal-b2b", "two-segments"}


def test_contract_scenario_loads(contract):
    scenario = load_scenario(contract)
    assert isinstance(scenario, Scenario)
    assert scenario.name == contract.stem
    assert scenario == scenario_from_text(contract.read_text(), name=str(contract))


def test_resolved_yaml_round_trips(contract):
    scenario = load_scenario(contract)
    text = dump_resolved(scenario, seed=123)
    again = scenario_from_text(text)
    assert again == scenario.model_copy(update={"seed": 123})
    assert dump_resolved(again, seed=123) == text


def test_resolved_yaml_fills_every_default():
    scenario = load_scenario(Path(__file__).parent / "contract" / "minimal-b2c.yaml")
    data = yaml.safe_load(dump_resolved(scenario, seed=7))
    assert data["seed"] == 7
    assert data["segments"][0]["network"] == scenario.segments[0].network.model_dump()
    assert data["channels"][0].keys() == type(scenario.channels[0]).model_fields.keys()
    assert data.keys() == Scenario.model_fields.keys()


def test_json_schema_describes_scenarios():
    schema = scenario_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "marketsim scenario"
    assert schema["description"]
    assert {"name", "horizon", "products", "segments"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    json.dumps(schema)


def test_population_estimate():
    scenario = load_scenario(Path(__file__).parent / "contract" / "minimal-b2b.yaml")
    people = 2000 * 4  # accounts x buying centre, small world of degree 6 by default
    assert estimate_population_bytes(scenario) == 50_000_000 + people * (64 + 12 * 6)
    mixed = scenario_from_text(
        "name: m\nhorizon: 1\nproducts: [{id: p, price: 1}]\n"
        "segments: [{id: s, size: 1000, network: {type: well_mixed, degree: 8}}]\n"
    )
    assert estimate_population_bytes(mixed) == 50_000_000 + 1000 * 64


def test_memory_limit_allows_what_fits(monkeypatch):
    path = Path(__file__).parent / "contract" / "two-segments.yaml"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, str(estimate_population_bytes(load_scenario(path))))
    load_scenario(path)


@pytest.mark.parametrize(
    ("n", "text"),
    [(999, "999 B"), (1500, "1.5 kB"), (612_400_000_000, "612.4 GB"), (3 * 10**15, "3000.0 TB")],
)
def test_human_bytes(n, text):
    assert human_bytes(n) == text


def test_resolved_scenario_fills_in_plugin_defaults():
    from marketsim.plugins.prepare import scenario_from_text
    from marketsim.scenario import dump_resolved

    text = (Path(__file__).parent / "contract" / "minimal-b2c.yaml").read_text()
    text += "behaviours:\n  - plugin: threshold_contagion\n    threshold: 0.3\n"
    scenario = scenario_from_text(text)
    resolved = dump_resolved(scenario, 7)
    again = scenario_from_text(resolved)
    assert again.behaviours == [
        {
            "plugin": "threshold_contagion",
            "threshold": 0.3,
            "spread": 0.1,
            "pull": 1000.0,
            "below": 0.0,
        }
    ]


def test_a_scenario_scales_to_a_population_size():
    from marketsim.scenario.scale import scaled

    scenario = load_scenario(Path(__file__).parent / "contract" / "two-segments.yaml")
    bigger = scaled(scenario, 123_457)
    assert bigger.people == 123_457
    ratio = bigger.segments[0].size / bigger.segments[1].size
    assert ratio == pytest.approx(30_000 / 20_000, rel=1e-3)
    with pytest.raises(ValueError, match="people=0"):
        scaled(scenario, 0)


def test_scaling_a_sampled_market_keeps_what_each_agent_stands_for():
    from marketsim.scenario.scale import scaled

    scenario = load_scenario(
        Path(__file__).parent / "contract" / "two-segments.yaml",
        ["segments.0.represents=300000"],
    )
    assert scenario.segments[0].scale == 10
    bigger = scaled(scenario, 100_000)
    assert bigger.segments[0].scale == 10
    assert bigger.segments[0].represented == 10 * bigger.segments[0].size
    assert bigger.segments[1].represents is None
