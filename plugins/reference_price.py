"""Reference prices: buyers judge a price against the prices they have been paying.

A Python plugin on the purchase hook (once per step, per segment and product). Each
segment remembers a reference price R for each product, as a share of its list price
(1 at the start). Each step, with P the share of list price paid this step:

* the gap g = (R - P) / R is a gain when positive (a deal) and a loss when negative;
* purchase chances (self-service purchase, lead conversion, repeat) are multiplied by
  exp(gain x g) for a gain and exp(loss x g) for a loss (loss > gain: losses loom
  larger), averaged over the segment's products by their choice shares and capped at
  `cap`;
* then R moves toward P: R <- R + adaptation x (P - R).

A promotion is a gain while it lasts, but it also drags the reference price down; once
it ends the regular price is a loss until R recovers: the post-promotion dip
(Kalyanaram and Winer 1995; Greenleaf 1995).
"""

from __future__ import annotations

import numpy as np

from marketsim.plugins.sdk import (
    NonNegative,
    Plugin,
    PluginParams,
    Positive,
    Probability,
    SegmentColumn,
    param,
    portable,
)

CHANCES = [SegmentColumn.PURCHASE, SegmentColumn.LEAD_CONVERSION]
"""Columns that are probabilities (capped at 1); REPEAT is a multiplier on the repeat hazard."""


class ReferencePrice(Plugin):
    name = "reference_price"
    version = "1.0.0"
    description = (
        "Adaptive reference prices: a price below the reference lifts purchase chances, one "
        "above it cuts them harder; promotions lift sales, then leave a post-promotion dip "
        "(Python plugin, purchase hook)."
    )

    class Params(PluginParams):
        adaptation: Probability = param(
            0.3,
            "share of the gap between reference and paid price closed each step",
            unit="per step",
        )
        gain: NonNegative = param(
            1.0,
            "response to a price below the reference: chances x exp(gain x gap)",
            unit="per unit gap",
        )
        loss: NonNegative = param(
            2.5,
            "response to a price above the reference: chances x exp(loss x gap)",
            unit="per unit gap",
        )
        cap: Positive = param(3.0, "largest multiplier on purchase chances", unit="x")

    def setup(self, model) -> None:
        n_segments, n_products = len(model.scenario.segments), len(model.scenario.products)
        self.reference = np.ones((n_segments, n_products))
        self.multiplier = np.ones(n_segments)

    def purchase(self, ctx) -> None:
        paid = ctx.inputs.price
        gap = (self.reference - paid) / self.reference
        response = portable.exp(
            np.where(gap >= 0.0, self.params.gain * gap, self.params.loss * gap)
        )
        _, shares = ctx.model.products.choice(ctx.step, paid)
        weight = shares.sum(axis=1)
        mean = np.divide(
            (shares * response).sum(axis=1), weight, out=np.ones(len(weight)), where=weight > 0
        )
        self.multiplier = np.minimum(mean, self.params.cap)
        ctx.seg[:, CHANCES] = np.minimum(1.0, ctx.seg[:, CHANCES] * self.multiplier[:, None])
        ctx.seg[:, SegmentColumn.REPEAT] *= self.multiplier
        self.reference += self.params.adaptation * (paid - self.reference)
