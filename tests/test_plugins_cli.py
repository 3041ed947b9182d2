"""`marketsim plugins list/show`, `--plugin-path`, and plugin faults as the command reports them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketsim import cli
from marketsim.plugins import discovery as D

pytestmark = pytest.mark.filterwarnings("ignore:First-class function type")

ROOT = Path(__file__).resolve().parent.parent
MARKETSIM = Path(sys.executable).parent / "marketsim"
runner = CliRunner()

PLUGIN = """\
from marketsim.plugins import Plugin, PluginParams, param


class Halve(Plugin):
    name = "halve"
    version = "0.2.0"
    description = "halves purchase chances"

    class Params(PluginParams):
        share: float = param(0.5, "share of the chance kept", unit="share", ge=0, le=1)

    def purchase(self, ctx):
        ctx.seg[:, 6] *= self.params.share
"""

SCENARIO = """\
name: tiny
horizon: 6
products: [{{id: w, price: 10}}]
segments:
  - id: consumers
    size: 500
    initial_awareness: 0.3
behaviours:
  - plugin: {plugin}
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.setenv(D.PATH_VARIABLE, "")  # --plugin-path extends it; restored afterwards


def invoke(*args: str | Path):
    return runner.invoke(cli.app, [str(a) for a in args])


def plugin_folder(tmp_path: Path, source: str = PLUGIN, name: str = "halve.py") -> Path:
    folder = tmp_path / "my_plugins"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source)
    return folder


def scenario_file(tmp_path: Path, plugin: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.format(plugin=plugin))
    return path


def test_list_shows_the_shipped_plugins():
    result = invoke("plugins", "list")
    assert result.exit_code == 0, result.output
    for name in ("bass_adoption", "threshold_contagion", "lead_priority"):
        assert name in result.stdout
    assert "word_of_mouth (kernel)" in result.stdout


def test_list_json_describes_each_plugin(tmp_path):
    result = invoke("plugins", "list", "--json", "--plugin-path", plugin_folder(tmp_path))
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["halve"] == {
        "name": "halve",
        "version": "0.2.0",
        "description": "halves purchase chances",
        "hooks": ["purchase"],
        "kernel_hooks": [],
        "source": "plugin path",
        "origin": str(tmp_path / "my_plugins" / "halve.py"),
        "package": str(tmp_path / "my_plugins"),
        "target": f"{tmp_path / 'my_plugins' / 'halve.py'}:Halve",
        "problem": None,
    }
    assert rows["threshold_contagion"]["kernel_hooks"] == ["word_of_mouth"]
    assert rows["threshold_contagion"]["source"] == "built-in"


def test_list_flags_two_plugins_with_one_name(tmp_path):
    one = plugin_folder(tmp_path)
    two = tmp_path / "more"
    two.mkdir()
    (two / "again.py").write_text(PLUGIN)
    result = invoke("plugins", "list", "--json", "--plugin-path", one, "--plugin-path", two)
    assert result.exit_code == 0
    halves = [row for row in json.loads(result.stdout) if row["name"] == "halve"]
    assert len(halves) == 2 and all("same name" in row["problem"] for row in halves)
    assert "warning: plugin 'halve'" in result.stderr


def test_show_prints_hooks_parameters_defaults_and_units():
    result = invoke("plugins", "show", "competitor")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "competitor 1.0.0" in out and "hooks: purchase, after_step" in out
    assert "budget" in out and "100000.0" in out and "currency" in out
    assert "share of voice" in out  # the documentation follows


def test_show_json():
    result = invoke("plugins", "show", "threshold_contagion", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["kernel_hooks"] == ["word_of_mouth"] and record["hooks"] == []
    threshold = next(p for p in record["parameters"] if p["name"] == "threshold")
    assert threshold == {
        "name": "threshold",
        "type": "number",
        "default": 0.25,
        "unit": "share",
        "allowed": ">= 0, <= 1",
        "description": "mean personal threshold: share of contacts who must be customers",
    }


def test_show_unknown_plugin_lists_the_available_ones():
    result = invoke("plugins", "show", "competiter")
    assert result.exit_code == 2
    assert "unknown plugin 'competiter'" in result.stderr
    assert "'bass_adoption'" in result.stderr and "did you mean 'competitor'" in result.stderr


def test_show_a_plugin_that_fails_to_import(tmp_path):
    folder = plugin_folder(tmp_path, "import msplug_gone\n" + PLUGIN)
    result = invoke("plugins", "show", "halve", "--plugin-path", folder)
    assert result.exit_code == 1
    assert f"plugin 'halve' from {folder / 'halve.py'} failed to import" in result.stderr
    assert "No module named 'msplug_gone'" in result.stderr


def test_validate_finds_plugins_by_plugin_path(tmp_path):
    path = scenario_file(tmp_path, "halve")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert f"{path}:9:13: behaviours.0.plugin: unknown plugin 'halve'" in result.stderr
    result = invoke("validate", path, "--plugin-path", plugin_folder(tmp_path))
    assert result.exit_code == 0, result.output


def test_validate_finds_plugins_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(D.PATH_VARIABLE, os.pathsep.join([str(plugin_folder(tmp_path)), "/nowhere"]))
    result = invoke("validate", scenario_file(tmp_path, "halve"))
    assert result.exit_code == 0, result.output


def test_plugin_path_must_be_a_folder(tmp_path):
    for command in ("validate", "run"):
        result = invoke(command, scenario_file(tmp_path, "halve"), "--plugin-path", tmp_path / "no")
        assert result.exit_code == 2
        assert "--plugin-path: not a folder" in result.stderr


def test_validate_reports_a_broken_plugin_where_the_scenario_names_it(tmp_path):
    folder = plugin_folder(tmp_path, "import msplug_gone\n" + PLUGIN)
    path = scenario_file(tmp_path, "halve")
    result = invoke("validate", path, "--plugin-path", folder)
    assert result.exit_code == 2
    assert f"{path}:9:13: behaviours.0.plugin: plugin 'halve' from " in result.stderr
    assert "ModuleNotFoundError: No module named 'msplug_gone'" in result.stderr


def test_run_stops_on_a_failing_plugin_with_its_name_and_step(tmp_path):
    failing = PLUGIN + (
        "\n    def after_step(self, ctx):\n"
        "        if ctx.step == 2:\n"
        "            raise ZeroDivisionError('no customers to divide by')\n"
    )
    out = tmp_path / "out"
    path = scenario_file(tmp_path, "halve")
    result = invoke("run", path, "--out", out, "--plugin-path", plugin_folder(tmp_path, failing))
    assert result.exit_code == 1
    assert "plugin 'halve' failed in its 'after_step' hook at step 2" in result.stderr
    assert "ZeroDivisionError: no customers to divide by" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_plugins", "scenario.yaml"]


def test_run_with_plugin_path_reaches_worker_processes(tmp_path):
    path = scenario_file(tmp_path, "halve")
    folder = plugin_folder(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != D.PATH_VARIABLE}
    command = [str(MARKETSIM), "run", str(path), "--out", str(tmp_path / "out"), "--quiet"]
    options = ["--replicates", "2", "--workers", "2", "--plugin-path", str(folder)]
    done = subprocess.run(
        command + options, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["replicates"] == 2
    resolved = (tmp_path / "out" / "scenario.resolved.yaml").read_text()
    assert "plugin: halve" in resolved
    assert str(folder) not in resolved  # a scenario names plugins, never paths
    assert textwrap.dedent(done.stdout).strip() == str(tmp_path / "out")
