"""After the search: honest numbers about the plans it found.

The value a search reports for its best trial is biased upwards: among many noisy
estimates, the largest is more often lucky than not (the winner's curse). So the best
few candidates, and the scenario as written, are simulated again on fresh seeds (`seed +
1`, replicates 0..R'-1, recorded in summary.json), the winner is chosen on those fresh
numbers, and its uplift over the baseline is the paired difference replicate by
replicate, with a 95% interval.

At the winner, each channel's marginal return is measured by central finite differences
on common random numbers: the same replicates with the channel's budget a step higher
and a step lower. Where no bound binds, these are about equal at an optimum (otherwise
moving money from the channel with the lower return to the higher would do better).
Response curves vary one channel's budget over its range with the others held at the
winner, using the sweep machinery.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, TrialState

from marketsim.core.format import interval, number
from marketsim.core.limits import MAX_SEED
from marketsim.drivers.execution import Executor
from marketsim.drivers.metrics import (
    LABELS,
    ReplicateMetrics,
    customer_types,
    describe_metrics,
    headline,
)
from marketsim.drivers.optimize.objective import metric_value
from marketsim.drivers.optimize.space import Plan
from marketsim.drivers.optimize.study import BASELINE_ATTR, Question, trial_result
from marketsim.drivers.records import Convergence, MarginalReturn, SideEffect, Sizing, Stats
from marketsim.drivers.stats import describe
from marketsim.drivers.sweep import curve_frame, evaluate
from marketsim.scenario.paths import with_values
from marketsim.scenario.schema import Scenario


def fresh_seed(seed: int) -> int:
    """The seed of re-evaluation: never the search's seed, so its luck does not carry over."""
    return (seed + 1) % (MAX_SEED + 1)


# --------------------------------------------------------------------------- trials


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, objective statistics, decision, raw parameters."""
    multi = len(study.directions) > 1
    front = {t.number for t in study.best_trials} if multi and _any_complete(study) else set()
    rows = []
    for t in study.get_trials(deepcopy=False):
        result = trial_result(t)
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name.lower()}
        if multi:
            row["objective"] = t.values[0] if t.values else None
            row["objective_2"] = t.values[1] if t.values else None
            row["pareto"] = t.number in front
        else:
            row["objective"] = t.value
        for key in ("mean", "std", "ci95_low", "ci95_high", "risk", "spend"):
            row[key] = getattr(result, key) if result else None
        row["baseline"] = bool(t.user_attrs.get(BASELINE_ATTR, False))
        row["trimmed"] = " ".join(result.trimmed or ()) if result else ""
        for path, miss in ((result.shortfalls or {}) if result else {}).items():
            row[f"shortfall:{path.removeprefix('optimize.constraints.')}"] = miss
        for key, value in (result.decision if result else {}).items():
            row[key] = value
        for key, value in t.params.items():
            row[f"param.{key}"] = value
        seconds = result.seconds if result else None  # the trial's own time, wherever it ran
        if seconds is None and t.datetime_complete and t.datetime_start:
            seconds = (t.datetime_complete - t.datetime_start).total_seconds()
        row["seconds"] = None if seconds is None else round(seconds, 3)
        rows.append(row)
    return pd.DataFrame(rows)


def _met(trial: FrozenTrial) -> bool:
    """Whether the trial met every outcome constraint on its search replicates."""
    result = trial_result(trial)
    return result is None or all(x <= 0 for x in (result.shortfalls or {}).values())


def _any_complete(study: optuna.Study) -> bool:
    return bool(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def candidates(study: optuna.Study, count: int, front_cap: int = 10) -> list[FrozenTrial]:
    """Trials worth re-evaluating: the best `count` distinct plans, or the Pareto front.

    With one objective the scenario's own plan (the first trial) is always among them, so
    the reported best is never a plan that does worse than it on the fresh seeds. Trials
    that met every outcome constraint come before those that did not.

    A front larger than `front_cap` is thinned to that many, evenly spread along the
    first objective.
    """
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return []
    if len(study.directions) > 1:
        front = sorted(study.best_trials, key=lambda t: t.values[0])
        if len(front) > front_cap:
            picks = np.linspace(0, len(front) - 1, front_cap).round().astype(int)
            front = [front[i] for i in sorted(set(picks.tolist()))]
        return front
    chosen: list[FrozenTrial] = []
    seen: set[str] = set()
    for t in sorted(done, key=lambda t: (not _met(t), -t.value)):
        result = trial_result(t)
        key = repr(sorted((result.decision if result else {}).items()))
        if key in seen:
            continue
        seen.add(key)
        chosen.append(t)
        if len(chosen) == count:
            break
    own = [t for t in done if t.user_attrs.get(BASELINE_ATTR)]
    if own and own[0] not in chosen:  # the strategist's own plan always competes
        chosen.append(own[0])
    return chosen


# --------------------------------------------------------------------------- re-evaluation


def objective_values(totals: Sequence[ReplicateMetrics], objective: str) -> list[float]:
    """The objective metric of every replicate."""
    return [metric_value(t, objective) for t in totals]


def paired_uplift(
    best: Sequence[ReplicateMetrics], base: Sequence[ReplicateMetrics], objective: str
) -> tuple[Stats, float | None]:
    """Best minus baseline, replicate by replicate (common random numbers), with a 95% CI.

    Returns the absolute difference and the mean difference relative to the baseline.
    """
    diff = np.subtract(objective_values(best, objective), objective_values(base, objective))
    absolute = describe(diff)
    base_mean = float(np.mean(objective_values(base, objective)))
    mean = absolute.mean
    return absolute, (mean / abs(base_mean) if base_mean and mean is not None else None)


@dataclass(frozen=True)
class Margins:
    """Per optimised channel, per replicate: the finite differences at the best plan.

    `slope` is d(objective metric)/d(budget); `profit` is d(profit)/d(budget), what a
    channel returns over its cost at the margin; `curvature` the second difference of
    profit per unit of budget squared (NaN for a forward difference).
    """

    budgets: dict[str, float]
    step: float
    slope: dict[str, np.ndarray]
    profit: dict[str, np.ndarray]
    curvature: dict[str, np.ndarray]


def marginal_roi(
    question: Question,
    plan: Plan,
    center: Sequence[ReplicateMetrics],
    *,
    seed: int,
    replicates: int,
    executor: Executor | None,
    on_done: Callable[[ReplicateMetrics], None] | None = None,
) -> tuple[dict[str, MarginalReturn], Margins]:
    """Each optimised channel's marginal return at `plan`, by finite differences on CRN.

    The return is d(objective metric)/d(budget): extra revenue (or profit, for the profit
    and ROI objectives; profit and customer equity for profit+equity) per extra unit of
    the channel's budget. `center` holds the plan's own replicates on the same seed.
    """
    metric = "profit" if question.objective == "roi" else question.objective
    budgets = {
        b.channel: float(plan.values[f"channels.{b.channel}.budget"])
        for b in question.space.budgets
    }
    if not budgets:
        return {}, Margins({}, 0.0, {}, {}, {})
    base = with_values(question.scenario, plan.values)
    step = 0.1 * sum(budgets.values()) / len(budgets)
    scenarios: list[Scenario] = []
    layout: list[tuple[str, bool]] = []
    for cid, budget in budgets.items():
        central = budget >= step
        scenarios.append(with_values(base, {f"channels.{cid}.budget": budget + step}))
        if central:
            scenarios.append(with_values(base, {f"channels.{cid}.budget": budget - step}))
        layout.append((cid, central))
    results = evaluate(
        scenarios,
        seed=seed,
        replicates=replicates,
        executor=executor,
        on_done=on_done,
        posterior=question.posterior,
    )

    def of(totals: Sequence[ReplicateMetrics], what: str) -> np.ndarray:
        return np.array([metric_value(t, what) for t in totals])

    out = {}
    margins = Margins(budgets, step, {}, {}, {})
    i = 0
    for cid, central in layout:
        up = results[i]
        down = results[i + 1] if central else None
        i += 2 if central else 1
        for what, into in ((metric, margins.slope), ("profit", margins.profit)):
            mid = of(center, what)
            if down is not None:
                into[cid] = (of(up, what) - of(down, what)) / (2 * step)
            else:
                into[cid] = (of(up, what) - mid) / step
        if down is not None:
            mid = of(center, "profit")
            margins.curvature[cid] = (of(up, "profit") - 2 * mid + of(down, "profit")) / step**2
        else:
            margins.curvature[cid] = np.full(len(up), math.nan)
        out[cid] = MarginalReturn(
            budget=budgets[cid],
            delta=step,
            difference="central" if central else "forward",
            metric=metric,
            **dict(describe(margins.slope[cid])),
        )
    return out, margins


def free_channels(question: Question, margins: Margins) -> list[str]:
    """Channels whose budget sits away from its bounds by more than the difference step."""
    out = []
    for b in question.space.budgets:
        x = margins.budgets[b.channel]
        if x - b.low > margins.step / 2 and (b.high is None or b.high - x > margins.step / 2):
            out.append(b.channel)
    return out


def convergence(question: Question, margins: Margins) -> Convergence:
    """At an optimum the free channels' marginal returns agree within their intervals.

    The highest and lowest among the free channels are compared replicate by replicate;
    an interval of their difference clear of zero means money moved from the lowest to
    the highest would still do better: the search has not converged.
    """
    free = free_channels(question, margins)
    if len(free) < 2:
        bound = "every channel's budget sits at a bound" if not free else f"only {free[0]} is free"
        return Convergence(
            converged=None,
            free=free,
            message=f"convergence not checked: {bound}, so marginal returns need not agree",
        )
    means = {c: float(np.mean(margins.slope[c])) for c in free}
    high, low = max(free, key=means.__getitem__), min(free, key=means.__getitem__)
    gap = describe(margins.slope[high] - margins.slope[low])
    lo, hi = gap.ci95_low, gap.ci95_high
    scale = max(abs(means[high]), abs(means[low]), 1.0)
    clear = lo is not None and hi is not None and lo > 1e-9 * scale
    figures = (
        f"marginal return of {high} {number(means[high], 'slope')} against {low} "
        f"{number(means[low], 'slope')}, a gap of {number(gap.mean, 'slope')} "
        f"(95% CI {interval(lo, hi, 'slope')}), no bound binding"
    )
    if clear:
        message = (
            f"not converged: run more trials (--trials): {figures}; moving money from {low} "
            f"to {high} would still pay"
        )
    else:
        message = f"converged: the free channels' marginal returns agree: {figures}"
    return Convergence(
        converged=not clear, free=free, highest=high, lowest=low, difference=gap, message=message
    )


def sizing(margins: Margins) -> Sizing | None:
    """Whether every channel still returns more than it costs at the margin, and how much more.

    Each channel's extra budget until its marginal profit reaches zero is its marginal
    profit over minus its curvature (a quadratic through the three points measured);
    their sum is the extra total that would still pay. Unknown when a curve is not
    bending down.
    """
    if not margins.profit:
        return None
    lows = {c: describe(v).ci95_low for c, v in margins.profit.items()}
    if not all(x is not None and x > 0 for x in lows.values()):
        losing = [c for c, v in margins.profit.items() if (describe(v).ci95_high or 0) < 0]
        if losing:
            names = ", ".join(losing)
            return Sizing(
                too_small=False,
                message=f"at the margin, less profit than cost from {names}: the plan spends "
                "more there than pays",
            )
        return Sizing(
            too_small=False,
            message="the total budget is not too small: some channel's marginal profit is "
            "not clearly above zero",
        )
    extra = 0.0
    for c, v in margins.profit.items():
        slope, bend = float(np.mean(v)), float(np.mean(margins.curvature[c]))
        if not math.isfinite(bend) or bend >= 0:
            extra = math.nan
            break
        extra += slope / -bend
    weakest = min(margins.profit, key=lambda c: float(np.mean(margins.profit[c])))
    head = (
        "every channel still returns more than it costs at the margin (the weakest, "
        f"{weakest}, {number(float(np.mean(margins.profit[weakest])), 'slope')} profit per "
        "extra unit of budget): the total budget is too small"
    )
    if math.isfinite(extra):
        return Sizing(
            too_small=True,
            extra=extra,
            message=f"{head}; about {number(extra)} more would still pay",
        )
    return Sizing(
        too_small=True,
        message=f"{head}; how much more cannot be told from the curves (not bending down "
        "yet): try a larger --total-budget",
    )


SIDE_EFFECTS = ("profit", "revenue", "customers_consumers", "customers_accounts", "customer_equity")
"""What the best plan is set against the baseline on, besides the objective."""


def side_effects(
    best: Sequence[ReplicateMetrics],
    base: Sequence[ReplicateMetrics],
    scenario: Scenario,
    objective: str,
) -> tuple[list[SideEffect], list[str]]:
    """The best plan against the baseline, paired, on customers, equity and each segment.

    Returns the comparisons and a sentence for each that is significantly worse (the
    objective itself aside: its uplift is reported on its own).
    """
    types = customer_types(scenario)
    wanted = [
        m
        for m in SIDE_EFFECTS
        if (not m.startswith("customers_") or m[10:] in types) and m != objective
    ]
    effects = []
    for m in wanted:
        x, y = [t.value(m) for t in base], [t.value(m) for t in best]
        effects.append(_effect(m, LABELS[m], x, y))
    if all(t.breakdown is not None for t in [*best, *base]):
        for seg in scenario.segments:
            for field in ("customers", "profit"):
                x = [t.breakdown.segment(field, seg.id) for t in base]  # type: ignore[union-attr]
                y = [t.breakdown.segment(field, seg.id) for t in best]  # type: ignore[union-attr]
                effects.append(_effect(f"{seg.id}.{field}", f"{field} in {seg.id}", x, y))
    losses = []
    for e in effects:
        if e.worse:
            kind = "count" if "customers" in e.metric else "amount"
            rel = (
                f" ({number(abs((e.difference.mean or 0) / e.baseline), 'ratio')})"
                if e.baseline
                else ""
            )
            losses.append(
                f"{e.label} falls by {number(-(e.difference.mean or 0), kind)}{rel} "
                f"(95% CI {interval(e.difference.ci95_low, e.difference.ci95_high, kind)})"
            )
    return effects, losses


def _effect(metric: str, label: str, base: Sequence[float], best: Sequence[float]) -> SideEffect:
    diff = describe(np.subtract(best, base))
    return SideEffect(
        metric=metric,
        label=label,
        baseline=float(np.mean(base)),
        best=float(np.mean(best)),
        difference=diff,
        worse=diff.ci95_high is not None and diff.ci95_high < 0,
    )


def response_curves(
    question: Question,
    plan: Plan,
    center: Sequence[ReplicateMetrics],
    *,
    points: int,
    seed: int,
    replicates: int,
    executor: Executor | None,
    on_done: Callable[[ReplicateMetrics], None] | None = None,
) -> pd.DataFrame:
    """Each optimised channel's budget varied over its range, the others at `plan`.

    One row per channel and point, with `chosen` true for the plan's own budget (its
    statistics from the first `replicates` of `center`, the same random streams). Each
    point also holds its paired difference from the chosen point on the objective metric
    (`<metric>_diff_mean`, `_diff_ci95_low`, `_diff_ci95_high`): every point shares the
    chosen point's random numbers, so the band is of the change, not of the market's
    replicate-to-replicate spread, and shows the curve's shape.
    """
    space = question.space
    if points < 1 or not space.budgets:
        return pd.DataFrame()
    base = with_values(question.scenario, plan.values)
    money = sum(float(plan.values[f"channels.{b.channel}.budget"]) for b in space.budgets)
    free = money - sum(b.low for b in space.budgets)
    specs: list[tuple[str, float]] = []
    scenarios = []
    for b in space.budgets:
        high = b.low + free if b.high is None else min(b.high, b.low + free)
        for x in np.linspace(b.low, high, points) if high > b.low else [b.low]:
            value = float(f"{x:.12g}")
            specs.append((b.channel, value))
            scenarios.append(with_values(base, {f"channels.{b.channel}.budget": value}))
    results = evaluate(
        scenarios,
        seed=seed,
        replicates=replicates,
        executor=executor,
        on_done=on_done,
        posterior=question.posterior,
    )
    metric = "profit" if question.objective == "roi" else question.objective
    mid = np.array([metric_value(t, metric) for t in center[:replicates]])
    rows = []
    for (c, x), totals in zip(specs, results, strict=True):
        diff = describe(np.array([metric_value(t, metric) for t in totals]) - mid)
        rows.append(
            {
                "channel": c,
                "budget": x,
                "chosen": False,
                f"{metric}_diff_mean": diff.mean,
                f"{metric}_diff_ci95_low": diff.ci95_low,
                f"{metric}_diff_ci95_high": diff.ci95_high,
            }
        )
    shown = headline(customer_types(question.scenario))
    frame = curve_frame(rows, results, shown)
    chosen_rows = []
    for b in space.budgets:
        x = float(plan.values[f"channels.{b.channel}.budget"])
        chosen_rows.append(
            {
                "channel": b.channel,
                "budget": x,
                "chosen": True,
                f"{metric}_diff_mean": 0.0,
                f"{metric}_diff_ci95_low": 0.0,
                f"{metric}_diff_ci95_high": 0.0,
            }
        )
    chosen = curve_frame(chosen_rows, [list(center[:replicates])] * len(chosen_rows), shown)
    frame = pd.concat([frame, chosen], ignore_index=True)
    order = {b.channel: i for i, b in enumerate(space.budgets)}
    frame["_order"] = frame["channel"].map(order)
    frame = frame.sort_values(["_order", "budget", "chosen"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- importance


def importances(study: optuna.Study) -> dict[str, float]:
    """How much each decision (budget, headcount, ...) explains the objective (PED-ANOVA).

    The raw split parameters mean little to a reader, so importance is computed over the
    decisions themselves: a copy of the completed trials with the decisions as parameters.
    Empty when too few trials or nothing varies.
    """
    results = [
        (t, trial_result(t))
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ]
    done = [t for t, r in results if r is not None]
    decisions = [r.decision for _, r in results if r is not None]
    if len(done) < 4:
        return {}
    names = [k for k in decisions[0] if all(k in d for d in decisions)]
    dists: dict[str, BaseDistribution] = {}
    for name in names:
        column = [d[name] for d in decisions]
        if isinstance(column[0], str):
            choices = tuple(sorted(set(column)))
            if len(choices) > 1:
                dists[name] = CategoricalDistribution(choices)
        elif all(isinstance(v, int) for v in column):
            low, high = min(column), max(column)
            if high > low:
                dists[name] = IntDistribution(int(low), int(high))
        else:
            low, high = float(min(column)), float(max(column))
            if high > low:
                dists[name] = FloatDistribution(low, high)
    if not dists:
        return {}
    copy = optuna.create_study(direction=study.directions[0])
    for t, d in zip(done, decisions, strict=True):
        copy.add_trial(
            optuna.trial.create_trial(
                params={k: d[k] for k in dists},
                distributions=dists,
                value=t.values[0],
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = optuna.importance.get_param_importances(copy)
    except Exception:  # too few distinct values for the evaluator: no importance to show
        return {}
    return {k: float(v) for k, v in result.items() if math.isfinite(v)}


def describe_run(totals: Sequence[ReplicateMetrics], scenario: Scenario) -> dict[str, Stats]:
    """Headline metrics of re-evaluated replicates, customers per kind `scenario` has."""
    return describe_metrics(totals, headline(customer_types(scenario)))
