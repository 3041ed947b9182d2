"""Totals of people, customers, units and revenue by trait band, in one pass."""

from __future__ import annotations

import numpy as np

from marketsim.core.stages import CUSTOMER
from marketsim.kernels.config import jit


@jit
def band_totals(band, starts, stops, weights, stage, purchases, spent, n_bands):
    """[people, customers, units, revenue] by band of the rows `starts[b]:stops[b]`.

    `band` holds the rows' bands, block after block; `weights[b]` is what one agent of
    block b weighs. Sums run in row order, so they equal numpy's weighted bincount of
    the same rows to the last bit.
    """
    out = np.zeros((4, n_bands))
    j = 0
    for b in range(starts.shape[0]):
        w = weights[b]
        for i in range(starts[b], stops[b]):
            k = band[j]
            j += 1
            out[0, k] += w
            out[1, k] += (1.0 if stage[i] == CUSTOMER else 0.0) * w
            out[2, k] += np.float64(purchases[i]) * w
            out[3, k] += np.float64(spent[i]) * w
    return out
