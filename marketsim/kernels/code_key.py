"""A fingerprint of what a numba function computes, to key a cache by.

Numba's own cache checks only the source file of the function it compiles, not the
functions and constants that function reads. A kernel with plugin hooks compiled in is
keyed by `fingerprint` of the hooks instead: everything their machine code depends on
that this module can account for. Anything it cannot (an object of an unknown kind, a
list or dict a hook reads as a global) raises `Unaccounted`, and the caller must not
cache by the fingerprint.
"""

from __future__ import annotations

import enum
import hashlib
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

LIBRARIES = frozenset({"numpy", "numba", "scipy", "marketsim", "llvmlite"})


class Unaccounted(ValueError):
    """A function reads something whose effect on its machine code cannot be hashed."""


def fingerprint(fn: Any) -> bytes:
    """SHA-256 of numba function `fn`'s code, options and everything it reads by name."""
    digest = hashlib.sha256()
    for part in _value("<hook>", fn, set()):
        digest.update(part)
    return digest.digest()


def _value(name: str, value: Any, seen: set[int]) -> Iterator[bytes]:
    """Bytes standing for `value`, read by a function under `name`."""
    if isinstance(value, bool | int | float | complex | str | bytes | type(None)):
        yield repr((name, type(value).__name__, value)).encode()
    elif isinstance(value, np.generic):
        yield repr((name, value.dtype.str, value.item())).encode()
    elif isinstance(value, np.ndarray):
        yield repr((name, value.dtype.str, value.shape)).encode()
        yield hashlib.sha256(np.ascontiguousarray(value).tobytes()).digest()
    elif isinstance(value, tuple):
        yield repr((name, "tuple", len(value))).encode()
        for k, item in enumerate(value):
            yield from _value(f"{name}[{k}]", item, seen)
    elif isinstance(value, type) and issubclass(value, enum.Enum):
        yield repr((name, value.__qualname__, [(m.name, m.value) for m in value])).encode()
    elif isinstance(value, type):
        yield repr((name, "type", value.__module__, value.__qualname__)).encode()
    elif hasattr(value, "py_func") and hasattr(value, "targetoptions"):  # a numba function
        yield repr((name, "numba", sorted(value.targetoptions.items()))).encode()
        yield from _function(value.py_func, seen)
    elif isinstance(value, types.FunctionType) and not _library(value.__module__):
        yield from _function(value, seen)
    elif isinstance(value, types.FunctionType | types.BuiltinFunctionType | np.ufunc):
        yield repr((name, "library", getattr(value, "__module__", ""), value.__name__)).encode()
    elif isinstance(value, types.ModuleType) and _library(value.__name__):
        yield repr((name, "module", value.__name__)).encode()
    else:
        raise Unaccounted(f"{name} is a {type(value).__name__}")


def _function(fn: Callable[..., Any], seen: set[int]) -> Iterator[bytes]:
    """A Python function: its code, defaults, closure cells and the globals it reads."""
    if id(fn) in seen:
        return
    seen.add(id(fn))
    code = fn.__code__
    yield repr((fn.__module__, fn.__qualname__)).encode()  # numba's cached code names it
    yield from _code(code)
    yield from _value("defaults", fn.__defaults__ or (), seen)
    for key, default in sorted((fn.__kwdefaults__ or {}).items()):
        yield from _value(key, default, seen)
    for var, cell in zip(code.co_freevars, fn.__closure__ or (), strict=True):
        yield from _value(var, cell.cell_contents, seen)
    names = set(_names(code))
    for name in sorted(names):
        if name not in fn.__globals__:
            continue  # a builtin, or an attribute name
        value = fn.__globals__[name]
        if isinstance(value, types.ModuleType) and not _library(value.__name__):
            # follow `module.attribute` reads into the plugin's own modules
            for attribute in sorted(names):
                if attribute in vars(value):
                    yield from _value(f"{name}.{attribute}", vars(value)[attribute], seen)
        else:
            yield from _value(name, value, seen)


def _library(module: str) -> bool:
    """Whether `module` belongs to Python, numpy, numba, scipy or marketsim.

    Their code changes only with their version, and numba's cache already changes with
    numba's and Python's; a plugin's own modules are followed instead.
    """
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or top in LIBRARIES


def _code(code: types.CodeType) -> Iterator[bytes]:
    yield code.co_code
    yield repr((code.co_names, code.co_varnames, code.co_freevars)).encode()
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code(const)
        elif isinstance(const, frozenset):  # its order follows the process's hash seed
            yield repr(sorted(repr(c) for c in const)).encode()
        else:
            yield repr((type(const).__name__, const)).encode()


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)
