"""Checks of a scenario's `optimize:` section that need the rest of the scenario.

The schema checks each setting on its own; whether `bounds: {tvv: ...}` names a channel,
a promotion choice names a promotion, or a headcount has a sales team to count is only
known once the whole scenario is read. Whether the bounds leave any feasible split of
the total budget depends on the command line too, so `marketsim.drivers.optimize` checks that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from marketsim.core.errors import Problem, did_you_mean, quoted, show
from marketsim.scenario.schema import Promotion, Scenario
from marketsim.scenario.source import Path

Locate = Callable[[Path, str], Problem]


def check_optimize(scenario: Scenario, locate: Locate) -> list[Problem]:
    """Every cross-reference problem of `scenario.optimize` (none without that section)."""
    spec = scenario.optimize
    if spec is None:
        return []
    problems: list[Problem] = []
    ids = [c.id for c in scenario.channels]
    by_id = {c.id: c for c in scenario.channels}

    def channel(path: Path, found: str, kinds: Sequence[str] = ()) -> bool:
        if found not in by_id:
            message = f"expected a channel id, one of {quoted(ids)}, found {show(found)}"
            problems.append(locate(path, message + did_you_mean(found, ids)))
            return False
        if kinds and by_id[found].type not in kinds:
            names = " or ".join(kinds)
            message = f"expected a {names} channel, found {show(found)} of type {by_id[found].type}"
            problems.append(locate(path, message))
            return False
        return True

    for i, cid in enumerate(spec.channels or ()):
        channel(("optimize", "channels", i), cid)
    for cid in spec.bounds:
        channel(("optimize", "bounds", cid), cid)
    seen: set[str] = set()
    for i, flight in enumerate(spec.flighting):
        path = ("optimize", "flighting", i, "channel")
        if channel(path, flight.channel) and flight.channel in seen:
            problems.append(
                locate(path, f"expected each channel once, found {show(flight.channel)} again")
            )
        seen.add(flight.channel)
    seen = set()
    for i, choice in enumerate(spec.promotions):
        path = ("optimize", "promotions", i)
        if not channel((*path, "channel"), choice.channel, ("promotion",)):
            continue
        if choice.channel in seen:
            message = f"expected each channel once, found {show(choice.channel)} again"
            problems.append(locate((*path, "channel"), message))
        seen.add(choice.channel)
        promo = by_id[choice.channel]
        assert isinstance(promo, Promotion)
        length = (promo.end or scenario.horizon) - promo.start
        if choice.start is not None and choice.start.max + length > scenario.horizon:
            latest = scenario.horizon - length
            message = (
                f"expected a start <= {latest} (the {length}-step offer must end by the horizon, "
                f"{scenario.horizon}), found {choice.start.max}"
            )
            problems.append(locate((*path, "start", "max"), message))
        if choice.discount is None and choice.start is None:
            message = "expected a discount or start range to choose, found neither"
            problems.append(locate(path, message))
    problems += _check_constraints(scenario, locate, channel)
    if spec.headcount is not None:
        teams = [t for t in ("inside", "outside") if getattr(spec.headcount, t) is not None]
        if scenario.sales is None and teams:
            message = "expected a `sales:` section to choose headcounts for, found none"
            problems.append(locate(("optimize", "headcount"), message))
    return problems


def customers_possible(scenario: Scenario) -> dict[str, int]:
    """The most customers each kind of customer and each segment can have: all of them."""
    out = {"consumers": 0, "accounts": 0}
    for seg in scenario.segments:
        most = seg.represented if seg.kind == "b2c" else seg.size
        out[seg.id] = most
        out["consumers" if seg.kind == "b2c" else "accounts"] += most
    return out


def _check_constraints(
    scenario: Scenario, locate: Locate, channel: Callable[[Path, str], bool]
) -> list[Problem]:
    """Constraints naming what the scenario has, and none that no plan could meet."""
    assert scenario.optimize is not None
    constraints = scenario.optimize.constraints
    problems: list[Problem] = []
    here = ("optimize", "constraints")
    possible = customers_possible(scenario)
    kinds = [k for k in ("consumers", "accounts") if possible[k] > 0]
    names = [*kinds, *(s.id for s in scenario.segments)]
    for key, least in constraints.min_customers.items():
        path = (*here, "min_customers", key)
        if key not in names:
            message = f"expected a kind of customer or a segment id, one of {quoted(names)}, "
            problems.append(locate(path, f"{message}found {show(key)}{did_you_mean(key, names)}"))
        elif least > possible[key]:
            problems.append(
                locate(
                    path,
                    f"expected at most {possible[key]:,} (every one of them a customer), found "
                    f"{least:,g}: no plan can meet it, {least - possible[key]:,g} too many",
                )
            )
    for cid in constraints.min_share:
        channel((*here, "min_share", cid), cid)
    shares = sum(constraints.min_share.values())
    if shares > 1 + 1e-12:
        problems.append(
            locate(
                (*here, "min_share"),
                f"expected minimum shares adding up to at most 1 (the whole budget), found "
                f"{shares:g}: {100 * (shares - 1):.1f} percentage points too many",
            )
        )
    for key in constraints.max_cost_per_acquisition:
        if key not in kinds:
            path = (*here, "max_cost_per_acquisition", key)
            message = f"expected a kind of customer the scenario has, one of {quoted(kinds)}"
            problems.append(locate(path, f"{message}, found {show(key)}"))
    return problems
