"""Random numbers for plugins: the core's counter-based generator, for arrays and kernels.

Every draw is a hash of (key, entity, purpose): the step's `ctx.key` (or the model's
`setup_key` for draws made once per person), the person's row, and a purpose from
`plugin.purpose(k)`. A draw never depends on how many came before it, so a plugin keeps
results identical across runs, thread counts and engines.

* `uniform(key, i, purpose)` / `draw(entity_hash(key, i), purpose)`: one draw, in numba.
* `uniform_py(key, i, purpose)`: the same draw in plain Python.
* `uniforms(key, rows, purpose)`: one draw per row of an array (numpy in, numpy out).
* `key_to_params(key)` / `key_from_params(hi, lo)`: carry a 64-bit key (e.g. the setup
  key) to a kernel hook through its float64 `params` without losing bits.
"""

from __future__ import annotations

import numpy as np

from marketsim.core.purposes import P_PLUGIN
from marketsim.kernels.config import jit
from marketsim.kernels.rng import draw, entity_hash, uniform, uniform_py

__all__ = [
    "P_PLUGIN",
    "draw",
    "entity_hash",
    "key_from_params",
    "key_to_params",
    "uniform",
    "uniform_py",
    "uniforms",
]


@jit
def _uniforms(key, rows, purpose, out):
    for j in range(rows.shape[0]):
        out[j] = uniform(key, rows[j], purpose)


def uniforms(key: np.uint64 | int, rows: np.ndarray, purpose: int) -> np.ndarray:
    """One uniform in [0, 1) per entry of `rows`: `uniform(key, rows[j], purpose)`."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    out = np.empty(rows.shape[0])
    _uniforms(np.uint64(key), rows, np.int64(purpose), out)
    return out


def key_to_params(key: np.uint64 | int) -> tuple[float, float]:
    """(high, low) 32-bit halves of a key as floats: exact, unlike one float64."""
    k = int(key)
    return float(k >> 32), float(k & 0xFFFFFFFF)


@jit
def key_from_params(high: float, low: float) -> np.uint64:
    """The key `key_to_params` split, rebuilt inside a kernel."""
    return (np.uint64(high) << np.uint64(32)) | np.uint64(low)
