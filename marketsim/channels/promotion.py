"""Sales promotion: a discount window, paid for in margin, followed by a dip.

While start <= step < end the targeted segments (buying the promoted product, or any
product when none is named) pay (1 - discount) of the list price; purchase chances rise
through price sensitivity and every unit sold in the window costs the discount. For
`dip_steps` after the window, purchase chances are cut by `post_dip`, fading linearly
(buyers stocked up or wait for the next deal). The budget covers the promotion's
fixed costs (displays, coupons' distribution) and is spread over the window.
"""

from __future__ import annotations

import numpy as np

from marketsim.channels.base import ChannelModel, MarketState, StepInputs
from marketsim.scenario.schema import Scenario


class PromotionChannel(ChannelModel):
    """A price promotion."""

    type = "promotion"

    def __init__(self, spec, index: int, scenario: Scenario) -> None:
        super().__init__(spec, index, scenario)
        first = scenario.products[0].id
        if spec.product is not None:
            self.targets = np.array(
                [
                    s
                    for s in self.targets
                    if (scenario.segments[s].product or first) == spec.product
                ],
                dtype=np.int64,
            )

    def active(self, step: int) -> bool:
        """Whether the discount applies at `step`."""
        return self.spec.start <= step < self.spec.end

    def apply(self, step: int, key: np.uint64, market: MarketState, inputs: StepInputs) -> None:
        """Discount the price in the window, then damp purchases during the dip."""
        spec = self.spec
        if self.active(step):
            inputs.price[self.targets] *= 1.0 - spec.discount
        elif spec.end <= step < spec.end + spec.dip_steps:
            fade = 1.0 - (step - spec.end) / spec.dip_steps
            inputs.purchase[self.targets] *= 1.0 - spec.post_dip * fade
