"""Set-up kernels for the population arrays."""

from __future__ import annotations

import numba

from marketsim.kernels.config import parallel_jit
from marketsim.kernels.rng import uniform


@parallel_jit
def draw_initial_awareness(key, stage, segment, share, purpose, aware):
    """Mark each person aware with their segment's initial share, one draw each."""
    for i in numba.prange(stage.shape[0]):
        if uniform(key, i, purpose) < share[segment[i]]:
            stage[i] = aware


@parallel_jit
def draw_start_stages(key, stage, segment, cumulative, codes, purpose):
    """Each person's funnel stage at step 0: one draw against their segment's shares.

    `cumulative[s, k]` is the share of segment s in `codes[0..k]`; a person whose draw
    falls past the last share keeps the stage they have.
    """
    for i in numba.prange(stage.shape[0]):
        row = cumulative[segment[i]]
        if not row[row.shape[0] - 1] > 0.0:
            continue
        u = uniform(key, i, purpose)
        for k in range(row.shape[0]):
            if u < row[k]:
                stage[i] = codes[k]
                break
