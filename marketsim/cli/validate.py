"""`marketsim validate` and `marketsim schema`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from marketsim.cli import common
from marketsim.cli.app import app
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario import ScenarioError, scenario_json_schema


@app.command()
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
    common.use_plugin_paths(plugin_path)
    bad = False
    for file in files:
        try:
            load_scenario(file)
        except ScenarioError as e:
            print(e, file=sys.stderr)
            bad = True
        else:
            print(f"{file}: ok")
    if bad:
        raise typer.Exit(2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion and checking)."""
    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")
