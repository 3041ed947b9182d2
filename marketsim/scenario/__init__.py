"""Scenarios: the typed schema, YAML read with positions, and errors users can act on.

The pieces, each usable alone: `source` reads YAML remembering where every value was
written; `overrides` applies `--set dotted.path=VALUE`; `validate` checks the schema;
`references` checks what sections say of each other; `resources` that the population
fits in memory; `paths` sets values by dotted path; `resolved` writes a scenario back.
`marketsim.load_scenario` (in `marketsim.plugins.prepare`, as it also resolves
behaviour plugins) puts them together.
"""

from __future__ import annotations

from marketsim.core.errors import Problem, ScenarioError
from marketsim.scenario.resolved import dump_resolved, scenario_json_schema
from marketsim.scenario.resources import estimate_population_bytes
from marketsim.scenario.schema import Scenario

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "dump_resolved",
    "estimate_population_bytes",
    "scenario_json_schema",
]
