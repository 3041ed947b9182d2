"""Counter-based random numbers: every draw is a hash of who, when and why.

A draw never depends on how many draws came before it, so results are identical
whatever the thread count, the order of loops or the engine (kernel or reference).
The key of a draw is (seed, replicate, step, entity, purpose); `stream_key` folds the
first three into one 64-bit word once per step and the kernels mix in the rest.
The mixer is SplitMix64's finaliser, which passes BigCrush as a counter-based generator.
"""

from __future__ import annotations

import numpy as np

from marketsim.kernels.config import jit

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_PURPOSE = 0xD1B54A32D192ED03
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_INV_2_53 = 1.0 / 9007199254740992.0


def _mix_py(z: int) -> int:
    z &= _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def stream_key(seed: int, replicate: int, step: int) -> np.uint64:
    """Fold (seed, replicate, step) into the key kernels receive for one step.

    Args:
        seed: scenario seed (non-negative).
        replicate: replicate index; replicate r of every strategy shares streams.
        step: step index; -1 for set-up draws made before the first step.

    """
    h = _mix_py(seed + _GOLDEN)
    h = _mix_py(h ^ ((replicate + 1) * _GOLDEN & _MASK))
    h = _mix_py(h ^ ((step + 2) * _PURPOSE & _MASK))
    return np.uint64(h)


def derive_key(key: np.uint64 | int, salt: int) -> np.uint64:
    """A key for a sub-stream (e.g. one segment's network) that no other salt shares."""
    return np.uint64(_mix_py(int(key) ^ ((salt + 1) * _PURPOSE & _MASK)))


def uniform_py(key: int, entity: int, purpose: int) -> float:
    """Reference (plain Python) uniform in [0, 1) for one draw."""
    z = _mix_py(int(key) ^ ((entity + 1) * _GOLDEN & _MASK))
    z = _mix_py(z + purpose * _PURPOSE)
    return (z >> 11) * _INV_2_53


@jit
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


@jit
def entity_hash(key: np.uint64, entity: np.int64) -> np.uint64:
    """The part of a draw that depends on (key, entity) only.

    A kernel making several draws for one entity computes this once and passes it to
    `draw` per purpose: `draw(entity_hash(k, e), p) == uniform(k, e, p)` bit for bit.
    """
    return _mix(key ^ (np.uint64(entity + 1) * np.uint64(_GOLDEN)))


@jit
def draw(entity_h: np.uint64, purpose: np.int64) -> float:
    """Uniform in [0, 1) for one purpose of the entity whose `entity_hash` is given."""
    # The cast keeps the arithmetic unsigned when a caller passes the hash as an int.
    z = _mix(np.uint64(entity_h) + np.uint64(purpose) * np.uint64(_PURPOSE))
    return float(z >> np.uint64(11)) * _INV_2_53


@jit
def uniform(key: np.uint64, entity: np.int64, purpose: np.int64) -> float:
    """Kernel uniform in [0, 1) for one draw; bit-identical to `uniform_py`."""
    return draw(entity_hash(key, entity), purpose)


@jit
def poisson(key: np.uint64, entity: np.int64, purpose: np.int64, lam: float) -> int:
    """Poisson draw by inversion of one uniform; exact for any rate below 700."""
    if lam <= 0.0:
        return 0
    return poisson_inverse(uniform(key, entity, purpose), lam, np.exp(-lam))


@jit
def poisson_inverse(u: float, lam: float, p0: float) -> int:
    """Invert the Poisson(`lam`) distribution at `u`, given `p0 = np.exp(-lam)`.

    Kernels drawing many variates of one rate compute `p0` once; the arithmetic is
    exactly that of `poisson` and `reference.poisson_py`.
    """
    k = 0
    p = p0
    c = p
    while u >= c and k < 10_000:
        k += 1
        p *= lam / k
        c += p
        if p == 0.0 and c < u:
            break
    return k
