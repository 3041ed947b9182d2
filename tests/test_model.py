"""MarketModel as a Mesa model, and the promotional mix's effects on the market."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from conftest import make_scenario

from marketsim.core.stages import AWARE, CUSTOMER, STAGES
from marketsim.drivers.simulation import simulate
from marketsim.engine.agents import Customer
from marketsim.engine.model import MATERIALIZE_UP_TO, MarketModel
from marketsim.scenario.schema import Scenario


def one_segment(size=4000, horizon=30, channels=(), **segment):
    return make_scenario(
        horizon=horizon,
        segments=[{"id": "people", "size": size, **segment}],
        products=[{"id": "widget", "price": 40.0, "unit_cost": 10.0, "repurchase_every": 8}],
        channels=list(channels),
    )


def test_model_steps_like_any_mesa_model(everything):
    model = MarketModel(everything)
    assert isinstance(model, mesa.Model)
    steps = 0
    while model.running:
        model.step()
        steps += 1
    assert steps == everything.horizon == model.steps
    assert len(model.ledger.rows) == everything.horizon


def test_small_populations_get_customer_agents_large_ones_do_not():
    small = MarketModel(one_segment(size=500))
    assert len(small.agents_by_type[Customer]) == 500
    large = MarketModel(one_segment(size=MATERIALIZE_UP_TO + 1))
    assert Customer not in large.agents_by_type
    view = large.customer(123)
    assert list(large.agents_by_type[Customer]) == [view]
    assert large.customer(123) is view
    with pytest.raises(IndexError, match="row=10001"):
        large.customer(MATERIALIZE_UP_TO + 1)


def test_customer_view_reads_and_writes_the_arrays(everything):
    model = MarketModel(everything)
    row = int(model.population.offsets[1]) + 3  # a person in the second segment
    person = model.customer(row)
    assert person.segment == "families"
    assert person.stage in STAGES
    person.stage = "customer"
    assert model.population.stage[row] == CUSTOMER
    assert all(model.population.segment[c] == 1 for c in person.contacts)
    with pytest.raises(ValueError, match="'buyer'"):
        person.stage = "buyer"


def test_no_channels_and_no_innovation_means_nothing_happens():
    model = MarketModel(one_segment(innovation=0.0))
    while model.running:
        model.step()
    frame = model.ledger.frame()
    assert frame["units"].sum() == 0
    assert (frame["stage_unaware"] == 4000).all()


def tv(budget, **extra):
    return {"id": "tv", "type": "advertising", "budget": budget, "cost_per_contact": 0.05, **extra}


def test_advertising_raises_awareness_with_diminishing_returns():
    aware = []
    for budget in (0, 3000, 6000, 12000):
        result = simulate(one_segment(channels=[tv(budget)]))
        last = result.timeseries.iloc[-1]
        aware.append(4000 - last["stage_unaware"])
    gains = np.diff(aware)
    assert (gains > 0).all()
    assert gains[2] / 2 < gains[1] < gains[0]  # each doubling adds less per currency unit


def test_schedule_puts_spend_where_it_says():
    schedule = [0.0] * 10 + [1.0] * 10 + [0.0] * 10
    result = simulate(one_segment(channels=[tv(3000, schedule=schedule)]))
    spend = result.timeseries["spend_tv"].to_numpy()
    np.testing.assert_allclose(spend[10:20], 300.0)
    assert spend[:10].sum() == 0 and spend[20:].sum() == 0
    early_aware = result.timeseries["stage_aware"].iloc[:10]
    assert early_aware.max() < result.timeseries["stage_aware"].iloc[19]


def test_inbound_turns_searchers_into_leads_only_with_budget():
    base = {"initial_awareness": 0.5, "interest": 0.05}
    search = {"id": "search", "type": "inbound", "budget": 5000, "cost_per_contact": 1.0}
    without = simulate(one_segment(**base)).timeseries
    with_inbound = simulate(one_segment(channels=[search], **base)).timeseries
    assert without["new_leads"].sum() == 0
    assert with_inbound["new_leads"].sum() > 50
    assert with_inbound["units"].sum() > without["units"].sum()


def test_promotion_lifts_units_in_window_and_dips_after():
    base = {"initial_awareness": 1.0, "interest": 0.05, "price_sensitivity": 2.0}
    promo = {
        "id": "sale",
        "type": "promotion",
        "start": 10,
        "end": 14,
        "discount": 0.3,
        "post_dip": 0.6,
        "dip_steps": 4,
    }
    plain = simulate(one_segment(**base), replicates=3).timeseries
    promoted = simulate(one_segment(channels=[promo], **base), replicates=3).timeseries
    by_step = lambda f: f.groupby("step")["units"].mean()  # noqa: E731
    lift = by_step(promoted) - by_step(plain)
    assert lift.loc[10:13].sum() > 0
    assert lift.loc[14:15].sum() < 0
    # Revenue in the window is booked at the discounted price.
    window = promoted[promoted.step.between(10, 13)]
    np.testing.assert_allclose(window["revenue"], window["units"] * 40.0 * 0.7)


def test_public_relations_builds_reputation_and_sales():
    pr = {"id": "pr", "type": "public_relations", "budget": 300000, "cost_scale": 100000}
    base = {"initial_awareness": 0.6}
    model = MarketModel(one_segment(channels=[pr], **base))
    while model.running:
        model.step()
    assert model.market.reputation[0] > 0.8
    plain = simulate(one_segment(**base), replicates=2).summary.metrics["units"].mean
    built = simulate(one_segment(channels=[pr], **base), replicates=2)
    assert built.summary.metrics["units"].mean > plain


def test_publicity_bursts_reach_people():
    press = {
        "id": "press",
        "type": "publicity",
        "budget": 60000,
        "cost_per_burst": 1000,
        "reach": 0.5,
    }
    result = simulate(one_segment(channels=[press], innovation=0.0))
    assert result.timeseries["stage_unaware"].iloc[-1] < 4000 * 0.8
    quiet = simulate(one_segment(channels=[{**press, "budget": 0}], innovation=0.0))
    assert quiet.timeseries["stage_unaware"].iloc[-1] == 4000


def test_churn_lets_customers_lapse():
    base = {"initial_awareness": 1.0, "interest": 0.2, "purchase": 0.5, "potential": 1.0}
    loyal = simulate(one_segment(**base)).timeseries["customers"].iloc[-1]
    fickle = simulate(one_segment(churn=0.2, **base)).timeseries["customers"].iloc[-1]
    assert fickle < loyal * 0.7


def subscribers(churn: float, billing_period: int = 4) -> Scenario:
    """20,000 people who all subscribe at step 0 and always renew: only churn ends it."""
    app = {"id": "app", "price": 10.0, "unit_cost": 2.0, "purchase": "subscription"}
    return make_scenario(
        horizon=2 * billing_period + 1,
        products=[app | {"billing_period": billing_period, "renewal": 1.0}],
        channels=[],
        segments=[
            {
                "id": "people",
                "size": 20000,
                "initial_awareness": 1.0,
                "interest": 1.0,
                "purchase": 1.0,
                "potential": 1.0,
                "churn": churn,
            }
        ],
    )


@pytest.mark.parametrize(("churn", "period"), [(0.05, 4), (0.02, 13)])
def test_subscribers_churn_at_each_bill_with_the_churn_of_the_period(churn, period):
    ts = simulate(subscribers(churn, period)).timeseries.set_index("step")
    assert ts.at[0, "new_customers"] == 20000
    # Nobody leaves mid-period (they have paid for it); at the bill, the period's churn.
    assert ts.loc[1 : period - 1, "lapsed"].sum() == 0
    lost = ts.at[period, "lapsed"] / ts.at[period - 1, "customers"]
    assert lost == pytest.approx(1 - (1 - churn) ** period, abs=0.01)
    assert ts.at[period, "units"] == ts.at[period, "customers"]  # those who left are not billed
    loyal = simulate(subscribers(0.0, period)).timeseries
    assert loyal["lapsed"].sum() == 0 and (loyal["customers"] == 20000).all()


def test_zero_budget_channel_changes_nothing_common_random_numbers():
    plain = simulate(one_segment(initial_awareness=0.3), replicates=2).timeseries
    idle = simulate(one_segment(channels=[tv(0)], initial_awareness=0.3), replicates=2)
    columns = ["revenue", "units", *[f"stage_{s}" for s in STAGES]]
    np.testing.assert_array_equal(plain[columns], idle.timeseries[columns])


def test_initial_awareness_sets_the_starting_funnel():
    model = MarketModel(one_segment(initial_awareness=0.25))
    share = (model.population.stage == AWARE).mean()
    assert 0.22 < share < 0.28
