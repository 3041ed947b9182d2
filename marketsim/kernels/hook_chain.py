"""How the customer kernel runs a hook point's chain of plugin kernel hooks.

The kernel calls `run_chain(point, value, i, s, hook_args)` wherever a hook point's
value is made; what that compiles to is chosen when the kernel is compiled, by the
kernel variant's *chain spec* (the last item of `hook_args`, a string constant):

* `NO_HOOKS`: nothing; the value as it is;
* `POINTERS`: the slots' functions travel as tuples of first-class numba functions, so
  one compiled kernel serves every plugin set (what small markets use: no compiling);
* an inlined spec (`inline_spec`): the plugins' functions are compiled into the kernel
  itself, direct calls the compiler can inline, so a hook costs what its own arithmetic
  costs. Each plugin set compiles its own kernel once (numba caches it on disk); the spec
  names the functions by their code, so editing a plugin compiles afresh.

Every form records who is being called before a call (so a hook that raises can be
named) and keeps the value before a result outside the point's range, recording it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

from marketsim.kernels.code_key import Unaccounted, fingerprint
from marketsim.kernels.config import JIT, inline_jit
from marketsim.kernels.hooks import (
    BAD_PERSON,
    BAD_SLOT,
    BAD_VALUE,
    CALLED_FOR,
    CALLING,
    HIGHEST,
    LOWEST,
    VALUE_IN,
    KernelView,
    takes_view,
)

NO_HOOKS = ""
POINTERS = "pointers"

_INLINED: dict[str, tuple[tuple[Any, bool, int], ...]] = {}
"""Inlined specs' slots as (function, takes a view, hook point), for compiling."""

HOOKED, SPEC = 11, 12
"""Where `hook_args` holds whether any hook runs, and the chain spec. Before them: key,
shared start-of-step arrays, functions and view functions (or ()), viewed, first,
params, state, seen, segments, watch row."""


def inline_spec(functions: Sequence[Any], points: Sequence[int]) -> str | None:
    """The chain spec that compiles `functions` (slot by slot, at `points`) into the kernel.

    Named by what decides the machine code (`code_key.fingerprint` of each function,
    its form, the chain's layout): the spec keys numba's cache, so an edited plugin or
    helper compiles afresh. None where a function reads something the fingerprint
    cannot account for: such hooks are called by pointer. Registered so that compiling
    the kernel finds the functions.
    """
    digest = hashlib.sha256()
    slots = []
    for fn, point in zip(functions, points, strict=True):
        viewed = takes_view(fn)
        digest.update(repr((point, viewed)).encode())
        try:
            digest.update(fingerprint(fn))
        except Unaccounted:
            return None
        slots.append((fn, viewed, point))
    spec = "inline:" + digest.hexdigest()[:32]
    _INLINED[spec] = tuple(slots)
    return spec


def run_chain(point, value, i, s, hook_args):
    """`value` after the chain of kernel hooks at `point` (compiled by `_chain_for`)."""
    raise NotImplementedError("run_chain runs only inside a numba kernel")


@inline_jit
def _called(watch, k, i, value):
    """Record before a call who slot k is called for, so a raise can be named."""
    watch[CALLING] = k + 1
    watch[CALLED_FOR] = i
    watch[VALUE_IN] = value


@inline_jit
def _checked(point, k, i, value, out, watch):
    """`out` if it lies in `point`'s range, else `value`, the block's first such recorded."""
    watch[CALLING] = 0.0
    if abs(out) < np.inf and LOWEST[point] <= out <= HIGHEST[point]:
        return out
    if watch[BAD_SLOT] == 0.0:
        watch[BAD_SLOT] = k + 1
        watch[BAD_PERSON] = i
        watch[BAD_VALUE] = out
    return value


@inline_jit
def _view(shared, state, seen, segments):
    """A slot's `KernelView`: the shared start-of-step arrays and its plugin's own."""
    return KernelView(
        shared[0],
        shared[1],
        shared[2],
        shared[3],
        shared[4],
        shared[5],
        shared[6],
        shared[7],
        shared[8],
        shared[9],
        shared[10],
        state,
        seen,
        segments,
    )


def _no_chain(point, value, i, s, hook_args):
    return value


def _pointer_chain(point, value, i, s, hook_args):
    key, shared, functions, view_functions, viewed, first = hook_args[:6]
    params, state, seen, segments, watch = hook_args[6:11]
    for k in range(first[point], first[point + 1]):
        _called(watch, k, i, value)
        if viewed[k]:
            people = _view(shared, state[k], seen[k], segments[k])
            out = view_functions[k](key, i, s, value, people, params[k])
        else:
            out = functions[k](key, i, s, value, shared[0], shared[1], shared[2], params[k])
        value = _checked(point, k, i, value, out, watch)
    return value


def _slot_call(fn: Any, k: int, viewed: bool, point: int) -> Any:
    """Slot k's hook as an inlined step of the chain: call, check, record."""
    if viewed:

        def call(value, i, s, hook_args):
            key, shared = hook_args[0], hook_args[1]
            params, state, seen, segments, watch = hook_args[6:11]
            _called(watch, k, i, value)
            people = _view(shared, state[k], seen[k], segments[k])
            out = fn(key, i, np.int64(s), value, people, params[k])
            return _checked(point, k, i, value, out, watch)

    else:

        def call(value, i, s, hook_args):
            key, shared, params, watch = hook_args[0], hook_args[1], hook_args[6], hook_args[10]
            _called(watch, k, i, value)
            out = fn(key, i, np.int64(s), value, shared[0], shared[1], shared[2], params[k])
            return _checked(point, k, i, value, out, watch)

    return njit(inline="always", **JIT)(call)


def _then(before: Any, after: Any) -> Any:
    """The chain step `after` applied to what `before` returns."""

    def chain(point, value, i, s, hook_args):
        return after(before(point, value, i, s, hook_args), i, s, hook_args)

    return njit(inline="always", **JIT)(chain)


def _inlined_chain(spec: str, point: int) -> Callable[..., Any]:
    """The chain at `point` of an inlined spec, unrolled slot by slot in scenario order."""
    chain = njit(inline="always", **JIT)(_no_chain)
    for k, (fn, viewed, at) in enumerate(_INLINED[spec]):
        if at == point:
            chain = _then(chain, _slot_call(fn, k, viewed, point))

    def inlined(point, value, i, s, hook_args):
        return chain(point, value, i, s, hook_args)

    return inlined


@overload(run_chain, prefer_literal=True, inline="always", jit_options=JIT)
def _chain_for(point, value, i, s, hook_args):
    spec = hook_args.types[SPEC]
    if not isinstance(spec, types.StringLiteral) or not isinstance(point, types.IntegerLiteral):
        return None
    if spec.literal_value == NO_HOOKS:
        return _no_chain
    if spec.literal_value == POINTERS:
        return _pointer_chain
    if spec.literal_value not in _INLINED:
        raise KeyError(f"kernel hooks {spec.literal_value} were not registered in this process")
    return _inlined_chain(spec.literal_value, point.literal_value)
