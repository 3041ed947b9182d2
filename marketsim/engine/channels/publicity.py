"""Publicity: earned-media bursts that arrive at random, larger with reputation.

Each step a burst happens with chance 1 - exp(-spend / cost_per_burst): a publicist's
pitching makes coverage likely but never certain. A burst reaches a share
min(1, reach x 2 x reputation) of each targeted segment (reputation 0.5 is neutral),
each reached person getting one exposure of `impact` ad memory.
"""

from __future__ import annotations

import math

import numpy as np

from marketsim.core.purposes import P_BURST
from marketsim.engine.channels.base import ChannelModel, MarketState, StepInputs
from marketsim.kernels.rng import uniform_py


class PublicityChannel(ChannelModel):
    """Press and media coverage the company earns rather than buys."""

    type = "publicity"

    def burst(self, step: int, key: np.uint64) -> bool:
        """Whether coverage breaks this step (one counter-based draw per channel)."""
        chance = 1.0 - math.exp(-self.plan[step] / self.spec.cost_per_burst)
        return uniform_py(int(key), self.index, P_BURST) < chance

    def apply(self, step: int, key: np.uint64, market: MarketState, inputs: StepInputs) -> None:
        """On a burst, expose a reputation-scaled share of each target once."""
        if self.plan[step] <= 0 or not self.burst(step, key):
            return
        reach = np.minimum(1.0, self.spec.reach * 2.0 * market.reputation[self.targets])
        inputs.exposure[self.index, self.targets] = reach
        inputs.bernoulli[self.index] = True
        inputs.impact[self.index] = self.spec.impact
