"""Each segment's effective parameters for one step, after prices, trust and promotions.

The customer kernel sees one row per segment; everything that is the same for a whole
segment in a step (the product range's pull, trust, the mean field of a well-mixed
network) is computed here once, not per person.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marketsim.core import portable
from marketsim.core.layout import AGAINST, N_SEGMENT_COLUMNS, PRAISE, SILENT, SegmentColumn
from marketsim.core.stages import CUSTOMER
from marketsim.engine.channels import MarketState, StepInputs
from marketsim.engine.media import Media
from marketsim.engine.products import ProductRange, elasticity
from marketsim.scenario.schema import Scenario

WORD = {"praise": PRAISE, "silent": SILENT, "against": AGAINST}
"""`dissatisfied_word_of_mouth` as the kernel's codes."""


class SegmentParameters:
    """Builds the kernel's per-segment parameter matrix for each step."""

    def __init__(self, scenario: Scenario, products: ProductRange, media: Media) -> None:
        segs = scenario.segments
        self.products = products
        self.self_service = np.array([s.kind == "b2c" for s in segs])
        self.well_mixed_degree = np.array(
            [s.network.degree if s.network.type == "well_mixed" else -1.0 for s in segs]
        )
        base = np.zeros((len(segs), N_SEGMENT_COLUMNS))
        for row, s in zip(base, segs, strict=True):
            row[SegmentColumn.INNOVATION_HAZARD] = -math.log1p(-min(s.innovation, 1.0 - 1e-15))
            row[SegmentColumn.ATTENTION] = s.attention
            row[SegmentColumn.RETENTION] = s.ad_memory_retention
            row[SegmentColumn.PERSUASION] = s.persuasion
            row[SegmentColumn.INTEREST] = s.interest
            row[SegmentColumn.WORD_OF_MOUTH] = s.word_of_mouth
            row[SegmentColumn.PURCHASE] = s.purchase
            row[SegmentColumn.SEARCH] = s.search
            row[SegmentColumn.LEAD_CONVERSION] = s.lead_conversion
            row[SegmentColumn.INTEREST_DECAY] = s.interest_decay
            row[SegmentColumn.CHURN] = s.churn if s.kind == "b2c" else 0.0
            row[SegmentColumn.POTENTIAL] = s.potential
            row[SegmentColumn.AWARENESS_ADSTOCK] = s.awareness_adstock
            row[SegmentColumn.AWARENESS_DECAY] = s.awareness_decay
            row[SegmentColumn.ELASTICITY] = elasticity(s)
            row[SegmentColumn.SUBSTITUTION] = s.substitution
            row[SegmentColumn.DISSATISFIED_CHURN] = s.dissatisfied_churn
            row[SegmentColumn.CHURN_PRICE] = s.churn_price_response
            row[SegmentColumn.DISSATISFIED_WORD] = WORD[s.dissatisfied_word_of_mouth]
        self.base = base
        self.baseline = _baseline(scenario)
        self.churn_trust = np.array([s.churn_trust_response for s in segs])
        self.media = media

    def for_step(self, step: int, market: MarketState, inputs: StepInputs) -> SegmentStep:
        """Everything the segments' people respond to at `step`."""
        pull, shares = self.products.choice(step, inputs.price)
        seg = self.base.copy()
        trust = 2.0 * market.reputation
        baseline = self.baseline[max(step, 0)]  # a burn-in step reads as step 0
        own = trust * inputs.purchase * self.self_service * baseline
        buy = pull * own
        seg[:, SegmentColumn.WORD_OF_MOUTH] *= trust
        # Accounts buy through sales: the baseline moves how many come into the market.
        accounts = np.where(self.self_service, 1.0, baseline)
        seg[:, SegmentColumn.INTEREST] = np.minimum(1.0, seg[:, SegmentColumn.INTEREST] * accounts)
        seg[:, SegmentColumn.PERSUASION] *= accounts
        # Chances are capped at 1 in the kernel, after each person's own multipliers.
        seg[:, SegmentColumn.PURCHASE] *= buy
        seg[:, SegmentColumn.LEAD_CONVERSION] *= buy
        seg[:, SegmentColumn.REPEAT] = own
        if self.churn_trust.any():
            seg[:, SegmentColumn.CHURN] *= portable.power(
                np.where(trust > 0, trust, 1.0), -self.churn_trust
            )
        talkers = market.stage_counts[:, CUSTOMER] - market.silent
        share = talkers / market.people
        seg[:, SegmentColumn.MEAN_FIELD_TALKERS] = np.where(
            self.well_mixed_degree >= 0, self.well_mixed_degree * share, -1.0
        )
        return SegmentStep(
            seg=seg,
            pull=pull,
            shares=shares,
            choice=np.cumsum(shares, axis=1),
            again=self.products.again(inputs.price),
            renewal=np.minimum(1.0, self.products.renewal[None, :] * trust[:, None]),
            relative=self.products.relative(inputs.price),
            available=self.products.available(step),
        )

    def retention(self, seg: np.ndarray) -> np.ndarray:
        """[segment, memory group] ad memory kept: the shared group at `seg`'s value."""
        retention = self.media.retention.copy()
        retention[:, 0] = seg[:, SegmentColumn.RETENTION]
        return retention


def _baseline(scenario: Scenario) -> np.ndarray:
    """[step, segment] the demand baseline m_t, 1 for segments it does not move."""
    demand = scenario.demand
    m = np.array(demand.multipliers(scenario.horizon, scenario.step, scenario.steps_per_year))
    chosen = demand.segments
    moved = np.array([chosen is None or s.id in chosen for s in scenario.segments])
    return np.where(moved[None, :], m[:, None], 1.0)


@dataclass
class SegmentStep:
    """One step's segment-level inputs to the customer step and the sales organisation.

    Attributes:
        seg: [segment, SegmentColumn] effective parameters (plugins may change them).
        pull: [segment] the product range's pull V at this step's prices.
        shares: [segment, product] choice shares of a new purchase.
        choice: [segment, product] the same, cumulative.
        again: [segment, product] price response of buying a product again.
        renewal: [segment, product] chance a subscription renews at a term's end (x trust).
        relative: [segment, product] price paid over the reference price.
        available: [segment, product] what the segment can buy this step.

    """

    seg: np.ndarray
    pull: np.ndarray
    shares: np.ndarray
    choice: np.ndarray
    again: np.ndarray
    renewal: np.ndarray
    relative: np.ndarray
    available: np.ndarray
