"""Public relations: the slow build of reputation, which scales trust everywhere.

Reputation R in [0, 1] per segment (0.5 neutral). Each step
    R <- R + (1 - R) * (1 - exp(-spend / cost_scale)) - decay * (R - R0)
so spend closes part of the gap to full trust and, without it, trust drifts back to its
initial value R0. Trust multiplies word of mouth and purchase chances by 2R.
"""

from __future__ import annotations

import math

import numpy as np

from marketsim.engine.channels.base import ChannelModel, MarketState, StepInputs
from marketsim.scenario.schema import PublicRelations, Scenario


class PublicRelationsChannel(ChannelModel):
    """Relationship building with press, communities and institutions."""

    type = "public_relations"

    def __init__(self, spec: PublicRelations, index: int, scenario: Scenario) -> None:
        super().__init__(spec, index, scenario)
        self.baseline = np.array([s.reputation for s in scenario.segments])[self.targets]

    def apply(self, step: int, key: np.uint64, market: MarketState, inputs: StepInputs) -> None:
        """Build trust with this step's spend; let it drift back without."""
        rep = market.reputation[self.targets]
        build = 1.0 - math.exp(-self.plan[step] / self.spec.cost_scale)
        market.reputation[self.targets] = (
            rep + (1.0 - rep) * build - self.spec.decay * (rep - self.baseline)
        )
