"""What a simulation returns: the timeseries of every replicate and a typed summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketsim.core.stages import STAGES
from marketsim.drivers import metrics
from marketsim.drivers.breakdown import Breakdown
from marketsim.drivers.posterior import Draws
from marketsim.drivers.records import (
    ChannelSummary,
    ProductSummary,
    RunSummary,
    SegmentSummary,
    Stats,
    TraitBandSummary,
)
from marketsim.drivers.stats import describe
from marketsim.engine.ledger import INVOLVEMENT, TYPES, Ledger
from marketsim.engine.trait_bands import TraitBand
from marketsim.scenario.schema import Scenario

FUNNEL: dict[str, tuple[str, ...]] = {
    "consumers": ("unaware", "aware", "interested", "customer"),
    "accounts": STAGES,
}
"""The funnel stages of each kind of customer. Consumers never qualify or negotiate, and
buy with or without becoming a lead first: their leads count as interested."""


def funnel_counts(kind: str, stages: np.ndarray) -> np.ndarray:
    """[..., funnel stage] people at each stage of `kind`'s funnel, from [..., STAGES] counts.

    People at a stage the funnel skips count with the funnel's stage before it.
    """
    index = np.array([STAGES.index(s) for s in FUNNEL[kind]])
    owner = np.searchsorted(index, np.arange(len(STAGES)), side="right") - 1
    out = np.zeros((*stages.shape[:-1], index.size))
    for k in range(index.size):
        out[..., k] = stages[..., owner == k].sum(axis=-1)
    return out


@dataclass(frozen=True)
class Replicate:
    """One simulated replicate: its ledger (the timeseries) and its breakdown."""

    ledger: Ledger
    breakdown: Breakdown


@dataclass(frozen=True)
class Result:
    """Outcome of `simulate`.

    Attributes:
        scenario: the scenario simulated.
        seed: the seed used.
        timeseries: one row per replicate and step.
        summary: headline metrics with 95% intervals, per channel and per segment.
        agents: one row per replicate and rep or broker (empty without a sales side).
        breakdowns: each replicate by segment and channel, and its state at the horizon.
        posterior: the draws replicate r ran on (None: every replicate ran `scenario`).

    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    summary: RunSummary = field(repr=False)
    agents: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    breakdowns: tuple[Breakdown, ...] = field(repr=False, default=())
    posterior: Draws | None = field(repr=False, default=None)

    @property
    def replicates(self) -> int:
        """Number of replicates run."""
        return self.summary.replicates

    def metrics(self) -> list[metrics.ReplicateMetrics]:
        """Every replicate's metrics, in replicate order."""
        return metrics.of_run(self.timeseries, self.breakdowns)


def replicate_metrics(replicate: Replicate) -> metrics.ReplicateMetrics:
    """One replicate's metrics."""
    return metrics.of_replicate(replicate.ledger.frame(), replicate.breakdown)


def summarize(
    scenario: Scenario,
    seed: int,
    replicates: Sequence[Replicate],
    posterior: Draws | None = None,
) -> RunSummary:
    """The summary record written to summary.json."""
    per_replicate = [replicate_metrics(r) for r in replicates]
    ledgers = [r.ledger for r in replicates]
    parts = [r.breakdown for r in replicates]
    by_channel = {}
    for i, channel in enumerate(scenario.channels):
        promotion = channel.type == "promotion"
        by_channel[channel.id] = ChannelSummary(
            type=channel.type,
            spend=describe([led.channel_spend[i] for led in ledgers]),
            attributed_revenue=describe([led.last_touch_revenue[i] for led in ledgers]),
            first_touch_revenue=describe([led.first_touch_revenue[i] for led in ledgers]),
            discount_cost=describe([led.discount_cost[i] for led in ledgers])
            if promotion
            else None,
        )
    n = len(scenario.channels)
    return RunSummary(
        scenario=scenario.name,
        seed=seed,
        replicates=len(ledgers),
        horizon=scenario.horizon,
        step=scenario.step,
        customer_types=list(metrics.customer_types(scenario)),
        metrics=metrics.describe_metrics(per_replicate),
        by_channel=by_channel,
        unattributed_revenue={
            "word_of_mouth": describe([led.last_touch_revenue[n] for led in ledgers]),
            "organic": describe([led.last_touch_revenue[n + 1] for led in ledgers]),
        },
        by_segment={
            seg.id: SegmentSummary(
                revenue=describe([led.segment_revenue[s] for led in ledgers]),
                units=describe([float(led.segment_units[s]) for led in ledgers]),
                profit=describe([b.profit[s] for b in parts]),
                customers=describe([float(b.customers[s]) for b in parts]),
                customer_equity=describe([b.equity[s] for b in parts]),
            )
            for s, seg in enumerate(scenario.segments)
        },
        funnel=funnel(scenario, parts),
        by_product={
            product.id: ProductSummary(
                units=describe([float(led.product_units[p]) for led in ledgers])
            )
            for p, product in enumerate(scenario.products)
        },
        revenue_by_closer={
            who: describe([led.involvement[who] for led in ledgers]) for who in INVOLVEMENT
        },
        by_trait=by_trait(ledgers),
        posterior=None if posterior is None else posterior.use(len(ledgers)),
    )


def funnel(scenario: Scenario, parts: Sequence[Breakdown]) -> dict[str, dict[str, Stats]]:
    """Per kind of customer, the people at each stage of its funnel at the horizon."""
    out = {}
    for kind in metrics.customer_types(scenario):
        mine = np.array([(s.kind == "b2c") == (kind == TYPES[0]) for s in scenario.segments])
        counts = funnel_counts(kind, np.array([b.stages[mine].sum(axis=0) for b in parts]))
        out[kind] = {stage: describe(counts[:, k]) for k, stage in enumerate(FUNNEL[kind])}
    return out


def by_trait(ledgers: Sequence[Ledger]) -> dict[str, list[TraitBandSummary]] | None:
    """Each trait's bands over the replicates, in the order drawn (None: nobody differs).

    Replicates give the same bands (discrete values, or quintiles by rank), so band k
    of every replicate is summarised together.
    """
    grouped: dict[str, list[list[TraitBand]]] = {}
    for led in ledgers:
        mine: dict[str, list[TraitBand]] = {}
        for band in led.trait_bands:
            mine.setdefault(band.trait, []).append(band)
        for trait, bands in mine.items():
            for k, band in enumerate(bands):
                column = grouped.setdefault(trait, [])
                if k == len(column):
                    column.append([])
                column[k].append(band)
    if not grouped:
        return None
    return {
        trait: [
            TraitBandSummary(
                low=float(np.mean([b.low for b in bands])),
                high=float(np.mean([b.high for b in bands])),
                people=describe([b.people for b in bands]),
                customers=describe([b.customers for b in bands]),
                customer_share=describe([b.customers / b.people for b in bands]),
                units=describe([b.units for b in bands]),
                revenue=describe([b.revenue for b in bands]),
                revenue_per_person=describe([b.revenue / b.people for b in bands]),
            )
            for bands in column
        ]
        for trait, column in grouped.items()
    }


def agents(replicates: Sequence[Replicate]) -> pd.DataFrame:
    """Every replicate's rep and broker rows."""
    return pd.DataFrame([row for r in replicates for row in r.ledger.agents])


def timeseries(replicates: Sequence[Replicate]) -> pd.DataFrame:
    """All replicates' rows, sorted by replicate and step."""
    frame = pd.concat([r.ledger.frame() for r in replicates], ignore_index=True)
    return frame.sort_values(["replicate", "step"], kind="stable").reset_index(drop=True)
