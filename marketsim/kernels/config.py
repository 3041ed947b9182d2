"""The one place JIT flags live, so every kernel compiles the same way."""

from __future__ import annotations

import numba

JIT = {"nogil": True, "cache": True, "fastmath": False, "error_model": "numpy"}
PARALLEL_JIT = {**JIT, "parallel": True}


def jit(func):
    """Compile a serial kernel with the project's flags."""
    return numba.njit(**JIT)(func)


def parallel_jit(func):
    """Compile a kernel that uses `numba.prange` with the project's flags."""
    return numba.njit(**PARALLEL_JIT)(func)
