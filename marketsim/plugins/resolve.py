"""Resolve a scenario's `behaviours`: find each plugin, validate its parameters.

Each item is `{plugin: NAME, ...parameters}`. The parameters are validated against the
plugin's `Params` model and reported like core keys: `FILE:LINE:COL: dotted.path:
what was expected, what was found`, with `did you mean` for misspelt plugin or
parameter names. Plugins are loaded (imported) only when a scenario names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from marketsim.core.errors import Problem, did_you_mean, quoted, show
from marketsim.core.hooks import KERNEL_SLOTS
from marketsim.plugins.errors import PluginError
from marketsim.plugins.loader import registry
from marketsim.scenario.source import Path
from marketsim.scenario.validate import Locate, model_problems

if TYPE_CHECKING:
    from marketsim.plugins.base import Plugin
    from marketsim.scenario.schema import Scenario

Resolved = list[tuple[type["Plugin"], BaseModel]]
"""Each behaviour's plugin class and validated parameters, in the scenario's order."""


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
        params, found = _validate_params(cls, item, here, locate)
        problems += found
        if params is None:
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
        resolved.append((cls, params))
    return resolved, problems


def _validate_params(
    cls: type[Plugin], item: dict[Any, Any], here: Path, locate: Locate
) -> tuple[BaseModel | None, list[Problem]]:
    model = cls.Params
    accepted = {(info.alias or field): field for field, info in model.model_fields.items()}
    given = {k: v for k, v in item.items() if k != "plugin"}
    problems = []
    for key in given:
        if key not in accepted:
            hint = did_you_mean(key, accepted) or (
                f", expected one of {quoted(accepted)}" if accepted else ", it takes none"
            )
            message = f"unknown parameter {show(key)} of plugin {cls.name!r}{hint}"
            problems.append(locate((*here, key), message, key=True))
    try:
        params = model.model_validate({k: v for k, v in given.items() if k in accepted})
    except ValidationError as e:
        return None, problems + model_problems(model, e, locate, here)
    return (None if problems else params), problems


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
