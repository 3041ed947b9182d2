"""Behaviour plugins: the interface, discovery, the registry and activation.

A researcher subclasses `Plugin` (see `marketsim.plugins.base` for the hook points and
`docs/plugins.md` for a tutorial), puts the module in a plugins folder or installs it
with an entry point in the group `marketsim.plugins`, and names it in a scenario:

    behaviours:
      - plugin: threshold_contagion
        threshold: 0.3

Names load on first use, so importing this package costs nothing until a plugin is
needed (discovery never imports plugins; see `marketsim.plugins.discovery`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marketsim.plugins.base import (
        HOOKS,
        KERNEL_HOOKS,
        KERNEL_SIGNATURE,
        NoParams,
        Plugin,
        PluginParams,
        param,
    )
    from marketsim.plugins.context import StepContext
    from marketsim.plugins.discovery import (
        ENTRY_POINT_GROUP,
        PATH_VARIABLE,
        Candidate,
        add_plugin_paths,
        discover,
    )
    from marketsim.plugins.errors import (
        PluginConflictError,
        PluginDefinitionError,
        PluginError,
        PluginLoadError,
        UnknownPluginError,
    )
    from marketsim.plugins.loader import (
        Registry,
        activate,
        check_plugin_class,
        load,
        registry,
        resolved_behaviours,
    )
    from marketsim.plugins.runtime import PluginRunError

_HOMES = {
    "HOOKS": "base",
    "KERNEL_HOOKS": "base",
    "KERNEL_SIGNATURE": "base",
    "NoParams": "base",
    "Plugin": "base",
    "PluginParams": "base",
    "param": "base",
    "StepContext": "context",
    "ENTRY_POINT_GROUP": "discovery",
    "PATH_VARIABLE": "discovery",
    "Candidate": "discovery",
    "add_plugin_paths": "discovery",
    "discover": "discovery",
    "PluginConflictError": "errors",
    "PluginDefinitionError": "errors",
    "PluginError": "errors",
    "PluginLoadError": "errors",
    "UnknownPluginError": "errors",
    "Registry": "loader",
    "activate": "loader",
    "check_plugin_class": "loader",
    "load": "loader",
    "registry": "loader",
    "resolved_behaviours": "loader",
    "PluginRunError": "runtime",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOKS",
    "KERNEL_HOOKS",
    "KERNEL_SIGNATURE",
    "PATH_VARIABLE",
    "Candidate",
    "NoParams",
    "Plugin",
    "PluginConflictError",
    "PluginDefinitionError",
    "PluginError",
    "PluginLoadError",
    "PluginParams",
    "PluginRunError",
    "Registry",
    "StepContext",
    "UnknownPluginError",
    "activate",
    "add_plugin_paths",
    "check_plugin_class",
    "discover",
    "load",
    "param",
    "registry",
    "resolved_behaviours",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'marketsim.plugins' has no attribute {name!r}")
    value = getattr(import_module(f"marketsim.plugins.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
