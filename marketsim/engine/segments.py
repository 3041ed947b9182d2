"""Each segment's effective parameters for one step, after prices, trust and promotions.

The customer kernel sees one row per segment; everything that is the same for a whole
segment in a step (the product range's pull, trust, the mean field of a well-mixed
network) is computed here once, not per person.
"""

from __future__ import annotations

import math

import numpy as np

from marketsim.core import layout as L
from marketsim.core.stages import CUSTOMER
from marketsim.engine.channels import MarketState, StepInputs
from marketsim.engine.products import ProductRange
from marketsim.scenario.schema import Scenario


class SegmentParameters:
    """Builds the kernel's per-segment parameter matrix for each step."""

    def __init__(self, scenario: Scenario, products: ProductRange) -> None:
        segs = scenario.segments
        self.products = products
        self.self_service = np.array([s.kind == "b2c" for s in segs])
        self.well_mixed_degree = np.array(
            [s.network.degree if s.network.type == "well_mixed" else -1.0 for s in segs]
        )
        base = np.zeros((len(segs), L.N_SEG_PARAMS))
        for row, s in zip(base, segs, strict=True):
            row[L.INNOVATION_HAZARD] = -math.log1p(-min(s.innovation, 1.0 - 1e-15))
            row[L.ATTENTION] = s.attention
            row[L.RETENTION] = s.ad_memory_retention
            row[L.PERSUASION] = s.persuasion
            row[L.INTEREST] = s.interest
            row[L.WORD_OF_MOUTH] = s.word_of_mouth
            row[L.PURCHASE] = s.purchase
            row[L.SEARCH] = s.search
            row[L.LEAD_CONVERSION] = s.lead_conversion
            row[L.INTEREST_DECAY] = s.interest_decay
            row[L.CHURN] = s.churn if s.kind == "b2c" else 0.0
            row[L.POTENTIAL] = s.potential
        self.base = base

    def for_step(
        self, step: int, market: MarketState, inputs: StepInputs
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The matrix seg[segment, column], the range's pull and choice shares at `step`."""
        pull, shares = self.products.choice(step, inputs.price)
        seg = self.base.copy()
        trust = 2.0 * market.reputation
        buy = pull * trust * inputs.purchase * self.self_service
        seg[:, L.WORD_OF_MOUTH] *= trust
        seg[:, L.PURCHASE] = np.minimum(1.0, seg[:, L.PURCHASE] * buy)
        seg[:, L.LEAD_CONVERSION] = np.minimum(1.0, seg[:, L.LEAD_CONVERSION] * buy)
        seg[:, L.REPEAT] = np.minimum(1.0, (shares @ self.products.repeat_rate) * buy)
        share = market.stage_counts[:, CUSTOMER] / market.people
        seg[:, L.MEAN_FIELD_TALKERS] = np.where(
            self.well_mixed_degree >= 0, self.well_mixed_degree * share, -1.0
        )
        return seg, pull, shares
