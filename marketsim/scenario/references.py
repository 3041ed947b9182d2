"""Checks that need the whole scenario: unique ids, references between sections, timing.

pydantic validates each value on its own; whether `targets: [consumer]` names a defined
segment, or a schedule fits the horizon, is only known once everything is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from marketsim.core.errors import Problem, did_you_mean, quoted, show
from marketsim.scenario.calibration_checks import check_calibrate
from marketsim.scenario.demand import steps_between
from marketsim.scenario.optimize_checks import check_optimize
from marketsim.scenario.schema import Channel, Promotion, Scenario
from marketsim.scenario.source import Path
from marketsim.scenario.start import check_start
from marketsim.scenario.types import KindSpecific

Locate = Callable[[Path, str], Problem]
"""Makes a problem at a data path, located where that value was written."""

_SECTIONS = ("products", "segments", "channels", "brokers")


def check_references(scenario: Scenario, locate: Locate) -> list[Problem]:
    """Every cross-reference problem in a schema-valid scenario."""
    problems = _duplicate_ids(scenario, locate)
    products = [p.id for p in scenario.products]
    segments = [s.id for s in scenario.segments]

    def refer(path: Path, found: str | None, kind: str, ids: Sequence[str]) -> None:
        if found is not None and found not in ids:
            message = f"expected a {kind} id, one of {quoted(ids)}, found {show(found)}"
            problems.append(locate(path, message + did_you_mean(found, ids)))

    for i, segment in enumerate(scenario.segments):
        for j, product in enumerate(segment.products or ()):
            refer(("segments", i, "products", j), product, "product", products)
    for section in ("channels", "brokers"):
        for i, item in enumerate(getattr(scenario, section)):
            for j, target in enumerate(item.targets or ()):
                refer((section, i, "targets", j), target, "segment", segments)
    for j, segment_id in enumerate(scenario.demand.segments or ()):
        refer(("demand", "segments", j), segment_id, "segment", segments)
    for i, channel in enumerate(scenario.channels):
        if isinstance(channel, Promotion):
            refer(("channels", i, "product"), channel.product, "product", products)
        problems += _timing(channel, ("channels", i), scenario.horizon, locate)
    starts: list[tuple[Path, int]] = [
        *((("products", i, "launch_step"), p.launch_step) for i, p in enumerate(scenario.products)),
        *((("brokers", i, "start"), b.start) for i, b in enumerate(scenario.brokers)),
    ]
    if scenario.sales is not None:
        starts += [
            (("sales", "inside", "start"), scenario.sales.inside.start),
            (("sales", "outside", "start"), scenario.sales.outside.start),
        ]
    for path, start in starts:
        if start >= scenario.horizon:
            message = f"expected a step < horizon ({scenario.horizon}), found {start}"
            problems.append(locate(path, message))
    problems += _demand(scenario, locate)
    problems += _kind_keys(scenario, locate)
    problems += _scaled_segments(scenario, locate)
    problems += check_optimize(scenario, locate)
    problems += check_calibrate(scenario, locate)
    problems += check_start(scenario, locate)
    return problems


def _kind_keys(scenario: Scenario, locate: Locate) -> list[Problem]:
    """Keys written for a kind of item they mean nothing for, and missing kind keys."""
    problems = []
    sections: dict[str, list[KindSpecific]] = {
        "segments": list(scenario.segments),
        "brokers": list(scenario.brokers),
        "products": list(scenario.products),
    }
    for section, items in sections.items():
        for i, item in enumerate(items):
            for key, owner in item.misplaced():
                message = (
                    f"{key} applies to {_plural(section, owner)} only, but "
                    f"{item.KIND_KEY} is {item.kind_name!r}"
                )
                problems.append(locate((section, i, key), message, key=True))
    for i, product in enumerate(scenario.products):
        if product.purchase == "subscription" and product.billing_period is None:
            message = "a subscription needs a billing_period (steps between bills)"
            problems.append(locate(("products", i, "purchase"), message))
        if product.purchase == "repeat" and product.repurchase_every <= 0:
            message = "a repeat product needs repurchase_every > 0 (mean steps between purchases)"
            problems.append(locate(("products", i, "repurchase_every"), message))
    return problems


def _scaled_segments(scenario: Scenario, locate: Locate) -> list[Problem]:
    """A segment standing for a larger market: a whole multiple, and no brokers on it.

    Brokers work people one by one, so their capacity is in real people.
    """
    problems = []
    for i, segment in enumerate(scenario.segments):
        if segment.represents is None:
            continue
        if segment.represents % segment.size:
            message = (
                f"expected a whole multiple of size ({segment.size}), found "
                f"{segment.represents} ({segment.represents / segment.size:.4g} times size)"
            )
            problems.append(locate(("segments", i, "represents"), message))
        for j, broker in enumerate(scenario.brokers):
            if broker.targets is None or segment.id in broker.targets:
                message = (
                    f"brokers work people one by one, so they cannot target segment "
                    f"{segment.id!r}, which stands for {segment.represents} people with "
                    f"{segment.size}; leave out `represents` or name other targets"
                )
                problems.append(locate(("brokers", j, "id"), message))
    return problems


def _plural(section: str, kind: str) -> str:
    if section == "segments":
        return f"{kind} segments"
    if section == "brokers":
        return "sellers' agents" if kind == "seller" else "buyer's brokers"
    return f"{kind.replace('_', '-')} products"


def check_warnings(scenario: Scenario, locate: Locate) -> list[Problem]:
    """What is allowed but probably not meant: renewals outside the run, unused media.

    Renewals of contracts and subscriptions running at step 0 (`start:`) fall in the run.
    """
    warnings = []
    bought = {getattr(c, "medium", None) for c in scenario.channels}
    for i, segment in enumerate(scenario.segments):
        for medium in segment.media:
            if medium not in bought:
                message = (
                    f"warning: no channel is bought in medium {medium!r}, so these habits "
                    "change nothing"
                )
                warnings.append(locate(("segments", i, "media", medium), message, key=True))
    for i, segment in enumerate(scenario.segments):
        length = segment.contract_length
        running = segment.start is not None and segment.start.contracts > 0
        if segment.kind == "b2b" and length >= scenario.horizon and not running:
            message = (
                f"warning: contracts of {length} steps do not come up for renewal within the "
                f"horizon ({scenario.horizon}); renewals fall outside the run"
            )
            warnings.append(locate(("segments", i, "contract_length"), message))
    subscribed = any(s.start is not None and s.start.customers > 0 for s in scenario.segments)
    for i, product in enumerate(scenario.products):
        long = product.renewal_term >= scenario.horizon
        if product.purchase == "subscription" and long and not subscribed:
            key = "term" if product.term is not None else "billing_period"
            message = (
                f"warning: a term of {product.renewal_term} steps does not end within the "
                f"horizon ({scenario.horizon}); renewals fall outside the run"
            )
            warnings.append(locate(("products", i, key), message))
    return warnings


def _duplicate_ids(scenario: Scenario, locate: Locate) -> list[Problem]:
    problems = []
    sections: list[tuple[Path, Sequence[Any]]] = [
        *(((name,), getattr(scenario, name)) for name in _SECTIONS),
        (("demand", "events"), scenario.demand.events),
    ]
    for section, items in sections:
        first: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in first:
                line = locate((*section, first[item.id], "id"), "").line  # where it was first
                message = f"expected a unique id, found {show(item.id)} again (first: line {line})"
                problems.append(locate((*section, i, "id"), message))
            first.setdefault(item.id, i)
    return problems


def _demand(scenario: Scenario, locate: Locate) -> list[Problem]:
    """The baseline's calendar, event steps and weights must fit the scenario."""
    demand, horizon = scenario.demand, scenario.horizon
    problems = []
    start = demand.start
    needs = "needs demand.calendar.start (the date of step 0)"
    if start is None and demand.seasonality is not None and demand.seasonality.monthly:
        message = f"monthly seasonality {needs} to know each step's month"
        problems.append(locate(("demand", "seasonality", "monthly"), message))
    for i, event in enumerate(demand.events):
        path = ("demand", "events", i)
        for j, t in enumerate(event.steps):
            if t >= horizon:
                message = f"expected a step < horizon ({horizon}), found {t}"
                problems.append(locate((*path, "steps", j), message))
        if event.dates and start is None:
            problems.append(locate((*path, "dates"), f"an event's dates {needs}"))
        for j, date in enumerate(event.dates if start is not None else ()):
            t = steps_between(start, date, scenario.step)[0]
            if not 0 <= t < horizon:
                message = (
                    f"expected a date within the horizon (step 0 is {start}, {horizon} "
                    f"{scenario.step}s), found {date}, step {t}"
                )
                problems.append(locate((*path, "dates", j), message))
        if event.weights is not None and (event.steps or event.dates):
            message = "expected either weights or steps and dates, found both"
            problems.append(locate((*path, "weights"), message))
        elif event.weights is not None and len(event.weights) != horizon:
            message = f"expected {horizon} weights (one per step), found {len(event.weights)}"
            problems.append(locate((*path, "weights"), message))
    return problems


def _timing(channel: Channel, path: Path, horizon: int, locate: Locate) -> list[Problem]:
    """The active window and schedule must fit the horizon, and money must go somewhere."""
    problems = []
    if channel.start >= horizon:
        message = f"expected a step < horizon ({horizon}), found {channel.start}"
        problems.append(locate((*path, "start"), message))
    if channel.end is not None and channel.end > horizon:
        message = f"expected a step <= horizon ({horizon}), found {channel.end}"
        problems.append(locate((*path, "end"), message))
    schedule = channel.schedule
    if schedule is not None and (channel.start != 0 or channel.end is not None):
        message = "expected either a schedule or a start/end window, found both"
        problems.append(locate((*path, "schedule"), message))
    if schedule is not None and len(schedule) != horizon:
        message = f"expected {horizon} weights (one per step), found {len(schedule)}"
        problems.append(locate((*path, "schedule"), message))
    elif schedule is not None and channel.budget > 0 and not any(schedule):
        message = "expected a positive weight somewhere as budget > 0, found all zeros"
        problems.append(locate((*path, "schedule"), message))
    return problems
