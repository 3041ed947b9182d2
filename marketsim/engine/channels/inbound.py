"""Inbound: interested people search; spend decides whether they find the company.

Spend buys visits (spend / cost_per_contact). With S people expected to search this step
(interested people in the targets times their search chance) and V visits bought, a
searcher finds the company with chance 1 - exp(-V / S), and becomes a lead. Inbound
capacity thus runs out when demand is high, and is wasted when nobody is searching.
"""

from __future__ import annotations

import math

import numpy as np

from marketsim.core.stages import INTERESTED
from marketsim.engine.channels.base import ChannelModel, MarketState, StepInputs


class InboundChannel(ChannelModel):
    """Search, content and other pull marketing paid per visit."""

    type = "inbound"

    def apply(self, step: int, key: np.uint64, market: MarketState, inputs: StepInputs) -> None:
        """Set the chance a searcher in each target finds the company this step."""
        visits = self.plan[step] / self.spec.cost_per_contact
        if visits <= 0:
            return
        searchers = float(
            (market.stage_counts[self.targets, INTERESTED] * market.search[self.targets]).sum()
        )
        found = 1.0 - math.exp(-visits / searchers) if searchers > 0 else 1.0
        inputs.find[self.index, self.targets] = found
