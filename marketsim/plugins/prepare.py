"""A scenario made ready to run, once: schema, references, behaviours and memory checked.

`load_scenario` is the one way a file becomes a runnable scenario: read the YAML, apply
`--set` overrides, validate against the schema, check references between sections,
resolve every behaviour plugin and its parameters, and check the population fits in
memory. Every problem is raised together in one `ScenarioError`.

The scenario it returns is *prepared*: its behaviours carry every parameter, defaults
filled in, and it is marked so that the model and the resolved-scenario writer never
check or resolve it again. A scenario built in Python goes through `prepare`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from marketsim.core.errors import ScenarioError
from marketsim.plugins.base import PER_SEGMENT
from marketsim.plugins.resolve import SegmentValues, resolve_behaviours
from marketsim.scenario.overrides import apply_overrides
from marketsim.scenario.references import check_references, check_warnings
from marketsim.scenario.resources import check_fits_in_memory
from marketsim.scenario.schema import Scenario
from marketsim.scenario.source import Document, parse_document, read_document
from marketsim.scenario.validate import validate


def load_scenario(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Scenario:
    """The prepared scenario in the YAML file at `path`, with `--set` style `overrides`.

    Raises:
        ScenarioError: with every problem found, each located in the file or `--set` text.

    """
    return _finish(read_document(path), overrides)


def scenario_from_text(
    text: str, name: str = "<string>", overrides: Iterable[str] = ()
) -> Scenario:
    """Like `load_scenario`, for YAML text; problems are located in a source called `name`."""
    return _finish(parse_document(text, name), overrides)


def prepare(scenario: Scenario) -> Scenario:
    """`scenario` checked and with its behaviours resolved; itself if already prepared.

    For scenarios built in Python (`Scenario.model_validate`, `model_copy(update=...)`):
    pydantic has checked each section; references between sections and behaviours are
    checked here, located in `<scenario>` by dotted path.

    Raises:
        ScenarioError: with every problem found.

    """
    if scenario.prepared:
        return scenario
    doc = Document("<scenario>", scenario.model_dump(mode="json"), {}, {})
    return _resolve(scenario, doc)


def _finish(doc: Document, overrides: Iterable[str]) -> Scenario:
    doc = apply_overrides(doc, overrides)
    scenario = _resolve(validate(doc), doc)
    check_fits_in_memory(scenario, doc.problem)
    return scenario


def _per_segment(model: type[BaseModel], by_segment: SegmentValues) -> dict[str, Any]:
    """The behaviour's `per_segment` entry, every segment's values written out (if any)."""
    if not model.model_fields:
        return {}
    return {PER_SEGMENT: {sid: v.model_dump(mode="json") for sid, v in by_segment.items()}}


def _resolve(scenario: Scenario, doc: Document) -> Scenario:
    resolved, problems = resolve_behaviours(scenario, doc.problem)
    problems = check_references(scenario, doc.problem) + problems
    if problems:
        raise ScenarioError(problems)
    if scenario.behaviours:
        complete = [
            {
                "plugin": cls.name,
                **params.model_dump(mode="json"),
                **_per_segment(cls.SegmentParams, by_segment),
            }
            for cls, params, by_segment in resolved
        ]
        scenario = scenario.model_copy(update={"behaviours": complete})
    scenario.mark_prepared(tuple(check_warnings(scenario, doc.problem)))
    return scenario
