"""Changes to a scenario's plain data, each remembering where it was written.

A benchmark suite describes markets and strategies as changes to a scenario: `set` a
value (`channels.tv.budget=50000`), `scale` one (`channels.tv.budget: 0.7`), `shift` a
share of one onto another (30% of TV's budget to search), or overlay a partial scenario
merged by id. They apply to the data of a validated scenario (`model_dump`), where every
default is filled in, so `scale` always finds the value it multiplies; the schema then
judges the result. A `*` in a path stands for every item of a list or key of a mapping
(`segments.*.word_of_mouth`), among those that have the key (`channels.*.cost_per_contact`
changes the channels that have a cost per contact).

A path that names nothing is reported where the change was written, at the part at
fault, with what was expected and did-you-mean, and with the market or strategy it was
applied for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from marketsim.core.errors import Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.scenario.paths import Located, PathError, locate
from marketsim.scenario.source import Location, parse_yaml

WILDCARD = "*"
"""A path part standing for every item of a list (or key of a mapping)."""

Kind = Literal["set", "scale", "shift"]


@dataclass(frozen=True)
class Change:
    """One change: set `path` to `value`, scale it by `value`, or shift a `value` share to `to`.

    `where` is the position of the path's first character as written (`to_where` that of
    a shift's destination), so a part at fault is pointed at; for a value written in an
    overlay (`dotted` false) it is the value's position, and problems are located there.
    """

    kind: Kind
    path: str
    value: Any
    where: Location
    to: str = ""
    to_where: Location | None = None
    dotted: bool = True


def parse_set(text: str, where: Location) -> Change:
    """A `set` change from `dotted.path=VALUE` written at `where` (VALUE is YAML).

    Raises:
        ScenarioError: the text is not `path=VALUE`, or VALUE is not valid YAML.

    """
    target, equals, value = text.partition("=")
    if not equals or not target:
        message = f"expected dotted.path=VALUE, found {show(text)}"
        raise ScenarioError([Problem(*where, "", message)])
    fragment = parse_yaml(value, where.file, where.line, where.col + len(target) + 1)
    return Change("set", target, fragment.data, where)


# --------------------------------------------------------------------------- applying


def apply_changes(
    data: Any, changes: Iterable[Change], written: dict[tuple[str | int, ...], Location]
) -> list[Problem]:
    """Apply `changes` to `data` in order, in place; the problems of those that cannot apply.

    `written` gains, for every data path changed, where the change was written, so the
    schema's verdict on the result can be located there too.
    """
    problems: list[Problem] = []
    for change in changes:
        try:
            _apply(data, change, written)
        except _Refused as e:
            where = e.where if change.dotted else change.where
            problems.append(Problem(*where, e.path, e.message))
    return problems


class _Refused(Exception):
    def __init__(self, where: Location, path: str, message: str) -> None:
        self.where, self.path, self.message = where, path, message


def _apply(data: Any, change: Change, written: dict[tuple[str | int, ...], Location]) -> None:
    if change.kind == "set":
        for parts in _having(data, expand(data, change.path, change.where), change.path):
            spot = _locate(data, parts, change.path, change.where)
            spot.container[spot.key] = change.value
            written[spot.path] = _value_at(change)
    elif change.kind == "scale":
        for parts in _having(data, expand(data, change.path, change.where), change.path):
            spot = _locate(data, parts, change.path, change.where)
            old = _number_at(spot, parts, change.path, change.where, "scale")
            spot.container[spot.key] = _same_kind(old, old * change.value)
            written[spot.path] = change.where
    else:
        to_where = change.to_where or change.where
        sources = expand(data, change.path, change.where)
        targets = expand(data, change.to, to_where)
        for paths, path, where in (
            (sources, change.path, change.where),
            (targets, change.to, to_where),
        ):
            if len(paths) != 1:
                raise _Refused(where, path, "expected the path of one value to shift, found a '*'")
        src = _locate(data, sources[0], change.path, change.where)
        dst = _locate(data, targets[0], change.to, to_where)
        old = _number_at(src, sources[0], change.path, change.where, "shift")
        gain = _number_at(dst, targets[0], change.to, to_where, "shift")
        moved = _same_kind(old, old * change.value)
        src.container[src.key] = old - moved
        dst.container[dst.key] = gain + moved
        written[src.path], written[dst.path] = change.where, to_where


def expand(data: Any, path: str, where: Location) -> list[list[str]]:
    """The concrete paths `path` names in `data`: each `*` replaced by every item's name."""
    parts = path.split(".")
    paths: list[list[str]] = [[]]
    for i, part in enumerate(parts):
        if part != WILDCARD:
            paths = [[*p, part] for p in paths]
            continue
        grown = []
        for p in paths:
            node = node_at(data, p)
            names = _names(node)
            if not names:
                raise _Refused(
                    _column(where, parts, i),
                    ".".join([*p, part]),
                    f"expected a list or mapping for '*' to stand for, found {show(node)}",
                )
            grown += [[*p, name] for name in names]
        paths = grown
    return paths


def values_at(data: Any, path: str) -> list[Any]:
    """What `path` names in `data`, every match of a `*`; empty where it names nothing."""
    try:
        return [node_at(data, parts) for parts in expand(data, path, Location("", 1, 1))]
    except _Refused:
        return []


def _having(data: Any, paths: list[list[str]], written: str) -> list[list[str]]:
    """With a `*`, only the paths whose item has the key (all if none has: reported).

    `channels.*.cost_per_contact` changes the channels that have a cost per contact.
    """
    if WILDCARD not in written.split("."):
        return paths
    having = [p for p in paths if _has(node_at(data, p[:-1]), p[-1])]
    return having or paths


def _has(node: Any, key: str) -> bool:
    return isinstance(node, dict) and key in node


def node_at(data: Any, parts: Sequence[str]) -> Any:
    """What a concrete path names in `data` (list items by id or index), None if nothing."""
    node = data
    for part in parts:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list):
            named = [i for i in node if isinstance(i, dict) and i.get("id") == part]
            if named:
                node = named[0]
            elif part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        else:
            return None
    return node


def _names(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [str(k) for k in node]
    if isinstance(node, list):
        return [
            str(item["id"]) if isinstance(item, dict) and "id" in item else str(i)
            for i, item in enumerate(node)
        ]
    return []


def _value_at(change: Change) -> Location:
    """Where a `set` change's value was written: after `path=` (or in an overlay)."""
    where = change.where
    if not change.dotted:
        return where
    return Location(where.file, where.line, where.col + len(change.path) + 1)


def _column(where: Location, parts: Sequence[str], index: int) -> Location:
    """The position of part `index` of a dotted path written at `where`."""
    return Location(where.file, where.line, where.col + sum(len(p) + 1 for p in parts[:index]))


def _locate(data: Any, parts: list[str], written: str, where: Location) -> Located:
    """Where `parts` points in `data` (sections created), or a refusal at the part at fault."""
    try:
        return locate(data, parts)
    except PathError as e:
        at = _column(where, written.split("."), e.part)
        raise _Refused(at, ".".join(parts[: e.part + 1]), str(e)) from None


def _number_at(spot: Located, parts: list[str], written: str, where: Location, verb: str) -> float:
    """The number at `spot`, which must be there already (a default at least)."""
    container, key = spot.container, spot.key
    dotted = ".".join(parts)
    if isinstance(container, dict) and key not in container:
        keys = [str(k) for k in container]
        hint = did_you_mean(key, keys) or (f", expected one of {quoted(keys)}" if keys else "")
        at = _column(where, written.split("."), len(parts) - 1)
        raise _Refused(at, dotted, f"unknown key {show(key)}{hint}")
    value = container[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused(where, dotted, f"expected a number to {verb}, found {show(value)}")
    return value


def _same_kind(old: float, new: float) -> float:
    """`new` as a whole number when `old` is one (a headcount stays a count)."""
    return round(new) if isinstance(old, int) and math.isfinite(new) else new


# --------------------------------------------------------------------------- overlays


def flatten(
    overlay: Any, written: dict[tuple[str | int, ...], Location], here: tuple
) -> list[Change]:
    """`set` changes for every value of a partial scenario, list items merged by id.

    A list whose items name an `id` changes those items; any other list is one value.

    `written` maps data paths of the suite to where they were written; `here` is the
    overlay's own path there.

    Raises:
        ScenarioError: a list of mappings whose items do not all name their `id`.

    """
    changes: list[Change] = []
    problems: list[Problem] = []

    def walk(node: Any, path: list[str], at: tuple) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, [*path, str(key)], (*at, key))
            return
        items = node if isinstance(node, list) else []
        named = [isinstance(i, dict) and isinstance(i.get("id"), str) for i in items]
        if any(named):
            for i, item in enumerate(node):
                if not named[i]:
                    message = "expected each item to name its 'id' (overlays change items by id)"
                    problems.append(Problem(*_at(written, (*at, i)), ".".join(path), message))
                    continue
                rest = {k: v for k, v in item.items() if k != "id"}
                if rest:
                    walk(rest, [*path, item["id"]], (*at, i))
            return
        changes.append(Change("set", ".".join(path), node, _at(written, at), dotted=False))

    walk(overlay, [], here)
    if problems:
        raise ScenarioError(problems)
    return changes


def _at(written: dict[tuple[str | int, ...], Location], path: tuple) -> Location:
    while path not in written and path:
        path = path[:-1]
    return written[path]


def differences(base: Any, other: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths (list items by id) where `other` differs from `base`, leaves first found.

    Lists of items with ids are matched by id; any other list is one value. A path whose
    last part is an id present in only one of the two says an item was added or left out.
    """
    if isinstance(base, dict) and isinstance(other, dict):
        found = []
        for key in dict.fromkeys([*base, *other]):
            if key not in base or key not in other:
                found.append((*path, str(key)))
            else:
                found += differences(base[key], other[key], (*path, str(key)))
        return found
    if _by_id(base) and _by_id(other):
        ours = {item["id"]: item for item in base}
        theirs = {item["id"]: item for item in other}
        return differences(ours, theirs, path)
    return [] if base == other else [path]


def _by_id(node: Any) -> bool:
    return (
        isinstance(node, list)
        and bool(node)
        and all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in node)
    )
