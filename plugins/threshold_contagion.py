"""Threshold contagion (Granovetter 1978): people move only once enough of their contacts have.

A kernel plugin on the word-of-mouth hook: it runs for every unaware or aware person
inside the hot loop, with no Python per person.

Each person has a personal threshold theta_i, drawn once (from the counter-based RNG
with the model's setup key, so the same person keeps it all run) uniformly from
`threshold - spread` to `threshold + spread`. Each step the share of the person's
contacts who are customers (talking customers minus detractors, over all contacts; in
a well-mixed segment, the segment's customer share) is compared with it:

* share >= theta_i (and at least one customer contact): the person's word-of-mouth
  input becomes `pull` talking contacts, a hazard so high that they become aware and,
  if they could ever buy (the segment's potential), interested at once;
* otherwise the input is `below` times the ordinary one (0: a single friend's word
  carries no weight until the threshold is reached: complex contagion).
"""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from marketsim.plugins.sdk import (
    NonNegative,
    Plugin,
    PluginParams,
    Probability,
    key_from_params,
    key_to_params,
    param,
    uniform,
)

# Layout of kernel_params(): the four numeric parameters (field order), then these.
THRESHOLD, SPREAD, PULL, BELOW, KEY_HIGH, KEY_LOW, PURPOSE, DEGREES = range(8)


@numba.njit(cache=True, nogil=True)
def threshold_talk(key, i, s, value, stage, indptr, indices, params):
    """New word-of-mouth input of person `i` (see the module docstring)."""
    if value > 0.0:
        degree = indptr[i + 1] - indptr[i]
        if degree > 0:
            share = value / degree
        else:  # well mixed: the input is degree x share of customers
            mixed = params[DEGREES + s]
            share = value / mixed if mixed > 0.0 else 0.0
        setup_key = key_from_params(params[KEY_HIGH], params[KEY_LOW])
        u = uniform(setup_key, i, np.int64(params[PURPOSE]))
        theta = params[THRESHOLD] + params[SPREAD] * (2.0 * u - 1.0)
        if share >= theta:
            return params[PULL]
    return value * params[BELOW]


class ThresholdContagion(Plugin):
    name = "threshold_contagion"
    version = "1.0.0"
    description = (
        "Granovetter threshold contagion: a person becomes interested once the share of "
        "their contacts who are customers reaches a personal threshold (kernel plugin, "
        "word-of-mouth hook)."
    )

    class Params(PluginParams):
        threshold: Probability = param(
            0.25, "mean personal threshold: share of contacts who must be customers", unit="share"
        )
        spread: Probability = param(
            0.1,
            "thresholds are uniform from threshold - spread to threshold + spread",
            unit="share",
        )
        pull: NonNegative = param(
            1000.0,
            "word-of-mouth input once the threshold is reached; 1000 makes interest practically "
            "certain for any word_of_mouth >= 0.005",
            unit="talking contacts",
        )
        below: Probability = param(
            0.0,
            "share of the ordinary word of mouth kept below the threshold (0: none)",
            unit="share",
        )

    kernels: ClassVar[dict] = {"word_of_mouth": threshold_talk}

    def setup(self, model) -> None:
        high, low = key_to_params(model.setup_key)
        degrees = [
            s.network.degree if s.network.type == "well_mixed" else 0.0
            for s in model.scenario.segments
        ]
        self._extra = np.array([high, low, self.purpose(0), *degrees], dtype=np.float64)

    def kernel_params(self) -> np.ndarray:
        extra = getattr(self, "_extra", None)
        if extra is None:
            raise RuntimeError("threshold_contagion: call setup(model) before kernel_params()")
        return np.concatenate([super().kernel_params(), extra])

    def thresholds(self, model, rows: np.ndarray) -> np.ndarray:
        """The personal thresholds of `rows` (for analysis and tests)."""
        from marketsim.plugins.rng import uniforms

        u = uniforms(model.setup_key, rows, self.purpose(0))
        return self.params.threshold + self.params.spread * (2.0 * u - 1.0)
