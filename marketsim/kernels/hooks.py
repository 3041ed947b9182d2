"""The kernel hook interface: the one signature every per-person plugin function has.

A plugin's kernel hook is a numba function `(key, i, s, value, stage, indptr, indices,
params) -> new value`, called for person `i` of segment `s` from inside the customer
kernel's loop. The kernel receives one function per hook point, in `KERNEL_HOOKS`
order, with `identity_hook` wherever no plugin provides one.
"""

from __future__ import annotations

from numba import njit, types

from marketsim.core.hooks import KERNEL_HOOKS
from marketsim.kernels.config import JIT

KERNEL_SIGNATURE = types.float64(
    types.uint64,  # key: the step's random stream key (draw with marketsim.kernels.rng)
    types.int64,  # i: the person's row
    types.int64,  # s: the person's segment
    types.float64,  # value: what the core computed (see each hook)
    types.int8[::1],  # stage: every person's funnel stage at the start of the step
    types.int64[::1],  # indptr: contact network (CSR)
    types.int32[::1],  # indices
    types.float64[::1],  # params: the plugin's `kernel_params()`
)
"""The one signature of every kernel hook; it returns the new `value`."""

KERNEL_HOOK_TYPE = types.FunctionType(KERNEL_SIGNATURE)

EXPOSURE_HOOK, WOM_HOOK, PERSUASION_HOOK, PURCHASE_HOOK = (
    KERNEL_HOOKS.index(h) for h in ("exposure", "word_of_mouth", "persuasion", "purchase")
)
"""Positions of the hook points in the tuples the customer kernel takes."""


@njit(KERNEL_SIGNATURE, **JIT)
def identity_hook(key, i, s, value, stage, indptr, indices, params):
    """The built-in behaviour at every kernel hook point: leave the value as it is."""
    return value
