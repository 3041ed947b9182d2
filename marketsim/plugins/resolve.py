"""Resolve a scenario's `behaviours`: find each plugin, validate its parameters.

Each item is `{plugin: NAME, ...parameters, per_segment: {SEGMENT: {...values}}}`. The
parameters are validated against the plugin's `Params` model, each segment's values
against its `SegmentParams`, and reported like core keys: `FILE:LINE:COL: dotted.path:
what was expected, what was found`, with `did you mean` for misspelt plugin, parameter,
segment or value names. Plugins are loaded (imported) only when a scenario names them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from marketsim.core.errors import Problem, did_you_mean, quoted, show
from marketsim.core.hooks import KERNEL_SLOTS
from marketsim.plugins.base import PER_SEGMENT
from marketsim.plugins.errors import PluginError
from marketsim.plugins.loader import registry
from marketsim.scenario.source import Path
from marketsim.scenario.validate import Locate, model_problems

if TYPE_CHECKING:
    from marketsim.plugins.base import Plugin
    from marketsim.scenario.schema import Scenario

SegmentValues = dict[str, BaseModel]
"""A plugin's `SegmentParams` of every segment, by id in scenario order."""

Resolved = list[tuple[type["Plugin"], BaseModel, SegmentValues]]
"""Each behaviour's plugin class, validated parameters and per-segment values, in order."""


def resolve_behaviours(scenario: Scenario, locate: Locate) -> tuple[Resolved, list[Problem]]:
    """(plugin class, validated params) of each behaviour, and every problem found."""
    if not scenario.behaviours:
        return [], []
    available = registry()
    resolved: Resolved = []
    problems: list[Problem] = []
    kernels = 0
    column_owner: dict[str, tuple[int, str]] = {}
    for i, item in enumerate(scenario.behaviours):
        here: Path = ("behaviours", i)
        name = item.get("plugin")
        names = available.names()
        if "plugin" not in item:
            message = (
                f"missing required key 'plugin', expected a plugin name, one of {quoted(names)}"
            )
            problems.append(locate(here, message))
            continue
        if not isinstance(name, str):
            message = f"expected a plugin name, one of {quoted(names)}, found {show(name)}"
            problems.append(locate((*here, "plugin"), message))
            continue
        try:
            cls = available.load(name)
        except PluginError as e:
            problems.append(locate((*here, "plugin"), str(e)))
            continue
        given = {k: v for k, v in item.items() if k not in ("plugin", PER_SEGMENT)}
        params, found = _validate(cls.Params, given, here, locate, "parameter", cls.name)
        by_segment, per_segment = _per_segment(cls, item, scenario, here, locate)
        problems += found + per_segment
        if params is None or by_segment is None:
            continue
        problems += _cross_check(cls, params, scenario, here, locate)
        clashes = [c.name for c in cls.state if c.name in column_owner]
        if clashes:
            first, other = column_owner[clashes[0]]
            message = (
                f"plugin {name!r} keeps per-person columns {quoted(clashes)}, and so does "
                f"{other!r} (behaviours.{first}); state column names must be unique"
            )
            problems.append(locate((*here, "plugin"), message))
        column_owner.update({c.name: (i, name) for c in cls.state if c.name not in column_owner})
        kernels += len(cls.kernels)
        if kernels > KERNEL_SLOTS:
            message = (
                f"plugin {name!r} brings the scenario's kernel hooks to {kernels}; at most "
                f"{KERNEL_SLOTS} may be active together"
            )
            problems.append(locate((*here, "plugin"), message))
        resolved.append((cls, params, by_segment))
    return resolved, problems


def _validate(
    model: type[BaseModel],
    given: dict[Any, Any],
    here: Path,
    locate: Locate,
    noun: str,
    plugin: str,
) -> tuple[BaseModel | None, list[Problem]]:
    """`given` validated against `model` at `here`: an unknown key is an "unknown `noun`"."""
    accepted = {(info.alias or field): field for field, info in model.model_fields.items()}
    problems = []
    for key in given:
        if key not in accepted:
            hint = did_you_mean(key, accepted) or (
                f", expected one of {quoted(accepted)}" if accepted else ", it takes none"
            )
            message = f"unknown {noun} {show(key)} of plugin {plugin!r}{hint}"
            problems.append(locate((*here, key), message, key=True))
    try:
        params = model.model_validate({k: v for k, v in given.items() if k in accepted})
    except ValidationError as e:
        return None, problems + model_problems(model, e, locate, here)
    return (None if problems else params), problems


def _per_segment(
    cls: type[Plugin], item: dict[Any, Any], scenario: Scenario, here: Path, locate: Locate
) -> tuple[SegmentValues | None, list[Problem]]:
    """Every segment's values of the plugin's `SegmentParams`, and what is wrong with them.

    A segment the behaviour leaves out takes the defaults. Problems name the plugin.
    """
    given = item.get(PER_SEGMENT, {})
    where = (*here, PER_SEGMENT)
    declared = list(cls.SegmentParams.model_fields)
    if PER_SEGMENT in item and not declared:
        message = f"plugin {cls.name!r} declares no per-segment values (SegmentParams)"
        return None, [locate(where, message, key=True)]
    if not isinstance(given, dict):
        message = (
            f"plugin {cls.name!r}: expected a mapping of segment id to per-segment values "
            f"({quoted(declared)}), found {show(given)}"
        )
        return None, [locate(where, message)]
    ids = [s.id for s in scenario.segments]
    problems = []
    for key in given:
        if key not in ids:
            hint = did_you_mean(key, ids) or f", expected one of {quoted(ids)}"
            message = f"plugin {cls.name!r}: unknown segment {show(key)}{hint}"
            problems.append(locate((*where, key), message, key=True))
    values: SegmentValues = {}
    for sid in ids:
        own = given.get(sid, {})
        at = (*where, sid)
        if not isinstance(own, dict):
            message = (
                f"plugin {cls.name!r}: expected a mapping of per-segment values "
                f"({quoted(declared)}), found {show(own)}"
            )
            problems.append(locate(at, message))
            continue
        found, wrong = _validate(cls.SegmentParams, own, at, locate, "per-segment value", cls.name)
        named = f"plugin {cls.name!r}"
        problems += [p if named in p.message else _naming(p, named) for p in wrong]
        if found is not None:
            values[sid] = found
    return (None if problems else values), problems


def _naming(problem: Problem, plugin: str) -> Problem:
    return replace(problem, message=f"{plugin}: {problem.message}")


def _cross_check(
    cls: type[Plugin], params: BaseModel, scenario: Scenario, here: Path, locate: Locate
) -> list[Problem]:
    try:
        found = list(cls.check(params, scenario))
    except Exception as e:
        message = f"plugin {cls.name!r} failed checking its parameters: {type(e).__name__}: {e}"
        return [locate((*here, "plugin"), message)]
    problems = []
    for path, message in found:
        parts = (path,) if isinstance(path, str | int) else tuple(path)
        problems.append(locate((*here, *parts), message))
    return problems
