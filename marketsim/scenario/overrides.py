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
from typing import Any

from marketsim.core.errors import Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.scenario.source import Document, Location, Path, parse_yaml

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

    path: Path = ()
    parent, node = None, doc.data
    created: list[tuple[Path, int]] = []
    for i, (part, col) in enumerate(zip(parts, cols, strict=True)):
        key = _key(node, part, create=True)
        if key is None:
            raise _refuse(line, col, ".".join(parts[: i + 1]), _why_not(node, part))
        if i < len(parts) - 1 and isinstance(node, dict) and node.get(key) is None:
            # A section the file leaves out (e.g. `sales:`) starts empty; validation
            # then judges the key, so a misspelt one is reported here with did-you-mean.
            node[key] = {}
            created.append(((*path, key), col))
        path, parent, node = (*path, key), node, _child(node, key)
    parent[path[-1]] = fragment.data
    for section, col in created:
        doc.values[section] = doc.keys[section] = Location(SOURCE, line, col)

    for marks in (doc.values, doc.keys):  # the old value's positions no longer apply
        for stale in [p for p in marks if p[: len(path)] == path]:
            del marks[stale]
    doc.values.update({(*path, *p): where for p, where in fragment.values.items()})
    doc.keys.update({(*path, *p): where for p, where in fragment.keys.items()})
    doc.values.setdefault(path, Location(SOURCE, line, len(target) + 2))  # an empty value
    doc.keys[path] = Location(SOURCE, line, cols[-1])


def _key(node: Any, part: str, *, create: bool) -> str | int | None:
    """The key or index `part` names in `node`; a mapping's key may be new."""
    if not part:
        return None
    if isinstance(node, dict):
        return part if part in node or create else None
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict) and item.get("id") == part:
                return i
        if part.isdigit() and int(part) < len(node):  # ids start with a letter
            return int(part)
    return None


def _child(node: Any, key: str | int) -> Any:
    return node.get(key) if isinstance(node, dict) else node[key]


def _why_not(node: Any, part: str) -> str:
    if not part:
        return "expected a key or id between the dots, found nothing"
    if isinstance(node, dict):
        return f"expected one of the keys {quoted(node)}, found {show(part)}" + did_you_mean(
            part, node
        )
    if not isinstance(node, list):
        return f"expected a mapping or list to look up {show(part)} in, found {show(node)}"
    ids = [item["id"] for item in node if isinstance(item, dict) and "id" in item]
    if not ids:
        return f"expected an index below {len(node)}, found {show(part)}"
    return f"expected the id of an item, one of {quoted(ids)}, found {show(part)}" + did_you_mean(
        part, ids
    )


def _refuse(line: int, col: int, path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(SOURCE, line, col, path, message)])
