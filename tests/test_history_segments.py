"""Per-segment series: kept by the ledger, read from a history, matched by a calibration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from marketsim.core.errors import ScenarioError
from marketsim.drivers.calibrate import calibrate
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario, scenario_from_text
from marketsim.report.calibration import series_label
from marketsim.scenario.calibration import PER_SEGMENT, SEGMENT_SERIES
from marketsim.scenario.history import parse_history

ROOT = Path(__file__).resolve().parent.parent


def errors(call) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        call()
    return [str(p) for p in caught.value.problems]


# --------------------------------------------------------------------------- the ledger

SHRUNK = {
    "b2c_launch": [
        "segments.urban_young.size=2000",
        "segments.families.size=2000",
        "segments.seniors.size=1000",
    ],
    "b2b_saas": ["segments.midmarket.size=400", "segments.enterprise.size=60"],
    "broker_market": ["segments.homeowners.size=3000", "segments.landlords.size=800"],
}
BUSY = {  # series each scenario must book in more than one segment, so the sums mean something
    "b2c_launch": ("revenue", "units", "new_customers", "customers", "visits", "lapsed"),
    "b2b_saas": ("revenue", "leads", "meetings", "proposals", "deals_won", "renewals"),
    "broker_market": ("revenue", "new_customers", "broker_sales", "lapsed"),
}


@pytest.mark.parametrize("name", sorted(SHRUNK))
def test_per_segment_outcomes_sum_to_the_market_totals_at_every_step(name):
    model = MarketModel(load_scenario(ROOT / "scenarios" / f"{name}.yaml", SHRUNK[name]))
    while model.running:
        model.step()
    ledger = model.ledger
    assert len(ledger.segment_rows) == len(ledger.rows)
    for series in PER_SEGMENT:
        by_segment = np.array([ledger.series(f"{series}.{s}") for s in ledger.segment_ids])
        assert by_segment.sum(axis=0) == pytest.approx(ledger.series(series)), series
    for series in BUSY[name]:
        totals = [sum(ledger.series(f"{series}.{s}")) for s in ledger.segment_ids]
        assert sum(t > 0 for t in totals) >= 2, (series, totals)
    kinds = {s.id: s.kind for s in model.scenario.segments}
    for segment, kind in kinds.items():
        for series in set(PER_SEGMENT) - set(SEGMENT_SERIES[kind]):
            assert not any(ledger.series(f"{series}.{segment}")), (series, segment)


# --------------------------------------------------------------------------- the history

TWO = """name: two
horizon: 12
seed: 3
products: [{id: box, price: 10.0}]
segments:
  - {id: young, size: 300}
  - {id: firms, kind: b2b, size: 40}
channels:
  - {id: tv, type: advertising, budget: 1200, cost_per_contact: 0.05}
"""

GOOD = """step,spend_tv,revenue,new_customers.young,deals_won.firms
0,100,0,0,0
1,100,10,1,
2,100,20,2,1
"""


def test_a_history_reads_per_segment_columns():
    history = parse_history(GOOD, "h.csv", scenario_from_text(TWO, "s.yaml"))
    assert list(history.observed) == ["revenue", "new_customers.young", "deals_won.firms"]
    assert history.observed["new_customers.young"].tolist() == [0, 1, 2]
    assert math.isnan(history.observed["deals_won.firms"][1])


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("new_customers.yung", "no segment 'yung' in 'new_customers.yung', did you mean 'young'"),
        ("new_customers.shops", "expected one of 'young', 'firms'"),
        ("new_customer.young", "unknown per-segment series 'new_customer', did you mean"),
        ("customers_consumers.young", "a total of the market only, not kept per segment"),
        ("deals_won.young", "segment 'young' is b2c, and a b2c segment has no deals_won"),
        ("lapsed.firms", "segment 'firms' is b2b, and a b2b segment has no lapsed"),
    ],
)
def test_a_bad_per_segment_column_is_located(column, words):
    text = GOOD.replace("new_customers.young", column)
    found = errors(lambda: parse_history(text, "h.csv", scenario_from_text(TWO, "s.yaml")))
    assert any(p.startswith(f"h.csv:1:23: {column}: ") and words in p for p in found), found


def test_a_matched_per_segment_series_must_be_a_column():
    s = scenario_from_text(TWO, "s.yaml")
    found = errors(lambda: parse_history(GOOD, "h.csv", s, ["revenue.young"]))
    assert any("missing column 'revenue.young'" in p for p in found), found


SECTION = """calibrate:
  parameters:
    - {path: segments.young.purchase, low: 0.01, high: 0.3}
  match: {revenue: 1, new_customers.young: 2}
"""


def test_match_takes_per_segment_series():
    spec = scenario_from_text(TWO + SECTION, "s.yaml").calibrate
    assert spec.match == {"revenue": 1.0, "new_customers.young": 2.0}


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("new_customers.yung", "no segment 'yung' in 'new_customers.yung', did you mean 'young'"),
        ("deals_won.young", "segment 'young' is b2c, and a b2c segment has no deals_won"),
        ("new_customer.young", "unknown per-segment series 'new_customer', did you mean"),
        ("profit.young", "expected one of 'revenue', 'units'"),
        ("customers_accounts.firms", "a total of the market only"),
        ("revenu", "unknown series 'revenu', did you mean 'revenue'"),
    ],
)
def test_a_bad_match_key_is_located(key, words):
    text = TWO + SECTION.replace("new_customers.young", key)
    found = errors(lambda: scenario_from_text(text, "s.yaml"))
    assert any(p.startswith("s.yaml:13:23: ") and words in p for p in found), found


def test_a_per_segment_series_has_a_readable_title():
    assert series_label("new_customers.urban_young") == "new customers, segment urban_young"
    assert series_label("deals_won") == "deals won"


# --------------------------------------------------------------------------- the fit

SEGMENT = """  - id: {id}
    size: 4000
    potential: 0.6
    initial_awareness: 0.5
    interest: 0.05
    purchase: {purchase}
    churn: 0.02
"""
TRUTH = {"segments.young.purchase": 0.03, "segments.old.purchase": 0.15}
FIT = """calibrate:
  parameters:
    - {{path: segments.young.purchase, low: 0.01, high: 0.4, log: true}}
    - {{path: segments.old.purchase, low: 0.01, high: 0.4, log: true}}
  match: {match}
  trials: 40
  replicates: 2
  band_replicates: 4
"""


def market(young: float, old: float, calibrate: str = ""):
    """Two consumer segments alike but for how readily the interested buy."""
    text = f"""name: two-segments
horizon: 30
seed: 7
products: [{{id: box, price: 10.0, repurchase_every: 4}}]
segments:
{SEGMENT.format(id="young", purchase=young)}{SEGMENT.format(id="old", purchase=old)}
channels:
  - {{id: tv, type: advertising, budget: 6000, cost_per_contact: 0.05}}
"""
    return scenario_from_text(text + calibrate, "s.yaml")


@pytest.fixture(scope="module")
def history_text() -> str:
    """The true market's new customers, in total and per segment, on another seed."""
    model = MarketModel(market(*TRUTH.values()), seed=99, materialize_customers=False)
    while model.running:
        model.step()
    columns = ["spend_tv", "new_customers", "new_customers.young", "new_customers.old"]
    series = [model.ledger.series(c) for c in columns]
    rows = [",".join(map(str, [t, *(s[t] for s in series)])) for t in range(30)]
    return "\n".join(["step," + ",".join(columns), *rows]) + "\n"


def fitted(history_text: str, match: str):
    s = market(0.08, 0.08, FIT.format(match=match))
    history = parse_history(history_text, "h.csv", s, list(s.calibrate.match))
    return calibrate(s, history).record


def test_per_segment_series_recover_each_segments_value_where_totals_cannot(history_text):
    apart = fitted(history_text, "{new_customers.young: 1, new_customers.old: 1}")
    together = fitted(history_text, "{new_customers: 1}")
    by_path = {p.path: p for p in apart.parameters}
    for path, truth in TRUTH.items():
        assert by_path[path].low90 <= truth <= by_path[path].high90, by_path[path]
        assert by_path[path].identified
    young, old = (by_path[p].estimate for p in TRUTH)
    assert young < old
    assert set(apart.fit) == {"new_customers.young", "new_customers.old"}

    def width(p) -> float:
        return math.log(p.high90 / p.low90)

    pooled = {p.path: p for p in together.parameters}
    for path in TRUTH:
        assert width(pooled[path]) > width(by_path[path]), (pooled[path], by_path[path])
    assert together.not_identified or any(c.r < -0.8 for c in together.correlations)
