"""Scenarios: the typed schema, loading YAML with positions, and errors users can act on.

`load_scenario` is the one way in: read, apply `--set` overrides, validate against the
schema, check references between sections and check the population fits in memory.
Every problem is raised together in one `ScenarioError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from marketsim.core.errors import Problem, ScenarioError
from marketsim.scenario.overrides import apply_overrides
from marketsim.scenario.references import check_references
from marketsim.scenario.resolved import dump_resolved, scenario_json_schema
from marketsim.scenario.resources import check_fits_in_memory, estimate_population_bytes
from marketsim.scenario.schema import Scenario
from marketsim.scenario.source import Document, parse_document, read_document
from marketsim.scenario.validate import validate

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "check_scenario",
    "dump_resolved",
    "estimate_population_bytes",
    "load_scenario",
    "scenario_from_text",
    "scenario_json_schema",
]


def load_scenario(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Scenario:
    """The scenario in the YAML file at `path`, with `--set` style `overrides` applied.

    Raises:
        ScenarioError: with every problem found, each located in the file or `--set` text.

    """
    return _finish(read_document(path), overrides)


def scenario_from_text(
    text: str, name: str = "<string>", overrides: Iterable[str] = ()
) -> Scenario:
    """Like `load_scenario`, for YAML text; problems are located in a source called `name`."""
    return _finish(parse_document(text, name), overrides)


def check_scenario(scenario: Scenario) -> None:
    """Check a scenario built in Python (not read from a file) as a file would be.

    pydantic checks each section; references between sections (targets, schedules,
    windows) are checked here. Problems are located in `<scenario>`, by dotted path.

    Raises:
        ScenarioError: with every problem found.

    """
    doc = Document("<scenario>", scenario.model_dump(mode="json"), {}, {})
    problems = check_references(scenario, doc.problem)
    if problems:
        raise ScenarioError(problems)


def _finish(doc: Document, overrides: Iterable[str]) -> Scenario:
    doc = apply_overrides(doc, overrides)
    scenario = validate(doc)
    check_fits_in_memory(scenario, doc.problem)
    return scenario
