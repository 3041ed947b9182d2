"""Checks of a scenario's `calibrate:` section that need the rest of the scenario.

The schema checks each parameter's range on its own; whether `segments.urban.attention`
names a number of this scenario, and whether the scenario accepts the ends of its range
(an attention of -1 would not validate), is only known once the whole scenario is read;
so is whether a matched `SERIES.SEGMENT` names one of its segments, of a kind that has
that series.
"""

from __future__ import annotations

from typing import Any

from marketsim.core.errors import Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.scenario.calibration import series_problem
from marketsim.scenario.paths import PathError, locate
from marketsim.scenario.schema import Scenario
from marketsim.scenario.validate import Locate

NOT_CALIBRATED = ("name", "description", "horizon", "step", "seed", "optimize", "calibrate")
"""Top-level keys that are not part of the market: no history can fit them."""


def check_calibrate(scenario: Scenario, where: Locate) -> list[Problem]:
    """Every problem of `scenario.calibrate` found against the scenario (none without one)."""
    spec = scenario.calibrate
    if spec is None:
        return []
    problems: list[Problem] = []
    data = scenario.model_dump(mode="json")
    seen: dict[str, int] = {}
    for i, parameter in enumerate(spec.parameters):
        here = ("calibrate", "parameters", i)
        if parameter.path in seen:
            message = f"expected each path once, found {show(parameter.path)} again"
            problems.append(
                where((*here, "path"), message + f" (parameter {seen[parameter.path]})")
            )
            continue
        seen[parameter.path] = i
        why, current = number_at(data, parameter.path)
        if why:
            problems.append(where((*here, "path"), why))
            continue
        low, high = parameter.bounds
        keys = ("prior", "prior") if parameter.prior is not None else ("low", "high")
        for key, bound in zip(keys, (low, high), strict=True):
            if isinstance(current, int) and not float(bound).is_integer():
                message = (
                    f"{parameter.path} is a whole number, so its range must be; found {bound:g}"
                )
                problems.append(where((*here, key), message))
                break
            refused = refusal(
                scenario, parameter.path, int(bound) if isinstance(current, int) else bound
            )
            if refused:
                message = f"the scenario refuses {parameter.path}={bound:g}: {refused}"
                problems.append(where((*here, key), message))
                break
    kinds = segment_kinds(scenario)
    for name in spec.match or {}:
        why = series_problem(name, kinds)
        if why:
            problems.append(where(("calibrate", "match", name), why, key=True))
    return problems


def segment_kinds(scenario: Scenario) -> dict[str, str]:
    """Each segment id's kind (b2c or b2b), in scenario order."""
    return {s.id: s.kind for s in scenario.segments}


def refusal(scenario: Scenario, path: str, value: float) -> str:
    """Why the schema refuses `value` at `path` (empty if it accepts it)."""
    from marketsim.scenario.paths import with_values

    try:
        with_values(scenario, {path: value})
    except ScenarioError as e:
        return e.problems[0].message
    return ""


def number_at(data: Any, path: str) -> tuple[str, Any]:
    """(why `path` names no number of `data`, or "", and the value found)."""
    parts = path.split(".")
    if parts[0] in NOT_CALIBRATED:
        return f"expected a path to a parameter of the market, found {show(parts[0])}", None
    try:
        found = locate(data, parts)
    except PathError as e:
        return f"{'.'.join(parts[: e.part + 1])}: {e}", None
    container, key = found.container, found.key
    if found.created or (isinstance(container, dict) and key not in container):
        keys = list(container) if isinstance(container, dict) and not found.created else []
        hint = did_you_mean(key, keys) if keys else ""
        known = f", expected one of {quoted(keys)}" if keys and not hint else ""
        return f"{path} names nothing in this scenario{hint or known}", None
    value = container[key]
    if value is None:
        return (
            f"expected a path to a number, found null at {path} (a default applies): write "
            "a value into the scenario to calibrate it",
            None,
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a path to a number, found {show(value)} at {path}", None
    return "", value
