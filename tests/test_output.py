"""Writing a run's files: complete files or nothing, and never clobbering without force."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketsim.core.stages import STAGES
from marketsim.drivers.simulation import simulate
from marketsim.io import output
from marketsim.io.files import run_files
from marketsim.io.output import (
    OutputError,
    OutputFile,
    check_destination,
    default_out_dir,
    jsonable,
    timeseries_columns,
    write_files,
)
from marketsim.plugins.prepare import load_scenario
from marketsim.report.pages import PAGES

RUN_FILES = run_files(PAGES)


def write_run(result, out, *, files=RUN_FILES, **options):
    return write_files(result, out, files, **options)


ROOT = Path(__file__).resolve().parent.parent
B2C = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
APPLIES = [f for f in RUN_FILES if f.name != "agents.csv"]  # a consumer market has no agents
NAMES = {f.name for f in APPLIES}


@pytest.fixture(scope="module")
def result():
    scenario = load_scenario(B2C, ["segments.consumers.size=1000", "horizon=8"])
    return simulate(scenario, replicates=2)


def listing(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def boom(result, path: Path) -> None:
    path.write_text("half a fi")
    raise RuntimeError("disk on fire")


def interrupt(result, path: Path) -> None:
    path.write_text("half a fi")
    raise KeyboardInterrupt


def test_writes_exactly_the_run_files_into_a_new_directory(result, tmp_path):
    out = tmp_path / "deep" / "er" / "run"
    written = write_run(result, out)
    assert [p.name for p in written] == [f.name for f in APPLIES]
    assert listing(out) == NAMES
    assert listing(out.parent) == {"run"}  # no staging directory left behind


def test_summary_is_the_result_summary_without_nan(result, tmp_path):
    write_run(result, tmp_path / "run")
    text = (tmp_path / "run" / "summary.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == jsonable(result.summary.to_json())
    assert text.startswith("{\n  ")  # indented


def test_timeseries_puts_contract_columns_first(result, tmp_path):
    write_run(result, tmp_path / "run")
    frame = pd.read_csv(tmp_path / "run" / "timeseries.csv")
    required = [
        *output.TIMESERIES_LEADING,
        *(f"stage_{s}" for s in STAGES),
        "spend_tv",
        "spend_search",
    ]
    assert list(frame.columns[: len(required)]) == required
    assert set(frame.columns) == set(result.timeseries.columns)
    assert len(frame) == 2 * 8


def test_timeseries_columns_refuses_a_frame_missing_contract_columns():
    with pytest.raises(ValueError, match="spend_tv"):
        timeseries_columns(pd.DataFrame(columns=list(output.TIMESERIES_LEADING)), ["tv"])


def test_jsonable_unwraps_numpy_and_nulls_non_finite():
    data = {"a": np.float64("nan"), "b": [np.int64(3), math.inf], "c": (1.5, np.array([2.0]))}
    assert jsonable(data) == {"a": None, "b": [3, None], "c": [1.5, [2.0]]}


def test_an_existing_empty_directory_is_used(result, tmp_path):
    (tmp_path / "run").mkdir()
    write_run(result, tmp_path / "run")
    assert listing(tmp_path / "run") == NAMES


def test_a_non_empty_directory_is_refused_without_force(result, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match=f"{out}.*--force"):
        write_run(result, out)
    assert listing(out) == {"notes.txt"}
    assert listing(tmp_path) == {"run"}


def test_force_replaces_the_old_contents(result, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    write_run(result, out, force=True)
    assert listing(out) == NAMES
    assert listing(tmp_path) == {"run"}


def test_a_file_in_the_way_is_refused_even_with_force(result, tmp_path):
    (tmp_path / "run").write_text("a file")
    with pytest.raises(OutputError, match="not a directory"):
        write_run(result, tmp_path / "run", force=True)
    assert (tmp_path / "run").read_text() == "a file"


def test_force_never_deletes_the_working_directory_or_a_protected_path(
    result, tmp_path, monkeypatch
):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "scenario.yaml").write_text("name: x\n")
    monkeypatch.chdir(project / "sub")
    with pytest.raises(OutputError, match="refusing"):
        check_destination(project, force=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match="refusing"):
        check_destination(project, force=True, protect=[project / "scenario.yaml"])
    assert (project / "scenario.yaml").exists()


@pytest.mark.parametrize("failing", [boom, interrupt], ids=["error", "interrupt"])
def test_a_failed_write_leaves_no_directory_and_no_staging(result, tmp_path, failing):
    out = tmp_path / "new" / "run"
    files = (RUN_FILES[0], OutputFile("timeseries.csv", failing), *RUN_FILES[2:])
    with pytest.raises((RuntimeError, KeyboardInterrupt)):
        write_run(result, out, files=files)
    assert listing(tmp_path) == set()  # not even the parent it created


@pytest.mark.parametrize("failing", [boom, interrupt], ids=["error", "interrupt"])
def test_a_failed_forced_write_keeps_the_old_contents(result, tmp_path, failing):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("old")
    files = (*RUN_FILES, OutputFile("report.html", failing))
    with pytest.raises((RuntimeError, KeyboardInterrupt)):
        write_run(result, out, files=files, force=True)
    assert listing(out) == {"summary.json"}
    assert (out / "summary.json").read_text() == "old"
    assert listing(tmp_path) == {"run"}


def test_a_failed_final_rename_restores_the_old_directory(result, tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # staging -> out, after out was moved aside
            raise OSError("rename failed")
        real_rename(src, dst)

    monkeypatch.setattr(output.os, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        write_run(result, out, force=True)
    assert listing(out) == {"old.txt"}
    assert listing(tmp_path) == {"run"}


def test_another_file_is_one_more_entry_of_the_list(result, tmp_path):
    def write_report(result, path: Path) -> None:
        path.write_text(f"<h1>{result.scenario.name}</h1>")

    write_run(result, tmp_path / "run", files=[*RUN_FILES, OutputFile("extra.html", write_report)])
    assert listing(tmp_path / "run") == NAMES | {"extra.html"}


def test_a_writer_that_writes_nothing_fails_the_run(result, tmp_path):
    with pytest.raises(RuntimeError, match=r"empty\.txt"):
        write_run(result, tmp_path / "run", files=[OutputFile("empty.txt", lambda r, p: None)])
    assert listing(tmp_path) == set()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("minimal-b2c", "minimal-b2c"),
        ("Q3 launch (v2)", "Q3-launch-v2"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "scenario"),
    ],
)
def test_default_out_dir_is_one_safe_component_under_runs(name, expected):
    assert default_out_dir(name) == Path("runs") / expected


def test_write_through_a_symlinked_directory(result, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    write_run(result, tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    assert listing(real) == NAMES


def test_the_output_directory_has_ordinary_permissions(result, tmp_path):
    out = tmp_path / "run"
    write_run(result, out)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask
