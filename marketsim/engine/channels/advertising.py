"""Advertising: spend buys contacts, spread at random over the targeted people.

Contacts = spend / cost_per_contact. Each targeted person receives a Poisson number of
exposures with mean contacts / people targeted, so the same person can be hit several
times in a step and some are missed: reach saturates and frequency piles up, and
diminishing returns come from the people, not from a response curve.
"""

from __future__ import annotations

import numpy as np

from marketsim.engine.channels.base import ChannelModel, MarketState, StepInputs


class AdvertisingChannel(ChannelModel):
    """Paid media bought per contact."""

    type = "advertising"

    def apply(self, step: int, key: np.uint64, market: MarketState, inputs: StepInputs) -> None:
        """Spread this step's contacts over the targeted people."""
        people = market.people[self.targets].sum()
        contacts = self.plan[step] / self.spec.cost_per_contact
        inputs.exposure[self.index, self.targets] = contacts / people
        inputs.impact[self.index] = self.spec.impact
