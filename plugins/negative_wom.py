"""Negative word of mouth: dissatisfied customers warn their contacts off.

A Python per-batch plugin on the word-of-mouth hook (numpy over the whole population,
once per step). A share `dissatisfied` of people are drawn once (counter-based RNG,
setup key) to be disappointed if they buy. A dissatisfied customer stops praising the
company (the core counted them as a talking customer) and takes `weight` talking
contacts off the word-of-mouth input of each contact who is still unaware or aware. In
a well-mixed segment the same happens through the segment's mean field.

With `clip` (default) the plugin never pushes anyone's input below zero: it can cancel
praise but not undo advertising. People let down by mis-selling (the population's
detractors) already speak against the company in the core model; this plugin adds
ordinary dissatisfaction (Goldenberg et al. 2007, "The NPV of bad news").
"""

from __future__ import annotations

import numpy as np

from marketsim.plugins.sdk import (
    AWARE,
    CUSTOMER,
    NonNegative,
    Plugin,
    PluginParams,
    Probability,
    param,
    uniforms,
)


class NegativeWordOfMouth(Plugin):
    name = "negative_wom"
    version = "1.0.0"
    description = (
        "Negative word of mouth: a share of customers are dissatisfied and subtract from "
        "their contacts' word-of-mouth input (Python per-batch plugin, word-of-mouth hook)."
    )

    class Params(PluginParams):
        dissatisfied: Probability = param(
            0.2,
            "share of people who are dissatisfied once they buy (drawn once per person)",
            unit="share",
        )
        weight: NonNegative = param(
            1.0, "input each dissatisfied customer takes from each contact", unit="talking contacts"
        )
        clip: bool = param(True, "never push a person's input below zero")

    def setup(self, model) -> None:
        pop = model.population
        rows = np.arange(pop.size, dtype=np.int64)
        unhappy = uniforms(model.setup_key, rows, self.purpose(0)) < self.params.dissatisfied
        self.unhappy = np.flatnonzero(unhappy)  # rows, ascending: a step reads only theirs
        segs = model.scenario.segments
        self.mixed = [
            (int(pop.offsets[s]), int(pop.offsets[s + 1]), float(seg.network.degree))
            for s, seg in enumerate(segs)
            if seg.network.type == "well_mixed"
        ]

    def word_of_mouth(self, ctx) -> None:
        pop = ctx.population
        stage = pop.stage
        speakers = self.unhappy[stage[self.unhappy] == CUSTOMER]
        if speakers.size == 0:
            return
        per = 1.0 + self.params.weight  # no longer praising, and speaking against
        hit, heard = _listeners(pop.indptr, pop.indices, speakers, pop.size)
        against = per * heard
        for lo, hi, mixed_degree in self.mixed:
            count = np.searchsorted(speakers, hi) - np.searchsorted(speakers, lo)
            share = count / (hi - lo)
            if share > 0:
                hit = np.concatenate([hit, np.arange(lo, hi)])
                against = np.concatenate([against, np.full(hi - lo, per * mixed_degree * share)])
        hit_stage = stage[hit]
        hit, against = hit[hit_stage <= AWARE], against[hit_stage <= AWARE]
        talk = ctx.talk[hit].astype(np.float64)
        lowered = talk - against
        if self.params.clip:
            lowered = np.maximum(lowered, np.minimum(talk, 0.0))
        ctx.talk[hit] = lowered


def _listeners(
    indptr: np.ndarray, indices: np.ndarray, speakers: np.ndarray, people: int
) -> tuple[np.ndarray, np.ndarray]:
    """The contacts of `speakers` (ascending) and how many speakers each hears from.

    Few speakers: sorting their contacts is cheaper than a count over everyone.
    """
    starts = indptr[speakers]
    degree = indptr[speakers + 1] - starts
    total = int(degree.sum())
    first = np.repeat(starts - (np.cumsum(degree) - degree), degree)
    contacts = indices[first + np.arange(total)]
    if 16 * total < people:
        return np.unique(contacts, return_counts=True)
    heard = np.bincount(contacts, minlength=people)
    hit = np.flatnonzero(heard)
    return hit, heard[hit]
