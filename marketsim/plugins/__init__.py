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

from typing import TYPE_CHECKING

from marketsim.core.lazy import lazy_attributes

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
    "NoParams": "marketsim.plugins.base",
    "Plugin": "marketsim.plugins.base",
    "PluginParams": "marketsim.plugins.base",
    "param": "marketsim.plugins.base",
    "ENTRY_POINT_GROUP": "marketsim.plugins.discovery",
    "PATH_VARIABLE": "marketsim.plugins.discovery",
    "Candidate": "marketsim.plugins.discovery",
    "add_plugin_paths": "marketsim.plugins.discovery",
    "discover": "marketsim.plugins.discovery",
    "PluginConflictError": "marketsim.plugins.errors",
    "PluginDefinitionError": "marketsim.plugins.errors",
    "PluginError": "marketsim.plugins.errors",
    "PluginLoadError": "marketsim.plugins.errors",
    "UnknownPluginError": "marketsim.plugins.errors",
    "Registry": "marketsim.plugins.loader",
    "check_plugin_class": "marketsim.plugins.loader",
    "load": "marketsim.plugins.loader",
    "registry": "marketsim.plugins.loader",
    "load_scenario": "marketsim.plugins.prepare",
    "prepare": "marketsim.plugins.prepare",
    "scenario_from_text": "marketsim.plugins.prepare",
    "PluginRunError": "marketsim.plugins.runtime",
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


__getattr__ = lazy_attributes(__name__, _HOMES)
