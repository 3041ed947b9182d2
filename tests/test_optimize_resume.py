"""A study killed with SIGKILL mid-way loses at most its trials in flight; --resume finishes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

ROOT = Path(__file__).resolve().parent.parent
TWO = ROOT / "tests" / "contract" / "two-segments.yaml"
TINY = ["--set", "segments.young.size=1500", "--set", "segments.senior.size=1000"]
WANTED = 20


def command(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "marketsim",
        "optimize",
        str(TWO),
        *TINY,
        "--trials",
        str(WANTED),
        "--replicates",
        "1",
        "--reevaluate",
        "2",
        "--candidates",
        "1",
        "--curve-points",
        "0",
        "--out",
        str(out),
        "-q",
        *extra,
    ]


def complete_in_db(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:  # tables not made yet, or busy
        return 0


def kill_after(proc: subprocess.Popen, done: callable, least: int, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while done() < least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the study did not get going"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def test_sigkill_then_resume_keeps_every_completed_trial(tmp_path):
    out = tmp_path / "opt"
    db = out / "study.db"
    proc = subprocess.Popen(command(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_after(proc, lambda: complete_in_db(db), 4)
    assert proc.returncode == -signal.SIGKILL

    storage = f"sqlite:///{db}"
    killed = optuna.load_study(study_name="two-segments", storage=storage)
    kept = {t.number: t.value for t in killed.trials if t.state == TrialState.COMPLETE}
    assert 4 <= len(kept) < WANTED
    in_flight = [t.number for t in killed.trials if t.state == TrialState.RUNNING]
    assert len(in_flight) <= 1
    assert not (out / "summary.json").exists()  # no half output

    again = subprocess.run(command(out, "--resume"), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr

    study = optuna.load_study(study_name="two-segments", storage=storage)
    complete = {t.number: t.value for t in study.trials if t.state == TrialState.COMPLETE}
    assert len(complete) == WANTED
    assert all(complete[n] == v for n, v in kept.items())  # nothing lost or changed
    for n in in_flight:  # the trial the kill interrupted is failed, not left running
        assert study.trials[n].state == TrialState.FAIL
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["state"] == "complete").sum() == WANTED
    assert (out / "best.yaml").exists()


def test_sigkill_with_workers_leaves_no_orphan_adding_trials(tmp_path):
    out = tmp_path / "opt"
    journal = out / "study.journal"

    def done() -> int:
        if not journal.exists():
            return 0
        return journal.read_text(errors="replace").count('"state":1')

    proc = subprocess.Popen(
        command(out, "--workers", "2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    kill_after(proc, done, 2)
    time.sleep(1.0)  # the workers notice their parent is gone within 0.2 s
    size = journal.stat().st_size
    time.sleep(1.5)
    assert journal.stat().st_size == size  # nobody is writing any more

    # one worker carries on the journal the two wrote
    again = subprocess.run(command(out, "--resume"), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["state"] == "complete").sum() == WANTED


def test_a_stored_question_that_is_not_a_mapping_is_named_as_such():
    from marketsim.drivers.optimize.study import differences

    assert differences(["trials", 5], {"trials": 5}) == [
        "its record is not a question marketsim wrote (found list)"
    ]
    assert differences({"trials": 4}, {"trials": 5}) == ["trials: study has 4, now 5"]
