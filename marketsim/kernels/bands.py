"""Totals of people, customers, units and revenue by trait band, in one pass."""

from __future__ import annotations

import numpy as np

from marketsim.core.stages import CUSTOMER
from marketsim.kernels.config import inline_jit, jit


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


@inline_jit
def _order_key(bits, i):
    """Person i's sort key: their float32 value's bits, made to order as floats do, over i.

    -0.0 counts as 0.0; negatives flip every bit, the rest only the sign bit.
    """
    b = bits[i]
    if b == np.uint32(0x80000000):
        b = np.uint32(0)
    flip = np.uint32(0xFFFFFFFF) if b >> np.uint32(31) else np.uint32(0x80000000)
    return (np.uint64(b ^ flip) << np.uint64(32)) | np.uint64(i)


@jit
def order_keys(bits):
    """Distinct 64-bit keys of float32 values (`bits`: their uint32 view) in value order.

    Ties order by row, so sorting the keys gives numpy's stable argsort in the low half.
    """
    out = np.empty(bits.shape[0], dtype=np.uint64)
    for i in range(bits.shape[0]):
        out[i] = _order_key(bits, i)
    return out


@jit
def bands_by_key(bits, bounds):
    """Each row's band: how many of the sorted band-start keys `bounds` its key reaches."""
    out = np.empty(bits.shape[0], dtype=np.int8)
    for i in range(bits.shape[0]):
        key = _order_key(bits, i)
        band = 0
        for bound in bounds:
            band += key >= bound
        out[i] = band
    return out


SELECT_BITS = 16
"""Top bits of a key that `keys_at_ranks` buckets by (65,536 buckets)."""


@jit
def keys_at_ranks(keys, ranks):
    """The keys a sort of the distinct `keys` would put at `ranks` (each in [0, n)).

    A radix select: one pass counts the keys by their top `SELECT_BITS` bits, a second
    gathers the keys of the buckets the ranks fall in, and only those are sorted. Two
    passes over the keys (a tenth of `np.partition`'s time at a million keys); a bucket
    holding most keys (a trait with few values) costs a sort of it, as a full sort would.
    """
    shift = np.uint64(64 - SELECT_BITS)
    buckets = 1 << SELECT_BITS
    below = np.zeros(buckets + 1, dtype=np.int64)  # keys in the buckets before each
    for k in keys:
        below[np.int64(k >> shift) + 1] += 1
    for b in range(buckets):
        below[b + 1] += below[b]
    bucket = np.searchsorted(below, ranks, side="right") - 1
    wanted = np.full(buckets, -1, dtype=np.int64)  # where a wanted bucket's keys go
    room = 0
    for b in bucket:
        if wanted[b] < 0:
            wanted[b] = room
            room += below[b + 1] - below[b]
    gathered = np.empty(room, dtype=np.uint64)
    filled = np.zeros(buckets, dtype=np.int64)
    for k in keys:
        b = np.int64(k >> shift)
        if wanted[b] >= 0:
            gathered[wanted[b] + filled[b]] = k
            filled[b] += 1
    for b in np.unique(bucket):
        gathered[wanted[b] : wanted[b] + filled[b]].sort()
    out = np.empty(ranks.shape[0], dtype=np.uint64)
    for j in range(ranks.shape[0]):
        out[j] = gathered[wanted[bucket[j]] + ranks[j] - below[bucket[j]]]
    return out
