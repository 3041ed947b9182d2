"""What a simulation returns: the timeseries of every replicate and a summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from marketsim.drivers.stats import describe
from marketsim.engine.ledger import INVOLVEMENT, PIPELINE, Ledger
from marketsim.scenario.schema import Scenario

HEADLINE = ("revenue", "profit", "spend", "units", "customers", "roi")
SUMMED = (
    "new_customers",
    "new_leads",
    "marketing_spend",
    "sales_cost",
    "commissions",
    "refunds",
    "cost_of_goods",
    *PIPELINE,
)


@dataclass(frozen=True)
class Result:
    """Outcome of `simulate`.

    Attributes:
        scenario: the scenario simulated.
        seed: the seed used.
        timeseries: one row per replicate and step.
        summary: headline metrics with 95% intervals, per channel and per segment.
        agents: one row per replicate and rep or broker (empty without a sales side).

    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    summary: dict[str, Any] = field(repr=False)
    agents: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @property
    def replicates(self) -> int:
        """Number of replicates run."""
        return int(self.summary["replicates"])


def replicate_totals(ledger: Ledger) -> dict[str, float]:
    """Headline totals of one replicate, from its ledger."""
    frame = ledger.frame()
    revenue = float(frame["revenue"].sum())
    spend = float(frame["spend"].sum())
    profit = float(frame["profit"].sum())
    totals = {
        "revenue": revenue,
        "profit": profit,
        "spend": spend,
        "units": float(frame["units"].sum()),
        "customers": float(frame["customers"].iloc[-1]),
        "roi": profit / spend if spend > 0 else float("nan"),
    }
    for column in SUMMED:
        totals[column] = float(frame[column].sum())
    return totals


def summarize(scenario: Scenario, seed: int, ledgers: list[Ledger]) -> dict[str, Any]:
    """The summary record written to summary.json."""
    totals = [replicate_totals(led) for led in ledgers]
    metrics = {name: describe([t[name] for t in totals]) for name in totals[0]}
    by_channel: dict[str, Any] = {}
    for i, channel in enumerate(scenario.channels):
        entry = {
            "type": channel.type,
            "spend": describe([led.channel_spend[i] for led in ledgers]),
            "attributed_revenue": describe([led.last_touch_revenue[i] for led in ledgers]),
            "first_touch_revenue": describe([led.first_touch_revenue[i] for led in ledgers]),
        }
        if channel.type == "promotion":
            entry["discount_cost"] = describe([led.discount_cost[i] for led in ledgers])
        by_channel[channel.id] = entry
    n = len(scenario.channels)
    unattributed = {
        "word_of_mouth": describe([led.last_touch_revenue[n] for led in ledgers]),
        "organic": describe([led.last_touch_revenue[n + 1] for led in ledgers]),
    }
    by_segment = {
        seg.id: {
            "revenue": describe([led.segment_revenue[s] for led in ledgers]),
            "units": describe([float(led.segment_units[s]) for led in ledgers]),
        }
        for s, seg in enumerate(scenario.segments)
    }
    by_product = {
        product.id: {"units": describe([float(led.product_units[p]) for led in ledgers])}
        for p, product in enumerate(scenario.products)
    }
    closed_by = {who: describe([led.involvement[who] for led in ledgers]) for who in INVOLVEMENT}
    return {
        "scenario": scenario.name,
        "seed": seed,
        "replicates": len(ledgers),
        "horizon": scenario.horizon,
        "step": scenario.step,
        "metrics": metrics,
        "by_channel": by_channel,
        "unattributed_revenue": unattributed,
        "by_segment": by_segment,
        "by_product": by_product,
        "revenue_by_closer": closed_by,
    }


def agents(ledgers: list[Ledger]) -> pd.DataFrame:
    """Every replicate's rep and broker rows."""
    return pd.DataFrame([row for led in ledgers for row in led.agents])


def timeseries(ledgers: list[Ledger]) -> pd.DataFrame:
    """All replicates' rows, sorted by replicate and step."""
    frame = pd.concat([led.frame() for led in ledgers], ignore_index=True)
    return frame.sort_values(["replicate", "step"], kind="stable").reset_index(drop=True)
