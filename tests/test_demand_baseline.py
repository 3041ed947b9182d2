"""The demand baseline: seasonality, trend and events (docs/model.md section 3.9).

Its equation, the size of its effect on sales, that it leaves a scenario without it
unchanged, its history columns, its calibration and its bad inputs.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from conftest import ROOT

from marketsim.cli import main
from marketsim.core.errors import ScenarioError
from marketsim.drivers.calibrate import calibrate, with_history
from marketsim.drivers.simulation import simulate
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import scenario_from_text
from marketsim.scenario.calibration import CalibrateSpec
from marketsim.scenario.demand import Demand
from marketsim.scenario.history import parse_history
from marketsim.scenario.schema import Scenario

SHOP = """name: shop
horizon: {horizon}
seed: 4
products: [{{id: tea, price: 5.0, repurchase_every: 4}}]
segments:
  - id: drinkers
    size: {size}
    potential: 0.8
    initial_awareness: 0.6
    interest: 0.02
    purchase: 0.05
    churn: 0.02
  - id: others
    size: 3000
    initial_awareness: 0.5
    interest: 0.02
channels:
  - {{id: search, type: inbound, budget: 3000, cost_per_contact: 0.5}}
"""


def shop(demand: str = "", *, horizon: int = 20, size: int = 20000) -> Scenario:
    return scenario_from_text(SHOP.format(horizon=horizon, size=size) + demand, "s.yaml")


def units(scenario: Scenario, replicates: int = 3) -> np.ndarray:
    """Mean units per step over `replicates` runs on common random numbers."""
    frame = simulate(scenario, replicates=replicates).timeseries
    return frame.groupby("step")["units"].mean().to_numpy()


# --------------------------------------------------------------------------- the equation


def test_the_baseline_is_season_times_trend_times_events():
    monthly = [1.0 + m / 10 for m in range(12)]
    demand = Demand.model_validate(
        {
            "calendar": {"start": "2024-01-29"},  # a Monday: week 0 in January, week 1 in February
            "seasonality": {
                "monthly": monthly,
                "fourier": [{"sin": 0.2, "cos": -0.1}],
                "period": 8,
            },
            "trend": 0.01,
            "events": [
                {"id": "sale", "effect": 1.5, "steps": [1], "dates": ["2024-02-20"]},
                {"id": "strike", "effect": 0.5, "weights": [0, 0, 0, 0.4, 0, 0]},
            ],
        }
    )
    m = demand.multipliers(6, "week", 52)
    for t in range(6):
        month = (dt.date(2024, 1, 29) + dt.timedelta(weeks=t)).month - 1
        angle = 2 * math.pi * t / 8
        season = monthly[month] * math.exp(0.2 * math.sin(angle) - 0.1 * math.cos(angle))
        sale = 1.5 if t in (1, 3) else 1.0  # 2024-02-20 falls in week 3
        strike = 1 + (0.5 - 1) * 0.4 if t == 3 else 1.0
        assert m[t] == pytest.approx(season * 1.01**t * sale * strike, rel=1e-12)


def test_a_quarter_takes_the_mean_of_its_months_and_fourier_defaults_to_a_year():
    monthly = [float(m + 1) for m in range(12)]
    demand = Demand.model_validate(
        {"calendar": {"start": "2024-05-10"}, "seasonality": {"monthly": monthly}}
    )
    assert demand.multipliers(3, "quarter", 4) == [5.0, 8.0, 11.0]  # Apr-Jun, Jul-Sep, Oct-Dec
    smooth = Demand.model_validate({"seasonality": {"fourier": [{"cos": 0.3}]}})
    m = smooth.multipliers(13, "month", 12)
    assert m[0] == pytest.approx(math.exp(0.3)) and m[12] == pytest.approx(m[0])
    assert m[6] == pytest.approx(math.exp(-0.3))


def test_no_demand_section_is_flat():
    assert Demand().multipliers(5, "week", 52) == [1.0] * 5


# --------------------------------------------------------------------------- the market

DECEMBER = """demand:
  calendar: {{start: 2024-10-07}}
  seasonality: {{monthly: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, {december}]}}
"""


def test_a_december_multiplier_of_1_5_sells_about_half_as_much_again_in_december():
    flat = units(shop(DECEMBER.format(december=1.0)))
    season = units(shop(DECEMBER.format(december=1.5)))
    december = slice(8, 13)  # weeks starting 2 to 30 December
    assert np.array_equal(flat[:8], season[:8])  # nothing changes before December
    ratio = season[december].sum() / flat[december].sum()
    assert 1.3 < ratio < 1.6, ratio
    after = season[13:].sum() / flat[13:].sum()  # January: only December's extra customers
    assert 1.0 < after < 1.15, after


def test_a_positive_trend_grows_sales_by_about_its_compound_rate():
    flat = units(shop(horizon=30))
    growing = units(shop("demand: {trend: 0.02}\n", horizon=30))
    assert growing[0] == flat[0]
    late = growing[20:].sum() / flat[20:].sum()
    assert 1.3 < late < 1.02**30, late  # about (1.02)^25 = 1.64 on purchases, less as they deplete
    assert late > growing[:10].sum() / flat[:10].sum()


def test_an_event_lifts_its_steps_only():
    flat = units(shop())
    event = units(shop("demand:\n  events: [{id: fair, effect: 2.0, steps: [6, 7]}]\n"))
    assert np.array_equal(flat[:6], event[:6])
    assert event[6:8].sum() > 1.6 * flat[6:8].sum()
    assert abs(event[8:].sum() - flat[8:].sum()) < 0.1 * flat[8:].sum()


def test_a_burn_in_reads_the_baseline_of_step_0_not_of_the_last_steps():
    burn = "burn_in: {steps: 6, plan: {search: 150}}\n"
    flat = units(shop(burn, size=4000), replicates=1)
    late = units(
        shop(burn + "demand:\n  events: [{id: sale, effect: 3.0, steps: [19]}]\n", size=4000), 1
    )
    assert np.array_equal(flat[:19], late[:19])
    assert late[19] > flat[19]


def test_a_segment_left_out_of_the_baseline_is_untouched():
    def counts(demand: str) -> np.ndarray:
        model = MarketModel(shop(demand), materialize_customers=False)
        rows = []
        while model.running:
            model.step()
            rows.append(model.market.stage_counts.copy())
        return np.array(rows)

    flat = counts("")
    moved = counts("demand: {trend: 0.05, segments: [drinkers]}\n")
    assert np.array_equal(flat[:, 1], moved[:, 1])  # others
    assert not np.array_equal(flat[:, 0], moved[:, 0])  # drinkers


MONTHLY_ONES = ", ".join(["1"] * 12)
ONES = f"demand:\n  calendar: {{start: 2024-01-01}}\n  seasonality: {{monthly: [{MONTHLY_ONES}]}}\n"


def test_defaults_and_multipliers_of_one_leave_the_market_as_it_was():
    flat = simulate(shop(), replicates=2).timeseries
    ones = ONES + "  events: [{id: e, effect: 1.0, steps: [3]}]\n"
    assert simulate(shop(ones), replicates=2).timeseries.equals(flat)


def test_the_baseline_brings_accounts_into_the_market():
    text = (ROOT / "tests" / "contract" / "minimal-b2b.yaml").read_text()
    flat = scenario_from_text(text)
    busy = scenario_from_text(
        text + "demand: {events: [{id: budget_season, effect: 3.0, steps: [2, 3, 4, 5]}]}\n"
    )
    interested = []
    for scenario in (flat, busy):
        model = MarketModel(scenario, materialize_customers=False)
        for _ in range(6):
            model.step()
        interested.append(model.market.stage_counts[0, 2:].sum())  # interested and beyond
    assert interested[1] > 1.15 * interested[0], interested


def test_the_shipped_seasonal_scenario_sells_most_in_spring_and_summer():
    path = ROOT / "scenarios" / "seasonal_retail.yaml"
    sales = units(scenario_from_text(path.read_text(), str(path)), replicates=1)
    assert sales[13:30].mean() > 3 * sales[:8].mean()  # April to July against January-February


# --------------------------------------------------------------------------- the history

HISTORY = """step,spend_search,event_fair,units
0,100,0,5
1,100,1,9
2,100,0.5,7
"""


def test_an_event_column_replaces_the_events_steps_over_the_history():
    s = shop("demand:\n  events: [{id: fair, effect: 2.0, steps: [0, 5]}]\n", horizon=8)
    history = parse_history(HISTORY, "h.csv", s)
    assert history.events["fair"].tolist() == [0.0, 1.0, 0.5]
    replayed = with_history(s, history)
    assert replayed.demand.events[0].weights == [0.0, 1.0, 0.5, 0, 0, 1.0, 0, 0]
    m = replayed.demand.multipliers(8, "week", 52)
    assert m[:3] == [1.0, 2.0, 1.5] and m[5] == 2.0


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        (
            "event_fair",
            "event_fare",
            "h.csv:1:19",
            ["no event 'fare', did you mean 'fair'?"],
        ),
        (
            "event_fair",
            "event_zzz",
            "h.csv:1:19",
            ["no event 'zzz', expected one of 'event_fair'"],
        ),
        ("1,100,1,9", "1,100,1.5,9", "h.csv:3:7", ["0 to 1", "found '1.5'"]),
        ("1,100,1,9", "1,100,-1,9", "h.csv:3:7", ["0 to 1", "found '-1'"]),
        ("1,100,1,9", "1,100,,9", "h.csv:3:7", ["found nothing"]),
    ],
)
def test_a_bad_event_column_is_located(old, new, where, words):
    s = shop("demand:\n  events: [{id: fair, effect: 2.0}]\n", horizon=8)
    with pytest.raises(ScenarioError) as caught:
        parse_history(HISTORY.replace(old, new), "h.csv", s)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(where) and all(w in p for w in words) for p in found), found


def test_a_dated_history_must_start_on_the_scenarios_calendar():
    s = shop("demand: {calendar: {start: 2024-01-01}}\n", horizon=8)
    text = "date,units\n2024-01-01,1\n2024-01-08,2\n"
    assert parse_history(text, "h.csv", s).steps == 2
    with pytest.raises(
        ScenarioError, match=r"h.csv:2:1: date: the first date, 2024-01-03, is not step 0"
    ):
        parse_history(text.replace("01-01", "01-03").replace("01-08", "01-10"), "h.csv", s)


# --------------------------------------------------------------------------- calibration

FIT = """demand:
  seasonality: {fourier: [{sin: 0.0}], period: 20}
  trend: 0.0
"""


def test_calibration_recovers_a_seasonal_amplitude_and_a_trend():
    truth = {"demand.seasonality.fourier.0.sin": 0.5, "demand.trend": 0.01}
    s = shop(FIT, horizon=60, size=5000)
    sets = [f"{path}={value}" for path, value in truth.items()]
    true = scenario_from_text(SHOP.format(horizon=60, size=5000) + FIT, "s.yaml", overrides=sets)
    frame = simulate(true, seed=99, replicates=4).timeseries
    observed = frame.groupby("step")[["units", "revenue"]].mean()
    text = "step,units\n" + "".join(f"{t},{u}\n" for t, u in enumerate(observed["units"]))
    history = parse_history(text, "h.csv", s)
    spec = CalibrateSpec.model_validate(
        {
            "parameters": [
                {"path": "demand.seasonality.fourier.0.sin", "low": 0.0, "high": 1.0},
                {"path": "demand.trend", "low": -0.01, "high": 0.03},
            ],
            "trials": 30,
            "replicates": 2,
            "band_replicates": 4,
        }
    )
    record = calibrate(s, history, spec, seed=3).record
    by_path = {p.path: p for p in record.parameters}
    assert abs(by_path["demand.seasonality.fourier.0.sin"].estimate - 0.5) < 0.15
    assert abs(by_path["demand.trend"].estimate - 0.01) < 0.005
    for path, value in truth.items():
        assert by_path[path].low90 <= value <= by_path[path].high90, by_path[path]


def test_every_number_of_the_section_is_a_calibratable_path():
    paths = {
        "demand.seasonality.monthly.11": "low: 0.5, high: 2.0",
        "demand.events.fair.effect": "low: 0.5, high: 3.0",
        "demand.events.0.steps.0": "low: 0, high: 10",
        "demand.trend": "low: -0.1, high: 0.1",
    }
    section = "calibrate:\n  parameters:\n" + "".join(
        f"    - {{path: {path}, {bounds}}}\n" for path, bounds in paths.items()
    )
    events = "  events: [{id: fair, effect: 2.0, steps: [3]}]\n"
    s = shop(ONES + events + section)
    assert [p.path for p in s.calibrate.parameters] == list(paths)
    with pytest.raises(ScenarioError, match=r"demand\.seasonality\.monthly\.11 names nothing"):
        shop("demand: {trend: 0.01}\n" + section)  # no monthly profile written to fit


# --------------------------------------------------------------------------- bad input

CONTRACT = (ROOT / "tests" / "contract" / "minimal-b2c.yaml").read_text()
SECTION = """demand:
  calendar: {start: 2024-01-01}
  seasonality:
    monthly: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5]
  trend: 0.001
  events:
    - {id: xmas, effect: 1.4, steps: [50, 51]}
"""  # the section starts on line 27 of the file


@pytest.mark.parametrize(
    ("old", "new", "where", "words"),
    [
        (
            "1, 1, 1.5]",
            "1.5]",
            "s.yaml:30:14: demand.seasonality.monthly: ",
            ["expected 12", "found 10"],
        ),
        (
            "[1, 1, 1, 1",
            "[1, -1, 1, 1",
            "s.yaml:30:18: demand.seasonality.monthly.1: ",
            ["> 0", "found -1"],
        ),
        (
            "steps: [50, 51]",
            "steps: [50, 52]",
            "s.yaml:33:43: demand.events.xmas.steps.1: ",
            ["< horizon (52)", "found 52"],
        ),
        (
            "  calendar: {start: 2024-01-01}\n",
            "",
            "s.yaml:29:14: demand.seasonality.monthly: ",
            ["needs demand.calendar.start"],
        ),
        (
            "effect: 1.4",
            "effect: 0",
            "s.yaml:33:26: demand.events.xmas.effect: ",
            ["> 0", "found 0"],
        ),
        ("trend: 0.001", "trend: 1.5", "s.yaml:31:10: demand.trend: ", ["< 1", "found 1.5"]),
        (
            "start: 2024-01-01",
            "start: 2024-13-01",
            "s.yaml:28:21: demand.calendar.start: ",
            ["expected a valid timestamp", "found '2024-13-01'"],
        ),
        (
            "start: 2024-01-01",
            "start: January 2024",
            "s.yaml:28:21: demand.calendar.start: ",
            ["expected a date as YYYY-MM-DD", "found 'January 2024'"],
        ),
        (
            "steps: [50, 51]}\n",
            "steps: [50, 51]}\n    - {id: xmas, effect: 1.1, steps: [3]}\n",
            "s.yaml:34:12: demand.events.xmas.id: ",
            ["unique id", "'xmas' again (first: line 33)"],
        ),
        (
            "steps: [50, 51]",
            "dates: [2025-01-06]",
            "s.yaml:33:39: demand.events.xmas.dates.0: ",
            ["within the horizon", "step 53"],
        ),
        (
            "steps: [50, 51]",
            "steps: [1], weights: [0, 1]",
            "s.yaml:33:52: demand.events.xmas.weights: ",
            ["either weights or steps"],
        ),
        (
            "  trend: 0.001\n",
            "  trend: 0.001\n  segments: [consumer]\n",
            "s.yaml:32:14: demand.segments.0: ",
            ["did you mean 'consumers'"],
        ),
        (
            "{id: xmas,",
            "{id: xmas, shape: 2,",
            "s.yaml:33:18: demand.events.xmas.shape: ",
            ["unknown key 'shape'"],
        ),
    ],
)
def test_a_bad_demand_section_is_located(old, new, where, words, tmp_path, monkeypatch):
    text = CONTRACT + SECTION
    assert text.count(old) == 1, old
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(text.replace(old, new))
    with pytest.raises(SystemExit) as done:
        main(["validate", "s.yaml"])
    assert done.value.code == 2
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text.replace(old, new), "s.yaml")
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(where) and all(w in p for w in words) for p in found), found


@pytest.mark.parametrize(
    ("override", "where", "words"),
    [
        (
            "demand.seasonality.monthly.12=2",
            "--set:1:28: demand.seasonality.monthly.12: ",
            ["below 12", "found '12'"],
        ),
        (
            "demand.events.3.effect=2",
            "--set:1:15: demand.events.3: ",
            ["'xmas', or an index below 1"],
        ),
        (
            "demand.events.xmass.effect=2",
            "--set:1:15: demand.events.xmass: ",
            ["did you mean 'xmas'"],
        ),
        (
            "demand.seasonality.monthly.0=-2",
            "--set:1:30: demand.seasonality.monthly.0: ",
            ["> 0", "found -2"],
        ),
    ],
)
def test_a_bad_set_path_into_the_section_is_located(override, where, words):
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(CONTRACT + SECTION, "s.yaml", overrides=[override])
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(where) and all(w in p for w in words) for p in found), found


def test_set_reaches_list_items_of_the_section():
    s = scenario_from_text(
        CONTRACT + SECTION,
        "s.yaml",
        overrides=[
            "demand.seasonality.monthly.11=2",
            "demand.events.0.effect=1.8",
            "demand.events.xmas.steps.1=49",
        ],
    )
    assert s.demand.seasonality.monthly[11] == 2.0
    assert s.demand.events[0].effect == 1.8 and s.demand.events[0].steps == [50, 49]
