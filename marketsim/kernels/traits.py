"""Individual traits, drawn once per person from counter-based uniforms.

Person i's value of a trait is a function of (trait key, i) only: the k-th uniform it
uses is `uniform(key, i, k)`. Draws therefore never depend on the thread count, the
order of people or how many draws another person needed (rejection sampling).

Families (codes below), each with two parameters p, q:

- FIXED: p;
- GAMMA: mean p, shape q (Marsaglia and Tsang 2000; shape < 1 by the boost
  G(k) = G(k + 1) U^(1/k));
- BETA: shape parameters p, q, as G(p) / (G(p) + G(q));
- LOGNORMAL: exp(p + q Z), Z standard normal by Box-Muller;
- MIX: value `values[j]` where the uniform falls in the j-th cumulative weight.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from marketsim.kernels.config import jit, parallel_jit
from marketsim.kernels.rng import uniform

FIXED, GAMMA, BETA, LOGNORMAL, MIX = 0, 1, 2, 3, 4
"""Family codes."""

_ATTEMPTS = 64
"""Draws of one gamma variate allotted to each rejection attempt (two are used)."""


@jit
def _normal(key, i, k):
    """A standard normal from uniforms k and k + 1 (Box-Muller, cosine branch)."""
    u1 = 1.0 - uniform(key, i, k)  # in (0, 1]: log is finite
    u2 = uniform(key, i, k + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@jit
def _standard_gamma(key, i, shape, first):
    """A Gamma(shape, 1) variate from uniforms `first` onwards (at most 3 x 64 + 1 of them)."""
    boost = 1.0
    if shape < 1.0:
        boost = (1.0 - uniform(key, i, first)) ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    k = first + 1
    for _ in range(_ATTEMPTS):
        z = _normal(key, i, k)
        u = 1.0 - uniform(key, i, k + 2)
        k += 3
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(u) < 0.5 * z * z + d - d * v + d * math.log(v):
            return d * v * boost
    return d * boost  # never reached in practice: each attempt succeeds with chance > 0.95


@jit
def trait_value(key, i, family, p, q, values, cumulative):
    """Person i's value of one trait."""
    if family == FIXED:
        return p
    if family == GAMMA:
        return p * _standard_gamma(key, i, q, 0) / q
    if family == BETA:
        x = _standard_gamma(key, i, p, 0)
        y = _standard_gamma(key, i, q, 1000)
        return x / (x + y) if x + y > 0.0 else p / (p + q)
    if family == LOGNORMAL:
        return math.exp(p + q * _normal(key, i, 0))
    u = uniform(key, i, 0)
    for j in range(cumulative.shape[0]):
        if u < cumulative[j]:
            return values[j]
    return values[values.shape[0] - 1]


@parallel_jit
def _draw(key, family, p, q, values, cumulative, start, stop, out):
    for i in numba.prange(start, stop):
        out[i] = np.float32(trait_value(key, i, family, p, q, values, cumulative))


def draw_trait(
    key: np.uint64,
    family: int,
    p: float,
    q: float,
    values: np.ndarray,
    weights: np.ndarray,
    out: np.ndarray,
    start: int,
    stop: int,
) -> None:
    """Fill `out[start:stop]` (float32) with one segment's draws of a trait.

    Args:
        key: the trait's key (one per trait and segment, see `engine.traits`).
        family: the family code (see the module).
        p: the family's first parameter.
        q: its second parameter.
        values: a mix's values (ignored by other families).
        weights: a mix's weights.
        out: the population's column for the trait.
        start: the segment's first row.
        stop: the row after its last.

    """
    if not 0 <= start <= stop <= out.shape[0]:
        raise ValueError(f"rows [{start}, {stop}) must lie within [0, {out.shape[0]}]")
    if family not in (FIXED, GAMMA, BETA, LOGNORMAL, MIX):
        raise ValueError(f"unknown trait family code {family}")
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    _draw(
        np.uint64(key),
        family,
        float(p),
        float(q),
        np.asarray(values, dtype=np.float64),
        cumulative,
        start,
        stop,
        out,
    )
