"""`marketsim bench`: suites validated like scenarios, robust statistics, resumable runs.

Runs use `tests/suites/small.yaml`: the two-segments contract scenario at 2,500 people
over 12 weeks, 8 markets (two named, six sampled by Latin hypercube) x 3 strategies.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.errors import ScenarioError
from marketsim.drivers.bench.discovery import discover
from marketsim.drivers.bench.leaderboard import leaderboard
from marketsim.drivers.bench.markets import draw
from marketsim.drivers.bench.plan import plan
from marketsim.scenario.changes import Change, apply_changes
from marketsim.scenario.source import Location
from marketsim.scenario.suite import SampledMarkets, read_suite
from marketsim.testing.cluster import local_cluster, single_threaded

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "suites" / "small.yaml"
TWO = ROOT / "tests" / "contract" / "two-segments.yaml"
B2C = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
OUTPUTS = ("bench.json", "leaderboard.csv", "results.csv", "report.html")
REPLICATES = "8"
"""Replicates of the runs compared across executors and interruptions (192 runs)."""

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args])


def suite_text(body: str) -> str:
    head = f"name: t\nscenario: {TWO}\nset: [segments.young.size=1000, segments.senior.size=800]\n"
    return head + body


GOOD_TAIL = """markets:
  - name: plain
strategies:
  - name: a
  - name: b
    scale: {channels.social.budget: 0.5}
"""


# --------------------------------------------------------------------------- bad input

BAD = [
    # (id, suite text, expected problem text, words)
    ("empty-file", "", "s.yaml:1:1: expected a suite mapping, found an empty file", []),
    (
        "no-markets",
        suite_text("markets: []\nstrategies: [{name: a}, {name: b}]\n"),
        "s.yaml:4:10: markets: expected a list of at least 1 item, found an empty list",
        [],
    ),
    (
        "one-strategy",
        suite_text("markets: [{name: m}]\nstrategies: [{name: a}]\n"),
        "s.yaml:5:13: strategies: expected a list of at least 2 items",
        [],
    ),
    (
        "misspelt-key",
        suite_text("markets: [{name: m}]\nstratgies: [{name: a}, {name: b}]\n"),
        "s.yaml:5:1: stratgies: unknown key 'stratgies', did you mean 'strategies'?",
        [],
    ),
    (
        "misspelt-channel-in-every-market",
        suite_text(
            "markets: [{name: m1}, {name: m2}]\n"
            "strategies:\n  - name: a\n  - name: b\n    set: [channels.socal.budget=5]\n"
        ),
        "s.yaml:8:20: channels.socal: strategy 'b' in every market: expected the id of an item",
        ["did you mean 'social'?"],
    ),
    (
        "overlay-names-an-unknown-channel",
        suite_text(
            "markets: [{name: m1}, {name: m2}]\n"
            "strategies:\n  - name: a\n  - name: b\n"
            "    overlay:\n      channels:\n        - {id: socal, budget: 5}\n"
        ),
        "s.yaml:10:31: channels.socal: strategy 'b' in every market: expected the id of an item",
        ["did you mean 'social'?"],
    ),
    (
        "path-unknown-in-one-market",
        f"name: t\nmarkets:\n  - name: two\n    scenario: {TWO}\n"
        f"  - name: other\n    scenario: {B2C}\n    set: [horizon=26]\n"
        "strategies:\n  - name: a\n  - name: b\n    scale: {channels.print.budget: 2}\n",
        "s.yaml:11:22: channels.print: strategy 'b' in market 'other': expected the id of an item",
        ["one of 'tv', 'search', found 'print'"],
    ),
    (
        "horizons-differ",
        suite_text(
            "markets:\n  - name: long\n  - name: short\n    set: [horizon=10]\n" + GOOD_TAIL[8:]
        ),
        "s.yaml:6:5: market 'short' (strategy 'a') runs 10 weeks, but market 'long' runs 26 weeks",
        ["horizon and step must match"],
    ),
    (
        "posterior",
        suite_text(
            "markets:\n  - {posterior: calib/, draws: 2}\n"
            + GOOD_TAIL[GOOD_TAIL.index("strategies") :]
        ),
        "s.yaml:5:17: markets.0.posterior: 'calib/': ",
        ["expected a calibration directory, found nothing"],
    ),
    (
        "range-backwards",
        suite_text(
            "markets:\n  - name: s\n    count: 4\n    ranges: {segments.*.churn: [0.5, 0.1]}\n"
            + GOOD_TAIL[GOOD_TAIL.index("strategies") :]
        ),
        "s.yaml:7:32: markets.s.ranges.segments.*.churn: expected [low, high] with low <= high",
        [],
    ),
    (
        "shared-change-unknown-everywhere",
        suite_text(
            "markets:\n  - name: s\n    count: 6\n    ranges: {segments.*.churn: [0.0, 0.1]}\n"
            "  - name: plain\n    set: [segments.yung.size=5]\n"
            + GOOD_TAIL[GOOD_TAIL.index("strategies") :]
        ).replace("segments.senior.size=800", "segments.oldies.size=800"),
        "s.yaml:3:42: segments.oldies: in every market: expected the id of an item, one of "
        "'young', 'senior', found 'oldies'",
        [],
    ),
    (
        "unknown-metric",
        suite_text("objective: proft\n" + GOOD_TAIL),
        "s.yaml:4:12: objective: expected a metric",
        ["did you mean 'profit'?"],
    ),
    (
        "unknown-baseline",
        suite_text("baseline: aa\n" + GOOD_TAIL),
        "s.yaml:4:11: baseline: expected a strategy name, one of 'a', 'b', found 'aa'",
        ["did you mean 'a'?"],
    ),
    (
        "value-refused-by-the-schema",
        suite_text(
            "markets: [{name: m, set: [channels.print.budget=-5]}]\n"
            + GOOD_TAIL[GOOD_TAIL.index("strategies") :]
        ),
        "s.yaml:4:49: channels.print.budget: in market 'm': expected a number >= 0, found -5",
        [],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_suites_are_located_exit_2_and_write_nothing(
    tmp_path, monkeypatch, text, expected, words
):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(text)
    result = invoke("bench", "s.yaml", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    matching = [line for line in lines if line.startswith(expected)]
    assert matching, f"{expected!r} not in:\n{result.output}"
    assert len(lines) == len(set(lines)), "a problem is reported twice"
    for word in words:
        assert word in matching[0]
    assert not (tmp_path / "out").exists()


def test_bad_options_and_output_directories_exit_2(tmp_path):
    one = invoke("bench", SMALL, "-r", 1, "--out", tmp_path / "a")
    assert one.exit_code == 2 and "--replicates: expected an integer >= 2" in one.output
    nothing = invoke("bench", SMALL, "--resume", "--out", tmp_path / "b")
    assert nothing.exit_code == 2 and "--resume: no benchmark in" in nothing.output
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "keep.txt").write_text("mine")
    full = invoke("bench", SMALL, "--out", tmp_path / "c")
    assert full.exit_code == 2 and "exists and is not empty" in full.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["keep.txt"]


def test_every_problem_is_reported_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = Path("s.yaml")
    text = suite_text(
        "markets:\n  - name: s\n    cont: 4\n    ranges: {segments.*.churn: [0.1, 0.2]}\n"
        "strategies:\n  - name: a\n  - name: b\n    sacle: {channels.social.budget: 2}\n"
    )
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        read_suite(path)
    found = [str(p) for p in info.value.problems]
    assert found[0].startswith("s.yaml:5:5: markets.s.count: missing required key 'count'")
    assert "s.yaml:6:5: markets.s.cont: unknown key 'cont', did you mean 'count'?" in found
    assert "s.yaml:11:5: strategies.b.sacle: unknown key 'sacle', did you mean 'scale'?" in found


def test_a_strategy_file_applies_only_its_plan(tmp_path):
    best = tmp_path / "best.yaml"
    text = TWO.read_text().replace(
        "budget: 60000\n    targets: [young]", "budget: 90000\n    targets: [young]"
    )
    best.write_text(text.replace("size: 30000", "size: 99999"))
    path = tmp_path / "s.yaml"
    path.write_text(suite_text(GOOD_TAIL + "  - name: best\n    file: best.yaml\n"))
    ready = plan(read_suite(path))
    cell = next(c for c in ready.cells if c.strategy == "best")
    assert cell.scenario.channels[0].budget == 90000  # the plan is taken
    assert cell.scenario.segments[0].size == 1000  # the market is not


LAUNCH = ROOT / "scenarios" / "b2c_launch.yaml"
LAUNCH_SMALL = [
    "segments.urban_young.size=800",
    "segments.families.size=800",
    "segments.seniors.size=400",
]


def test_the_shipped_suite_and_the_docs_example_are_valid(tmp_path):
    shipped = plan(
        read_suite(ROOT / "scenarios" / "suites" / "launch_robustness.yaml"), overrides=LAUNCH_SMALL
    )
    assert (len(shipped.markets), len(shipped.strategies)) == (20, 5)
    block = re.search(r"```yaml\n(.*?)```", (ROOT / "docs" / "bench.md").read_text(), re.S)
    path = tmp_path / "suite.yaml"
    path.write_text(block.group(1).replace("../b2c_launch.yaml", str(LAUNCH)))
    example = plan(read_suite(path), overrides=LAUNCH_SMALL)
    assert (len(example.markets), len(example.strategies)) == (19, 5)
    cells = {(c.market, c.strategy): c.scenario for c in example.cells}
    tv = cells[("as-planned", "tv-to-search")].channels[0]
    assert tv.id == "tv" and tv.budget == pytest.approx(90000 * 0.7)
    assert cells[("as-planned", "no-discount")].channels[3].enabled is False
    assert cells[("dear-media", "current")].channels[1].cost_per_contact == pytest.approx(
        0.006 * 1.4
    )


# --------------------------------------------------------------------------- changes, sampling


def test_changes_scale_shift_and_wildcards_keep_counts_whole():
    data = {
        "channels": [
            {"id": "tv", "budget": 100.0, "cost_per_contact": 0.5},
            {"id": "pr", "budget": 50.0},
        ],
        "sales": {"outside": {"count": 3}},
    }
    at = Location("s.yaml", 1, 1)
    changes = [
        Change("scale", "channels.*.cost_per_contact", 2.0, at),  # only channels that have one
        Change("shift", "channels.tv.budget", 0.3, at, to="channels.pr.budget", to_where=at),
        Change("scale", "sales.outside.count", 1.5, at),
    ]
    assert apply_changes(data, changes, {}) == []
    assert data["channels"][0] == {"id": "tv", "budget": 70.0, "cost_per_contact": 1.0}
    assert data["channels"][1] == {"id": "pr", "budget": 80.0}
    assert data["sales"]["outside"]["count"] == 4  # round(4.5) is 4: a count stays whole
    problems = apply_changes(data, [Change("scale", "channels.tv.budgt", 2.0, at)], {})
    assert "unknown key 'budgt', did you mean 'budget'?" in problems[0].message


@pytest.mark.parametrize("sample", ["lhs", "sobol"])
def test_sampling_is_reproducible_and_within_ranges(sample):
    spec = SampledMarkets(
        name="s",
        sample=sample,
        count=8,
        seed=11,
        ranges={"a": [0.0, 1.0], "b": [10.0, 20.0], "n": [1, 4]},
    )
    first, again = draw(spec), draw(spec)
    assert first == again
    assert draw(spec.model_copy(update={"seed": 12})) != first
    assert all(0 <= p["a"] <= 1 and 10 <= p["b"] <= 20 for p in first)
    assert all(isinstance(p["n"], int) and 1 <= p["n"] <= 4 for p in first)
    if sample == "lhs":  # one point in each eighth of every range
        assert sorted(int(p["a"] * 8) for p in first) == list(range(8))
    assert spec.names()[0] == "s-01"


# --------------------------------------------------------------------------- statistics


def test_leaderboard_arithmetic_on_a_hand_made_table():
    # 3 markets x 3 strategies x 2 replicates; means (replicates average to the middle):
    #          a    b    c
    # m1      10   12    8
    # m2      10    4    9
    # m3      10   14   10
    means = np.array([[10, 12, 8], [10, 4, 9], [10, 14, 10]], dtype=float)
    noise = np.array([-1.0, 1.0])
    values = means[:, :, None] + noise[None, None, :]
    board = leaderboard(values, ["a", "b", "c"], ["m1", "m2", "m3"], resamples=200)
    a, b, c = board.standings
    assert b.mean.value == pytest.approx(10.0) and a.mean.value == 10.0
    assert c.mean.value == pytest.approx(9.0)
    assert (a.worst.value, b.worst.value, c.worst.value) == (10.0, 4.0, 8.0)
    assert b.worst_market == "m2"
    # ranks: m1 b,a,c; m2 a,c,b; m3 b,(a,c tied 2.5)
    assert a.mean_rank.value == pytest.approx((2 + 1 + 2.5) / 3)
    assert b.mean_rank.value == pytest.approx((1 + 3 + 1) / 3)
    assert (a.win_rate.value, b.win_rate.value, c.win_rate.value) == pytest.approx(
        (1 / 3, 2 / 3, 0)
    )
    # regret per market: a (2, 0, 4), b (0, 6, 0), c (4, 1, 4)
    assert a.regret_mean.value == pytest.approx(2.0) and a.regret_max.value == 4.0
    assert b.regret_max.value == 6.0 and c.regret_max.value == 4.0
    assert a.regret_p90.value == pytest.approx(np.quantile([2, 0, 4], 0.9))
    # paired differences are exact here (noise shared): b - a = (2, -6, 4) / 3 = 0
    assert b.versus_baseline.value == pytest.approx(0.0)
    assert b.versus_baseline.ci95_low == pytest.approx(0.0)
    picks = {cr.criterion: (cr.strategy, cr.tied) for cr in board.criteria}
    assert picks["maximin"] == ("a", [])
    assert picks["minimax_regret"] == ("a", ["c"])
    assert picks["expected_value"] == ("a", ["b"])  # a tie at 10: a ranks first by mean
    assert board.agreement == "Every criterion picks a."
    means[0, 1] = 13  # b's mean is now best
    values = means[:, :, None] + noise[None, None, :]
    board = leaderboard(values, ["a", "b", "c"], ["m1", "m2", "m3"], resamples=0)
    assert board.criteria[0].strategy == "b" and board.criteria[1].strategy == "a"
    assert board.agreement.startswith("The criteria disagree: expected value picks b")
    assert "in its worst market (m2)" in board.agreement


def test_leaderboard_intervals_cover_the_point_and_respect_direction():
    rng = np.random.default_rng(3)
    values = rng.normal(100, 5, size=(6, 3, 5))
    board = leaderboard(values, ["a", "b", "c"], [f"m{i}" for i in range(6)])
    for s in board.standings:
        for stat in (s.mean, s.worst, s.regret_mean, s.versus_baseline):
            assert stat.ci95_low <= stat.value + 1e-9 and stat.value - 1e-9 <= stat.ci95_high
    lower = leaderboard(values, ["a", "b", "c"], ["m"] * 6, lower_is_better=True, resamples=0)
    best_mean = min(range(3), key=lambda k: values[:, k].mean())
    assert lower.criteria[0].strategy == "abc"[best_mean]


def test_discovery_recovers_a_planted_rule():
    rng = np.random.default_rng(1)
    wom, cost, noise = rng.uniform(0, 0.05, 80), rng.uniform(0.01, 0.05, 80), rng.uniform(0, 1, 80)
    wins = (wom > 0.03) & (cost < 0.02)
    found = discover(
        "A",
        "B",
        wins.tolist(),
        {
            "word_of_mouth": wom.tolist(),
            "channels.tv.cost_per_contact": cost.tolist(),
            "x": noise.tolist(),
        },
    )
    rule = found.rules[0]
    assert rule.coverage == 1.0 and rule.density == 1.0
    bounds = {(c.path, c.op): c.threshold for c in rule.conditions}
    assert set(bounds) == {("word_of_mouth", ">"), ("channels.tv.cost_per_contact", "<=")}
    assert bounds[("word_of_mouth", ">")] == pytest.approx(0.03, abs=0.004)
    assert bounds[("channels.tv.cost_per_contact", "<=")] == pytest.approx(0.02, abs=0.003)
    assert rule.text.startswith("B beats A when word_of_mouth > 0.03")


def test_discovery_says_when_no_rule_is_needed():
    everywhere = discover("A", "B", [True] * 4, {"x": [1.0, 2.0, 3.0, 4.0]})
    assert everywhere.rules == [] and everywhere.note == "B beats A in every market."
    flat = discover("A", "B", [True, False], {"x": [1.0, 1.0]})
    assert flat.features == [] and "nothing to explain" in flat.note


# --------------------------------------------------------------------------- runs


def run_dir(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "results.db") as con:
        return con.execute("SELECT * FROM runs ORDER BY market, strategy, replicate").fetchall()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted run in one process: what every other way of running must give."""
    out = tmp_path_factory.mktemp("reference") / "bench"
    done = subprocess.run(bench_command(out), env=single_threaded(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


def test_bench_writes_every_file(reference):
    import json

    record = json.loads((reference / "bench.json").read_text())
    assert record["kind"] == "bench" and record["replicates"] == 8
    assert [m["name"] for m in record["markets"]][:3] == ["as-written", "dear-print", "sampled-01"]
    assert len(record["cells"]) == 8 * 3 and len(record["leaderboard"]) == 3
    assert {c["criterion"] for c in record["criteria"]} == {
        "expected_value",
        "maximin",
        "minimax_regret",
    }
    assert len(rows(reference)) == 8 * 3 * 8
    leaderboard_csv = (reference / "leaderboard.csv").read_text().splitlines()
    assert leaderboard_csv[0].startswith("strategy,mean_rank,mean_rank_ci95_low")
    assert len(leaderboard_csv) == 4
    results = (reference / "results.csv").read_text().splitlines()
    assert "segments.*.word_of_mouth" in results[0] and len(results) == 1 + 24
    assert "plotly-graph-div" in (reference / "report.html").read_text()


def test_report_redraws_the_same_page_from_bench_json(reference, tmp_path):
    page = tmp_path / "again.html"
    result = invoke("report", reference, "--out", page)
    assert result.exit_code == 0, result.output
    assert page.read_bytes() == (reference / "report.html").read_bytes()


def test_two_workers_write_identical_files(reference, tmp_path):
    out = tmp_path / "bench"
    result = invoke("bench", SMALL, "-r", REPLICATES, "--out", out, "-q", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert run_dir(out) == run_dir(reference)
    assert rows(out) == rows(reference)


def test_resume_refuses_a_suite_that_changed_what_rows_mean(tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text(SMALL.read_text().replace("../contract/two-segments.yaml", str(TWO)))
    out = tmp_path / "bench"
    assert invoke("bench", suite, "-r", 2, "--out", out, "-q").exit_code == 0
    again = invoke("bench", suite, "-r", 2, "--out", out, "-q")
    assert again.exit_code == 2 and "--resume" in again.output
    suite.write_text(
        suite.read_text().replace("share: 0.5}]\n  - name: print", "share: 0.4}]\n  - name: print")
    )
    refused = invoke("bench", suite, "-r", 2, "--out", out, "-q", "--resume")
    assert refused.exit_code == 2
    assert "made from a different scenario or seed" in refused.output
    assert "social-heavy" in refused.output
    assert len(rows(out)) == 8 * 3 * 2  # untouched


def count_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.Error:  # not made yet, or busy
        return 0


def bench_command(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "marketsim",
        "bench",
        str(SMALL),
        "-r",
        REPLICATES,
        "--out",
        str(out),
        "-q",
        *extra,
    ]


def wait_for(done, least: int, proc: subprocess.Popen, limit: float = 120) -> int:
    deadline = time.monotonic() + limit
    while (n := done()) < least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the benchmark did not get going"
        time.sleep(0.02)
    return n


def test_sigkill_then_resume_gives_the_same_results(reference, tmp_path):
    out = tmp_path / "bench"
    db = out / "results.db"
    proc = subprocess.Popen(
        bench_command(out), env=single_threaded(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_for(lambda: count_rows(db), 30, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = count_rows(db)
    assert 30 <= kept < 192, kept
    assert not (out / "bench.json").exists()
    done = subprocess.run(
        bench_command(out, "--resume"),
        env=single_threaded(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert run_dir(out) == run_dir(reference)
    assert rows(out) == rows(reference)


def test_dask_cluster_losing_a_worker_gives_the_same_results(reference, tmp_path):
    with local_cluster(tmp_path, 2) as cluster:
        out = tmp_path / "bench"
        proc = subprocess.Popen(
            bench_command(out, "--cluster", cluster.address),
            env=single_threaded(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        killed_at = wait_for(lambda: count_rows(out / "results.db"), 20, proc)
        os.kill(cluster.workers[0].pid, signal.SIGKILL)
        assert killed_at < 192
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr.decode()
        assert run_dir(out) == run_dir(reference)
        assert rows(out) == rows(reference)
