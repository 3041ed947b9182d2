"""Behaviour plugins: the interface, discovery, loading, resolution and the runtime.

A researcher imports everything from `marketsim.plugins.sdk` (see `docs/plugins.md`),
puts the module in a plugins folder or installs it with an entry point in the group
`marketsim.plugins`, and names it in a scenario:

    behaviours:
      - plugin: threshold_contagion
        threshold: 0.3

The modules, bottom up: `base` (the `Plugin` class), `discovery` (finding plugins
without importing them), `loader` (importing and checking one), `resolve` (a scenario's
behaviours and their parameters), `prepare` (a scenario made ready to run), `context`
and `runtime` (what hooks see, and calling them). Names here load on first use, so
importing this package costs nothing until a plugin is needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from marketsim.plugins.base import NoParams, Plugin, PluginParams, param
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
    from marketsim.plugins.loader import Registry, check_plugin_class, load, registry
    from marketsim.plugins.prepare import load_scenario, prepare, scenario_from_text
    from marketsim.plugins.runtime import PluginRunError

_HOMES = {
    "NoParams": "base",
    "Plugin": "base",
    "PluginParams": "base",
    "param": "base",
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
    "check_plugin_class": "loader",
    "load": "loader",
    "registry": "loader",
    "load_scenario": "prepare",
    "prepare": "prepare",
    "scenario_from_text": "prepare",
    "PluginRunError": "runtime",
}

__all__ = [
    "ENTRY_POINT_GROUP",
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
    "UnknownPluginError",
    "add_plugin_paths",
    "check_plugin_class",
    "discover",
    "load",
    "load_scenario",
    "param",
    "prepare",
    "registry",
    "scenario_from_text",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'marketsim.plugins' has no attribute {name!r}")
    value = getattr(import_module(f"marketsim.plugins.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
