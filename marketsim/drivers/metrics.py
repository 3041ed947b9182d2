"""Every per-replicate metric, defined once, for summaries, comparisons and the optimiser.

A run's summary, a comparison, a sweep, a channel's contribution and the optimiser's
objective are all computed from these.

Each metric is a number per replicate, from that replicate's timeseries rows:

- revenue, profit, spend, units: totals over the horizon (spend is marketing spend plus
  the sales organisation's costs);
- customers: customers at the end of the horizon (a b2b account counts once), and
  `customers_consumers` / `customers_accounts` the same for each kind of customer;
- roi (total ROI): profit / (spend + commissions + cost of goods), what every unit of
  money put into the market returned over and above itself;
- marketing_roi: (revenue - cost of goods - marketing spend) / marketing spend, the
  gross margin each unit of marketing money brought in beyond its own cost;
- cost_per_consumer / cost_per_account: the acquisition cost of that kind of customer
  (the marketing spend that reached it plus the sales costs and commissions of its
  segments) over the new customers of that kind won;
- win_rate: deals won / deals decided by the sales team (won, lost to a competitor or
  to no decision, opportunities that stalled past `max_cycle` included);
- and the total over the horizon of every other counted column (`SUMMED`).

A ratio whose denominator is zero is undefined (NaN), never infinite.

Consumers and accounts are never pooled in a table or a comparison: `headline` and
`compared` list the per-kind metrics for the kinds a scenario has.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from marketsim.drivers.records import Stats
from marketsim.drivers.stats import describe
from marketsim.engine.ledger import PIPELINE, TYPES
from marketsim.scenario.schema import Scenario

HEADLINE: tuple[str, ...] = ("revenue", "profit", "spend", "units", "customers", "roi")
"""The metrics summary.json reports first, in this order (the output contract)."""

PER_TYPE = ("customers", "new", "revenue", "acquisition_cost")
"""Timeseries columns kept per kind of customer: `<column>_consumers`, `<column>_accounts`."""

SUMMED: tuple[str, ...] = (
    "new_customers",
    "new_leads",
    "visits",
    "lapsed",
    "marketing_spend",
    "sales_cost",
    "commissions",
    "refunds",
    "cost_of_goods",
    *(f"{column}_{kind}" for column in PER_TYPE[1:] for kind in TYPES),
    *PIPELINE,
)
"""Timeseries columns whose total over the horizon is a metric too."""

LOWER_IS_BETTER = frozenset({"cost_per_consumer", "cost_per_account"})
"""Metrics where a decrease is an improvement."""

LABELS = {
    "revenue": "revenue",
    "profit": "profit",
    "spend": "spend",
    "units": "units",
    "customers": "customers",
    "customers_consumers": "customers (consumers)",
    "customers_accounts": "customers (accounts)",
    "revenue_consumers": "revenue (consumers)",
    "revenue_accounts": "revenue (accounts)",
    "roi": "total ROI",
    "marketing_roi": "marketing ROI",
    "cost_per_consumer": "cost per consumer won",
    "cost_per_account": "cost per account won",
    "win_rate": "win rate",
}
"""What each metric is called in tables and figures."""

RATIOS = frozenset({"roi", "marketing_roi", "win_rate"})
"""Metrics shown as a percentage."""


def kind_of(metric: str) -> str:
    """How to format `metric` (see `marketsim.core.format.number`)."""
    return "ratio" if metric in RATIOS else "amount"


def customer_types(scenario: Scenario) -> tuple[str, ...]:
    """The kinds of customer a scenario has, in `TYPES` order: consumers, accounts or both."""
    return joint_types(
        [["consumers" if seg.kind == "b2c" else "accounts"] for seg in scenario.segments]
    )


def joint_types(groups: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """Every kind of customer in any of `groups` (say, the strategies of a comparison)."""
    kinds = {kind for group in groups for kind in group}
    return tuple(kind for kind in TYPES if kind in kinds)


def headline(types: Sequence[str]) -> tuple[str, ...]:
    """The metrics a run's table and report show first, per kind of customer in `types`."""
    return (
        "revenue",
        "profit",
        "spend",
        "units",
        *(f"customers_{kind}" for kind in types),
        *cost_per(types),
        *(("win_rate",) if "accounts" in types else ()),
        "roi",
        "marketing_roi",
    )


def compared(types: Sequence[str]) -> tuple[str, ...]:
    """The metrics a comparison tests for customers of the kinds in `types`, in report order."""
    return (
        "revenue",
        "profit",
        "roi",
        "marketing_roi",
        "units",
        *(f"customers_{kind}" for kind in types),
        *(f"revenue_{kind}" for kind in types if len(types) > 1),
        *cost_per(types),
        *(("win_rate",) if "accounts" in types else ()),
    )


def cost_per(types: Sequence[str]) -> tuple[str, ...]:
    """The acquisition cost metric of each kind of customer in `types`."""
    names = {"consumers": "cost_per_consumer", "accounts": "cost_per_account"}
    return tuple(names[kind] for kind in types)


@dataclass(frozen=True)
class ReplicateMetrics:
    """One replicate's metrics (NaN where undefined)."""

    revenue: float
    profit: float
    spend: float
    units: float
    customers: float
    customers_consumers: float
    customers_accounts: float
    roi: float
    marketing_roi: float
    cost_per_consumer: float
    cost_per_account: float
    win_rate: float
    sums: dict[str, float]
    """Total over the horizon of every column of `SUMMED`."""

    def value(self, metric: str) -> float:
        """The value of `metric`, a field or a summed column."""
        if metric in FIELDS:
            return float(getattr(self, metric))
        if metric in self.sums:
            return self.sums[metric]
        raise KeyError(f"no metric {metric!r}; metrics: {', '.join(ALL)}")


FIELDS = (
    *HEADLINE,
    "customers_consumers",
    "customers_accounts",
    "marketing_roi",
    "cost_per_consumer",
    "cost_per_account",
    "win_rate",
)
"""The metrics `ReplicateMetrics` holds as fields (the rest are `SUMMED` totals)."""

ALL: tuple[str, ...] = (*FIELDS, *SUMMED)
"""Every metric, in summary.json's order."""


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def of_replicate(frame: pd.DataFrame) -> ReplicateMetrics:
    """The metrics of one replicate from its timeseries rows, in step order."""
    sums = {column: float(frame[column].sum()) for column in SUMMED}
    revenue = float(frame["revenue"].sum())
    spend = float(frame["spend"].sum())
    profit = float(frame["profit"].sum())
    marketing = sums["marketing_spend"]
    invested = spend + sums["commissions"] + sums["cost_of_goods"]
    decided = sums["deals_won"] + sums["deals_lost"]
    last = frame.iloc[-1]
    return ReplicateMetrics(
        revenue=revenue,
        profit=profit,
        spend=spend,
        units=float(frame["units"].sum()),
        customers=float(last["customers"]),
        customers_consumers=float(last["customers_consumers"]),
        customers_accounts=float(last["customers_accounts"]),
        roi=_ratio(profit, invested),
        marketing_roi=_ratio(revenue - sums["cost_of_goods"] - marketing, marketing),
        cost_per_consumer=_ratio(sums["acquisition_cost_consumers"], sums["new_consumers"]),
        cost_per_account=_ratio(sums["acquisition_cost_accounts"], sums["new_accounts"]),
        win_rate=_ratio(sums["deals_won"], decided),
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
    metrics: Sequence[str] = ALL,
) -> dict[str, Stats]:
    """Each metric's mean and 95% interval over the replicates where it is defined.

    A replicate that won no account has no cost per account; the others still say what
    one cost. A metric defined in no replicate is undefined (all None).
    """
    out = {}
    for metric in metrics:
        out[metric] = describe([x for x in values(replicates, metric) if math.isfinite(x)])
    return out
