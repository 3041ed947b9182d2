"""Which product a buyer picks, how a product range adds to demand, and how each is bought.

Segment s weighs each product p it considers and that has launched by its
attractiveness a = appeal_p * (price paid / reference price)^-elasticity. The range's
pull is the nested-logit inclusive value V = (sum_p a^(1/l))^l, with l the segment's
`substitution`: near 0 a new product mostly cannibalises the others, at 1 it adds its
own demand. Purchase chances scale with V; a buyer picks product p with chance
a^(1/l) / sum a^(1/l).
"""

from __future__ import annotations

import math

import numpy as np

from marketsim.core import portable
from marketsim.kernels.customer_step import (
    ONE_OFF,
    REPEAT,
    SUBSCRIPTION,
    ProductArrays,
    repeat_table,
)
from marketsim.scenario.schema import Product, Scenario, Segment
from marketsim.scenario.traits import mean_of


class ProductRange:
    """Per-segment product choice, recomputed each step from prices and launches."""

    def __init__(self, scenario: Scenario) -> None:
        ids = [p.id for p in scenario.products]
        self.ids = ids
        self.specs = scenario.products
        self.list_price = np.array([p.price for p in scenario.products])
        self.unit_cost = np.array([p.unit_cost for p in scenario.products])
        self.launch = np.array([p.launch_step for p in scenario.products])
        self.appeal = np.array([p.appeal for p in scenario.products])
        self.models = [p.purchase for p in scenario.products]
        self.renewal = np.array([p.renewal for p in scenario.products])
        self.renewal_discounted = np.array(
            [p.promotions_apply_to == "all" for p in scenario.products]
        )
        segs = scenario.segments
        self.considers = np.zeros((len(segs), len(ids)), dtype=np.bool_)
        for s, seg in enumerate(segs):
            self.considers[s, [ids.index(p) for p in (seg.products or ids)]] = True
        first = self.considers.argmax(axis=1)
        self.reference_price = np.array(
            [
                seg.reference_price or self.list_price[f] or 1.0
                for seg, f in zip(segs, first, strict=True)
            ]
        )
        self.elasticity = np.array([elasticity(s) for s in segs])
        self.substitution = np.array([s.substitution for s in segs])

    def arrays(self) -> ProductArrays:
        """How each product is bought, as the customer kernel takes it."""
        codes = {"one_off": ONE_OFF, "repeat": REPEAT, "subscription": SUBSCRIPTION}
        model = np.array([codes[m] for m in self.models], dtype=np.int8)
        scale = np.array([_weibull_scale(p) for p in self.specs])
        shape = np.array([p.repurchase_shape for p in self.specs], dtype=np.float64)
        return ProductArrays(
            model=model,
            scale=scale,
            shape=shape,
            billing=np.array([p.billing_period or 1 for p in self.specs], dtype=np.int64),
            term=np.array([p.renewal_term for p in self.specs], dtype=np.int64),
            list_price=self.list_price.astype(np.float64),
            appeal=self.appeal.astype(np.float64),
            every=np.array([p.repurchase_every for p in self.specs], dtype=np.float64),
            stockpile=np.array([p.stockpile for p in self.specs], dtype=np.float64),
            quality=np.array([p.quality for p in self.specs], dtype=np.float64),
            repeat=repeat_table(model, scale, shape),
        )

    def relative(self, price: np.ndarray) -> np.ndarray:
        """[segment, product] price paid over the segment's reference price (1 if free)."""
        relative = self.list_price * price / self.reference_price[:, None]
        return np.where(relative > 0, relative, 1.0)

    def available(self, step: int) -> np.ndarray:
        """[segment, product] whether the segment considers the product and it has launched.

        A burn-in's steps (before step 0) see the range of step 0.
        """
        return self.considers & (self.launch <= max(step, 0))

    def again(self, price: np.ndarray) -> np.ndarray:
        """[segment, product] multiplier on the chance to buy a product again at `price`.

        The price response of the product alone: (price paid / reference)^-elasticity.
        """
        return portable.power(self.relative(price), -self.elasticity[:, None])

    def choice(self, step: int, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pull V per segment and choice shares [segment, product] at `step`.

        Args:
            step: the step, for launches.
            price: [segment, product] price paid as a share of list price.
        """
        available = self.available(step)
        attract = self.appeal * portable.power(self.relative(price), -self.elasticity[:, None])
        weight = np.where(available, portable.power(attract, 1.0 / self.substitution[:, None]), 0.0)
        total = weight.sum(axis=1)
        pull = portable.power(total, self.substitution)
        shares = np.divide(
            weight, total[:, None], out=np.zeros_like(weight), where=total[:, None] > 0
        )
        return pull, shares


def elasticity(segment: Segment) -> float:
    """The segment's price elasticity: its people's mean where they differ."""
    trait = segment.traits.price_sensitivity
    return segment.price_sensitivity if trait is None else mean_of(trait)


def _weibull_scale(product: Product) -> float:
    """Scale of the Weibull gaps between a repeat product's purchases, from their mean."""
    if product.purchase != "repeat":
        return 1.0
    return product.repurchase_every / math.gamma(1.0 + 1.0 / product.repurchase_shape)
