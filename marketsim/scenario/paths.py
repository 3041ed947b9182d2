"""Dotted paths into a scenario: `channels.tv.budget`, list items named by their id.

One setter serves `--set` (which edits the plain data read from the file, so a value is
judged by the same rules as one written there), `sweep --vary` and the optimiser (which
set values on a scenario and validate it again). A section the data leaves out (say
`sales`) is created empty on the way, so the schema, not the path, judges what is put
in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from marketsim.core.errors import ScenarioError, did_you_mean, quoted, show
from marketsim.scenario.schema import Scenario
from marketsim.scenario.source import Document


class PathError(ValueError):
    """A dotted path that names nothing; `part` is the index of the part at fault."""

    def __init__(self, part: int, message: str) -> None:
        self.part = part
        super().__init__(message)


class Located(NamedTuple):
    """Where a dotted path points: set `container[key]` to change the value."""

    container: Any
    key: str | int
    path: tuple[str | int, ...]
    """The keys and indices from the top, as the data is addressed."""
    created: tuple[int, ...]
    """Indices of the parts whose (missing) section was created on the way."""


def locate(data: Any, parts: Sequence[str]) -> Located:
    """Where the path `parts` points in `data`, creating missing sections as mappings.

    Raises:
        PathError: a part names nothing (with what was expected, and did-you-mean).

    """
    node, path, created = data, [], []
    for i, part in enumerate(parts):
        key = _key(node, part)
        if key is None:
            raise PathError(i, _why_not(node, part))
        path.append(key)
        if i == len(parts) - 1:
            return Located(node, key, tuple(path), tuple(created))
        if isinstance(node, dict) and node.get(key) is None:
            node[key] = {}
            created.append(i)
        node = node[key]
    raise PathError(0, "expected a dotted path, found nothing")


def with_values(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """`scenario` with each dotted path set to its value, validated again.

    The result is not prepared (`marketsim.plugins.prepare`): references between
    sections may have changed.

    Raises:
        ScenarioError: a path names nothing, or the schema refuses a value; located in
            a source called `<values>` by dotted path.

    """
    from marketsim.scenario.validate import validate

    data = scenario.model_dump(mode="json")
    doc = Document("<values>", data, {}, {})
    problems = []
    for path, value in values.items():
        parts = path.split(".")
        try:
            where = locate(data, parts)
        except PathError as e:
            problems.append(doc.problem(tuple(parts[: e.part + 1]), str(e)))
            continue
        where.container[where.key] = value
    if problems:
        raise ScenarioError(problems)
    return validate(doc)


def _key(node: Any, part: str) -> str | int | None:
    """The key or index `part` names in `node`; a mapping's key may be new."""
    if not part:
        return None
    if isinstance(node, dict):
        return part
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict) and item.get("id") == part:
                return i
        if part.isdigit() and int(part) < len(node):  # ids start with a letter
            return int(part)
    return None


def _why_not(node: Any, part: str) -> str:
    if not part:
        return "expected a key or id between the dots, found nothing"
    if not isinstance(node, list):
        return f"expected a mapping or list to look up {show(part)} in, found {show(node)}"
    ids = [item["id"] for item in node if isinstance(item, dict) and "id" in item]
    if not ids:
        return f"expected an index below {len(node)}, found {show(part)}"
    index = f", or an index below {len(node)}" if part.isdigit() else ""
    return f"expected the id of an item, one of {quoted(ids)}{index}, found {show(part)}" + (
        did_you_mean(part, ids)
    )
