"""What a sales leader would check: capacity, bottlenecks, commissions and the books."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from marketsim.core.stages import CUSTOMER, LEAD
from marketsim.drivers.simulation import simulate
from marketsim.engine.model import MarketModel
from marketsim.engine.sales.pipeline import call_queue
from marketsim.kernels.sales import WITH_MARKETING
from marketsim.scenario.schema import Scenario

B2B: dict[str, Any] = {
    "name": "b2b-test",
    "horizon": 26,
    "seed": 4,
    "products": [{"id": "suite", "price": 10000.0, "unit_cost": 1500.0}],
    "segments": [
        {
            "id": "firms",
            "kind": "b2b",
            "size": 1500,
            "buying_center": 4,
            "initial_awareness": 0.3,
            "interest": 0.02,
        }
    ],
    "channels": [
        {
            "id": "webinars",
            "type": "inbound",
            "budget": 40000,
            "cost_per_contact": 2.0,
            "conversion": 0.2,
        },
        {"id": "ads", "type": "advertising", "budget": 30000, "cost_per_contact": 0.5},
    ],
    "sales": {
        "inside": {"count": 3, "calls_per_step": 30, "cost_per_step": 1000},
        "outside": {"count": 2, "meetings_per_step": 3, "cost_per_step": 2500, "commission": 0.05},
    },
}


def b2b(replicates: int = 1, **changes: Any) -> Any:
    """Simulate the test market with nested changes: b2b(sales={"outside": {"count": 4}})."""
    data = copy.deepcopy(B2B)
    _merge(data, changes)
    return simulate(Scenario.model_validate(data), replicates=replicates)


def _merge(into: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def total(result, column: str) -> float:
    return float(result.timeseries[column].sum()) / result.replicates


def test_more_outside_reps_close_more_deals_until_another_stage_binds():
    deals = [
        total(b2b(replicates=2, sales={"outside": {"count": n}}), "deals_won")
        for n in (1, 2, 4, 16, 32)
    ]
    assert deals[0] < deals[1] < deals[2]
    # With plenty of field capacity, inside sales (appointments) is the bottleneck.
    assert deals[4] < deals[3] * 1.15
    assert deals[3] - deals[2] < deals[2] - deals[0]


def test_zero_sales_capacity_means_no_b2b_deals():
    result = b2b(sales={"inside": {"count": 0}, "outside": {"count": 0}})
    assert total(result, "deals_won") == 0
    assert total(result, "revenue") == 0
    assert total(result, "meetings") == 0
    no_meetings = b2b(sales={"outside": {"count": 0}})
    assert total(no_meetings, "appointments") > 0
    assert total(no_meetings, "deals_won") == 0


def test_money_balances_in_every_row():
    result = b2b(
        replicates=2,
        brokers=[{"id": "resellers", "represents": "seller", "count": 3, "commission": 0.1}],
    )
    ts = result.timeseries
    np.testing.assert_allclose(
        ts["profit"], ts["revenue"] - ts["cost_of_goods"] - ts["spend"] - ts["commissions"]
    )
    np.testing.assert_allclose(ts["spend"], ts["marketing_spend"] + ts["sales_cost"])
    team = 3 * 1000 + 2 * 2500
    np.testing.assert_allclose(ts["sales_cost"], team)


def test_commissions_are_paid_exactly_on_what_was_sold():
    result = b2b(
        replicates=2,
        brokers=[{"id": "resellers", "represents": "seller", "count": 3, "commission": 0.1}],
    )
    agents = result.agents
    resellers = agents[agents.role == "seller"]
    assert resellers["deals"].sum() > 0
    np.testing.assert_allclose(resellers["commission"], 0.1 * resellers["revenue"])
    reps = agents[agents.role == "outside"]
    np.testing.assert_allclose(reps["commission"], 0.05 * reps["revenue"])
    paid = agents.groupby("replicate")["commission"].sum().to_numpy()
    booked = result.timeseries.groupby("replicate")["commissions"].sum().to_numpy()
    np.testing.assert_allclose(paid, booked)


def test_misaligned_marketing_and_sales_lose_revenue():
    field = {"count": 6}  # enough field capacity that the lead flow is what limits sales
    aligned = b2b(replicates=2, sales={"outside": field})
    routing = {"score_threshold": 0.5, "handoff_delay": 4, "handoff_loss": 0.3}
    misaligned = b2b(replicates=2, sales={"outside": field, "routing": routing})
    assert total(misaligned, "revenue") < 0.6 * total(aligned, "revenue")
    assert total(misaligned, "leads_lost") > 0
    # Where field capacity binds, the same misalignment costs far less: the system's
    # bottleneck decides which improvement pays.
    tight = b2b(replicates=2)
    tight_misaligned = b2b(replicates=2, sales={"routing": routing})
    ample_loss = 1 - total(misaligned, "revenue") / total(aligned, "revenue")
    tight_loss = 1 - total(tight_misaligned, "revenue") / total(tight, "revenue")
    assert tight_loss < 0.5 * ample_loss


def test_leads_go_cold_when_inside_sales_cannot_keep_up():
    swamped = b2b(sales={"inside": {"count": 1, "calls_per_step": 2}})
    assert total(swamped, "leads_cold") > 0
    staffed = b2b(sales={"inside": {"count": 6, "calls_per_step": 40}})
    assert total(staffed, "leads_cold") < total(swamped, "leads_cold")


def test_oversight_cuts_mis_selling_refunds():
    def resellers(oversight: float):
        broker = {
            "id": "resellers",
            "represents": "seller",
            "count": 5,
            "clients_per_step": 20,
            "close_rate": 0.2,
            "commission": 0.1,
            "oversell": 0.5,
            "oversight_budget": oversight,
            "oversight_scale": 500.0,
        }
        return b2b(replicates=2, brokers=[broker])

    loose, supervised = resellers(0.0), resellers(26 * 2000.0)
    assert total(loose, "refunds") > 0
    assert total(supervised, "refunds") < 0.2 * total(loose, "refunds")
    model = MarketModel(
        Scenario.model_validate(
            {
                **B2B,
                "brokers": [
                    {
                        "id": "r",
                        "represents": "seller",
                        "count": 5,
                        "clients_per_step": 20,
                        "close_rate": 0.2,
                        "oversell": 0.5,
                    }
                ],
            }
        )
    )
    while model.running:
        model.step()
    assert model.population.detractor.sum() > 0


def test_buyers_brokers_negotiate_the_price_down():
    broker = {
        "id": "advisers",
        "represents": "buyer",
        "count": 4,
        "clients_per_step": 10,
        "close_rate": 0.2,
        "negotiation": 0.1,
        "commission": 0.03,
    }
    result = b2b(sales={"inside": {"count": 0}, "outside": {"count": 0}}, brokers=[broker])
    agents = result.agents
    assert agents["deals"].sum() > 0
    per_deal = agents["revenue"].sum() / agents["deals"].sum()
    assert per_deal == pytest.approx(10000.0 * 0.9)
    # The buyer pays the broker: the company pays no commission on these deals.
    assert total(result, "commissions") == 0


def test_a_sales_channel_can_open_mid_horizon():
    broker = {"id": "resellers", "represents": "seller", "count": 3, "start": 12, "close_rate": 0.2}
    result = b2b(sales={"inside": {"count": 0}, "outside": {"count": 0}}, brokers=[broker])
    ts = result.timeseries
    assert ts.loc[ts.step < 12, "broker_sales"].sum() == 0
    assert ts.loc[ts.step >= 12, "broker_sales"].sum() > 0
    assert ts["deals_won"].sum() == 0  # deals won counts the sales team's decisions only


def test_contracts_renew_or_churn():
    result = b2b(
        replicates=2, segments=[{**B2B["segments"][0], "contract_length": 6, "renewal": 0.5}]
    )
    assert total(result, "renewals") > 0
    assert total(result, "contracts_churned") > 0


def test_a_product_launch_cannibalises_the_incumbent():
    consumers = {
        "id": "shoppers",
        "size": 5000,
        "initial_awareness": 0.6,
        "interest": 0.05,
        "substitution": 0.3,
    }
    base = {
        "name": "launch",
        "horizon": 30,
        "products": [{"id": "classic", "price": 20.0, "repurchase_every": 4}],
        "segments": [consumers],
    }
    alone = simulate(Scenario.model_validate(base), replicates=2)
    launch = {
        **base,
        "products": [
            *base["products"],
            {"id": "plus", "price": 22.0, "repurchase_every": 4, "launch_step": 10},
        ],
    }
    both = simulate(Scenario.model_validate(launch), replicates=2)
    classic_alone = alone.summary.by_product["classic"].units.mean
    classic_both = both.summary.by_product["classic"].units.mean
    plus = both.summary.by_product["plus"].units.mean
    assert plus > 0
    assert classic_both < classic_alone  # the new product takes share...
    total_alone = alone.summary.metrics["units"].mean
    total_both = both.summary.metrics["units"].mean
    assert total_alone < total_both < total_alone + plus  # ...and adds less than it sells
    model = MarketModel(Scenario.model_validate(launch))
    for _ in range(10):
        model.step()
    assert model.ledger.product_units[1] == 0


def test_won_accounts_make_their_whole_buying_centre_customers():
    model = MarketModel(Scenario.model_validate(B2B))
    while model.running:
        model.step()
    acc = model.sales.accounts
    won = np.flatnonzero(acc.stage == CUSTOMER)
    assert len(won) > 0
    for a in won[:20]:
        members = model.population.stage[acc.first[a] : acc.first[a] + acc.size[a]]
        assert (members == CUSTOMER).all()
    counts = np.bincount(model.population.stage, minlength=7)
    last = model.ledger.rows[-1]
    assert last["stage_customer"] == counts[CUSTOMER]
    assert last["stage_opportunity"] == counts[5]


def test_a_refund_cooldown_stops_brokers_not_the_customer():
    def cooled(purchase: float) -> tuple[int, int]:
        """(refunded people in their cooldown, how many of them became customers again)."""
        agents = {
            "id": "agents",
            "represents": "seller",
            "count": 5,
            "clients_per_step": 60,
            "close_rate": 0.3,
            "oversell": 0.8,
            "refund_after": 2,
            "cooldown": 30,
        }
        consumers = {"id": "people", "size": 3000, "initial_awareness": 1.0, "potential": 1.0}
        model = MarketModel(
            Scenario.model_validate(
                {
                    "name": "cooldown",
                    "horizon": 30,
                    "products": [{"id": "policy", "price": 500.0}],
                    "segments": [consumers | {"interest": 0.2, "purchase": purchase}],
                    "brokers": [agents],
                }
            )
        )
        cooling, bought = set(), set()
        while model.running:
            t = model.steps
            cooling |= set(np.flatnonzero(model.sales.blocked_until > t).tolist())
            model.step()
            bought |= {i for i in cooling if model.population.stage[i] == CUSTOMER}
        return len(cooling), len(bought)

    # Nobody buys on their own: no broker sells to a refunded customer again.
    refunded, resold = cooled(purchase=0.0)
    assert refunded > 50 and resold == 0
    # They may still buy on their own.
    refunded, rebought = cooled(purchase=0.3)
    assert refunded > 50 and rebought > 0


def test_opportunities_that_stall_past_max_cycle_are_decided_deals_lost_to_no_decision():
    # Reps who never win anyone over send no proposal: every opportunity times out.
    result = b2b(sales={"outside": {"skill": 0.0, "max_cycle": 4}})
    ts = result.timeseries
    assert ts["proposals"].sum() == ts["deals_won"].sum() == 0
    assert ts["deals_lost_no_decision"].sum() > 0 and ts["deals_lost_competitor"].sum() == 0
    # They are in the win rate's denominator: 0 won of those decided, not undefined.
    assert result.summary.metrics["win_rate"].mean == 0


def test_inside_sales_calls_the_newest_leads_first():
    acc = MarketModel(Scenario.model_validate(B2B)).sales.accounts
    acc.stage[:] = WITH_MARKETING
    leads = np.array([10, 2, 7, 4, 1])
    acc.stage[leads] = LEAD
    acc.ready[leads] = [3, 5, 5, 1, 9]  # the step each reached sales; 1 is not there yet
    # Speed to lead: the freshest (warmest) first, ties by account index.
    assert call_queue(acc, 6).tolist() == [2, 7, 10, 4]
