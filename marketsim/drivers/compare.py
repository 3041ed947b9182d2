"""Strategy comparison on common random numbers: paired differences with honest intervals.

Every strategy (scenario) is simulated with the same seed and replicate indices, so
replicate r of every strategy draws from the same random streams. The difference
between strategy k and the baseline (the first strategy) is therefore measured pair by
pair, d_r = x_{k,r} - x_{0,r}, which removes most of the noise the strategies share.

For each metric and each strategy other than the baseline:

- the mean paired difference with a Student-t 95% confidence interval
  (mean ± t_{0.975, n-1} · sd / √n over the n replicates where both values are defined);
- a two-sided paired t-test p-value (`scipy.stats.ttest_rel`);
- a Holm-adjusted p-value. The family corrected together is every (strategy, metric)
  difference against the baseline in one comparison: (strategies - 1) × metrics tests.
  A difference is *significant* when its Holm-adjusted p-value is below `alpha` (0.05),
  which keeps the chance of any false positive in the whole table at most 5%.

When all paired differences are equal the t-test is undefined: a zero difference
gets p = 1 (comparing a strategy with itself is never significant), a constant non-zero
difference (a deterministic effect) gets p = 0.

The metrics compared are `marketsim.drivers.metrics.compared`, for the kinds of customer
the strategies have: consumers and accounts are compared apart, never pooled.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from marketsim.drivers import metrics
from marketsim.drivers.contribution import (
    Increments,
    contributions,
    increments,
    with_contributions,
)
from marketsim.drivers.decompose import DECOMPOSED, decompose
from marketsim.drivers.execution import Executor, Progress
from marketsim.drivers.metrics import LOWER_IS_BETTER, ReplicateMetrics
from marketsim.drivers.posterior import Draws
from marketsim.drivers.records import (
    ComparisonRecord,
    Difference,
    PairedDifference,
    Stats,
    StrategyEntry,
)
from marketsim.drivers.results import Result
from marketsim.drivers.simulation import simulate
from marketsim.drivers.stats import t_quantile
from marketsim.scenario.schema import Scenario

ALPHA = 0.05


def paired_difference(baseline: Sequence[float], other: Sequence[float]) -> PairedDifference:
    """Mean of `other - baseline` over the replicates, its 95% CI and the paired t-test.

    Pairs where either value is undefined (NaN) are left out; `n` says how many were used.
    `relative` is the mean difference over the baseline mean of the pairs used, and
    `relative_ci95_low/high` the interval over the same baseline mean, taken as fixed.
    Values that cannot be computed are None.
    """
    from scipy import stats

    x = np.asarray(baseline, dtype=np.float64)
    y = np.asarray(other, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"paired samples need equal lengths, but got {x.size=} and {y.size=}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    d = y - x
    n = int(d.size)
    if n == 0:
        return PairedDifference(n=0)
    mean = float(d.mean())
    out: dict[str, Any] = {"n": n, "mean": mean}
    if n >= 2:
        std = float(d.std(ddof=1))
        out["std"] = std
        if std > 0:
            half = t_quantile(n - 1) * std / math.sqrt(n)
            test = stats.ttest_rel(y, x)
            out.update(
                ci95_low=mean - half,
                ci95_high=mean + half,
                t=float(test.statistic),
                p_value=float(test.pvalue),
            )
        else:  # every pair differs by exactly the same amount
            out.update(ci95_low=mean, ci95_high=mean, p_value=1.0 if mean == 0 else 0.0)
    base = float(x.mean())
    if base != 0:
        out["relative"] = mean / abs(base)
        if "ci95_low" in out:
            out["relative_ci95_low"] = out["ci95_low"] / abs(base)
            out["relative_ci95_high"] = out["ci95_high"] / abs(base)
    return PairedDifference(**out)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values; None (an undefined test) stays None, uncounted."""
    indexed = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class Statistics:
    """What a comparison concludes, before the run settings are added."""

    alpha: float
    family: str
    metrics: dict[str, dict[str, Stats]]
    differences: list[Difference]


def compare_values(
    names: Sequence[str],
    values: Sequence[Sequence[ReplicateMetrics]],
    compared: Sequence[str],
    *,
    alpha: float = ALPHA,
) -> Statistics:
    """The statistics of a comparison, from each strategy's per-replicate metrics.

    Args:
        names: strategy names; the first is the baseline.
        values: per strategy, its replicates' metrics (same replicates, in order).
        compared: the metrics to compare (see `marketsim.drivers.metrics.compared`).
        alpha: significance level of the Holm-corrected tests.

    Returns:
        Every metric's description per strategy and one difference per (strategy, metric)
        against the baseline, strategy-major, with its Holm-adjusted p-value, whether it
        is significant and, when it is, whether it is better.

    """
    if not 0 < alpha < 1:
        raise ValueError(f"`0 < alpha < 1` must hold, but got {alpha=}")
    if len(names) != len(values) or len(names) < 2:
        raise ValueError(
            f"a comparison needs two or more strategies with one table of values each, "
            f"but got {len(names)} names and {len(values)} tables"
        )
    base = values[0]
    for name, reps in zip(names, values, strict=True):
        if len(reps) != len(base):
            raise ValueError(
                f"strategy {name!r} has {len(reps)} replicates, but the baseline has "
                f"{len(base)}: they must be paired"
            )
    described = {
        name: metrics.describe_metrics(reps, compared)
        for name, reps in zip(names, values, strict=True)
    }
    paired = [
        (
            name,
            metric,
            paired_difference(metrics.values(base, metric), metrics.values(reps, metric)),
        )
        for name, reps in zip(names[1:], values[1:], strict=True)
        for metric in compared
    ]
    adjusted = holm([d.p_value for _, _, d in paired])
    differences = []
    for (name, metric, diff), p in zip(paired, adjusted, strict=True):
        significant = p is not None and p < alpha
        improved = diff.mean is not None and (
            diff.mean < 0 if metric in LOWER_IS_BETTER else diff.mean > 0
        )
        differences.append(
            Difference(
                strategy=name,
                metric=metric,
                **diff.model_dump(),
                p_holm=p,
                significant=significant,
                better=improved if significant else None,
            )
        )
    tests = sum(p is not None for p in adjusted)
    return Statistics(
        alpha=alpha,
        family=(
            f"every (strategy, metric) difference against the baseline: "
            f"{len(names) - 1} {'strategy' if len(names) == 2 else 'strategies'} x "
            f"{len(compared)} metrics, {tests} defined tests"
        ),
        metrics={m: {name: described[name][m] for name in names} for m in compared},
        differences=differences,
    )


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Strategy:
    """One strategy of a comparison: its display name, file and scenario."""

    name: str
    file: str
    scenario: Scenario


@dataclass(frozen=True)
class Comparison:
    """Outcome of `compare`: every strategy's run and the comparison record.

    Attributes:
        strategies: the strategies, baseline first.
        results: each strategy's run, in the same order.
        record: what comparison.json holds.

    """

    strategies: tuple[Strategy, ...]
    results: tuple[Result, ...]
    record: ComparisonRecord


def strategy_names(scenario_names: Sequence[str], files: Sequence[str]) -> list[str]:
    """Unique display names: the scenario name, else the file name, else numbered."""
    names = list(scenario_names)
    if len(set(names)) < len(names):
        counts = {n: names.count(n) for n in names}
        names = [
            n if counts[n] == 1 else PurePath(f).stem for n, f in zip(names, files, strict=True)
        ]
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return unique


def strategy_dir(index: int, name: str) -> str:
    """Sub-directory of strategy `index` (0-based) in a comparison's output directory."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "strategy"
    return f"strategies/{index + 1}-{slug}"


def check_alignment(scenarios: Sequence[Scenario], files: Sequence[str]) -> list[str]:
    """Problems that stop scenarios from being compared step by step (horizon, step)."""
    first = scenarios[0]
    problems = []
    for file, scenario in zip(files[1:], scenarios[1:], strict=True):
        if (scenario.horizon, scenario.step) != (first.horizon, first.step):
            problems.append(
                f"{file}: horizon {scenario.horizon} {scenario.step}s, but the baseline "
                f"{files[0]} has horizon {first.horizon} {first.step}s; strategies are "
                "compared step by step on the same calendar, so horizon and step must match"
            )
    return problems


def compare(
    strategies: Sequence[Strategy],
    *,
    seed: int | None = None,
    replicates: int = 10,
    executor: Executor | None = None,
    progress: Progress | None = None,
    alpha: float = ALPHA,
    contribution: bool = False,
    posterior: Draws | None = None,
) -> Comparison:
    """Simulate every strategy on the same random streams and compare them to the first.

    Args:
        strategies: two or more; the first is the baseline. Horizons and steps must match.
        seed: one seed for every strategy (default: the baseline scenario's seed).
        replicates: replicates per strategy, at least 2; replicate r of each strategy uses
            the same random streams.
        executor: where replicates run (see `marketsim.drivers.execution`).
        progress: called with the number of steps just completed.
        alpha: significance level after the Holm correction.
        contribution: also measure every strategy's channel increments, so differences
            are taken apart by channel on them rather than on attribution.
        posterior: replicate r of every strategy runs on the posterior's draw r, so the
            differences stay paired and their intervals include what the data leave open.

    """
    if len(strategies) < 2:
        raise ValueError(f"a comparison needs two or more strategies, but got {len(strategies)}")
    if replicates < 2:
        raise ValueError(
            f"`replicates >= 2` must hold for a paired comparison, but got {replicates=}"
        )
    problems = check_alignment([s.scenario for s in strategies], [s.file for s in strategies])
    if problems:
        raise ValueError("\n".join(problems))
    seed = strategies[0].scenario.seed if seed is None else seed
    results = tuple(
        simulate(
            s.scenario,
            seed=seed,
            replicates=replicates,
            executor=executor,
            progress=progress,
            posterior=posterior,
        )
        for s in strategies
    )
    found = None
    if contribution:
        found = [increments(r, executor=executor, progress=progress) for r in results]
        results = tuple(
            with_contributions(r, contributions(f)) for r, f in zip(results, found, strict=True)
        )
    record = comparison_record(strategies, results, alpha=alpha, increments=found)
    return Comparison(tuple(strategies), results, record)


def comparison_record(
    strategies: Sequence[Strategy],
    results: Sequence[Result],
    *,
    alpha: float = ALPHA,
    increments: Sequence[Increments] | None = None,
) -> ComparisonRecord:
    """What comparison.json holds: settings, strategies, statistics, per-replicate values.

    Every significant revenue and profit difference is taken apart (`decompose`), by
    channel on the measured `increments` (one per strategy) when given.
    """
    names = [s.name for s in strategies]
    values = [r.metrics() for r in results]
    first = results[0]
    types = metrics.joint_types(metrics.customer_types(s.scenario) for s in strategies)
    compared = metrics.compared(types)
    found = compare_values(names, values, compared, alpha=alpha)
    return ComparisonRecord(
        baseline=names[0],
        seed=first.seed,
        replicates=first.replicates,
        horizon=first.scenario.horizon,
        step=first.scenario.step,
        strategies=[
            StrategyEntry(
                name=s.name, scenario=s.scenario.name, file=s.file, dir=strategy_dir(i, s.name)
            )
            for i, s in enumerate(strategies)
        ],
        alpha=found.alpha,
        correction="holm",
        family=found.family,
        metrics=found.metrics,
        differences=found.differences,
        decompositions=[
            decompose(
                d.strategy,
                d.metric,
                d,
                results[0],
                results[names.index(d.strategy)],
                None
                if increments is None
                else (increments[0], increments[names.index(d.strategy)]),
            )
            for d in found.differences
            if d.metric in DECOMPOSED and d.significant
        ],
        per_replicate={
            name: {m: [_finite(x) for x in metrics.values(reps, m)] for m in compared}
            for name, reps in zip(names, values, strict=True)
        },
        posterior=first.summary.posterior,
    )


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
