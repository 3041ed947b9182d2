"""What a simulation returns: the timeseries of every replicate and a summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from marketsim.ledger import Ledger
from marketsim.scenario.schema import Scenario
from marketsim.stats import describe

HEADLINE = ("revenue", "profit", "spend", "units", "customers", "roi")


@dataclass(frozen=True)
class Result:
    """Outcome of `simulate`.

    Attributes:
        scenario: the scenario simulated.
        seed: the seed used.
        timeseries: one row per replicate and step.
        summary: headline metrics with 95% intervals, per channel and per segment.

    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    summary: dict[str, Any] = field(repr=False)

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
    return {
        "revenue": revenue,
        "profit": profit,
        "spend": spend,
        "cost_of_goods": float(frame["cost_of_goods"].sum()),
        "units": float(frame["units"].sum()),
        "customers": float(frame["customers"].iloc[-1]),
        "new_customers": float(frame["new_customers"].sum()),
        "new_leads": float(frame["new_leads"].sum()),
        "roi": profit / spend if spend > 0 else float("nan"),
    }


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
    }


def timeseries(ledgers: list[Ledger]) -> pd.DataFrame:
    """All replicates' rows, sorted by replicate and step."""
    frame = pd.concat([led.frame() for led in ledgers], ignore_index=True)
    return frame.sort_values(["replicate", "step"], kind="stable").reset_index(drop=True)
