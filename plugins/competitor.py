"""A competitor: a rival firm with its own media spend that takes sales and customers.

A Python plugin on two hooks. The rival spends `budget` over the horizon, spread by its
`schedule` (weights per step) or evenly over its `start`..`end` window, aimed at
`segments` (default: every consumer segment). Its share of voice in segment s at step
t is rival / (rival + ours), with ours the company's marketing spend aimed at s that
step (0 when neither spends).

* purchase hook: consumers' purchase chances (self-service, lead conversion, repeat)
  are multiplied by 1 - effectiveness x share of voice;
* after_step hook: each customer in a targeted consumer segment switches to the rival
  with chance switching x share of voice (counter-based draw): they become aware
  non-customers the company can win back.

The rival's money is not the company's: spend, revenue and profit in the output are
the company's own.
"""

from __future__ import annotations

import numpy as np

from marketsim.plugins.sdk import (
    AWARE,
    CUSTOMER,
    Id,
    NonNegative,
    Plugin,
    PluginParams,
    Probability,
    SegmentColumn,
    StepIndex,
    did_you_mean,
    param,
    quoted,
    show,
    uniforms,
)

CHANCES = [SegmentColumn.PURCHASE, SegmentColumn.LEAD_CONVERSION, SegmentColumn.REPEAT]


class Competitor(Plugin):
    name = "competitor"
    version = "1.0.0"
    description = (
        "A rival firm with its own spend schedule: its share of voice lowers purchase "
        "chances, and it steals customers (Python plugin, purchase and after_step hooks)."
    )

    class Params(PluginParams):
        budget: NonNegative = param(
            100000.0, "the rival's media spend over the horizon", unit="currency"
        )
        schedule: list[NonNegative] | None = param(
            None,
            "weights of the rival's spend per step, one per step (default: even over start..end)",
        )
        start: StepIndex = param(0, "first step the rival spends", unit="step")
        end: StepIndex | None = param(
            None, "step after the last one it spends (default: the horizon)", unit="step"
        )
        effectiveness: Probability = param(
            0.5, "cut in purchase chances when the rival has all the share of voice", unit="share"
        )
        switching: Probability = param(
            0.02,
            "chance per step a customer switches to the rival, at full share of voice",
            unit="per step",
        )
        segments: list[Id] | None = param(None, "segment ids the rival targets (default: all b2c)")

    @classmethod
    def check(cls, params, scenario):
        horizon = scenario.horizon
        if params.schedule is not None and len(params.schedule) != horizon:
            yield (
                "schedule",
                f"expected {horizon} weights (one per step), found {len(params.schedule)}",
            )
        if params.schedule is not None and (params.start != 0 or params.end is not None):
            yield "schedule", "expected either a schedule or a start/end window, found both"
        if params.start >= horizon:
            yield "start", f"expected a step < horizon ({horizon}), found {params.start}"
        end = params.end
        if end is not None and not params.start < end <= horizon:
            bounds = f"a step > start ({params.start}) and <= horizon ({horizon})"
            yield "end", f"expected {bounds}, found {end}"
        ids = [s.id for s in scenario.segments]
        for j, sid in enumerate(params.segments or ()):
            if sid not in ids:
                message = f"expected a segment id, one of {quoted(ids)}, found {show(sid)}"
                yield ("segments", j), message + did_you_mean(sid, ids)

    def setup(self, model) -> None:
        scenario, p = model.scenario, self.params
        horizon = scenario.horizon
        if p.schedule is not None:
            weights = np.asarray(p.schedule, dtype=np.float64)
        else:
            weights = np.zeros(horizon)
            weights[p.start : p.end if p.end is not None else horizon] = 1.0
        total = weights.sum()
        self.spend = p.budget * weights / total if total > 0 else np.zeros(horizon)
        segs = scenario.segments
        chosen = p.segments
        self.targets = np.array(
            [s.kind == "b2c" and (chosen is None or s.id in chosen) for s in segs]
        )
        self.ours = np.zeros((horizon, len(segs)))  # the company's spend aimed at each segment
        for channel in model.channels:
            self.ours[:, channel.targets] += channel.plan[:, None]
        self.offsets = model.population.offsets
        self.share = np.zeros(len(segs))
        self.switched = 0

    def share_of_voice(self, step: int) -> np.ndarray:
        """The rival's share of voice in each segment at `step` (0 outside its targets)."""
        rival = self.spend[step]
        ours = self.ours[step]
        total = rival + ours
        share = np.divide(rival, total, out=np.zeros_like(ours), where=total > 0)
        return np.where(self.targets, share, 0.0)

    def purchase(self, ctx) -> None:
        self.share = self.share_of_voice(ctx.step)
        keep = 1.0 - self.params.effectiveness * self.share
        ctx.seg[:, CHANCES] *= keep[:, None]

    def after_step(self, ctx) -> None:
        stage = ctx.population.stage
        for s in np.flatnonzero(self.share > 0):
            lo, hi = int(self.offsets[s]), int(self.offsets[s + 1])
            customers = lo + np.flatnonzero(stage[lo:hi] == CUSTOMER)
            if customers.size == 0:
                continue
            u = uniforms(ctx.key, customers, self.purpose(0))
            leaving = customers[u < self.params.switching * self.share[s]]
            stage[leaving] = AWARE
            ctx.market.stage_counts[s, CUSTOMER] -= leaving.size
            ctx.market.stage_counts[s, AWARE] += leaving.size
            self.switched += int(leaving.size)
