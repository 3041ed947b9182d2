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
  difference against the baseline in one comparison: (strategies - 1) × 6 metrics tests.
  A difference is *significant* when its Holm-adjusted p-value is below `alpha` (0.05),
  which keeps the chance of any false positive in the whole table at most 5%.

When all paired differences are equal the t-test is undefined: a zero difference
gets p = 1 (comparing a strategy with itself is never significant), a constant non-zero
difference (a deterministic effect) gets p = 0.

Metrics per replicate, from its timeseries:

- revenue, profit, units: totals over the horizon;
- customers: customers at the end of the horizon;
- roi: profit / spend (undefined without spend);
- cost_per_acquisition: (spend + commissions) / new customers won over the horizon,
  where spend is marketing spend plus the sales organisation's costs (undefined when no
  customer was won).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from marketsim.drivers.stats import describe

if TYPE_CHECKING:
    from marketsim.drivers.execution import Executor
    from marketsim.drivers.results import Result
    from marketsim.scenario.schema import Scenario

METRICS: tuple[str, ...] = (
    "revenue",
    "profit",
    "roi",
    "units",
    "customers",
    "cost_per_acquisition",
)
"""The metrics compared, in report order."""

LOWER_IS_BETTER = frozenset({"cost_per_acquisition"})
"""Metrics where a negative difference is an improvement."""

ALPHA = 0.05


def replicate_metrics(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Every metric of `METRICS` per replicate (index: replicate, sorted).

    `timeseries` is a run's timeseries (as in timeseries.csv); it needs the columns
    replicate, step, revenue, profit, spend, units, customers, new_customers and
    (when there is a sales organisation) commissions.
    """
    frame = timeseries.sort_values(["replicate", "step"], kind="stable")
    by = frame.groupby("replicate", sort=True)
    revenue = by["revenue"].sum()
    profit = by["profit"].sum()
    spend = by["spend"].sum()
    commissions = by["commissions"].sum() if "commissions" in frame else spend * 0.0
    new_customers = by["new_customers"].sum()
    out = pd.DataFrame(
        {
            "revenue": revenue,
            "profit": profit,
            "roi": profit / spend.where(spend > 0),
            "units": by["units"].sum().astype(float),
            "customers": by["customers"].last().astype(float),
            "cost_per_acquisition": (spend + commissions) / new_customers.where(new_customers > 0),
        }
    )
    return out.astype(float)


def paired_difference(baseline: Sequence[float], other: Sequence[float]) -> dict[str, Any]:
    """Mean of `other - baseline` over the replicates, its 95% CI and the paired t-test.

    Pairs where either value is undefined (NaN) are left out; `n` says how many were used.
    Returns `mean`, `std`, `ci95_low`, `ci95_high`, `relative` (mean difference over the
    baseline mean of the pairs used), `relative_ci95_low/high` (the interval over the same
    baseline mean, taken as fixed), `t`, `p_value` and `n`; values that cannot be computed
    are None.
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
    out: dict[str, Any] = {
        "n": n,
        "mean": None,
        "std": None,
        "ci95_low": None,
        "ci95_high": None,
        "relative": None,
        "relative_ci95_low": None,
        "relative_ci95_high": None,
        "t": None,
        "p_value": None,
    }
    if n == 0:
        return out
    mean = float(d.mean())
    out["mean"] = mean
    if n >= 2:
        std = float(d.std(ddof=1))
        out["std"] = std
        if std > 0:
            half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
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
        if out["ci95_low"] is not None:
            out["relative_ci95_low"] = out["ci95_low"] / abs(base)
            out["relative_ci95_high"] = out["ci95_high"] / abs(base)
    return out


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


def compare_values(
    names: Sequence[str],
    values: Sequence[pd.DataFrame],
    *,
    alpha: float = ALPHA,
) -> dict[str, Any]:
    """The statistics of a comparison, from each strategy's per-replicate metrics.

    Args:
        names: strategy names; the first is the baseline.
        values: per strategy, `replicate_metrics` of its run (same replicates, in order).
        alpha: significance level of the Holm-corrected tests.

    Returns:
        `{"alpha", "correction", "family", "metrics": {metric: {name: describe(...)}},
        "differences": [one record per (strategy, metric), strategy-major]}`; each
        difference has the fields of `paired_difference` plus `strategy`, `metric`,
        `p_holm`, `significant` and `better` (True/False when significant, else None).

    """
    if not 0 < alpha < 1:
        raise ValueError(f"`0 < alpha < 1` must hold, but got {alpha=}")
    if len(names) != len(values) or len(names) < 2:
        raise ValueError(
            f"a comparison needs two or more strategies with one table of values each, "
            f"but got {len(names)} names and {len(values)} tables"
        )
    base = values[0]
    for name, frame in zip(names, values, strict=True):
        if list(frame.index) != list(base.index):
            raise ValueError(
                f"strategy {name!r} has replicates {list(frame.index)}, "
                f"but the baseline has {list(base.index)}: they must be paired"
            )
    metrics = {
        metric: {
            name: describe(frame[metric].dropna().to_numpy())
            for name, frame in zip(names, values, strict=True)
        }
        for metric in METRICS
    }
    differences = []
    for name, frame in zip(names[1:], values[1:], strict=True):
        for metric in METRICS:
            diff = paired_difference(base[metric].to_numpy(), frame[metric].to_numpy())
            differences.append({"strategy": name, "metric": metric, **diff})
    adjusted = holm([d["p_value"] for d in differences])
    for diff, p in zip(differences, adjusted, strict=True):
        significant = p is not None and p < alpha
        diff["p_holm"] = p
        diff["significant"] = significant
        improved = diff["mean"] is not None and (
            diff["mean"] < 0 if diff["metric"] in LOWER_IS_BETTER else diff["mean"] > 0
        )
        diff["better"] = improved if significant else None
    tests = sum(p is not None for p in adjusted)
    return {
        "alpha": alpha,
        "correction": "holm",
        "family": (
            f"every (strategy, metric) difference against the baseline: "
            f"{len(names) - 1} {'strategy' if len(names) == 2 else 'strategies'} x "
            f"{len(METRICS)} metrics, {tests} defined tests"
        ),
        "metrics": metrics,
        "differences": differences,
    }


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
        record: what comparison.json holds (see `comparison_record`).

    """

    strategies: tuple[Strategy, ...]
    results: tuple[Result, ...]
    record: dict[str, Any]


def strategy_names(scenario_names: Sequence[str], files: Sequence[str]) -> list[str]:
    """Unique display names: the scenario name, else the file name, else numbered."""
    from pathlib import PurePath

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
    import re

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
    progress: Callable[[int], None] | None = None,
    alpha: float = ALPHA,
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

    """
    from marketsim.drivers.simulation import simulate

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
        simulate(s.scenario, seed=seed, replicates=replicates, executor=executor, progress=progress)
        for s in strategies
    )
    record = comparison_record(strategies, results, alpha=alpha)
    return Comparison(tuple(strategies), results, record)


def comparison_record(
    strategies: Sequence[Strategy], results: Sequence[Result], *, alpha: float = ALPHA
) -> dict[str, Any]:
    """What comparison.json holds: settings, strategies, statistics, per-replicate values."""
    from marketsim.io.output import jsonable

    names = [s.name for s in strategies]
    values = [replicate_metrics(r.timeseries) for r in results]
    first = results[0]
    record = {
        "kind": "comparison",
        "baseline": names[0],
        "seed": first.seed,
        "replicates": first.replicates,
        "horizon": first.scenario.horizon,
        "step": first.scenario.step,
        "strategies": [
            {
                "name": s.name,
                "scenario": s.scenario.name,
                "file": s.file,
                "dir": strategy_dir(i, s.name),
            }
            for i, s in enumerate(strategies)
        ],
        **compare_values(names, values, alpha=alpha),
        "per_replicate": {
            name: {metric: frame[metric].tolist() for metric in METRICS}
            for name, frame in zip(names, values, strict=True)
        },
    }
    return jsonable(record)


def comparison_table(record: dict[str, Any]) -> pd.DataFrame:
    """comparison.csv: one row per strategy and metric, the baseline's rows first."""
    diffs = {(d["strategy"], d["metric"]): d for d in record["differences"]}
    rows = []
    for strategy in record["strategies"]:
        name = strategy["name"]
        for metric in METRICS:
            stats = record["metrics"][metric][name]
            diff = diffs.get((name, metric), {})
            rows.append(
                {
                    "strategy": name,
                    "baseline": name == record["baseline"],
                    "metric": metric,
                    "mean": stats["mean"],
                    "ci95_low": stats["ci95_low"],
                    "ci95_high": stats["ci95_high"],
                    "diff_mean": diff.get("mean"),
                    "diff_ci95_low": diff.get("ci95_low"),
                    "diff_ci95_high": diff.get("ci95_high"),
                    "diff_relative": diff.get("relative"),
                    "p_value": diff.get("p_value"),
                    "p_holm": diff.get("p_holm"),
                    "significant": diff.get("significant"),
                    "n_pairs": diff.get("n"),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- files


def write_comparison_json(comparison: Comparison, path: Any) -> None:
    """comparison.json: the comparison record, indented, null for undefined values."""
    import json

    text = json.dumps(comparison.record, indent=2, allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_comparison_csv(comparison: Comparison, path: Any) -> None:
    """comparison.csv: one row per strategy and metric (see `comparison_table`)."""
    comparison_table(comparison.record).to_csv(
        path, index=False, lineterminator="\n", encoding="utf-8"
    )


def output_files(comparison: Comparison) -> list[Any]:
    """The files `marketsim compare` writes, for `marketsim.io.output.write_run`.

    comparison.json and comparison.csv, every strategy's run files (without its own
    report) under `strategies/<n>-<name>/`, and report.html last.
    """
    from marketsim.io import output
    from marketsim.report.compare_report import write_compare_report

    files = [
        output.OutputFile("comparison.json", write_comparison_json),
        output.OutputFile("comparison.csv", write_comparison_csv),
    ]
    for i, strategy in enumerate(comparison.record["strategies"]):
        for run_file in output.RUN_FILES:
            if run_file.name == "report.html":
                continue
            files.append(
                output.OutputFile(
                    f"{strategy['dir']}/{run_file.name}",
                    lambda c, path, f=run_file, i=i: f.write(c.results[i], path),
                    applies=lambda c, f=run_file, i=i: f.applies(c.results[i]),
                )
            )
    files.append(output.OutputFile("report.html", write_compare_report))
    return files
