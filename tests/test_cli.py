"""The `marketsim` command: exit codes, output files, reproducibility and output safety."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from marketsim import cli
from marketsim.cli import common
from marketsim.core.stages import STAGES
from marketsim.io import files as io_files
from marketsim.io.output import OutputFile
from marketsim.report.pages import PAGES

RUN_FILES = io_files.run_files(PAGES)

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIR = ROOT / "tests" / "contract"
CONTRACT = sorted(CONTRACT_DIR.glob("*.yaml"))
B2C = str(CONTRACT_DIR / "minimal-b2c.yaml")
B2B = str(CONTRACT_DIR / "minimal-b2b.yaml")
SMALL = ["--set", "segments.consumers.size=2000"]
SMALLER = {  # keep every contract scenario fast
    "minimal-b2c": ["--set", "segments.consumers.size=2000"],
    "minimal-b2b": ["--set", "segments.midmarket.size=200"],
    "two-segments": ["--set", "segments.young.size=1500", "--set", "segments.senior.size=1000"],
}
FILES = {f.name for f in RUN_FILES} - {"agents.csv"}  # a consumer market has no agents
HEADLINE = ("revenue", "profit", "spend", "units", "customers", "roi")
STATS = {"mean", "std", "ci95_low", "ci95_high"}

runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(cli.app, [str(a) for a in args])


def run_b2c(out: Path, *args: str | Path):
    result = invoke("run", B2C, "--out", out, *SMALL, *args)
    assert result.exit_code == 0, result.output
    return result


def read(out: Path, name: str) -> bytes:
    return (out / name).read_bytes()


def test_run_writes_exactly_the_contract_files(tmp_path):
    run_b2c(tmp_path / "run", "--replicates", "2")
    assert {p.name for p in (tmp_path / "run").iterdir()} == FILES
    assert {p.name for p in tmp_path.iterdir()} == {"run"}  # no staging left behind


def test_a_run_with_reps_and_brokers_writes_agents_csv(tmp_path):
    out = tmp_path / "run"
    result = invoke("run", B2B, "--out", out, "--set", "segments.midmarket.size=300")
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == FILES | {"agents.csv"}
    agents = (out / "agents.csv").read_text().splitlines()
    assert agents[0].startswith("replicate,agent,role,calls,meetings")
    assert len(agents) == 1 + 3 + 2 + 5  # inside reps, outside reps, resellers


def test_summary_json_has_the_contract_keys(tmp_path):
    run_b2c(tmp_path / "run", "--replicates", "2", "--seed", "5")
    summary = json.loads(read(tmp_path / "run", "summary.json"))
    assert summary["scenario"] == "minimal-b2c"
    assert summary["seed"] == 5
    assert summary["replicates"] == 2
    assert summary["horizon"] == 52
    for name in HEADLINE:
        assert set(summary["metrics"][name]) >= STATS, name
    assert summary["metrics"]["revenue"]["ci95_low"] <= summary["metrics"]["revenue"]["mean"]
    assert set(summary["by_channel"]) == {"tv", "search"}
    for entry in summary["by_channel"].values():
        assert set(entry["spend"]) >= STATS


def test_single_replicate_summary_has_null_intervals_not_nan(tmp_path):
    result = run_b2c(tmp_path / "run")
    text = read(tmp_path / "run", "summary.json").decode()
    assert "NaN" not in text
    assert json.loads(text)["metrics"]["revenue"]["ci95_low"] is None
    assert "n/a" in result.stdout


def test_timeseries_csv_has_the_contract_columns_in_order(tmp_path):
    run_b2c(tmp_path / "run", "--replicates", "2")
    frame = pd.read_csv(tmp_path / "run" / "timeseries.csv")
    leading = ["replicate", "step", "revenue", "units", "spend", "new_customers", "customers"]
    stages = [f"stage_{s}" for s in STAGES]
    assert list(frame.columns[:16]) == [*leading, *stages, "spend_tv", "spend_search"]
    assert len(frame) == 2 * 52
    assert sorted(set(frame["replicate"])) == [0, 1]


def test_resolved_yaml_has_every_default_and_the_seed_used(tmp_path):
    run_b2c(tmp_path / "run", "--seed", "99")
    resolved = yaml.safe_load(read(tmp_path / "run", "scenario.resolved.yaml"))
    assert resolved["seed"] == 99
    assert resolved["segments"][0]["size"] == 2000
    assert "potential" in resolved["segments"][0]  # a default, not written in the file


def test_same_seed_gives_byte_identical_files(tmp_path):
    run_b2c(tmp_path / "a", "--replicates", "2", "--seed", "3")
    run_b2c(tmp_path / "b", "--replicates", "2", "--seed", "3")
    for name in ("timeseries.csv", "summary.json", "scenario.resolved.yaml"):
        assert read(tmp_path / "a", name) == read(tmp_path / "b", name), name


def test_a_different_seed_gives_different_results(tmp_path):
    run_b2c(tmp_path / "a", "--seed", "3")
    run_b2c(tmp_path / "b", "--seed", "4")
    assert read(tmp_path / "a", "timeseries.csv") != read(tmp_path / "b", "timeseries.csv")


def test_set_changes_the_result_and_the_resolved_yaml(tmp_path):
    run_b2c(tmp_path / "a")
    run_b2c(tmp_path / "b", "--set", "channels.tv.budget=90000")
    a = json.loads(read(tmp_path / "a", "summary.json"))
    b = json.loads(read(tmp_path / "b", "summary.json"))
    assert a["by_channel"]["tv"]["spend"]["mean"] == pytest.approx(150000)
    assert b["by_channel"]["tv"]["spend"]["mean"] == pytest.approx(90000)
    assert a["metrics"]["revenue"] != b["metrics"]["revenue"]
    resolved = yaml.safe_load(read(tmp_path / "b", "scenario.resolved.yaml"))
    tv = next(c for c in resolved["channels"] if c["id"] == "tv")
    assert tv["budget"] == 90000


def test_the_resolved_yaml_runs_again_to_identical_results(tmp_path):
    run_b2c(tmp_path / "first", "--replicates", "2", "--seed", "12")
    again = invoke(
        "run", tmp_path / "first" / "scenario.resolved.yaml", "--out", tmp_path / "again", "-r", "2"
    )
    assert again.exit_code == 0, again.output
    for name in ("timeseries.csv", "summary.json", "scenario.resolved.yaml"):
        assert read(tmp_path / "first", name) == read(tmp_path / "again", name), name


def test_two_workers_give_files_identical_to_one(tmp_path):
    run_b2c(tmp_path / "one", "--replicates", "2", "--workers", "1")
    run_b2c(tmp_path / "two", "--replicates", "2", "--workers", "2")
    for name in FILES:
        assert read(tmp_path / "one", name) == read(tmp_path / "two", name), name


def test_default_output_directory_is_runs_scenario_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", B2C, *SMALL)
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "runs" / "minimal-b2c").iterdir()} == FILES
    assert "runs/minimal-b2c" in result.stdout


def test_run_prints_headline_and_channel_tables(tmp_path):
    result = run_b2c(tmp_path / "run", "--replicates", "2")
    for word in (
        "revenue",
        "profit",
        "spend",
        "units",
        "customers (consumers)",
        "total ROI",
        "marketing ROI",
        "95% CI",
        "tv",
        "search",
        "incremental",
        "last touch",
        "(attribution)",
        "customer equity",
        str(tmp_path / "run"),
    ):
        assert word in result.stdout, word
    assert "150,000" in result.stdout  # the tv spend, with a thousands separator
    assert "accounts" not in result.stdout  # a consumer market shows no empty account rows
    assert result.stderr == ""


def test_quiet_prints_only_the_output_path(tmp_path):
    result = run_b2c(tmp_path / "run", "--quiet")
    assert result.stdout == f"{tmp_path / 'run'}\n"


def test_a_non_empty_directory_is_refused_before_simulating(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    monkeypatch.setattr(
        "marketsim.drivers.simulation.simulate", lambda *a, **k: pytest.fail("simulated anyway")
    )
    result = invoke("run", B2C, "--out", out, *SMALL)
    assert result.exit_code == 2
    assert str(out) in result.stderr and "--force" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_force_replaces_a_non_empty_directory(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    run_b2c(out, "--force")
    assert {p.name for p in out.iterdir()} == FILES
    assert {p.name for p in tmp_path.iterdir()} == {"run"}


def test_an_empty_existing_directory_is_used_without_force(tmp_path):
    (tmp_path / "run").mkdir()
    run_b2c(tmp_path / "run")
    assert {p.name for p in (tmp_path / "run").iterdir()} == FILES


def failing_writer(result, path: Path) -> None:
    path.write_text("replicate,st")
    raise OSError(28, "No space left on device")


def interrupted_writer(result, path: Path) -> None:
    path.write_text("replicate,st")
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("writer", "code"), [(failing_writer, 1), (interrupted_writer, 130)], ids=["error", "ctrl-c"]
)
def test_an_interrupted_write_leaves_no_directory_and_no_temp_files(
    tmp_path, monkeypatch, writer, code
):
    files = [RUN_FILES[0], OutputFile("timeseries.csv", writer), *RUN_FILES[2:]]
    monkeypatch.setattr(io_files, "run_files", lambda pages: files)
    result = invoke("run", B2C, "--out", tmp_path / "runs" / "run", *SMALL)
    assert result.exit_code == code
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_forced_run_keeps_the_old_directory(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("old")
    files = [*RUN_FILES, OutputFile("x", failing_writer)]
    monkeypatch.setattr(io_files, "run_files", lambda pages: files)
    result = invoke("run", B2C, "--out", out, *SMALL, "--force")
    assert result.exit_code == 1
    assert "No space left" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert (out / "summary.json").read_text() == "old"


def test_a_failing_simulation_exits_1_and_writes_nothing(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("kernel fell over")

    monkeypatch.setattr("marketsim.drivers.simulation.simulate", explode)
    result = invoke("run", B2C, "--out", tmp_path / "run", *SMALL)
    assert result.exit_code == 1
    assert "kernel fell over" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "segments.consumer.size=10"], "--set:2:"),
        (["--set", "horizon=-3"], "--set:2:"),
        (["--set", "horizon"], "--set:2:1"),
        (["--replicates", "0"], "--replicates"),
        (["--seed", "-1"], "--seed"),
        (["--workers", "0"], "--workers"),
        (["--replicates", "many"], "--replicates"),
        (["--no-such-flag"], "no-such-flag"),
    ],
)
def test_bad_options_exit_2_and_create_nothing(tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", B2C, "--out", tmp_path / "run", *SMALL, *args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["missing", "directory", "bad-yaml", "bad-schema"])
def test_bad_files_exit_2_and_create_nothing(tmp_path, monkeypatch, kind):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    path = tmp_path / "scenario.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "bad-yaml":
        path.write_text("name: x\nhorizon: [1,\n")
    elif kind == "bad-schema":
        text = Path(B2C).read_text().replace("horizon: 52", "horizon: -52")
        path.write_text(text)
    result = invoke("run", path)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{path}:")
    assert list(work.iterdir()) == []
    if kind == "bad-schema":
        assert "horizon" in result.stderr


@pytest.mark.parametrize("path", CONTRACT, ids=lambda p: p.stem)
def test_every_contract_file_validates(path):
    result = invoke("validate", path)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: ok\n"


@pytest.mark.parametrize("path", CONTRACT, ids=lambda p: p.stem)
def test_every_contract_file_runs(tmp_path, path):
    result = invoke("run", path, "--out", tmp_path / "run", *SMALLER[path.stem], "-r", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads(read(tmp_path / "run", "summary.json"))
    assert set(summary["by_channel"]) == {
        c["id"] for c in yaml.safe_load(path.read_text())["channels"]
    }


def test_validate_reports_each_bad_file_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(B2C).read_text().replace("budget: 150000", "budget: -5"))
    result = invoke("validate", B2C, bad, tmp_path / "missing.yaml")
    assert result.exit_code == 2
    assert result.stdout == f"{B2C}: ok\n"
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{bad}:") and "channels.tv.budget" in line for line in lines)
    assert any(line.startswith(f"{tmp_path / 'missing.yaml'}:1:1:") for line in lines)


def test_validate_needs_a_file():
    assert invoke("validate").exit_code == 2


def test_schema_prints_the_json_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"name", "horizon", "seed", "products", "segments", "channels"} <= set(
        schema["properties"]
    )
    assert result.stdout.startswith('{\n  "')  # indent 2
    plugins = schema["properties"]["behaviours"]["items"]["oneOf"]
    by_name = {p["properties"]["plugin"]["const"]: p for p in plugins}
    assert set(by_name) >= {"threshold_contagion", "competitor", "reference_price"}
    contagion = by_name["threshold_contagion"]
    assert contagion["additionalProperties"] is False
    assert contagion["properties"]["threshold"]["default"] == 0.25
    assert contagion["properties"]["threshold"]["unit"] == "share"


def test_unknown_command_is_a_usage_error():
    assert invoke("frobnicate").exit_code == 2


def test_no_progress_bar_when_stdout_is_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "PROGRESS_DELAY", 0.0)
    result = run_b2c(tmp_path / "run")
    assert "steps" not in result.stdout
    assert "\x1b[" not in result.stdout  # no terminal control codes either


def test_progress_bar_appears_only_after_the_delay():
    console = Console(file=io.StringIO(), force_terminal=True)
    with common.DelayedProgress(console, 10, "fast", delay=5.0) as fast:
        fast.advance(10)
    assert not fast.shown
    with common.DelayedProgress(console, 10, "slow", delay=0.01) as slow:
        slow.advance(3)
        time.sleep(0.3)
        slow.advance(7)
        assert slow.shown
    assert "slow" in console.file.getvalue()
    with common.DelayedProgress(console, 10, "off", delay=0.0, enabled=False) as off:
        time.sleep(0.05)
    assert not off.shown


def test_sigterm_interrupts_like_ctrl_c():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), common.interrupt_on_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) is before


def test_python_dash_m_and_the_console_script(tmp_path):
    module = subprocess.run(
        [sys.executable, "-m", "marketsim", "validate", B2C], capture_output=True, text=True
    )
    assert (module.returncode, module.stdout) == (0, f"{B2C}: ok\n")
    script = Path(sys.executable).parent / "marketsim"
    usage = subprocess.run([script, "run"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert "FILE" in usage.stderr
