"""Bass adoption: each segment's adoption hazard is p + q x F (Bass 1969).

A Python plugin on the persuasion hook: once per step it rewrites the targeted
segments' parameters, with no per-person Python. F is the share of the segment's
market potential (people x `potential`) who are customers at the start of the step.

* Becoming aware: the unprompted hazard becomes -log(1 - p) and word of mouth becomes
  the mean field q x F: every contact pattern is ignored, as in the Bass model.
  Advertising still adds its own hazard on top (a generalised Bass model).
* `adoption: purchase` (default): adopting means buying. Interest and the
  self-service purchase chance are set to 1, so a person in the market potential who
  becomes aware buys in the same step, and the customers follow the discrete Bass
  recursion N' = N + (m - N) (1 - exp(-(-log(1 - p) + q N / m))). People aware at the
  start adopt at once, so set `initial_awareness: 0` for a pure Bass curve.
* `adoption: awareness`: only how people become aware changes; interest, search and
  purchase follow the segment's funnel as usual.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from marketsim.plugins.sdk import (
    CUSTOMER,
    Id,
    NonNegative,
    Plugin,
    PluginParams,
    Probability,
    SegmentColumn,
    did_you_mean,
    param,
    quoted,
    show,
)


class BassAdoption(Plugin):
    name = "bass_adoption"
    version = "1.0.0"
    description = (
        "Bass diffusion: adoption hazard p + q x F per segment, F the share of the market "
        "potential already adopted (Python plugin, persuasion hook)."
    )

    class Params(PluginParams):
        p: Probability = param(
            0.01,
            "coefficient of innovation: chance per step of adopting unprompted",
            unit="per step",
        )
        q: NonNegative = param(
            0.3, "coefficient of imitation: hazard per step at F = 1", unit="per step"
        )
        adoption: Literal["purchase", "awareness"] = param(
            "purchase", "what the hazard leads to: buying, or only becoming aware"
        )
        segments: list[Id] | None = param(None, "segment ids it applies to (default: all b2c)")

    @classmethod
    def check(cls, params, scenario):
        ids = [s.id for s in scenario.segments]
        for j, sid in enumerate(params.segments or ()):
            if sid not in ids:
                yield (
                    ("segments", j),
                    (
                        f"expected a segment id, one of {quoted(ids)}, found {show(sid)}"
                        + did_you_mean(sid, ids)
                    ),
                )

    def setup(self, model) -> None:
        segs = model.scenario.segments
        chosen = self.params.segments
        self.targets = np.array(
            [s.id in chosen if chosen is not None else s.kind == "b2c" for s in segs]
        )
        self.potential = np.array([s.potential for s in segs])

    def persuasion(self, ctx) -> None:
        seg, market = ctx.seg, ctx.market
        m = market.people * self.potential
        adopted = np.divide(market.stage_counts[:, CUSTOMER], m, out=np.zeros_like(m), where=m > 0)
        rows = self.targets
        seg[rows, SegmentColumn.INNOVATION_HAZARD] = -math.log1p(-min(self.params.p, 1.0 - 1e-15))
        seg[rows, SegmentColumn.WORD_OF_MOUTH] = self.params.q
        seg[rows, SegmentColumn.MEAN_FIELD_TALKERS] = np.minimum(adopted[rows], 1.0)
        if self.params.adoption == "purchase":
            seg[rows, SegmentColumn.INTEREST] = 1.0
            seg[rows, SegmentColumn.PURCHASE] = 1.0


def bass_curve(p: float, q: float, m: float, steps: int, start: float = 0.0) -> np.ndarray:
    """Adopters after each step of the discrete Bass recursion the plugin follows."""
    hazard0 = -math.log1p(-p)
    n = start
    out = np.empty(steps)
    for t in range(steps):
        n = n + (m - n) * (1.0 - math.exp(-(hazard0 + q * n / m)))
        out[t] = n
    return out
