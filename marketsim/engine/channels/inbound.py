"""Inbound: interested people search; spend buys the visits of those who find the company.

Spend buys visits (spend / cost_per_contact). With S people expected to search this step
(interested people in the targets times their search chance) and V visits bought, a
searcher finds the company with chance 1 - exp(-V / S) (so visits never exceed either
the visits bought or the people searching), and a visit becomes a lead with chance
`conversion`. Inbound capacity thus runs out when demand is high, is wasted when nobody
is searching, and finds no one when nobody searches.
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
        found = 1.0 - math.exp(-visits / searchers) if searchers > 0 else 0.0
        inputs.find[self.index, self.targets] = found
        inputs.convert[self.index] = self.spec.conversion
