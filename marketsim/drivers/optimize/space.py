"""Decision variables: what the optimiser chooses, and how a trial's numbers become a plan.

Optuna has no equality constraints, so the split of the total budget is parametrised so
that every trial is feasible: each channel first gets its lower bound, and the money left
(`free`) is broken off channel by channel (stick breaking). Channel i of n takes a share
of what is left, between the least that keeps the later channels within their upper
bounds and the most its own upper bound allows; the last channel takes the rest. The
share is drawn through the inverse Beta(1, n - i) distribution function, so that without
bounds a uniform parameter gives a uniform point on the simplex (no channel favoured by
its position). The total is spent exactly, up to rounding in the last bit.

Sales headcounts are whole numbers whose cost over the horizon comes out of the same
total first. Each team's range is capped up front at the most the total affords after
the channels' minimums and the other teams' smallest size (`ranges` says so, "at most 6
outside reps fit"), so a team is never cut silently; only two teams together can still
ask for more than fits, and then the later one is cut and the trial says so (`trimmed`).
Budgets are rounded to `BUDGET_STEP` (`marketsim.drivers.plan.round_budgets`) before
they are simulated, so best.yaml holds the plan evaluated. Flighting weights give each
period of a channel's window a relative weight, optionally pulsing (spend every other
step). Promotions may have their discount and start step chosen; their length is kept.

Every decision is recorded as dotted scenario paths (`channels.tv.budget`), so a plan is
applied with `marketsim.scenario.paths.with_values` exactly like a sweep point.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from marketsim.core.errors import InputError
from marketsim.core.format import number
from marketsim.drivers.plan import round_budgets
from marketsim.drivers.records import DecisionRange
from marketsim.scenario.schema import OptimizeSpec, Promotion, Scenario

TEAMS = ("inside", "outside")


class InfeasibleError(InputError):
    """The bounds, headcounts and total budget leave no plan that spends the total exactly."""


@dataclass(frozen=True)
class BudgetVar:
    """A channel's budget, between `low` and `high` (None: no upper bound)."""

    channel: str
    low: float
    high: float | None


@dataclass(frozen=True)
class FlightVar:
    """A channel's spend profile: one weight per period of its window, maybe pulsing."""

    channel: str
    periods: int
    pulsing: bool
    start: int
    end: int


@dataclass(frozen=True)
class TeamVar:
    """A sales team's headcount; each rep costs `unit_cost` over the horizon.

    `tenured` reps are already at full capacity (the scenario's own); a plan's reps beyond
    them are new hires who pay the team's ramp. `asked` is the largest team the settings
    allow; `high` the largest the total budget affords, at most `asked`.
    """

    team: str
    low: int
    high: int
    unit_cost: float
    tenured: int
    asked: int = 0


@dataclass(frozen=True)
class PromoVar:
    """A promotion's discount range and start-step range (None: kept as written)."""

    channel: str
    discount: tuple[float, float] | None
    start: tuple[int, int] | None
    length: int


@dataclass(frozen=True)
class Plan:
    """One trial's decision.

    Attributes:
        values: dotted scenario paths and the values they take.
        decision: readable summary for tables (`budget.tv`, `headcount.inside`, ...).
        spend: planned total of the decision variables' money (budgets plus team cost).
        trimmed: teams cut to fit the money the other team left (`headcount.outside`).

    """

    values: dict[str, Any]
    decision: dict[str, float | int | str]
    spend: float
    trimmed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Space:
    """Every decision variable of a study and the total budget they share."""

    total: float
    budgets: tuple[BudgetVar, ...]
    flights: tuple[FlightVar, ...] = ()
    teams: tuple[TeamVar, ...] = ()
    promos: tuple[PromoVar, ...] = ()
    vary_total: bool = False
    horizon: int = 1

    # ------------------------------------------------------------------ construction

    @classmethod
    def build(cls, scenario: Scenario, spec: OptimizeSpec, *, vary_total: bool = False) -> Space:
        """The decision variables `spec` asks for in `scenario`, checked for feasibility.

        Raises:
            InfeasibleError: no plan can spend the total exactly within the bounds.

        """
        by_id = {c.id: c for c in scenario.channels}
        if spec.channels is not None:
            chosen = list(dict.fromkeys([*spec.channels, *spec.bounds]))
        else:
            chosen = [
                c.id
                for c in scenario.channels
                if (c.budget > 0 and getattr(c, "enabled", True)) or c.id in spec.bounds
            ]
        shares = spec.constraints.min_share
        chosen = [c.id for c in scenario.channels if c.id in chosen or c.id in shares]
        flights = []
        for f in spec.flighting:
            channel = by_id[f.channel]
            start, end = channel.start, channel.end or scenario.horizon
            if channel.schedule is not None:
                start, end = 0, scenario.horizon
            flights.append(FlightVar(f.channel, min(f.periods, end - start), f.pulsing, start, end))
        teams = []
        if spec.headcount is not None and scenario.sales is not None:
            for name in TEAMS:
                limits = getattr(spec.headcount, name)
                if limits is None:
                    continue
                team = getattr(scenario.sales, name)
                unit = team.cost_per_step * max(0, scenario.horizon - team.start)
                teams.append(
                    TeamVar(name, limits.min, limits.max, unit, team.tenured_reps(), limits.max)
                )
        promos = []
        for p in spec.promotions:
            promo = by_id[p.channel]
            assert isinstance(promo, Promotion)
            length = (promo.end or scenario.horizon) - promo.start
            promos.append(
                PromoVar(
                    p.channel,
                    (p.discount.min, p.discount.max) if p.discount else None,
                    (p.start.min, p.start.max) if p.start else None,
                    length,
                )
            )
        total = spec.total_budget
        if total is None:
            total = sum(by_id[cid].budget for cid in chosen) + sum(
                t.unit_cost * getattr(scenario.sales, t.team).count for t in teams
            )
        budgets = []
        for cid in chosen:
            bound = spec.bounds.get(cid)
            low, high = (bound.min, bound.max) if bound else (0.0, None)
            floor = shares.get(cid, 0.0) * total
            if high is not None and floor > high * (1 + 1e-12):
                raise InfeasibleError(
                    f"optimize.constraints.min_share.{cid}: {shares[cid]:.0%} of the total "
                    f"budget {number(total)} is {number(floor)}, above optimize.bounds.{cid}.max "
                    f"{number(high)} by {number(floor - high)}; lower the share or raise the bound"
                )
            budgets.append(BudgetVar(cid, max(low, floor), high))
        lows = sum(b.low for b in budgets)
        for i, t in enumerate(teams):
            others = sum(u.low * u.unit_cost for j, u in enumerate(teams) if j != i)
            room = total - lows - others
            most = math.floor(room / t.unit_cost + 1e-9) if t.unit_cost > 0 else t.high
            teams[i] = dataclasses.replace(t, high=max(t.low, min(t.high, most)))
        space = cls(
            float(total),
            tuple(budgets),
            tuple(flights),
            tuple(teams),
            tuple(promos),
            vary_total,
            scenario.horizon,
        )
        space.check()
        return space

    def check(self) -> None:
        """Refuse a space with no feasible plan, saying which numbers conflict."""
        if not self.budgets and not self.teams and not self.flights and not self.promos:
            raise InfeasibleError(
                "nothing to optimise: no channel has a budget; give one a budget, or name "
                "channels in optimize.channels or optimize.bounds"
            )
        if not self.budgets and self.teams:
            raise InfeasibleError(
                "headcounts are paid from the total budget, so at least one channel budget "
                "must be optimised with them (it takes the money the teams leave)"
            )
        low = sum(b.low for b in self.budgets)
        team_low = sum(t.low * t.unit_cost for t in self.teams)
        need = low + team_low
        if need > self.total * (1 + 1e-12):
            parts = f"channel minimums (bounds and minimum shares) {number(low)}" + (
                f" + smallest teams' cost {number(team_low)}" if self.teams else ""
            )
            raise InfeasibleError(
                f"total budget {number(self.total)} is below the sum of the {parts} "
                f"= {number(need)}: no plan fits; raise the total or lower the bounds"
            )
        highs = [b.high for b in self.budgets]
        if self.budgets and all(h is not None for h in highs):
            high = sum(h for h in highs if h is not None)
            room = self.total - team_low
            if high < room * (1 - 1e-12) and not self.vary_total:
                raise InfeasibleError(
                    f"the bounds exclude every feasible split: the channels' upper bounds sum "
                    f"to {number(high)}, but {number(room)} of the total budget "
                    f"{number(self.total)} must be spent on them; raise an upper bound or "
                    "lower the total"
                )

    @property
    def minimum_total(self) -> float:
        """Least total a plan can spend (lower bounds and smallest teams)."""
        return sum(b.low for b in self.budgets) + sum(t.low * t.unit_cost for t in self.teams)

    def ranges(self) -> list[DecisionRange]:
        """Every budget's and headcount's range, and the most the total affords of each.

        A budget can take at most the total less every other channel's minimum and the
        smallest teams; a team at most what is left after the channel minimums and the
        other teams' smallest size.
        """
        lows = sum(b.low for b in self.budgets)
        teams_low = sum(t.low * t.unit_cost for t in self.teams)
        out = []
        for t in self.teams:
            note = None
            if t.high < t.asked:
                others = " and the other team's smallest size" if len(self.teams) > 1 else ""
                note = (
                    f"at most {t.high} {t.team} reps fit after the channel minimums{others} "
                    f"({number(t.unit_cost)} each over the horizon); asked for up to {t.asked}"
                )
            out.append(
                DecisionRange(
                    decision=f"headcount.{t.team}", low=t.low, high=t.asked, most=t.high, note=note
                )
            )
        for b in self.budgets:
            most = self.total - lows + b.low - teams_low
            if b.high is not None:
                most = min(most, b.high)
            out.append(
                DecisionRange(decision=f"budget.{b.channel}", low=b.low, high=b.high, most=most)
            )
        return out

    # ------------------------------------------------------------------ parameters

    def distributions(self) -> dict[str, BaseDistribution]:
        """Optuna's parameters, by name, in the order they are suggested."""
        out: dict[str, BaseDistribution] = {}
        if self.vary_total:
            out["total"] = FloatDistribution(self.minimum_total, self.total)
        for t in self.teams:
            out[f"headcount.{t.team}"] = IntDistribution(t.low, t.high)
        for b in self.budgets[:-1]:
            out[f"split.{b.channel}"] = FloatDistribution(0.0, 1.0)
        for f in self.flights:
            for p in range(1, f.periods + 1):
                out[f"weight.{f.channel}.{p}"] = FloatDistribution(0.0, 1.0)
            if f.pulsing:
                out[f"pulse.{f.channel}"] = CategoricalDistribution(("continuous", "pulsing"))
        for p in self.promos:
            if p.discount is not None:
                out[f"discount.{p.channel}"] = FloatDistribution(*p.discount)
            if p.start is not None:
                out[f"start.{p.channel}"] = IntDistribution(*p.start)
        return out

    def suggest(self, trial: Any) -> Plan:
        """Ask an Optuna trial for every parameter and decode them into a plan."""
        params: dict[str, Any] = {}
        for name, dist in self.distributions().items():
            if isinstance(dist, IntDistribution):
                params[name] = trial.suggest_int(name, dist.low, dist.high)
            elif isinstance(dist, FloatDistribution):
                params[name] = trial.suggest_float(name, dist.low, dist.high)
            else:
                assert isinstance(dist, CategoricalDistribution)
                params[name] = trial.suggest_categorical(name, dist.choices)
        return self.decode(params)

    def decode(self, params: Mapping[str, Any]) -> Plan:
        """The plan a set of parameter values stands for (a pure function)."""
        values: dict[str, Any] = {}
        decision: dict[str, float | int | str] = {}
        total = float(params["total"]) if self.vary_total else self.total
        reserve = sum(b.low for b in self.budgets)
        # teams first: each cut to what is left once later teams' minimum is reserved
        left = total - reserve
        team_cost = 0.0
        trimmed = []
        for i, t in enumerate(self.teams):
            asked = int(params[f"headcount.{t.team}"])
            later = sum(u.low * u.unit_cost for u in self.teams[i + 1 :])
            count = asked
            if t.unit_cost > 0:
                count = min(count, math.floor((left - later) / t.unit_cost + 1e-9))
            count = max(count, t.low)
            if count < asked:
                trimmed.append(f"headcount.{t.team}")
            values[f"sales.{t.team}.count"] = count
            values[f"sales.{t.team}.tenured"] = t.tenured
            decision[f"headcount.{t.team}"] = count
            left -= count * t.unit_cost
            team_cost += count * t.unit_cost
        money = total - team_cost
        fractions = [float(params[f"split.{b.channel}"]) for b in self.budgets[:-1]]
        for b, amount in zip(
            self.budgets, self._rounded(self.split(money, fractions)), strict=True
        ):
            values[f"channels.{b.channel}.budget"] = amount
            decision[f"budget.{b.channel}"] = amount
        for f in self.flights:
            weights = [float(params[f"weight.{f.channel}.{p}"]) for p in range(1, f.periods + 1)]
            pulse = f.pulsing and params.get(f"pulse.{f.channel}") == "pulsing"
            values[f"channels.{f.channel}.schedule"] = self.schedule(f, weights, pulse)
            values[f"channels.{f.channel}.start"] = 0
            values[f"channels.{f.channel}.end"] = None
            for p, w in enumerate(weights, 1):
                decision[f"weight.{f.channel}.{p}"] = w
            if f.pulsing:
                decision[f"pulse.{f.channel}"] = "pulsing" if pulse else "continuous"
        for p in self.promos:
            if p.discount is not None:
                d = float(params[f"discount.{p.channel}"])
                values[f"channels.{p.channel}.discount"] = d
                decision[f"discount.{p.channel}"] = d
            if p.start is not None:
                s = int(params[f"start.{p.channel}"])
                values[f"channels.{p.channel}.start"] = s
                values[f"channels.{p.channel}.end"] = s + p.length
                decision[f"start.{p.channel}"] = s
        return Plan(values, decision, total, tuple(trimmed))

    def _rounded(self, budgets: list[float]) -> list[float]:
        """`budgets` rounded to the currency step, unless that would cross a bound."""
        rounded = round_budgets(budgets)
        inside = all(
            b.low - 1e-9 <= x and (b.high is None or x <= b.high + 1e-9)
            for b, x in zip(self.budgets, rounded, strict=True)
        )
        return rounded if inside else budgets

    def split(self, money: float, fractions: list[float]) -> list[float]:
        """Budgets summing to `money` within the bounds, from n-1 fractions in [0, 1]."""
        lows = [b.low for b in self.budgets]
        caps = self._caps(money)
        rem = money - sum(lows)
        out = []
        n = len(self.budgets)
        for i, x in enumerate(fractions):
            lo, hi = self._interval(i, rem, caps)
            k = n - 1 - i  # channels after this one
            v = 1.0 - (1.0 - min(max(x, 0.0), 1.0)) ** (1.0 / k)
            amount = lo + v * (hi - lo)
            out.append(lows[i] + amount)
            rem -= amount
        if n:
            out.append(lows[-1] + min(max(rem, 0.0), caps[-1]))
        return out

    def fractions(self, money: float, budgets: list[float]) -> list[float]:
        """The inverse of `split`: fractions giving `budgets` (which must be feasible)."""
        lows = [b.low for b in self.budgets]
        caps = self._caps(money)
        rem = money - sum(lows)
        out = []
        n = len(self.budgets)
        for i in range(n - 1):
            lo, hi = self._interval(i, rem, caps)
            amount = budgets[i] - lows[i]
            v = (amount - lo) / (hi - lo) if hi > lo else 0.0
            v = min(max(v, 0.0), 1.0)
            out.append(1.0 - (1.0 - v) ** (n - 1 - i))
            rem -= lo + v * (hi - lo)
        return out

    def _caps(self, money: float) -> list[float]:
        free = max(money - sum(b.low for b in self.budgets), 0.0)
        return [free if b.high is None else min(b.high - b.low, free) for b in self.budgets]

    @staticmethod
    def _interval(i: int, rem: float, caps: list[float]) -> tuple[float, float]:
        after = sum(caps[i + 1 :])
        lo = max(0.0, rem - after)
        hi = max(lo, min(caps[i], rem))
        return lo, hi

    def schedule(self, f: FlightVar, weights: list[float], pulse: bool) -> list[float]:
        """Per-step weights over the horizon: period weights inside the window, 0 outside."""
        steps = np.zeros(self.horizon)
        length = f.end - f.start
        for t in range(f.start, f.end):
            period = (t - f.start) * f.periods // length
            on = 1.0 if not pulse else (2.0 if (t - f.start) % 2 == 0 else 0.0)
            steps[t] = weights[period] * on
        if not steps.any():  # every period off: spend evenly rather than not at all
            steps[f.start : f.end] = 1.0
        return [round(float(w), 12) for w in steps]

    # ------------------------------------------------------------------ baseline

    def baseline_params(self, scenario: Scenario) -> dict[str, Any] | None:
        """Parameters closest to the scenario as written, at this space's total.

        The written budgets are scaled to the total and pushed inside the bounds; used to
        make the first trial the strategist's own plan. None when nothing sensible fits.
        """
        by_id = {c.id: c for c in scenario.channels}
        params: dict[str, Any] = {}
        if self.vary_total:
            written = sum(by_id[b.channel].budget for b in self.budgets) + sum(
                t.unit_cost * getattr(scenario.sales, t.team).count for t in self.teams
            )
            params["total"] = min(max(written, self.minimum_total), self.total)
        total = params.get("total", self.total)
        left = total - sum(b.low for b in self.budgets)
        team_cost = 0.0
        for t in self.teams:
            count = min(max(getattr(scenario.sales, t.team).count, t.low), t.high)
            if t.unit_cost > 0:
                count = max(t.low, min(count, int(left // t.unit_cost)))
            params[f"headcount.{t.team}"] = count
            left -= count * t.unit_cost
            team_cost += count * t.unit_cost
        money = total - team_cost
        written = np.array([by_id[b.channel].budget for b in self.budgets], dtype=float)
        budgets = _project(written, self.budgets, money)
        if budgets is None:
            return None
        for b, x in zip(self.budgets[:-1], self.fractions(money, budgets), strict=True):
            params[f"split.{b.channel}"] = x
        for f in self.flights:
            for p in range(1, f.periods + 1):
                params[f"weight.{f.channel}.{p}"] = 1.0
            if f.pulsing:
                params[f"pulse.{f.channel}"] = "continuous"
        for p in self.promos:
            promo = by_id[p.channel]
            assert isinstance(promo, Promotion)
            if p.discount is not None:
                params[f"discount.{p.channel}"] = min(
                    max(promo.discount, p.discount[0]), p.discount[1]
                )
            if p.start is not None:
                params[f"start.{p.channel}"] = min(max(promo.start, p.start[0]), p.start[1])
        return params

    def signature(self) -> dict[str, Any]:
        """What makes two studies' trials comparable: every variable and its range."""
        return {
            "total_budget": self.total,
            "vary_total": self.vary_total,
            "variables": {name: _describe(d) for name, d in self.distributions().items()},
            "bounds": {b.channel: [b.low, b.high] for b in self.budgets},
            "team_cost": {t.team: t.unit_cost for t in self.teams},
            "flighting": {f.channel: [f.start, f.end, f.periods, f.pulsing] for f in self.flights},
            "promotion_length": {p.channel: p.length for p in self.promos},
        }


def decided_paths(space: Space) -> set[str]:
    """Every scenario path a plan of `space` sets."""
    found = {f"sales.{t.team}.{key}" for t in space.teams for key in ("count", "tenured")}
    found |= {f"channels.{b.channel}.budget" for b in space.budgets}
    for f in space.flights:
        found |= {f"channels.{f.channel}.{key}" for key in ("schedule", "start", "end")}
    for p in space.promos:
        found |= {f"channels.{p.channel}.{key}" for key in ("discount", "start", "end")}
    return found


def _project(
    written: np.ndarray, budgets: tuple[BudgetVar, ...], money: float
) -> list[float] | None:
    """`written` scaled by one factor to sum to `money`, clipped to the bounds (bisection)."""
    if not budgets:
        return []
    lows = np.array([b.low for b in budgets])
    highs = np.array([money if b.high is None else b.high for b in budgets])
    if lows.sum() > money or highs.sum() < money * (1 - 1e-12):
        return None
    weights = written + max(written.mean(), 1.0) * 1e-3  # no channel stuck at its bound
    lo, hi = 0.0, 1.0
    while np.clip(hi * weights, lows, highs).sum() < money and hi < 1e300:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.clip(mid * weights, lows, highs).sum() < money:
            lo = mid
        else:
            hi = mid
    return [float(x) for x in np.clip(hi * weights, lows, highs)]


def _describe(dist: BaseDistribution) -> list[Any]:
    if isinstance(dist, CategoricalDistribution):
        return ["categorical", list(dist.choices)]
    assert isinstance(dist, FloatDistribution | IntDistribution)
    return [type(dist).__name__, dist.low, dist.high]
