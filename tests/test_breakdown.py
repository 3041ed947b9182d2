"""A replicate's breakdown agrees with its timeseries: the same money, the same customers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CONTRACT, make_scenario

from marketsim.core.stages import CUSTOMER
from marketsim.drivers.simulation import simulate
from marketsim.plugins.prepare import load_scenario


@pytest.fixture(scope="module", params=["everything", "minimal-b2b"])
def result(request):
    if request.param == "everything":
        scenario = make_scenario()
    else:
        path = next(p for p in CONTRACT if p.stem == "minimal-b2b")
        scenario = load_scenario(path, ["segments.midmarket.size=300", "horizon=30"])
    return simulate(scenario, seed=2, replicates=2)


def test_segment_profits_add_up_to_the_profit(result):
    for metrics, parts in zip(result.metrics(), result.breakdowns, strict=True):
        assert parts.profit.sum() == pytest.approx(metrics.profit, rel=1e-9, abs=1e-6)
        assert parts.revenue.sum() == pytest.approx(metrics.revenue, rel=1e-9, abs=1e-6)
        assert parts.spend.sum() == pytest.approx(metrics.sums["marketing_spend"])


def test_customers_held_are_the_last_steps_customers_per_kind(result):
    kinds = np.array([s.kind == "b2c" for s in result.scenario.segments])
    last = result.timeseries.groupby("replicate").tail(1)
    for parts, (_, row) in zip(result.breakdowns, last.iterrows(), strict=True):
        assert parts.customers[kinds].sum() == row["customers_consumers"]
        assert parts.customers[~kinds].sum() == row["customers_accounts"]
        assert parts.stages.sum() == result.scenario.people
        assert parts.stages[:, CUSTOMER].sum() == row["stage_customer"]


def test_the_summary_reports_segments_and_the_funnel_per_kind(result):
    summary = result.summary
    for seg in result.scenario.segments:
        entry = summary.by_segment[seg.id]
        assert entry.customers is not None and entry.customer_equity is not None
    funnel = summary.funnel
    assert funnel is not None
    assert list(funnel) == summary.customer_types
    if "consumers" in funnel:  # consumers never qualify or sit in an opportunity
        assert "qualified" not in funnel["consumers"]
        assert "opportunity" not in funnel["consumers"]
    if "accounts" in funnel:
        assert "opportunity" in funnel["accounts"]


def test_contracts_that_renew_carry_equity_and_one_off_deals_do_not():
    path = next(p for p in CONTRACT if p.stem == "minimal-b2b")
    base = ["segments.midmarket.size=300", "horizon=30"]
    renewing = simulate(load_scenario(path, base), seed=2, replicates=1)
    one_off = simulate(
        load_scenario(path, [*base, "segments.midmarket.contract_length=0"]), seed=2, replicates=1
    )
    assert renewing.breakdowns[0].customers.sum() > 0
    assert renewing.metrics()[0].customer_equity > 0
    assert one_off.metrics()[0].customer_equity == 0


def test_a_represented_market_is_broken_down_in_real_people():
    """8x the market with 8x the budgets is the small one's breakdown times 8."""
    import copy

    from conftest import EVERYTHING

    from marketsim.scenario.schema import Scenario

    money = {"budget", "cost_scale", "cost_per_burst"}
    data = copy.deepcopy(EVERYTHING)
    for segment in data["segments"]:
        segment["represents"] = segment["size"] * 8
    data["channels"] = [
        {k: v * 8 if k in money else v for k, v in c.items()} for c in data["channels"]
    ]
    small = simulate(Scenario.model_validate(EVERYTHING), replicates=1).breakdowns[0]
    big = simulate(Scenario.model_validate(data), replicates=1).breakdowns[0]
    assert small.customers.sum() > 0 and small.equity.sum() > 0
    for field in ("stages", "customers", "equity", "revenue", "profit"):
        np.testing.assert_allclose(getattr(big, field), getattr(small, field) * 8, rtol=1e-9)
