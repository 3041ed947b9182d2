"""Calibration: the calibrate: section, the history reader, the fit and `marketsim calibrate`."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.errors import InputError, ScenarioError
from marketsim.drivers.calibrate import build_target, calibrate, with_history
from marketsim.drivers.calibrate.fit import metrics, nrmse, scale_of
from marketsim.drivers.simulation import simulate
from marketsim.plugins.prepare import load_scenario, scenario_from_text
from marketsim.scenario.calibration import OBSERVABLES
from marketsim.scenario.history import parse_history, read_history

ROOT = Path(__file__).resolve().parent.parent
COMPANY = ROOT / "scenarios" / "history" / "company.yaml"
HISTORY = ROOT / "scenarios" / "history" / "history.csv"
TRUTH = {  # as scenarios/history/generate.py has them
    "segments.households.attention": 0.035,
    "segments.households.churn": 0.01,
}
SMALL = ["--set", "segments.households.size=2000", "--trials", "12", "--holdout-steps", "8"]

runner = CliRunner()

BASE = """name: small
horizon: 12
seed: 3
products: [{id: box, price: 10.0}]
segments:
  - id: people
    size: 500
    attention: 0.02
channels:
  - {id: tv, type: advertising, budget: 1200, cost_per_contact: 0.05, start: 2, end: 10}
  - {id: search, type: inbound, budget: 600, cost_per_contact: 0.5}
  - {id: sale, type: promotion, budget: 100, start: 3, end: 5}
"""


def scenario(calibrate: str = "", **replace: str):
    text = BASE
    for old, new in replace.items():
        text = text.replace(old, new)
    return scenario_from_text(text + calibrate, "s.yaml")


def errors(call) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        call()
    return [str(p) for p in caught.value.problems]


# --------------------------------------------------------------------------- the section

SECTION = """calibrate:
  parameters:
    - {path: segments.people.attention, low: 0.005, high: 0.05, log: true}
"""


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ("low: 0.005, high: 0.05", "low: 0.05, high: 0.05", "s.yaml:15:7", "empty range"),
        ("low: 0.005", "low: 0", "s.yaml:15:7", "log scale needs low > 0"),
        (
            "segments.people.attention",
            "segments.people.atention",
            "s.yaml:15:14",
            "did you mean 'attention'",
        ),
        ("segments.people.attention", "segments.peple.attention", "s.yaml:15:14", "'people'"),
        ("segments.people.attention", "segments.people.network", "s.yaml:15:14", "a mapping"),
        ("segments.people.attention", "horizon", "s.yaml:15:14", "a parameter of the market"),
        ("segments.people.attention", "sales.outside.skill", "s.yaml:15:14", "names nothing"),
        ("low: 0.005, high: 0.05, log: true", "low: -1, high: 0.05", "s.yaml:15:46", ">= 0"),
        ("log: true}", "log: true}\n  match: {revenu: 1}", "s.yaml:16:", "'revenue'"),
        ("low: 0.005, high: 0.05, log: true", "low: 0.1", "s.yaml:15:7", "high missing"),
    ],
)
def test_a_bad_calibrate_section_is_located(old, new, where, words):
    found = errors(lambda: scenario(SECTION.replace(old, new)))
    assert any(p.startswith(where) and words in p for p in found), found


def test_a_path_named_twice_is_refused():
    twice = SECTION + "    - {path: segments.people.attention, low: 0.01, high: 0.02}\n"
    found = errors(lambda: scenario(twice))
    assert any("s.yaml:16:" in p and "once" in p for p in found), found


def test_a_prior_gives_its_central_range_on_a_log_scale():
    prior = (
        "    - {path: segments.people.purchase, prior: {dist: lognormal, mean: 0.03, sd: 0.01}}\n"
    )
    spec = scenario(SECTION + prior).calibrate
    low, high = spec.parameters[1].bounds
    assert 0.01 < low < 0.02 < 0.05 < high < 0.07
    assert spec.parameters[1].log_scale


def test_every_observable_is_a_timeseries_column():
    frame = simulate(scenario(), replicates=1).timeseries
    assert set(OBSERVABLES) <= set(frame.columns)


# --------------------------------------------------------------------------- the history

GOOD = """step,spend_tv,spend_search,revenue,new_customers
0,0,50,0,0
1,100,50,10,1
2,100,50,20,
3,0,50,30,3
"""


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        ("revenue,", "revenu,", "h.csv:1:28", "did you mean 'revenue'"),
        ("spend_tv", "spend_tvv", "h.csv:1:6", "did you mean 'spend_tv'"),
        ("spend_tv", "spend_sale", "h.csv:1:6", "promotion"),
        ("step,", "stp,", "h.csv:1:1", "'step' or a 'date'"),
        ("2,100,50", "3,100,50", "h.csv:5:1", "duplicate"),
        ("3,0,50,30,3", "5,0,50,30,3", "h.csv:5:1", "steps 3-4 missing"),
        ("1,100,50", "1,-5,50", "h.csv:3:3", "found '-5'"),
        ("1,100,50", "1,nan,50", "h.csv:3:3", "number >= 0"),
        ("1,100,50", "1,,50", "h.csv:3:3", "found nothing"),
        ("1,100,50,10", "1,100,50,ten", "h.csv:3:10", "found 'ten'"),
        ("3,0,50,30,3", "12,0,50,30,3", "h.csv:5:1", "past the scenario's horizon"),
        ("3,0,50,30,3\n", "3,0,50,30\n", "h.csv:5:1", "expected 5 cells"),
        ("0,0,50,0,0\n1", "1", "h.csv:2:1", "start at step 0"),
    ],
)
def test_a_bad_history_is_located(old, new, where, words):
    text = GOOD.replace(old, new, 1)
    found = errors(lambda: parse_history(text, "h.csv", scenario()))
    assert any(p.startswith(where) and words in p for p in found), found


def test_a_series_the_fit_matches_must_be_a_column():
    found = errors(lambda: parse_history(GOOD, "h.csv", scenario(), ["customers", "units"]))
    assert any("'customers'" in p for p in found) and any("'units'" in p for p in found)


def test_a_history_reads_spend_and_outcomes_with_gaps_in_outcomes_allowed():
    history = parse_history(GOOD, "h.csv", scenario())
    assert history.steps == 4 and history.dates is None
    assert history.spend["tv"].tolist() == [0, 100, 100, 0]
    assert math.isnan(history.observed["new_customers"][2])


@pytest.mark.parametrize(
    ("step", "dates", "problem"),
    [
        ("week", ["2024-01-01", "2024-01-08", "2024-01-15"], None),
        ("week", ["2024-01-01", "2024-01-11", "2024-01-15"], "maps to no week"),
        ("week", ["2024-01-01", "2024-01-22", "2024-01-08"], "step 2 missing"),
        ("month", ["2024-01-31", "2024-02-29", "2024-03-31"], None),
        ("month", ["2024-01-01", "2024-01-15", "2024-02-01"], "duplicate"),
        ("quarter", ["2023-11-15", "2024-01-01", "2024-04-30"], None),
        ("day", ["2024-01-01", "2024-01-02", "2024-13-03"], "YYYY-MM-DD"),
    ],
)
def test_dates_map_to_steps(step, dates, problem):
    text = "date,revenue\n" + "".join(f"{d},{i}\n" for i, d in enumerate(dates))
    s = scenario(**{"seed: 3": f"seed: 3\nstep: {step}"})
    if problem is None:
        history = parse_history(text, "h.csv", s)
        assert history.dates == tuple(dates)
        assert history.observed["revenue"].tolist() == [0, 1, 2]
    else:
        assert any(problem in p for p in errors(lambda: parse_history(text, "h.csv", s)))


def test_history_spend_replaces_the_plan_over_its_steps_and_the_plan_runs_after():
    s = scenario()
    history = parse_history(GOOD, "h.csv", s)
    frame = simulate(with_history(s, history), replicates=1).timeseries
    assert frame["spend_tv"].tolist()[:4] == [0, 100, 100, 0]
    assert frame["spend_tv"].tolist()[4:] == pytest.approx([150.0] * 6 + [0, 0])
    assert frame["spend_search"].tolist() == pytest.approx([50.0] * 4 + [50.0] * 8)


# --------------------------------------------------------------------------- the fit


def test_fit_metrics_are_the_textbook_ones():
    observed = np.array([1.0, 2.0, np.nan, 4.0])
    simulated = np.array([2.0, 2.0, 9.0, 3.0])
    scale = scale_of(observed)
    assert scale == 3.0
    assert nrmse(simulated, observed, scale) == pytest.approx(math.sqrt(2 / 3) / 3)
    m = metrics(simulated, observed, scale)
    assert m.observations == 3
    assert m.mape == pytest.approx((1 + 0 + 0.25) / 3)
    assert m.r2 == pytest.approx(
        1 - 2 / (((1 - 7 / 3) ** 2) + ((2 - 7 / 3) ** 2) + (4 - 7 / 3) ** 2)
    )


def test_a_holdout_must_leave_steps_to_fit():
    s = load_scenario(COMPANY)
    history = read_history(HISTORY, s)
    spec = s.calibrate.model_copy(update={"holdout_steps": 39})
    with pytest.raises(InputError, match="at most 38"):
        build_target(s, history, spec, 0)


def test_calibration_recovers_the_hidden_parameters_and_flags_radio():
    s = load_scenario(COMPANY)
    history = read_history(HISTORY, s, list(s.calibrate.match))
    spec = s.calibrate.model_copy(update={"holdout_steps": 8, "trials": 40})
    record = calibrate(s, history, spec).record
    by_path = {p.path: p for p in record.parameters}
    for path, truth in TRUTH.items():
        assert by_path[path].low90 <= truth <= by_path[path].high90, by_path[path]
    assert by_path["segments.households.attention"].identified
    assert not by_path["channels.radio.impact"].identified
    assert "channels.radio.impact" in record.not_identified
    for series, fit in record.fit.items():
        assert fit.holdout.nrmse < 0.2, (series, fit)
        assert fit.in_sample.r2 > 0.75, (series, fit)


# --------------------------------------------------------------------------- the command


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args])


def test_calibrate_writes_its_files_and_the_calibrated_scenario_runs(tmp_path):
    out = tmp_path / "cal"
    done = invoke("calibrate", COMPANY, "--data", HISTORY, *SMALL, "-o", out)
    assert done.exit_code == 0, done.output
    names = {"calibrated.yaml", "calibration.json", "posterior.csv", "fit.csv", "study.db"}
    assert names | {"calibration.html"} == {p.name for p in out.iterdir()}
    record = json.loads((out / "calibration.json").read_text())
    assert record["holdout_steps"] == 8 and record["fitted_steps"] == 32
    assert record["trials"]["complete"] == 12
    ran = invoke("run", out / "calibrated.yaml", "-o", tmp_path / "run", "-r", "1")
    assert ran.exit_code == 0, ran.output
    calibrated = load_scenario(out / "calibrated.yaml")
    best = {p["path"]: p["estimate"] for p in record["parameters"]}
    assert calibrated.segments[0].attention == pytest.approx(best["segments.households.attention"])
    assert calibrated.calibrate is None

    again = invoke("calibrate", COMPANY, "--data", HISTORY, *SMALL, "-o", out)
    assert again.exit_code == 2 and "--resume" in again.output
    more = [*SMALL[:2], "--trials", "15", *SMALL[4:]]
    resumed = invoke("calibrate", COMPANY, "--data", HISTORY, *more, "-o", out, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((out / "calibration.json").read_text())["trials"]["complete"] == 15


def test_one_worker_and_one_seed_give_identical_output(tmp_path):
    for name in ("a", "b"):
        args = ("calibrate", COMPANY, "--data", HISTORY, *SMALL, "--seed", 5, "-o", tmp_path / name)
        assert invoke(*args).exit_code == 0
    for file in ("calibration.json", "posterior.csv", "fit.csv", "calibrated.yaml"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HISTORY.read_text().replace("new_customers", "new_customer", 1))
    out = tmp_path / "cal"
    done = invoke("calibrate", COMPANY, "--data", bad, *SMALL, "-o", out)
    assert done.exit_code == 2
    assert re.search(r"bad\.csv:1:\d+: new_customer: .*did you mean 'new_customers'", done.output)
    assert not out.exists()
    plain = invoke("calibrate", ROOT / "tests" / "contract" / "minimal-b2c.yaml", "--data", HISTORY)
    assert plain.exit_code == 2 and "no calibrate: section" in plain.output
