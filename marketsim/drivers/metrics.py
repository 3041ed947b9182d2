"""Every per-replicate metric, defined once, for summaries, comparisons and the optimiser.

A run's summary, a comparison, a sweep, a channel's contribution and the optimiser's
objective are all computed from these.

Each metric is a number per replicate, from that replicate's timeseries rows:

- revenue, profit, spend, units: totals over the horizon (spend is marketing spend plus
  the sales organisation's costs);
- customers: customers at the end of the horizon (a b2b account counts once);
- roi: profit / spend (undefined, NaN, without spend);
- cost_per_acquisition: (spend + commissions) / new customers won over the horizon
  (undefined when no customer was won);
- and the total over the horizon of every other counted column (`SUMMED`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from marketsim.drivers.records import Stats
from marketsim.drivers.stats import describe
from marketsim.engine.ledger import PIPELINE

HEADLINE: tuple[str, ...] = ("revenue", "profit", "spend", "units", "customers", "roi")
"""The metrics every run reports first, in this order."""

SUMMED: tuple[str, ...] = (
    "new_customers",
    "new_leads",
    "marketing_spend",
    "sales_cost",
    "commissions",
    "refunds",
    "cost_of_goods",
    *PIPELINE,
)
"""Timeseries columns whose total over the horizon is a metric too."""

COMPARED: tuple[str, ...] = (
    "revenue",
    "profit",
    "roi",
    "units",
    "customers",
    "cost_per_acquisition",
)
"""The metrics a comparison tests, in report order."""

LOWER_IS_BETTER = frozenset({"cost_per_acquisition"})
"""Metrics where a decrease is an improvement."""

LABELS = {
    "revenue": "revenue",
    "profit": "profit",
    "spend": "spend",
    "units": "units",
    "customers": "customers",
    "roi": "ROI",
    "cost_per_acquisition": "cost per acquisition",
}
"""What each metric is called in tables and figures."""

RATIOS = frozenset({"roi"})
"""Metrics shown as a percentage."""


def kind_of(metric: str) -> str:
    """How to format `metric` (see `marketsim.core.format.number`)."""
    return "ratio" if metric in RATIOS else "amount"


@dataclass(frozen=True)
class ReplicateMetrics:
    """One replicate's metrics (NaN where undefined)."""

    revenue: float
    profit: float
    spend: float
    units: float
    customers: float
    roi: float
    cost_per_acquisition: float
    sums: dict[str, float]
    """Total over the horizon of every column of `SUMMED`."""

    def value(self, metric: str) -> float:
        """The value of `metric`, a field or a summed column."""
        if metric in _FIELDS:
            return float(getattr(self, metric))
        if metric in self.sums:
            return self.sums[metric]
        raise KeyError(f"no metric {metric!r}; metrics: {', '.join(ALL)}")


_FIELDS = (*HEADLINE, "cost_per_acquisition")
ALL: tuple[str, ...] = (*_FIELDS, *SUMMED)
"""Every metric."""

SUMMARIZED: tuple[str, ...] = (*HEADLINE, *SUMMED)
"""The metrics of summary.json, in its order."""


def of_replicate(frame: pd.DataFrame) -> ReplicateMetrics:
    """The metrics of one replicate from its timeseries rows, in step order."""
    revenue = float(frame["revenue"].sum())
    spend = float(frame["spend"].sum())
    profit = float(frame["profit"].sum())
    sums = {column: float(frame[column].sum()) for column in SUMMED}
    won = sums["new_customers"]
    return ReplicateMetrics(
        revenue=revenue,
        profit=profit,
        spend=spend,
        units=float(frame["units"].sum()),
        customers=float(frame["customers"].iloc[-1]),
        roi=profit / spend if spend > 0 else math.nan,
        cost_per_acquisition=(spend + sums["commissions"]) / won if won > 0 else math.nan,
        sums=sums,
    )


def of_run(timeseries: pd.DataFrame) -> list[ReplicateMetrics]:
    """Every replicate's metrics from a run's timeseries (as in timeseries.csv), in order."""
    frame = timeseries.sort_values(["replicate", "step"], kind="stable")
    return [of_replicate(rows) for _, rows in frame.groupby("replicate", sort=True)]


def values(replicates: Iterable[ReplicateMetrics], metric: str) -> list[float]:
    """`metric` of every replicate."""
    return [r.value(metric) for r in replicates]


def describe_metrics(
    replicates: Sequence[ReplicateMetrics],
    metrics: Sequence[str] = SUMMARIZED,
    *,
    defined_only: bool = False,
) -> dict[str, Stats]:
    """Each metric's mean and 95% interval over the replicates.

    A metric undefined in some replicate (ROI without spend) is undefined as a whole,
    unless `defined_only`, which describes it over the replicates where it is defined.
    """
    out = {}
    for metric in metrics:
        xs = values(replicates, metric)
        out[metric] = describe([x for x in xs if math.isfinite(x)] if defined_only else xs)
    return out
