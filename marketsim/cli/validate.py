"""`marketsim validate` and `marketsim schema`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from marketsim.cli import common
from marketsim.cli.app import command
from marketsim.core.errors import InputErrors, ScenarioError


@command()
def validate(
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE", help="Scenario YAML files.", show_default=False),
    ],
    plugin_path: common.PluginPath = None,
) -> None:
    """Check scenario files: print `FILE: ok` for each good one, the problems of the others.

    Exits 0 when every file is valid, else 2.
    """
    from marketsim.plugins.prepare import load_scenario

    common.use_plugin_paths(plugin_path)
    bad = []
    for file in files:
        try:
            scenario = load_scenario(file)
        except ScenarioError as e:
            bad.append(e)
        else:
            print(f"{file}: ok")
            common.warn(scenario)
    if bad:
        raise InputErrors(bad)


@command()
def schema(plugin_path: common.PluginPath = None) -> None:
    """Print the JSON Schema of scenario files (for editor completion and checking).

    `behaviours` lists every plugin found, each with its parameters; a plugin that
    cannot be loaded is left out with a warning on stderr.
    """
    from marketsim.plugins.schema import behaviours_schema
    from marketsim.scenario import scenario_json_schema

    common.use_plugin_paths(plugin_path)
    document = scenario_json_schema()
    plugins = behaviours_schema()
    document["properties"]["behaviours"]["items"] = plugins.items
    document.setdefault("$defs", {}).update(plugins.defs)
    for name, why in plugins.skipped:
        print(f"warning: plugin {name!r} left out of the schema: {why}", file=sys.stderr)
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
