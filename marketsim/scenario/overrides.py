"""`--set dotted.path=VALUE`: change a scenario from the command line before validation.

Overrides edit the plain data, not the typed scenario, so an overridden value is judged
by exactly the same rules as one written in the file, and a bad one is reported at the
`--set` text that wrote it, as `--set:N:COL`: the Nth override is line N of a source
named `--set` (so a single override is `--set:1:COL`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable

from marketsim.core.errors import Problem, ScenarioError, show
from marketsim.scenario.paths import PathError, locate
from marketsim.scenario.source import Document, Location, parse_yaml

SOURCE = "--set"


def apply_overrides(doc: Document, overrides: Iterable[str]) -> Document:
    """A copy of `doc` with each `path=VALUE` applied in order; every bad one reported."""
    result = Document(doc.name, copy.deepcopy(doc.data), dict(doc.values), dict(doc.keys))
    problems: list[Problem] = []
    for line, text in enumerate(overrides, 1):
        try:
            _apply(result, text, line)
        except ScenarioError as e:
            problems += e.problems
    if problems:
        raise ScenarioError(problems)
    return result


def _apply(doc: Document, text: str, line: int) -> None:
    target, equals, value = text.partition("=")
    if not equals:
        raise _refuse(line, 1, "", f"expected dotted.path=VALUE, found {show(text)}")
    if not target:
        raise _refuse(line, 1, "", "expected a dotted path before '=', found nothing")
    parts = target.split(".")
    cols = [1 + sum(len(p) + 1 for p in parts[:i]) for i in range(len(parts))]
    try:
        fragment = parse_yaml(value, SOURCE, line, len(target) + 2)
    except ScenarioError as e:
        raise ScenarioError(
            dataclasses.replace(p, path=".".join(filter(None, (target, p.path))))
            for p in e.problems
        ) from None

    try:
        spot = locate(doc.data, parts)
    except PathError as e:
        raise _refuse(line, cols[e.part], ".".join(parts[: e.part + 1]), str(e)) from None
    spot.container[spot.key] = fragment.data
    path = spot.path
    for i in spot.created:
        # A section the file leaves out (e.g. `sales:`) starts empty; validation then
        # judges the key, so a misspelt one is reported here with did-you-mean.
        doc.values[path[: i + 1]] = doc.keys[path[: i + 1]] = Location(SOURCE, line, cols[i])

    for marks in (doc.values, doc.keys):  # the old value's positions no longer apply
        for stale in [p for p in marks if p[: len(path)] == path]:
            del marks[stale]
    doc.values.update({(*path, *p): where for p, where in fragment.values.items()})
    doc.keys.update({(*path, *p): where for p, where in fragment.keys.items()})
    doc.values.setdefault(path, Location(SOURCE, line, len(target) + 2))  # an empty value
    doc.keys[path] = Location(SOURCE, line, cols[-1])


def _refuse(line: int, col: int, path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(SOURCE, line, col, path, message)])
