"""`marketsim plugins list` and `marketsim plugins show NAME`."""

from __future__ import annotations

import inspect
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketsim.cli import common
from marketsim.cli.app import app, command
from marketsim.core.errors import RunError

plugins_app = typer.Typer(
    name="plugins",
    help="List the behaviour plugins available, or show one's hooks and parameters.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(plugins_app)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@command("list", on=plugins_app)
def list_plugins(as_json: AsJson = False, plugin_path: common.PluginPath = None) -> None:
    """List every plugin found, without importing any: name, version, hooks, source.

    Searched: installed packages (entry points `marketsim.plugins`), the project's
    plugins/ folder, --plugin-path folders and MARKETSIM_PLUGIN_PATH. Two plugins with
    one name are both listed, and flagged: a scenario cannot use that name.
    """
    common.use_plugin_paths(plugin_path)
    from marketsim.plugins.loader import registry

    candidates = registry().candidates()
    counts: dict[str, int] = {}
    for c in candidates:
        counts[c.name] = counts.get(c.name, 0) + 1
    rows = [_listing(c, counts[c.name] > 1) for c in candidates]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        _print_list(rows)
    for row in rows:
        if row["problem"]:
            print(
                f"warning: plugin {row['name']!r} ({row['origin']}): {row['problem']}",
                file=sys.stderr,
            )


def _listing(c: Any, conflict: bool) -> dict[str, Any]:
    problem = c.problem
    if conflict:
        problem = "another plugin claims the same name; a scenario cannot use it"
    return {
        "name": c.name,
        "version": c.version,
        "description": c.description,
        "hooks": list(c.hooks),
        "kernel_hooks": list(c.kernel_hooks),
        "source": c.source,
        "origin": c.origin,
        "package": c.package,
        "target": c.target,
        "problem": problem,
    }


def _print_list(rows: list[dict[str, Any]]) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160)
    if not rows:
        console.print("No plugins found.")
        return
    table = Table(title="behaviour plugins", title_justify="left")
    for column in ("name", "version", "hooks", "source", "description"):
        table.add_column(column, overflow="fold", ratio=3 if column == "description" else None)
    for row in rows:
        hooks = [*row["hooks"], *(f"{h} (kernel)" for h in row["kernel_hooks"])]
        description = row["description"] or ""
        if row["problem"]:
            description = f"[red]{row['problem']}[/red]"
        table.add_row(
            row["name"], row["version"] or "?", ", ".join(hooks), row["origin"], description
        )
    console.print(table)


@command("show", on=plugins_app)
def show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Plugin name.", show_default=False)],
    as_json: AsJson = False,
    plugin_path: common.PluginPath = None,
) -> None:
    """Show one plugin: description, hooks, and parameters with defaults and units.

    Imports the plugin. Exits 2 for an unknown name, 1 if the plugin fails to load.
    """
    common.use_plugin_paths(plugin_path)
    from marketsim.plugins.errors import PluginError
    from marketsim.plugins.loader import load_candidate, registry

    candidate = registry().find(name)  # an unknown or ambiguous name is bad input
    try:
        cls = load_candidate(candidate)
    except PluginError as e:  # it is there but broken: the installation fails, not the input
        raise RunError(str(e)) from e
    record = describe(cls, candidate.origin)
    if as_json:
        sys.stdout.write(json.dumps(record, indent=2) + "\n")
        return
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(f"[bold]{record['name']}[/bold] {record['version']}  ({record['origin']})")
    console.print(record["description"], highlight=False)
    hooks = [*record["hooks"], *(f"{h} (kernel)" for h in record["kernel_hooks"])]
    console.print(f"hooks: {', '.join(hooks) or 'none'}", highlight=False)
    if record["parameters"]:
        table = Table(title="parameters", title_justify="left")
        for column in ("name", "type", "default", "unit", "allowed", "description"):
            table.add_column(column, overflow="fold")
        for p in record["parameters"]:
            table.add_row(
                p["name"],
                p["type"],
                json.dumps(p["default"]),
                p["unit"] or "",
                p["allowed"],
                p["description"] or "",
            )
        console.print(table)
    else:
        console.print("parameters: none")
    if record["documentation"]:
        print(f"\n{record['documentation']}")


def describe(cls: Any, origin: str) -> dict[str, Any]:
    """What `plugins show` prints: a plain record of the plugin class."""
    schema = cls.Params.model_json_schema()
    defs = schema.get("$defs", {})
    parameters = []
    for field, prop in schema.get("properties", {}).items():
        parameters.append(
            {
                "name": field,
                "type": _type(prop, defs),
                "default": prop.get("default"),
                "unit": prop.get("unit"),
                "allowed": _allowed(prop, defs),
                "description": prop.get("description"),
            }
        )
    module = sys.modules.get(cls.__module__)
    return {
        "name": cls.name,
        "version": cls.version,
        "description": cls.description,
        "origin": origin,
        "hooks": list(cls.python_hooks()),
        "kernel_hooks": list(cls.kernels),
        "parameters": parameters,
        "documentation": inspect.getdoc(module) if module is not None else None,
    }


_TYPES = {"number": "number", "integer": "integer", "boolean": "true/false", "string": "text"}


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    return defs.get(ref.rsplit("/", 1)[-1], prop) if ref else prop


def _options(prop: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    prop = _resolve(prop, defs)
    if "anyOf" in prop:
        return [o for option in prop["anyOf"] for o in _options(option, defs)]
    return [prop]


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    words = []
    for option in _options(prop, defs):
        kind = option.get("type")
        if kind == "null":
            words.append("null")
        elif kind == "array":
            words.append(f"list of {_type(option.get('items', {}), defs)}")
        elif "enum" in option or "const" in option:
            words.append("choice")
        else:
            words.append(_TYPES.get(kind, kind or "any"))
    return " or ".join(dict.fromkeys(words))


def _allowed(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    parts = []
    for option in _options(prop, defs):
        if option.get("type") == "array":
            inner = _allowed(option.get("items", {}), defs)
            if inner:
                parts.append(f"each {inner}")
        if "enum" in option:
            parts.append("one of " + ", ".join(json.dumps(v) for v in option["enum"]))
        if "const" in option:
            parts.append(json.dumps(option["const"]))
        for key, symbol in (
            ("minimum", ">="),
            ("ge", ">="),
            ("exclusiveMinimum", ">"),
            ("gt", ">"),
            ("maximum", "<="),
            ("le", "<="),
            ("exclusiveMaximum", "<"),
            ("lt", "<"),
        ):
            if key in option:
                parts.append(f"{symbol} {option[key]:g}")
        if "pattern" in option:
            parts.append("an id" if option["pattern"].startswith("^[A-Za-z]") else "a pattern")
    return ", ".join(parts)
