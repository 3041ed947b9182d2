"""Sales promotion: a discount window, paid for in margin, followed by a dip.

While start <= step < end the targeted segments pay (1 - discount) of the list price of
the promoted product (every product when none is named); purchase chances rise through
price sensitivity, buyers switch towards the promoted product, and every unit sold in
the window costs the discount. A subscription's promotion discounts new subscriptions;
its bills too only where the product says `promotions_apply_to: all`. The dip after
the window emerges in the customer step from what the promotion pulled forward (buyers
who stocked up, demand bought early); an optional fixed `post_dip` (default 0) cuts
purchase chances on top for `dip_steps` after the window, fading linearly. The budget
covers the promotion's fixed costs (displays, coupon distribution) and is spread over
the window.
"""

from __future__ import annotations

import numpy as np

from marketsim.engine.channels.base import ChannelModel, Discount, MarketState, StepInputs
from marketsim.scenario.schema import Promotion, Scenario


class PromotionChannel(ChannelModel):
    """A price promotion."""

    type = "promotion"

    def __init__(self, spec: Promotion, index: int, scenario: Scenario) -> None:
        super().__init__(spec, index, scenario)
        ids = [p.id for p in scenario.products]
        chosen = [ids.index(spec.product)] if spec.product else list(range(len(ids)))
        self.products = np.array(chosen, dtype=np.int64)
        every_bill = [p.promotions_apply_to == "all" for p in scenario.products]
        self.billed = self.products[np.array(every_bill, dtype=np.bool_)[self.products]]

    def active(self, step: int) -> bool:
        """Whether the discount applies at `step`."""
        return self.spec.start <= step < self.spec.end

    def discount(self, step: int) -> Discount | None:
        """The targeted segments and promoted products, while the window is open."""
        if not (self.spec.enabled and self.active(step)):
            return None
        return Discount(self.index, self.targets, self.products, self.billed, self.spec.discount)

    def apply(self, step: int, key: np.uint64, market: MarketState, inputs: StepInputs) -> None:
        """Discount the price in the window, then damp purchases during the dip."""
        spec = self.spec
        if self.active(step):
            inputs.price[np.ix_(self.targets, self.products)] *= 1.0 - spec.discount
            inputs.renewal_price[np.ix_(self.targets, self.billed)] *= 1.0 - spec.discount
        elif spec.end <= step < spec.end + spec.dip_steps:
            fade = 1.0 - (step - spec.end) / spec.dip_steps
            inputs.purchase[self.targets] *= 1.0 - spec.post_dip * fade
