"""The one place JIT flags live, so every kernel compiles the same way."""

from __future__ import annotations

import warnings

import numba
from numba.core.errors import NumbaExperimentalFeatureWarning, NumbaIRAssumptionWarning

# Plugins' kernel hooks reach the hot loop as first-class functions (typed function
# pointers), which numba still labels experimental; the project's tests pin the behaviour.
warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)
# Inlining a plugin's chain into the kernel trips a pedantic check of numba's SSA pass
# ("variable ... is not in scope") that numba itself says is internal; the inlined
# kernels are tested bit for bit against the others.
warnings.filterwarnings(
    "ignore",
    message=r"variable '.*_inlined_chain.*' is not in scope",
    category=NumbaIRAssumptionWarning,
)

JIT = {"nogil": True, "cache": True, "fastmath": False, "error_model": "numpy"}
PARALLEL_JIT = {**JIT, "parallel": True}


def jit(func):
    """Compile a serial kernel with the project's flags."""
    return numba.njit(**JIT)(func)


def inline_jit(func):
    """Compile a helper that numba inlines into its caller: a phase of the per-person loop.

    Inlined in numba's own representation, so a kernel compiled without reference
    counting (`_nrt=False`) can call it: no call, no argument passing, no refcounts.
    """
    return numba.njit(inline="always", **JIT)(func)


def parallel_jit(func):
    """Compile a kernel that uses `numba.prange` with the project's flags."""
    return numba.njit(**PARALLEL_JIT)(func)
