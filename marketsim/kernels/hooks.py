"""The kernel hook interface: the signatures of per-person plugin functions.

A plugin's kernel hook is a numba function called for person `i` of segment `s` from
inside the customer kernel's loop, in one of two forms:

* `(key, i, s, value, stage, indptr, indices, params) -> new value` (`KERNEL_SIGNATURE`):
  the funnel stages and the contact network;
* `(key, i, s, value, people, params) -> new value` (`VIEW_SIGNATURE`): `people` is a
  `KernelView` of everything a hook may read (stages, network, ad memory, step of the
  last purchase, step they became a customer, traits, the step) and the plugin's own
  per-person columns, which it may write for person `i` alone, and its per-segment
  values.

The kernel calls each in its own form: a first-form hook costs no more than passing three
arrays. It receives `KERNEL_SLOTS` slots: each hook point's chain
(its plugins in scenario order, each given the previous one's value) in `KERNEL_HOOKS`
order, then `identity_hook` in the slots left over. A fixed number of slots means one
compiled kernel whatever the scenario, for hooks called through pointers; large markets
compile their hooks into a kernel of their own (`marketsim.kernels.hook_chain`).

Hooks read other people's state as it was at the start of the step (copies the kernel
takes when any hook is active), so what they see never depends on which thread moved
whom first.
What a hook returns is checked against its point's range (`HOOK_RANGES`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit, types

from marketsim.core.errors import RunError
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


class KernelView(NamedTuple):
    """What a `VIEW_SIGNATURE` hook sees of the people (row = person).

    Everything but `state` is read-only, and as it was at the start of the step.
    """

    stage: np.ndarray  # int8: funnel stage
    indptr: np.ndarray  # int64: contact network (CSR)
    indices: np.ndarray  # int32
    ad_memory: np.ndarray  # float32 [person, memory group]: adstock
    purchased_at: np.ndarray  # int32: step of the last purchase (or when stock runs out)
    customer_since: np.ndarray  # int32: step the person last became a customer
    price_sensitivity: np.ndarray  # float32 traits; empty where nobody in the run differs
    purchase_rate: np.ndarray
    word_of_mouth: np.ndarray
    attitude: np.ndarray
    step: int  # int64: the step being run (tenure = step - customer_since)
    state: np.ndarray  # float64 [column, person]: the plugin's own columns; write row i only
    seen: np.ndarray  # float64 [column, person]: the same at the start of the step
    segments: np.ndarray  # float64 [segment, value]: the plugin's per-segment values


_F32 = types.float32[::1]
VIEW_TYPE = types.NamedTuple(
    (
        types.int8[::1],
        types.int64[::1],
        types.int32[::1],
        types.float32[:, ::1],
        types.int32[::1],
        types.int32[::1],
        _F32,
        _F32,
        _F32,
        _F32,
        types.int64,
        types.float64[:, ::1],
        types.float64[:, ::1],
        types.float64[:, ::1],
    ),
    KernelView,
)

VIEW_SIGNATURE = types.float64(
    types.uint64,  # key
    types.int64,  # i
    types.int64,  # s
    types.float64,  # value
    VIEW_TYPE,  # people
    types.float64[::1],  # params
)
"""The signature of a kernel hook that reads a `KernelView`; it returns the new `value`."""

KERNEL_HOOK_TYPE = types.FunctionType(KERNEL_SIGNATURE)
VIEW_HOOK_TYPE = types.FunctionType(VIEW_SIGNATURE)

EXPOSURE_HOOK, WOM_HOOK, PERSUASION_HOOK, PURCHASE_HOOK, CHURN_HOOK, SATISFACTION_HOOK = (
    KERNEL_HOOKS.index(h)
    for h in ("exposure", "word_of_mouth", "persuasion", "purchase", "churn", "satisfaction")
)
"""Positions of the hook points in `KernelHooks.first`."""

HOOK_RANGES: dict[str, tuple[float, float, str]] = {
    "exposure": (0.0, np.inf, "a finite weighted exposure >= 0"),
    "word_of_mouth": (-np.inf, np.inf, "a finite word-of-mouth input"),
    "persuasion": (-np.inf, np.inf, "a finite interest pressure"),
    "purchase": (0.0, 1.0, "a chance in [0, 1]"),
    "churn": (0.0, 1.0, "a chance in [0, 1]"),
    "satisfaction": (0.0, 1.0, "a chance in [0, 1]"),
}
"""What each kernel hook point accepts back: (lowest, highest, in words); never NaN."""

LOWEST = np.array([HOOK_RANGES[h][0] for h in KERNEL_HOOKS])
HIGHEST = np.array([HOOK_RANGES[h][1] for h in KERNEL_HOOKS])

WATCH_WIDTH = 8
"""Columns of the kernel's per-block watch rows (padded to a cache line, 8 float64s):
slot + 1 being called (0: none), its person and value in; then the block's first bad
result: slot + 1 (0: none), person, value returned."""
CALLING, CALLED_FOR, VALUE_IN, BAD_SLOT, BAD_PERSON, BAD_VALUE = range(6)


class HookFault(RunError):
    """A kernel hook raised, or returned a value outside its point's range.

    Attributes:
        slot: the hook's slot in `KernelHooks.functions`.
        point: its hook point (an index of `KERNEL_HOOKS`).
        person: the row it was called for.
        value: what it returned (or, if it raised, the value it was given).
        raised: the exception it raised, if it did.
    """

    def __init__(
        self, slot: int, point: int, person: int, value: float, raised: BaseException | None
    ) -> None:
        self.slot, self.point, self.person, self.value, self.raised = (
            slot,
            point,
            person,
            value,
            raised,
        )
        hook = KERNEL_HOOKS[point]
        if raised is None:
            what = f"returned {value!r}, expected {HOOK_RANGES[hook][2]}"
        else:
            what = f"raised {type(raised).__name__}: {raised} (given {value!r})"
        super().__init__(f"kernel hook {slot} ({hook}) for person {person} {what}")


def allowed(point: int, value: float) -> bool:
    """Whether `value` is in the range of hook point `point` (plain Python, for the reference)."""
    return bool(np.isfinite(value) and LOWEST[point] <= value <= HIGHEST[point])


@njit(KERNEL_SIGNATURE, **JIT)
def identity_hook(key, i, s, value, stage, indptr, indices, params):
    """What an unused slot of the first form holds: the value as it is (never called)."""
    return value


@njit(VIEW_SIGNATURE, **JIT)
def identity_view_hook(key, i, s, value, people, params):
    """What an unused slot of the view form holds: the value as it is (never called)."""
    return value


def takes_view(fn: Any) -> bool:
    """Whether kernel hook `fn` has the `VIEW_SIGNATURE` form (six parameters)."""
    import inspect

    return len(inspect.signature(fn.py_func).parameters) == 6


def signature_of(fn: Any) -> Any:
    """The signature kernel hook `fn` is compiled with, by its form."""
    return VIEW_SIGNATURE if takes_view(fn) else KERNEL_SIGNATURE
