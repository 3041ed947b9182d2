"""Why B beats A: a significant difference taken apart adds up, and names its bottleneck."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from marketsim import load_scenario
from marketsim.drivers.compare import Strategy, compare
from marketsim.drivers.decompose import bottlenecks
from marketsim.drivers.records import Decomposition, Part

ROOT = Path(__file__).resolve().parent.parent
B2C = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
B2B = ROOT / "tests" / "contract" / "minimal-b2b.yaml"
FAST = [
    "segments.consumers.size=1000",
    "horizon=8",
    "segments.consumers.initial_awareness=0.8",
    "segments.consumers.purchase=0.2",
    "segments.consumers.interest=0.5",
]


def _sum(parts: list[Part]) -> float:
    return sum(p.difference.mean or 0.0 for p in parts)


def _one(record, metric: str) -> Decomposition:
    found = [d for d in record.decompositions if d.metric == metric]
    assert len(found) == 1, [d.metric for d in record.decompositions]
    return found[0]


@pytest.fixture(scope="module")
def b2c_record():
    base = load_scenario(B2C, FAST)
    more = load_scenario(B2C, [*FAST, "segments.consumers.purchase=0.4"])
    strategies = [Strategy("a", "a.yaml", base), Strategy("b", "b.yaml", more)]
    return compare(strategies, seed=5, replicates=6).record


def test_only_significant_revenue_and_profit_differences_are_decomposed(b2c_record):
    for d in b2c_record.decompositions:
        assert d.metric in ("revenue", "profit")
        assert b2c_record.difference(d.strategy, d.metric).significant


def test_profit_components_segments_and_types_add_up_to_the_difference(b2c_record):
    d = _one(b2c_record, "profit")
    total = d.total.mean
    assert total and total > 0
    assert _sum(d.components) == pytest.approx(total, rel=1e-9)
    assert _sum(d.by_segment) == pytest.approx(total, rel=1e-9)
    assert _sum(d.by_type) == pytest.approx(total, rel=1e-9)
    assert sum(p.share for p in d.components) == pytest.approx(1.0)


def test_last_touch_channels_with_word_of_mouth_and_organic_add_up_to_revenue(b2c_record):
    d = _one(b2c_record, "revenue")
    assert d.channel_basis == "last_touch"
    assert _sum(d.by_channel) == pytest.approx(d.total.mean, rel=1e-9)
    assert {p.label for p in d.by_channel} >= {"word of mouth", "organic"}


def test_the_consumer_funnel_has_no_b2b_stages_and_shares_sum_to_one(b2c_record):
    d = _one(b2c_record, "revenue")
    stages = [s.stage for s in d.funnel["consumers"]]
    assert stages == ["market", "aware", "interested", "customer"]
    assert "accounts" not in d.funnel
    shares = [s.share for s in d.funnel["consumers"] if s.share is not None]
    assert sum(shares) == pytest.approx(1.0)
    # A higher purchase chance moves the last conversion, not awareness.
    top = max(d.funnel["consumers"][1:], key=lambda s: abs(s.share or 0))
    assert top.stage == "customer"
    assert any("interested to customer" in s for s in bottlenecks(d, "a"))


def test_with_contribution_channels_are_taken_apart_on_their_increments():
    base = load_scenario(B2C, FAST)
    more = load_scenario(B2C, [*FAST, "segments.consumers.purchase=0.4"])
    strategies = [Strategy("a", "a.yaml", base), Strategy("b", "b.yaml", more)]
    comparison = compare(strategies, seed=5, replicates=6, contribution=True)
    d = _one(comparison.record, "revenue")
    assert d.channel_basis == "incremental"
    tv = next(p for p in d.by_channel if p.key == "tv")
    inc = [r.summary.by_channel["tv"].incremental_revenue.mean for r in comparison.results]
    assert tv.difference.mean == pytest.approx(inc[1] - inc[0])


def test_an_outside_team_at_capacity_is_named_the_bottleneck():
    few = load_scenario(B2B, ["sales.outside.count=1", "sales.outside.meetings_per_step=1"])
    many = load_scenario(B2B, ["sales.outside.count=6", "sales.outside.meetings_per_step=8"])
    strategies = [Strategy("few", "a.yaml", few), Strategy("many", "b.yaml", many)]
    record = compare(strategies, seed=3, replicates=8).record
    d = _one(record, "revenue")
    outside = next(c for c in d.capacity if c.team == "outside")
    assert outside.at_capacity_baseline and not outside.at_capacity_other
    sentences = bottlenecks(d, "few")
    assert any(s.startswith("outside reps worked at") and "held few back" in s for s in sentences)
    assert d.pipeline and d.pipeline[-1].stage == "deals won"
    assert np.isfinite(d.pipeline[-1].reached.mean)
