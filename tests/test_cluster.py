"""`--cluster`: every command runs on a Dask cluster and writes what it writes locally.

One cluster for the module: a scheduler and two single-threaded workers, each its own
process (`marketsim.testing.cluster.local_cluster`). Commands whose jobs are pre-seeded (replicates,
strategies, ABC particles) must write byte-identical files; a study with several workers
is not repeatable by design (docs/optimize.md), so for `optimize` and `calibrate
--method optimize` every trial must be recorded once, score what its own plan scores in
this process, and the study must resume. `bench --cluster` (killing a worker mid-run) is
in tests/test_bench.py.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

from marketsim import cli
from marketsim.drivers.calibrate import build_target
from marketsim.drivers.calibrate.fit import distance
from marketsim.drivers.optimize.study import JOURNAL_FILE, Storage
from marketsim.drivers.simulation import run_replicate
from marketsim.plugins.discovery import PATH_VARIABLE
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario.history import read_history
from marketsim.scenario.paths import with_values
from marketsim.testing.cluster import local_cluster
from tests.conftest import ROOT
from tests.test_plugins_guarantees import PLUGINS, market

B2C = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
TWO = ROOT / "tests" / "contract" / "two-segments.yaml"
COMPANY = ROOT / "scenarios" / "history" / "company.yaml"
HISTORY = ROOT / "scenarios" / "history" / "history.csv"
TINY = ["segments.young.size=1500", "segments.senior.size=1000"]
OPTIMIZE = [
    *(a for s in TINY for a in ("--set", s)),
    *("--replicates", "1", "--reevaluate", "2", "--candidates", "2", "--curve-points", "2"),
]
CALIBRATE = ["--data", HISTORY, "--set", "segments.households.size=1000", "--holdout-steps", "8"]
CALIBRATE += ["--replicates", "1", "-q"]
ABC = ["--method", "abc", "--population", "8", "--generations", "2", "--trials", "500"]

runner = CliRunner()


def invoke(*args: object):
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> str:
    with local_cluster(tmp_path_factory.mktemp("cluster"), 2) as running:
        yield running.address


def assert_same_files(local: Path, remote: Path, skip: tuple[str, ...] = ()) -> None:
    """Every file of `local` (but `skip`) is in `remote`, byte for byte, and no other."""
    names = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(remote) for p in remote.rglob("*") if p.is_file())
    compared = [n for n in names if n.name not in skip]
    assert compared
    for name in compared:
        assert (local / name).read_bytes() == (remote / name).read_bytes(), name


def test_run_replicates_on_the_cluster_match_the_local_run(cluster, tmp_path):
    args = ["run", B2C, "--set", "segments.consumers.size=2000", "-r", "4", "-q"]
    invoke(*args, "-o", tmp_path / "local")
    invoke(*args, "-o", tmp_path / "remote", "--cluster", cluster)
    assert_same_files(tmp_path / "local", tmp_path / "remote")


def test_plugin_path_folders_travel_to_the_workers(cluster, tmp_path, monkeypatch):
    # The workers started before the command and were never told of the folder.
    monkeypatch.delenv(PATH_VARIABLE, raising=False)  # the command adds to it: undone after
    folder = tmp_path / "my_plugins"
    folder.mkdir()
    (folder / "guarantees.py").write_text(PLUGINS)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(market(1000, "- plugin: py_add\n  a: 0.05\n"))
    args = ["run", scenario, "--plugin-path", folder, "-r", "2", "-q"]
    invoke(*args, "-o", tmp_path / "local")
    invoke(*args, "-o", tmp_path / "remote", "--cluster", cluster)
    assert_same_files(tmp_path / "local", tmp_path / "remote")
    plain = tmp_path / "plain.yaml"
    plain.write_text(market(1000, "[]"))
    invoke("run", plain, "-r", "2", "-q", "-o", tmp_path / "plain")
    timeseries = [tmp_path / d / "timeseries.csv" for d in ("remote", "plain")]
    assert timeseries[0].read_bytes() != timeseries[1].read_bytes()  # the plugin acted


def test_sweep_on_the_cluster_matches_the_local_run(cluster, tmp_path):
    args = ["sweep", B2C, "--set", "segments.consumers.size=2000", "-r", "2", "-q"]
    args += ["--vary", "channels.tv.budget=50000,150000"]
    invoke(*args, "-o", tmp_path / "local")
    invoke(*args, "-o", tmp_path / "remote", "--cluster", cluster)
    assert_same_files(tmp_path / "local", tmp_path / "remote")


def test_compare_on_the_cluster_matches_the_local_run(cluster, tmp_path):
    text = B2C.read_text().replace("size: 50000", "size: 1500")
    assert text != B2C.read_text()
    base, dearer = tmp_path / "base.yaml", tmp_path / "dearer.yaml"
    base.write_text(text)
    dearer.write_text(text.replace("price: 40.0", "price: 42.0"))
    args = ["compare", base, dearer, "-r", "4", "-q"]
    invoke(*args, "-o", tmp_path / "local")
    invoke(*args, "-o", tmp_path / "remote", "--cluster", cluster)
    assert_same_files(tmp_path / "local", tmp_path / "remote")


def test_abc_on_the_cluster_matches_the_local_run(cluster, tmp_path):
    invoke("calibrate", COMPANY, *CALIBRATE, *ABC, "-o", tmp_path / "local")
    invoke("calibrate", COMPANY, *CALIBRATE, *ABC, "-o", tmp_path / "remote", "--cluster", cluster)
    assert_same_files(tmp_path / "local", tmp_path / "remote", skip=("abc.db",))


def journal_trials(out: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    storage = Storage(str(out / JOURNAL_FILE), journal=True).open()
    return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)


def assert_each_trial_once(trials: list[optuna.trial.FrozenTrial], wanted: int) -> None:
    assert [t.number for t in trials] == list(range(wanted))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({tuple(sorted(t.params.items())) for t in trials}) == wanted


def test_optimize_on_the_cluster_shares_a_journal_and_resumes(cluster, tmp_path):
    out = tmp_path / "opt"
    invoke("optimize", TWO, *OPTIMIZE, "--trials", 6, "-q", "-o", out, "--cluster", cluster)
    assert (out / JOURNAL_FILE).exists() and not (out / "study.db").exists()
    trials = journal_trials(out, "two-segments")
    assert_each_trial_once(trials, 6)
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both workers ran trials
    scenario = load_scenario(TWO, TINY)
    table = pd.read_csv(out / "trials.csv")
    for _, row in table.iterrows():  # each worker's value is its plan's, redone here
        plan = {f"channels.{c}.budget": row[f"budget.{c}"] for c in ("social", "print")}
        revenue = run_replicate(with_values(scenario, plan), scenario.seed, 0).ledger.frame()
        assert row["objective"] == revenue["revenue"].sum()

    more = ["--trials", 8, "--resume", "-q"]
    invoke("optimize", TWO, *OPTIMIZE, *more, "-o", out, "--cluster", cluster)
    resumed = journal_trials(out, "two-segments")
    assert_each_trial_once(resumed, 8)
    assert [t.params for t in resumed[:6]] == [t.params for t in trials]
    assert len(pd.read_csv(out / "trials.csv")) == 8


def test_calibrate_search_on_the_cluster_shares_a_journal_and_resumes(cluster, tmp_path):
    out = tmp_path / "fit"
    invoke("calibrate", COMPANY, *CALIBRATE, "--trials", 6, "-o", out, "--cluster", cluster)
    assert (out / JOURNAL_FILE).exists() and not (out / "study.db").exists()
    trials = journal_trials(out, "fresh-pantry")
    assert_each_trial_once(trials, 6)
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    scenario = load_scenario(COMPANY, ["segments.households.size=1000"])
    spec = scenario.calibrate.model_copy(update={"holdout_steps": 8, "replicates": 1})
    history = read_history(HISTORY, scenario, list(spec.match))
    target = build_target(scenario, history, spec, scenario.seed)
    for trial in trials[:3]:  # each worker's distance is its parameters', redone here
        assert trial.value == distance(target.errors(trial.params), target.all_weights)

    more = ["--trials", 8, "--resume", "-o", out]
    invoke("calibrate", COMPANY, *CALIBRATE, *more, "--cluster", cluster)
    resumed = journal_trials(out, "fresh-pantry")
    assert_each_trial_once(resumed, 8)
    assert [t.params for t in resumed[:6]] == [t.params for t in trials]
