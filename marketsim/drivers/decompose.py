"""Why strategy B beats A: a significant difference taken apart, pair by pair.

A comparison says *that* B's revenue or profit differs from the baseline's; a strategist
needs to know *where*. Each significant revenue and profit difference is decomposed on
the same paired replicates (common random numbers: replicate r of both strategies drew
the same luck), every part with the mean paired difference and its Student-t 95%
interval over replicates:

- **components** (profit): revenue, cost of goods, marketing spend, sales cost and
  commissions, which add up to the difference exactly;
- **customer type** and **segment**: each one's revenue, or profit (its revenue less
  its cost of goods and acquisition cost), which add up exactly too; with the customers
  held at the horizon, to say where the extra customers came from;
- **channel**: the change in each channel's incremental revenue (or profit) where both
  strategies measured it (`--contribution`), else in the revenue attributed to it by
  last touch, labelled as attribution (with word of mouth and organic, so the parts add
  up to the revenue difference; increments do not add up);
- **funnel**, per kind of customer: people at or beyond each stage at the horizon, the
  change in each stage's conversion from the one before (in percentage points) and its
  share of the change in customers (log(C_B / C_A) is the sum of each stage's log
  ratio of conversions, and the market's); for a sales organisation, the pipeline over
  the horizon and each team's utilisation, to find a stage that ran out of capacity.

The intervals are per part and not corrected for multiplicity: the difference being
explained is the one tested, with the Holm correction, in the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from marketsim.drivers.breakdown import Breakdown
from marketsim.drivers.contribution import Increments
from marketsim.drivers.records import (
    CapacityChange,
    Decomposition,
    Difference,
    Part,
    StageChange,
    Stats,
)
from marketsim.drivers.results import FUNNEL, Result, funnel_counts
from marketsim.drivers.stats import describe
from marketsim.engine.ledger import TYPES

DECOMPOSED = ("revenue", "profit")
"""The differences taken apart when significant."""

AT_CAPACITY = 0.95
"""Mean utilisation from which a team is said to work at capacity: the bottleneck."""

COMPONENTS = (
    ("revenue", "revenue", 1.0),
    ("cost_of_goods", "cost of goods", -1.0),
    ("marketing_spend", "marketing spend", -1.0),
    ("sales_cost", "sales cost", -1.0),
    ("commissions", "commissions", -1.0),
)
"""Profit's parts: (summed column, label, sign in profit)."""

PIPELINE = (
    ("leads", "leads"),
    ("calls", "calls"),
    ("appointments", "appointments"),
    ("meetings", "meetings"),
    ("opportunities", "opportunities"),
    ("proposals", "proposals"),
    ("deals_won", "deals won"),
)
"""The sales pipeline's counts over the horizon, in order: (column, label)."""


def _part(
    key: str,
    label: str,
    base: Sequence[float],
    other: Sequence[float],
    total: float | None,
    basis: str | None = None,
) -> Part:
    """A part of a difference: both means, the paired difference, its share of `total`."""
    diff = describe(np.subtract(other, base))
    share = diff.mean / total if total and diff.mean is not None else None
    return Part(
        key=key,
        label=label,
        basis=basis,
        baseline=float(np.mean(base)),
        other=float(np.mean(other)),
        difference=diff,
        share=share,
    )


def _by_segment(
    value: Callable[[Breakdown], np.ndarray],
    base: Sequence[Breakdown],
    other: Sequence[Breakdown],
) -> dict[str, tuple[list[float], list[float]]]:
    """Each segment's per-replicate `value` in both strategies (ids of either)."""
    ids = list(dict.fromkeys([*base[0].segments, *other[0].segments]))

    def per(parts: Sequence[Breakdown], sid: str) -> list[float]:
        return [float(value(b)[b.segments.index(sid)]) if sid in b.segments else 0.0 for b in parts]

    return {sid: (per(base, sid), per(other, sid)) for sid in ids}


def _kinds(result: Result) -> dict[str, str]:
    """Segment id -> kind of customer (consumers, accounts)."""
    return {s.id: TYPES[0] if s.kind == "b2c" else TYPES[1] for s in result.scenario.segments}


def decompose(
    strategy: str,
    metric: str,
    total: Difference,
    base: Result,
    other: Result,
    increments: tuple[Increments, Increments] | None = None,
) -> Decomposition:
    """The parts of `other`'s difference from `base` on `metric` (revenue or profit).

    Args:
        strategy: the name of `other`.
        metric: "revenue" or "profit".
        total: the tested difference (from the comparison).
        base: the baseline's run, with breakdowns.
        other: the other strategy's run, on the same seed and replicates.
        increments: each run's per-replicate channel increments, where both were measured.

    """
    if metric not in DECOMPOSED:
        raise ValueError(f"`metric` must be one of {DECOMPOSED}, but got {metric=}")
    b_parts, o_parts = base.breakdowns, other.breakdowns
    b_metrics, o_metrics = base.metrics(), other.metrics()
    whole = total.mean
    field = "revenue" if metric == "revenue" else "profit"
    segments = _by_segment(lambda b: getattr(b, field), b_parts, o_parts)
    kinds = {**_kinds(base), **_kinds(other)}
    by_segment = [_part(sid, sid, x, y, whole) for sid, (x, y) in segments.items()]
    by_type = []
    for kind in TYPES:
        mine = [sid for sid in segments if kinds[sid] == kind]
        if mine:
            x = np.sum([segments[s][0] for s in mine], axis=0)
            y = np.sum([segments[s][1] for s in mine], axis=0)
            by_type.append(_part(kind, kind, x, y, whole))
    held = _by_segment(lambda b: b.customers, b_parts, o_parts)
    customers = [_part(sid, sid, x, y, None) for sid, (x, y) in held.items()]
    components = []
    if metric == "profit":
        for column, label, sign in COMPONENTS:
            x = [sign * m.value(column) for m in b_metrics]
            y = [sign * m.value(column) for m in o_metrics]
            components.append(_part(column, label, x, y, whole))
    basis, by_channel = _by_channel(metric, whole, b_parts, o_parts, increments)
    return Decomposition(
        strategy=strategy,
        metric=metric,
        total=Stats(
            mean=total.mean, std=total.std, ci95_low=total.ci95_low, ci95_high=total.ci95_high
        ),
        components=components,
        by_type=by_type,
        by_segment=by_segment,
        customers=customers,
        channel_basis=basis,
        by_channel=by_channel,
        funnel={
            kind: funnel_changes(kind, base, other)
            for kind in TYPES
            if any(k == kind for k in kinds.values())
        },
        pipeline=_pipeline(base.timeseries, other.timeseries),
        capacity=capacity_changes(base.agents, other.agents),
    )


def _by_channel(
    metric: str,
    whole: float | None,
    base: Sequence[Breakdown],
    other: Sequence[Breakdown],
    increments: tuple[Increments, Increments] | None,
) -> tuple[str, list[Part]]:
    """Per channel: the change in its measured increment, else in its attributed revenue."""
    ids = list(dict.fromkeys([*base[0].channels, *other[0].channels]))
    n_reps = len(base)
    if increments is not None:
        b_inc, o_inc = increments
        zero = [0.0] * n_reps

        def inc(side: Increments, cid: str) -> list[float]:
            return side.get(cid, {}).get(metric, zero)

        parts = [_part(c, c, inc(b_inc, c), inc(o_inc, c), whole, "incremental") for c in ids]
        return "incremental", parts

    def credited(parts: Sequence[Breakdown], k: int | str) -> list[float]:
        out = []
        for b in parts:
            if isinstance(k, int):
                value = float(b.last_touch[len(b.channels) + k])
            elif k in b.channels:
                i = b.channels.index(k)
                value = float(b.last_touch[i]) - (float(b.spend[i]) if metric == "profit" else 0)
            else:
                value = 0.0
            out.append(value)
        return out

    parts = [_part(c, c, credited(base, c), credited(other, c), whole, "last_touch") for c in ids]
    if metric == "revenue":
        for k, label in enumerate(("word of mouth", "organic")):
            parts.append(_part(label, label, credited(base, k), credited(other, k), whole))
    return "last_touch", parts


def _reached(kind: str, result: Result) -> np.ndarray:
    """[replicate, stage of `kind`'s funnel] people at or beyond each stage at the horizon."""
    mine = np.array([(s.kind == "b2c") == (kind == TYPES[0]) for s in result.scenario.segments])
    at = funnel_counts(kind, np.array([b.stages[mine].sum(axis=0) for b in result.breakdowns]))
    return np.cumsum(at[:, ::-1], axis=1)[:, ::-1]


def funnel_changes(kind: str, base: Result, other: Result) -> list[StageChange]:
    """Per stage of `kind`'s funnel: people reached, conversion from the stage before.

    `share` is the stage's part of the change in customers: log of its conversion ratio
    (other over baseline, of means) over the log ratio of customers held.
    """
    x, y = _reached(kind, base), _reached(kind, other)
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = x[:, 1:] / x[:, :-1]
        cy = y[:, 1:] / y[:, :-1]
    mx, my = x.mean(axis=0), y.mean(axis=0)
    log_total = _log_ratio(my[-1], mx[-1])
    out = []
    for k, stage in enumerate(FUNNEL[kind]):
        conversion = _finite_describe(cy[:, k - 1] - cx[:, k - 1]) if k else Stats()
        ratio = _log_ratio(my[k] / my[k - 1], mx[k] / mx[k - 1]) if k else _log_ratio(my[0], mx[0])
        share = ratio / log_total if log_total and ratio is not None else None
        out.append(
            StageChange(
                stage="market" if k == 0 else stage,
                reached_baseline=float(mx[k]),
                reached_other=float(my[k]),
                reached=describe(y[:, k] - x[:, k]),
                conversion_baseline=_mean_ratio(mx, k),
                conversion_other=_mean_ratio(my, k),
                conversion=conversion,
                share=share,
            )
        )
    return out


def _mean_ratio(means: np.ndarray, k: int) -> float | None:
    return float(means[k] / means[k - 1]) if k and means[k - 1] > 0 else None


def _log_ratio(a: float, b: float) -> float | None:
    return math.log(a / b) if a > 0 and b > 0 and math.isfinite(a / b) else None


def excludes_zero(stats: Stats) -> bool:
    """Whether the 95% interval of a paired difference lies wholly on one side of zero."""
    low, high = stats.ci95_low, stats.ci95_high
    return low is not None and high is not None and (low > 0 or high < 0)


def _finite_describe(values: np.ndarray) -> Stats:
    finite = values[np.isfinite(values)]
    return describe(finite) if finite.size == values.size else Stats()


def _pipeline(base: pd.DataFrame, other: pd.DataFrame) -> list[StageChange]:
    """The sales pipeline's totals over the horizon and each stage's conversion, paired."""
    if "leads" not in base or (base["leads"].sum() == 0 and other["leads"].sum() == 0):
        return []
    totals = [f.groupby("replicate")[[c for c, _ in PIPELINE]].sum() for f in (base, other)]
    x, y = (t.to_numpy(dtype=np.float64) for t in totals)
    mx, my = x.mean(axis=0), y.mean(axis=0)
    out = []
    for k, (_, label) in enumerate(PIPELINE):
        with np.errstate(divide="ignore", invalid="ignore"):
            change = y[:, k] / y[:, k - 1] - x[:, k] / x[:, k - 1] if k else None
        out.append(
            StageChange(
                stage=label,
                reached_baseline=float(mx[k]),
                reached_other=float(my[k]),
                reached=describe(y[:, k] - x[:, k]),
                conversion_baseline=_mean_ratio(mx, k),
                conversion_other=_mean_ratio(my, k),
                conversion=_finite_describe(change) if change is not None else Stats(),
                share=None,
            )
        )
    return out


def team_of(agent: str, role: str) -> str:
    """The team an agent belongs to: inside or outside reps, or its broker group's id."""
    return role if role in ("inside", "outside") else agent.rsplit("-", 1)[0]


def _utilisation(agents: pd.DataFrame) -> pd.DataFrame:
    """[replicate, team] mean utilisation of the team's agents."""
    if agents.empty:
        return pd.DataFrame()
    pairs = zip(agents["agent"], agents["role"], strict=True)
    frame = agents.assign(team=[team_of(a, r) for a, r in pairs])
    return frame.groupby(["replicate", "team"], sort=False)["utilisation"].mean().unstack()


def capacity_changes(base: pd.DataFrame, other: pd.DataFrame) -> list[CapacityChange]:
    """Each team's utilisation in both strategies, paired; at capacity from `AT_CAPACITY`."""
    x, y = _utilisation(base), _utilisation(other)
    teams = list(dict.fromkeys([*x.columns, *y.columns]))
    out = []
    for team in teams:
        bx = x[team].to_numpy(dtype=np.float64) if team in x else np.zeros(len(y))
        by = y[team].to_numpy(dtype=np.float64) if team in y else np.zeros(len(x))
        out.append(
            CapacityChange(
                team=team,
                baseline=float(np.nanmean(bx)),
                other=float(np.nanmean(by)),
                difference=_finite_describe(by - bx),
                at_capacity_baseline=bool(np.nanmean(bx) >= AT_CAPACITY),
                at_capacity_other=bool(np.nanmean(by) >= AT_CAPACITY),
            )
        )
    return out


def bottlenecks(decomposition: Decomposition, baseline: str) -> list[str]:
    """Plain sentences naming where each strategy's funnel was held back.

    A team at capacity is the bottleneck of the stage it works; then, per kind of
    customer whose customers held changed significantly, the stage whose conversion
    moved most explains most of that change.
    """
    other = decomposition.strategy
    out = []
    for c in decomposition.capacity:
        team, works = TEAMS.get(c.team, (f"broker group {c.team}", "its prospects"))
        if c.at_capacity_baseline and c.at_capacity_other:
            out.append(
                f"{team} worked at capacity in both ({c.baseline:.0%} in {baseline}, "
                f"{c.other:.0%} in {other}): {works} held both back"
            )
        elif c.at_capacity_baseline or c.at_capacity_other:
            busy, idle = (baseline, other) if c.at_capacity_baseline else (other, baseline)
            use, spare = (c.baseline, c.other) if c.at_capacity_baseline else (c.other, c.baseline)
            out.append(
                f"{team} worked at {use:.0%} of capacity in {busy} ({spare:.0%} in {idle}): "
                f"{works} held {busy} back"
            )
    for kind, stages in decomposition.funnel.items():
        moved = [s for s in stages[1:] if s.share is not None and s.conversion.mean is not None]
        if not moved or not excludes_zero(stages[-1].reached):
            continue  # no change in customers held to explain
        top = max(moved, key=lambda s: abs(s.share or 0.0))
        before = stages[stages.index(top) - 1].stage
        out.append(
            f"{kind}: the conversion from {before} to {top.stage} moved most "
            f"({100 * (top.conversion.mean or 0.0):+.1f} pp), {top.share:.0%} of the change "
            "in customers held"
        )
    return out


TEAMS = {
    "inside": ("inside reps", "calls and qualification"),
    "outside": ("outside reps", "meetings and closing"),
}
"""Each sales team's name, and what its capacity is spent on."""
