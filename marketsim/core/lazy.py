"""Names a package exports but imports only when first used, so importing it stays cheap."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(module: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` that imports each name of `homes` from its module.

    `homes` maps an exported name to the module defining it; the value is cached in
    `module` on first use, so later lookups cost nothing.
    """

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(import_module(homes[name]), name)
        setattr(sys.modules[module], name, value)
        return value

    return __getattr__


def lazy_function(module: str, name: str) -> Callable[..., Any]:
    """`module.name`, a function imported on its first call rather than now.

    For tables of functions where a command calls only one (the report pages), so
    building the table does not import every module it names.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__module__ = module
    return call
