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
