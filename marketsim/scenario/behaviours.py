"""Check a scenario's `behaviours`: plugin names, and each plugin's parameters.

Each item is `{plugin: NAME, ...parameters}`. The parameters are validated against the
plugin's `Params` model and reported like core keys: `FILE:LINE:COL: dotted.path:
what was expected, what was found`, with `did you mean` for misspelt plugin or
parameter names. Plugins are loaded (imported) only when a scenario names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from marketsim.core.errors import Problem, did_you_mean, quoted, show
from marketsim.scenario.source import Path

if TYPE_CHECKING:
    from marketsim.plugins.base import Plugin
    from marketsim.scenario.schema import Scenario

Locate = Callable[..., Problem]
"""Makes a problem at a data path (`key=True`: at the key), located where it was written."""

Resolved = list[tuple[type["Plugin"], BaseModel]]


def check_behaviours(scenario: Scenario, locate: Locate) -> list[Problem]:
    """Every problem in the scenario's `behaviours` (none without behaviours)."""
    if not getattr(scenario, "behaviours", None):
        return []
    return resolve_behaviours(scenario, locate)[1]


def resolve_behaviours(scenario: Scenario, locate: Locate) -> tuple[Resolved, list[Problem]]:
    """(plugin class, validated params) of each behaviour, and every problem found."""
    from marketsim.plugins.errors import PluginError
    from marketsim.plugins.loader import registry

    available = registry()
    resolved: Resolved = []
    problems: list[Problem] = []
    kernel_owner: dict[str, tuple[int, str]] = {}
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
        for hook in cls.kernels:
            if hook in kernel_owner:
                first, other = kernel_owner[hook]
                message = (
                    f"plugin {name!r} provides a kernel for the {hook!r} hook, and so does "
                    f"{other!r} (behaviours.{first}); at most one plugin may per hook point"
                )
                problems.append(locate((*here, "plugin"), message))
            else:
                kernel_owner[hook] = (i, name)
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
            problems.append(_at_key(locate, (*here, key), message))
    try:
        params = model.model_validate({k: v for k, v in given.items() if k in accepted})
    except ValidationError as e:
        problems += [_problem(model, err, here, locate) for err in e.errors(include_url=False)]
        return None, problems
    return (None if problems else params), problems


def _at_key(locate: Locate, path: Path, message: str) -> Problem:
    try:
        return locate(path, message, key=True)
    except TypeError:  # a locator that only knows values
        return locate(path, message)


def _problem(model: type[BaseModel], err: Any, here: Path, locate: Locate) -> Problem:
    """A pydantic error in a plugin's params, in the words of core scenario errors."""
    from marketsim.scenario.validate import _expected

    path, options = _walk(model, err["loc"])
    kind, found = err["type"], err.get("input")
    where = (*here, *path)
    expected = _expected(options) or err["msg"].removeprefix("Input should be ")
    if kind == "missing":
        return locate(where, f"missing required key '{path[-1]}', expected {expected}")
    if kind == "extra_forbidden":
        fields = [f for tp, _ in _walk(model, err["loc"][:-1])[1] for f in _fields(tp)]
        hint = did_you_mean(path[-1], fields) or f", expected one of {quoted(fields)}"
        return _at_key(locate, where, f"unknown key {show(path[-1])}{hint}")
    if kind == "value_error":
        return locate(where, err["msg"].removeprefix("Value error, "))
    hint = did_you_mean(found, get_args(options[0][0])) if kind == "literal_error" else ""
    return locate(where, f"expected {expected}, found {show(found)}{hint}")


def _fields(tp: Any) -> Iterable[str]:
    return tp.model_fields if isinstance(tp, type) and issubclass(tp, BaseModel) else ()


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[Path, list[Any]]:
    """The data path of a pydantic location in `model`, and the schema's options there.

    Parts that name no key in the data (pydantic's union member tags) only narrow the
    options.
    """
    from marketsim.scenario.validate import _options

    path: list[str | int] = []
    options: list[Any] = [(model, ())]
    for part in loc:
        following: list[Any] = []
        for tp, _ in options:
            origin = get_origin(tp)
            if origin in (list, tuple) and isinstance(part, int):
                following += _options(get_args(tp)[0])
            elif origin is dict:
                following += _options(get_args(tp)[1])
            elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
                field = tp.model_fields[part]
                following += _options(field.annotation, (field, *field.metadata))
        if following or isinstance(part, int) or not options:
            path.append(part)
            options = following
    return tuple(path), options


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
