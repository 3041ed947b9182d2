"""numpy operations that give the same bits on every machine.

numpy picks its exp, log and power loops by the CPU it runs on (its AVX-512 ones differ
from the C library in the last bit), and `@` hands float products to BLAS, which picks
its kernel, and so its order of additions, by the CPU too. So `np.exp(x)` or `a @ b`
can give one result on one machine and another elsewhere. The kernels call the C
library (numba lowers `exp` and a float `**` to it), as does Python's `math`;
everything that reaches a run's output uses these instead, so results do not depend on
the machine. `exp`, `log` and `power` loop in Python: they serve small [segment,
product] tables and per-step values, not per-person arrays (the kernels' job).
"""

from __future__ import annotations

import math

import numpy as np


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -math.inf if x == 0.0 else math.nan


def _power(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except OverflowError:
        odd = exponent.is_integer() and exponent % 2 == 1
        return -math.inf if base < 0.0 and odd else math.inf
    except ValueError:  # 0 to a negative power, or a negative base to a fraction
        return math.inf if base == 0.0 else math.nan


_EXP = np.frompyfunc(_exp, 1, 1)
_LOG = np.frompyfunc(_log, 1, 1)
_POWER = np.frompyfunc(_power, 2, 1)


def exp(x: np.ndarray | float) -> np.ndarray:
    """e**x elementwise, as `math.exp` (inf past its range)."""
    with np.errstate(all="ignore"):  # inf past the range is the answer, not a fault
        return np.asarray(_EXP(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def log(x: np.ndarray | float) -> np.ndarray:
    """The natural log elementwise, as `math.log` (-inf at 0, nan below)."""
    with np.errstate(all="ignore"):
        return np.asarray(_LOG(np.asarray(x, dtype=np.float64)), dtype=np.float64)


def power(base: np.ndarray | float, exponent: np.ndarray | float) -> np.ndarray:
    """base**exponent elementwise and broadcast, as `math.pow` (numpy's inf and nan cases)."""
    with np.errstate(all="ignore"):
        return np.asarray(
            _POWER(np.asarray(base, dtype=np.float64), np.asarray(exponent, dtype=np.float64)),
            dtype=np.float64,
        )


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A @ b for 1-d and 2-d operands, the products summed in a fixed order (not BLAS)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if b.ndim == 1:
        return (a * b).sum(axis=-1)
    return (a[..., :, None] * b).sum(axis=-2)
