"""Calibration's posterior (`--method abc`, ABC-SMC) and lift tests as targets (`--lift`)."""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.errors import InputError, ScenarioError
from marketsim.drivers.calibrate import build_target, calibrate, with_history, without_spend
from marketsim.drivers.calibrate.abc import _need_pyabc
from marketsim.drivers.calibrate.target import lift_error
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario, prepare
from marketsim.scenario.calibration import CalibrateSpec
from marketsim.scenario.history import History, parse_history, read_history
from marketsim.scenario.lift import LiftTest, parse_lift, read_lift
from marketsim.scenario.paths import with_values

ROOT = Path(__file__).resolve().parent.parent
COMPANY = ROOT / "scenarios" / "history" / "company.yaml"
HISTORY = ROOT / "scenarios" / "history" / "history.csv"
LIFT = ROOT / "scenarios" / "history" / "lift.csv"

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args])


@pytest.fixture(scope="module")
def company():
    s = load_scenario(COMPANY)
    return s, read_history(HISTORY, s, list(s.calibrate.match))


# --------------------------------------------------------------------------- lift tests


HEADER = "name,channel,start,end,outcome,incremental,se\n"


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            "name,channel,strat,end,outcome,incremental,se\n",
            ":1:14: strat:",
            "did you mean 'start'",
        ),
        ("name,channel,end,outcome,incremental,se\n", ":1:1:", "missing column 'start'"),
        (HEADER + "a,tvv,14,19,new_customers,50,10\n", ":2:3: channel:", "did you mean 'tv'"),
        (HEADER + "a,tv,19,14,new_customers,50,10\n", ":2:9: end:", "before it starts"),
        (
            HEADER + "a,tv,14,39,new_customers,50,10\n",
            ":2:9: end:",
            "outside the fitted steps 0-31",
        ),
        (HEADER + "a,radio,14,19,new_customers,50,10\n", ":2:12: end:", "spent nothing"),
        (HEADER + "a,tv,14,19,new_customer,50,10\n", ":2:12: outcome:", "did you mean"),
        (HEADER + "a,tv,14,19,new_customers,nan,10\n", ":2:26: incremental:", "finite"),
        (HEADER + "a,tv,14,19,new_customers,50,0\n", ":2:29: se:", "found '0'"),
        (HEADER + "a,tv,x,19,new_customers,50,10\n", ":2:6: start:", "a date as YYYY-MM-DD"),
        (HEADER + "a,tv,2024-04-09,19,new_customers,50,10\n", ":2:6: start:", "no week"),
        (HEADER + "a,tv,14,19,new_customers,50,10\na,tv,2,4,units,5,1\n", ":3:1: name:", "again"),
        (HEADER, ":2:1:", "at least one lift test"),
    ],
)
def test_a_bad_lift_file_is_located(company, text, where, words):
    s, history = company
    with pytest.raises(ScenarioError) as caught:
        parse_lift(text, "lift.csv", s, history, 32)
    shown = "\n".join(str(p) for p in caught.value.problems)
    assert f"lift.csv{where}" in shown and words in shown, shown


def test_lift_windows_may_be_dates_and_names_default(company):
    s, history = company
    text = "channel,start,end,outcome,incremental,se,weight\ntv,2024-04-08,19,units,50,10,2\n"
    (test,) = parse_lift(text, "lift.csv", s, history, 40)
    assert (test.name, test.start, test.end, test.weight) == ("tv@14-19", 14, 19, 2.0)
    segment = text.replace("units", "units.households")
    assert parse_lift(segment, "lift.csv", s, history, 40)[0].outcome == "units.households"
    with pytest.raises(ScenarioError, match="households"):
        parse_lift(text.replace("units", "units.housholds"), "lift.csv", s, history, 40)
    assert read_lift(LIFT, s, history, 40)[0].channel == "tv"


def test_the_simulated_increment_is_the_paired_difference_with_the_window_switched_off(company):
    s, history = company
    spec = s.calibrate.model_copy(update={"replicates": 2})
    test = LiftTest("tv", "tv", 14, 19, "new_customers", 10.0, 2.0, 1.0, 2)
    target = build_target(s, history, spec, 4, (test,))
    values = {p.path: p.start for p in target.parameters}
    runs = target.simulate(values, steps=20, seed=4, replicates=2)
    found = target.increments(values, runs, seed=4)["tv"]
    on = prepare(with_values(with_history(s, history), {"calibrate": None}))
    off = without_spend(on, "tv", 14, 19)
    for r in range(2):
        sums = []
        for market in (on, off):
            model = MarketModel(market, seed=4, replicate=r, materialize_customers=False)
            for _ in range(20):
                model.step()
            sums.append(sum(row["new_customers"] for row in model.ledger.rows[14:20]))
        assert found[r] == sums[0] - sums[1]
    assert found.mean() > 0  # TV brings customers in its burst
    errors = target.errors(values)
    assert errors["lift.tv"] == pytest.approx(
        lift_error(
            float(
                target.increments(
                    values, target.simulate(values, steps=32, seed=4, replicates=2), seed=4
                )["tv"].mean()
            ),
            test,
        )
    )


def test_a_lift_test_prefers_the_impact_that_produced_it():
    """The distance's lift term is smallest near the TV impact that made the measurement.

    At the history's own size: a smaller market on the same spend is saturated by TV's
    first burst, leaving the second nobody to reach.
    """
    s = load_scenario(COMPANY, ("segments.households.attention=0.035",))
    history = read_history(HISTORY, s, ["customers"])
    spec = CalibrateSpec.model_validate(
        {
            "parameters": [{"path": "channels.tv.impact", "low": 0.2, "high": 4.0}],
            "match": {"customers": 1.0},
            "replicates": 2,
        }
    )
    probe = LiftTest("tv", "tv", 14, 19, "new_customers", 0.0, 1.0, 1.0, 2)
    target = build_target(s, history, spec, 9, (probe,))
    truth = {"channels.tv.impact": 1.5}
    runs = target.simulate(truth, steps=20, seed=9, replicates=2)
    measured = float(target.increments(truth, runs, seed=9)["tv"].mean())
    test = LiftTest("tv", "tv", 14, 19, "new_customers", measured, 0.1 * measured, 1.0, 2)
    target = build_target(s, history, spec, 9, (test,))
    miss = {v: target.errors({"channels.tv.impact": v})["lift.tv"] for v in (0.4, 1.5, 3.5)}
    assert miss[1.5] == pytest.approx(0.0, abs=1e-9)
    assert miss[0.4] > 0.3 and miss[3.5] > 0.15, miss


# --------------------------------------------------------------------------- ABC-SMC


TRUE = {"segments.households.attention": 0.04, "segments.households.churn": 0.015}


@pytest.fixture(scope="module")
def synthetic():
    """A 30-week history of a small market generated from `TRUE`, one replicate, no noise."""
    s = load_scenario(COMPANY, ("segments.households.size=3000", "horizon=45"))
    spend = {
        "tv": np.where((np.arange(30) % 10) < 4, 2500.0, 0.0),
        "search": np.full(30, 400.0),
    }
    plan = History("generated", None, spend, {}, tuple(range(2, 32)))
    truth = prepare(with_values(with_history(s, plan), TRUE | {"calibrate": None}))
    model = MarketModel(truth, seed=77, replicate=0, materialize_customers=False)
    for _ in range(30):
        model.step()
    lines = ["step,spend_tv,spend_search,new_customers,customers"]
    for t, row in enumerate(model.ledger.rows):
        lines.append(
            f"{t},{spend['tv'][t]},{spend['search'][t]},{row['new_customers']},{row['customers']}"
        )
    return s, parse_history("\n".join(lines) + "\n", "generated.csv", s)


def test_abc_covers_the_truth_and_flags_what_the_data_cannot_see(synthetic):
    s, history = synthetic
    spec = CalibrateSpec.model_validate(
        {
            "method": "abc",
            "parameters": [
                {"path": "segments.households.attention", "low": 0.005, "high": 0.2, "log": True},
                {"path": "segments.households.churn", "low": 0.002, "high": 0.08, "log": True},
                {"path": "channels.radio.impact", "low": 0.2, "high": 3.0},
            ],
            "match": {"new_customers": 1.0, "customers": 1.0},
            "population": 24,
            "generations": 4,
            "trials": 1000,
            "replicates": 1,
            "band_replicates": 4,
        }
    )
    calibration = calibrate(s, history, spec, seed=3)
    record = calibration.record
    by_path = {p.path: p for p in record.parameters}
    for path, truth in TRUE.items():
        assert by_path[path].low90 <= truth <= by_path[path].high90, by_path[path]
    assert by_path["segments.households.attention"].identified
    assert "channels.radio.impact" in record.not_identified  # radio never ran
    eps = [g.epsilon for g in record.generations]
    assert len(eps) == 4 and all(a > b for a, b in itertools.pairwise(eps)), eps
    posterior = calibration.posterior
    assert len(posterior) == 24 and posterior["weight"].sum() == pytest.approx(1.0)
    assert (posterior["distance"] <= eps[-1] + 1e-12).all()
    assert record.best_distance == posterior["distance"].min()
    assert record.trials["simulated"] == sum(g.simulations for g in record.generations) + 24


ABC = (
    "--method",
    "abc",
    "--population",
    "8",
    "--generations",
    "2",
    "--replicates",
    "1",
    "--trials",
    "500",
    "--set",
    "segments.households.size=1000",
    "--holdout-steps",
    "8",
)


@pytest.mark.slow
def test_abc_writes_its_files_repeats_across_workers_and_resumes(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    done = invoke("calibrate", COMPANY, "--data", HISTORY, "--lift", LIFT, *ABC, "-o", one)
    assert done.exit_code == 0, done.output
    names = {"calibrated.yaml", "calibration.json", "posterior.csv", "fit.csv", "calibration.html"}
    assert names | {"abc.db", "abc.json"} == {p.name for p in one.iterdir()}
    record = json.loads((one / "calibration.json").read_text())
    assert record["method"] == "abc" and len(record["generations"]) == 2
    assert [t["name"] for t in record["lift"]] == ["tv-holdout", "search-pause"]
    assert "stopped after" not in done.output
    assert "ABC-SMC" in (one / "calibration.html").read_text()
    with open(one / "posterior.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[:3] == ["particle", "distance", "weight"] and "lift.tv-holdout" in header

    parallel = invoke(
        "calibrate", COMPANY, "--data", HISTORY, "--lift", LIFT, *ABC, "-w", 2, "-o", two
    )
    assert parallel.exit_code == 0, parallel.output
    for file in ("posterior.csv", "fit.csv", "calibrated.yaml"):
        assert (one / file).read_bytes() == (two / file).read_bytes(), file

    carried = invoke(
        "run", COMPANY, "--set", "segments.households.size=1000", "--posterior", one, "-r", 2,
        "--no-contribution", "-o", tmp_path / "run", "-q",
    )  # fmt: skip
    assert carried.exit_code == 0, carried.output
    used = json.loads((tmp_path / "run" / "summary.json").read_text())["posterior"]
    assert used["method"] == "abc" and used["draws"] == 2

    more = [*ABC[:4], "--generations", "3", *ABC[6:]]
    resumed = invoke(
        "calibrate", COMPANY, "--data", HISTORY, "--lift", LIFT, *more, "-o", one, "--resume"
    )
    assert resumed.exit_code == 0, resumed.output
    assert len(json.loads((one / "calibration.json").read_text())["generations"]) == 3

    short = invoke(
        "calibrate",
        COMPANY,
        "--data",
        HISTORY,
        *ABC[:8],
        "--trials",
        20,
        *ABC[10:],
        "-o",
        two,
        "-f",
    )
    assert short.exit_code == 0 and "stopped after 1 of 2 generations" in short.output

    other = invoke("calibrate", COMPANY, "--data", HISTORY, *more, "-o", one, "--resume")
    assert other.exit_code == 2 and "different parameters or settings" in other.output
    assert "lift" in other.output


def test_bad_abc_and_lift_input_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    out = tmp_path / "cal"
    bad = tmp_path / "lift.csv"
    bad.write_text(LIFT.read_text().replace("tv-holdout,tv,", "tv-holdout,tvv,"))
    done = invoke("calibrate", COMPANY, "--data", HISTORY, "--lift", bad, *ABC, "-o", out)
    assert done.exit_code == 2 and re.search(r"lift\.csv:2:12: channel: .*'tv'", done.output)
    assert not out.exists()
    resumed = invoke("calibrate", COMPANY, "--data", HISTORY, *ABC, "-o", out, "--resume")
    assert resumed.exit_code == 2 and "no calibration in" in resumed.output
    assert not out.exists()
    monkeypatch.setitem(sys.modules, "pyabc", None)
    with pytest.raises(InputError, match=r"pip install 'marketsim\[abc\]'"):
        _need_pyabc()
