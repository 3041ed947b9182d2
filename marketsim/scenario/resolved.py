"""What a scenario file means, written out: the resolved YAML and the JSON Schema.

A run records `scenario.resolved.yaml` so that it can be repeated exactly even after
defaults change; editors use the JSON Schema to complete and check scenario files.
"""

from __future__ import annotations

from typing import Any

import yaml

from marketsim.scenario.schema import Scenario


def dump_resolved(scenario: Scenario, seed: int) -> str:
    """YAML of `scenario` with every default filled in and `seed` set to the seed used.

    A prepared scenario (`marketsim.plugins.prepare`) has its behaviours' parameters
    filled in too. Loading the text back gives a scenario equal to `scenario`.
    """
    data = scenario.model_dump(mode="json")
    data["seed"] = seed
    header = "# Resolved by marketsim: every default filled in, and the seed used.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of scenario files, for YAML editors' completion."""
    schema = Scenario.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "marketsim scenario",
        "description": (
            "A market and a promotional mix for marketsim to simulate. " + schema["description"]
        ),
    }
