"""Product choice kernel: which product each unit sold in a segment is."""

from __future__ import annotations

import numpy as np

from marketsim.core.purposes import P_CHOICE
from marketsim.kernels.config import jit
from marketsim.kernels.rng import uniform


@jit
def _split_units(key, units, shares, out):
    """Give each unit sold in a segment a product, one draw per unit."""
    n_products = shares.shape[1]
    for s in range(units.shape[0]):
        for u in range(units[s]):
            x = uniform(key, (s << 32) + u, P_CHOICE)
            c = 0.0
            pick = n_products - 1
            for p in range(n_products):
                c += shares[s, p]
                if x < c:
                    pick = p
                    break
            out[s, pick] += 1


def split_units(key: np.uint64, units: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Units [segment] split into units [segment, product] by choice shares."""
    if units.shape[0] != shares.shape[0]:
        raise ValueError(
            f"`units` and `shares` must have one row per segment, but got "
            f"{units.shape=} and {shares.shape=}"
        )
    out = np.zeros(shares.shape, dtype=np.int64)
    _split_units(np.uint64(key), units.astype(np.int64), np.ascontiguousarray(shares), out)
    return out
