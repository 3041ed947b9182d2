"""Turn plain data into a `Scenario`, translating pydantic's errors into located problems.

pydantic knows what went wrong but speaks Python (`Input should be greater than or equal
to 0`) and locates errors by its own path (with union tags in it). Strategists need the
file position, the dotted path and what was expected, so each error is rewritten from
the schema annotation at its location.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from marketsim.core.errors import Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.scenario.schema import Scenario
from marketsim.scenario.source import Document, Path

Option = tuple[Any, tuple[Any, ...]]
"""One type a value may have, with the constraints and field infos annotating it."""

_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
_LENGTHS = (("min_length", "at least"), ("max_length", "at most"))
_NOUNS = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    dt.date: "a date as YYYY-MM-DD",
}


Locate = Callable[..., Problem]
"""Makes a problem at a data path (`key=True`: at the key), located where it was written."""


def validate(doc: Document) -> Scenario:
    """The scenario in `doc`, or a `ScenarioError` with every schema problem.

    References between sections and behaviours are checked when the scenario is
    prepared to run (`marketsim.plugins.prepare`).
    """
    try:
        return Scenario.model_validate(doc.data)
    except ValidationError as e:
        raise ScenarioError(model_problems(Scenario, e, doc.problem)) from None


def model_problems(
    model: type[BaseModel], error: ValidationError, locate: Locate, here: Path = ()
) -> list[Problem]:
    """Pydantic's errors validating `model` at data path `here`, as located problems.

    pydantic knows what went wrong but speaks Python; each error is rewritten from the
    schema annotation at its location: what was expected and what was found.
    """
    errors = error.errors(include_url=False)
    paths = [_walk(model, err["loc"])[0] for err in errors]
    kept = [
        err
        for err, path in zip(errors, paths, strict=True)
        if not _other_member(err, path, errors, paths)
    ]
    return [_problem(model, err, locate, here) for err in kept]


def _other_member(
    err: ErrorDetails, path: Path, errors: list[ErrorDetails], paths: list[Path]
) -> bool:
    """Whether `err` only says the value is not of another member of a union.

    A trait is a number or a distribution; for a mapping written there pydantic also
    reports that it is not a number (and for a bad number, that it is not a mapping).
    The problem the user must fix is the other one.
    """
    if not err["type"].endswith("_type"):
        return False
    return any(
        other is not err and not other["type"].endswith("_type") and where[: len(path)] == path
        for other, where in zip(errors, paths, strict=True)
    )


def _problem(model: type[BaseModel], err: ErrorDetails, locate: Locate, here: Path) -> Problem:
    kind, found = err["type"], err.get("input")
    if err["loc"][-1:] == ("[key]",):  # a mapping's key outside its allowed values
        path, _ = _walk(model, err["loc"][:-1], keep_last=True)
        if kind == "value_error":  # the key type's own message, already explicit
            return locate((*here, *path), err["msg"].removeprefix("Value error, "), key=True)
        allowed = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        hint = did_you_mean(found, allowed) or f", expected one of {quoted(allowed)}"
        return locate((*here, *path), f"unknown key {show(found)}{hint}", key=True)
    path, options = _walk(model, err["loc"], keep_last=kind == "extra_forbidden")
    where = (*here, *path)
    expected = expected_text(options) or err["msg"].removeprefix("Input should be ")
    if kind == "missing":
        return locate(where, f"missing required key '{path[-1]}', expected {expected}")
    if kind == "extra_forbidden":
        fields = [name for tp, _ in _walk(model, err["loc"][:-1])[1] for name in _fields(tp)]
        hint = did_you_mean(path[-1], fields) or f", expected one of {quoted(fields)}"
        return locate(where, f"unknown key {show(path[-1])}{hint}", key=True)
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        tags = [tag for tp, _ in options for tag in _tags(tp)]
        key = err.get("ctx", {}).get("discriminator", "'type'").strip("'")
        if kind == "union_tag_not_found":
            message = f"missing required key '{key}', expected one of {quoted(tags)}"
        else:
            found = found[key]
            message = f"expected one of {quoted(tags)}, found {show(found)}"
            message += did_you_mean(found, tags)
        return locate((*where, key), message)
    if kind == "value_error":  # a model validator's own message, already explicit
        return locate(where, err["msg"].removeprefix("Value error, "))
    hint = did_you_mean(found, get_args(options[0][0])) if kind == "literal_error" else ""
    return locate(where, f"expected {expected}, found {show(found)}{hint}")


def _walk(
    model: type[BaseModel], loc: tuple[str | int, ...], *, keep_last: bool = False
) -> tuple[Path, list[Option]]:
    """The data path of a pydantic location in `model`, and the schema's options there.

    pydantic puts the tag of a discriminated union (`advertising`) and the members of
    other unions (`float`) in the location; they name no key in the data, so they only
    narrow the options. `keep_last` keeps the last part whatever it is (an unknown key).
    """
    path: list[str | int] = []
    options: list[Option] = [(model, ())]
    for index, part in enumerate(loc):
        models = [tp for tp, _ in options if _is_model(tp)]
        tagged = [m for m in models if part in _tags(m)]
        if len(options) > 1 and tagged:
            options = [(m, ()) for m in tagged]
            continue
        following: list[Option] = []
        for tp, _ in options:
            origin = get_origin(tp)
            if origin in (list, tuple) and isinstance(part, int):
                following += options_of(get_args(tp)[0])
            elif origin is dict:
                following += options_of(get_args(tp)[1])
            elif tp in models and part in _fields(tp):
                field = _fields(tp)[part]
                following += options_of(field.annotation, (field, *field.metadata))
        last = keep_last and index == len(loc) - 1
        if following or isinstance(part, int) or not options or last:
            path.append(part)
            options = following
    return tuple(path), options


def _fields(tp: Any) -> dict[str, FieldInfo]:
    """A model's fields by the key written in the data: the alias where there is one."""
    if not _is_model(tp):
        return {}
    return {field.alias or name: field for name, field in tp.model_fields.items()}


def options_of(tp: Any, meta: tuple[Any, ...] = ()) -> Iterator[Option]:
    """The types an annotation allows, `Annotated` and unions unwrapped, null left out."""
    if get_origin(tp) is Annotated:
        base, *extra = get_args(tp)
        for m in extra:
            meta += (m, *getattr(m, "metadata", ()))
        yield from options_of(base, meta)
    elif get_origin(tp) in (Union, UnionType):
        for arg in get_args(tp):
            yield from options_of(arg, meta)
    elif tp is not NoneType:
        yield tp, meta


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


_TAG_KEYS = ("type", "dist")
"""The keys whose value selects a model in the schema's discriminated unions."""


def _tags(tp: Any) -> tuple[Any, ...]:
    """Values of a model's tag literal (`type`, `dist`): the tags that select it in a union."""
    fields = tp.model_fields if _is_model(tp) else {}
    for key in _TAG_KEYS:
        field = fields.get(key)
        if field and get_origin(field.annotation) is Literal:
            return get_args(field.annotation)
    return ()


def expected_text(options: list[Option]) -> str | None:
    """What the schema wants here, in words (`a number >= 0`), if it can be said simply."""
    if not options:
        return None
    tp, meta = options[0]
    constraints = [m for m in meta if not isinstance(m, FieldInfo)]
    described = [m.description for m in meta if isinstance(m, FieldInfo) and m.description]
    if get_origin(tp) is Literal:
        return f"one of {quoted(get_args(tp))}"
    if get_origin(tp) is list:
        least = [m.min_length for m in constraints if hasattr(m, "min_length")]
        return f"a list of at least {least[0]} item" + "s" * (least[0] != 1) if least else "a list"
    if _is_model(tp):
        return "a mapping"
    if tp is str and described and any(hasattr(m, "pattern") for m in constraints):
        return described[-1]  # the pattern's meaning in words, e.g. what an id looks like
    if tp is str:
        lengths = [f"{word} {value}" for word, value in _constraints(constraints, _LENGTHS)]
        return f"a string of {' and '.join(lengths)} characters" if lengths else "a string"
    if tp not in _NOUNS:
        return None
    bounds = [f"{symbol} {_number(value)}" for symbol, value in _constraints(constraints, _BOUNDS)]
    return " ".join([_NOUNS[tp], " and ".join(bounds)]).strip()


def _constraints(
    constraints: list[Any], names: tuple[tuple[str, str], ...]
) -> Iterator[tuple[str, Any]]:
    """(word, limit) of each named constraint present, e.g. `(">=", 0)` for `Ge(ge=0)`."""
    for m in constraints:
        for attr, word in names:
            if getattr(m, attr, None) is not None:
                yield word, getattr(m, attr)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
