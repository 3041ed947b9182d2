"""Customer equity: the valuation against hand calculations and against the market itself.

The formulas are checked on hand-made holdings; then a market whose acquisition stops
at the horizon is run on past it, and the margin its customers actually bring over the
next steps must match the equity valued at the horizon (discount 0) within sampling error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from marketsim.drivers.equity import (
    Holdings,
    can_have_equity,
    discount_factors,
    equity_by_segment,
)
from marketsim.drivers.simulation import simulate
from marketsim.scenario.schema import Scenario


def market(product: dict, *, horizon: int = 20, segment: dict | None = None, **extra) -> Scenario:
    data = {
        "name": "equity",
        "horizon": horizon,
        "products": [{"id": "p", "price": 10.0, "unit_cost": 4.0, **product}],
        "segments": [{"id": "s", "size": 1000, **(segment or {})}],
        **extra,
    }
    return Scenario.model_validate(data)


def consumers(ages: list[int], segment: int = 0, product: int = 0) -> Holdings:
    n = len(ages)
    empty = np.zeros(0, dtype=np.int64)
    return Holdings(
        consumer_segment=np.full(n, segment),
        consumer_product=np.full(n, product),
        consumer_age=np.array(ages),
        account_segment=empty,
        account_product=empty,
        account_value=np.zeros(0),
        account_renewal=empty,
    )


def test_discount_factors_follow_the_annual_rate_over_the_years():
    scenario = market({}, equity={"discount_rate": 0.1, "years": 2}, step="month")
    disc = discount_factors(scenario)
    assert disc.size == 24
    assert disc[11] == pytest.approx(1 / 1.1)
    assert disc[23] == pytest.approx(1 / 1.21)
    assert np.all(np.diff(disc) < 0)


def test_one_off_products_hold_no_equity():
    scenario = market({})
    assert not can_have_equity(scenario)
    assert equity_by_segment(scenario, consumers([3, 5])).tolist() == [0.0]


def test_a_memoryless_repeat_customer_is_worth_its_geometric_series():
    churn, every = 0.05, 4.0
    scenario = market(
        {"repurchase_every": every, "repurchase_shape": 1.0},
        segment={"churn": churn},
        equity={"discount_rate": 0.08, "years": 1},
    )
    assert can_have_equity(scenario)
    disc = discount_factors(scenario)
    q = 1 - math.exp(-1 / every)  # shape 1: the same chance every step, at the list price
    k = np.arange(1, disc.size + 1)
    each = 6.0 * q * float(((1 - churn) ** k * disc).sum())
    assert equity_by_segment(scenario, consumers([0, 7, 30])).tolist() == pytest.approx([3 * each])


def test_a_repeat_customer_who_just_bought_is_worth_less_than_one_who_is_due():
    scenario = market({"repurchase_every": 6.0, "repurchase_shape": 3.0}, equity={"years": 0.2})
    fresh = equity_by_segment(scenario, consumers([0]))[0]
    due = equity_by_segment(scenario, consumers([9]))[0]
    assert 0 < fresh < due


def test_a_subscriber_pays_each_bill_it_survives_to():
    # Billed every 2 steps, renewing (chance 0.5) every 4; no discount over 8 steps.
    scenario = market(
        {"purchase": "subscription", "billing_period": 2, "term": 4, "renewal": 0.5},
        equity={"discount_rate": 0.0, "years": 8 / 52},
    )
    # Age 1: bills at ages 2 (sure), 4 (after a renewal: 0.5), 6 (0.5), 8 (0.25).
    assert equity_by_segment(scenario, consumers([1])).tolist() == pytest.approx(
        [6.0 * (1 + 0.5 + 0.5 + 0.25)]
    )


def test_an_account_renews_its_contract_at_its_value_less_the_cost_of_goods():
    scenario = Scenario.model_validate(
        {
            "name": "contracts",
            "horizon": 10,
            "products": [{"id": "p", "price": 100.0, "unit_cost": 30.0}],
            "segments": [
                {"id": "b", "kind": "b2b", "size": 10, "contract_length": 5, "renewal": 0.6}
            ],
            "equity": {"discount_rate": 0.0, "years": 12 / 52},
        }
    )
    assert can_have_equity(scenario)
    held = Holdings(
        consumer_segment=np.zeros(0, dtype=np.int64),
        consumer_product=np.zeros(0, dtype=np.int64),
        consumer_age=np.zeros(0, dtype=np.int64),
        account_segment=np.array([0, 0]),
        account_product=np.array([0, 0]),
        account_value=np.array([100.0, 90.0]),
        account_renewal=np.array([2, 0]),  # the second was a one-off deal
    )
    # Renewals 2, 7 and 12 steps on, each needing the ones before: 0.6, 0.36, 0.216.
    assert equity_by_segment(scenario, held).tolist() == pytest.approx([70 * (0.6 + 0.36 + 0.216)])


# --------------------------------------------------------------------------- the market


def closing(product: dict, horizon: int, extra: int, **segment) -> tuple[Scenario, Scenario]:
    """A market won by advertising until `horizon`, then closed to new customers.

    Nobody becomes interested on their own, nobody talks, ad memory does not last, and
    the interested buy at once: after the ads stop, only the customers held can bring
    revenue. Returns the scenario to `horizon` and the same market run `extra` steps on.
    """
    base = {
        "name": "closing",
        "products": [{"id": "p", "price": 10.0, "unit_cost": 4.0, **product}],
        "segments": [
            {
                "id": "s",
                "size": 4000,
                "potential": 1.0,
                "innovation": 0.0,
                "interest": 0.0,
                "word_of_mouth": 0.0,
                "ad_memory_retention": 0.0,
                "persuasion": 5.0,
                "purchase": 1.0,
                "search": 0.0,
                **segment,
            }
        ],
        "channels": [
            {
                "id": "ads",
                "type": "advertising",
                "budget": 4000.0,
                "cost_per_contact": 0.1,
                "end": horizon,
            }
        ],
        "equity": {"discount_rate": 0.0, "years": extra / 52},
    }
    short = Scenario.model_validate({**base, "horizon": horizon})
    long = Scenario.model_validate({**base, "horizon": horizon + extra})
    return short, long


@pytest.mark.parametrize(
    ("product", "segment"),
    [
        ({"repurchase_every": 5.0, "repurchase_shape": 2.0}, {"churn": 0.03}),
        ({"purchase": "subscription", "billing_period": 4, "term": 8, "renewal": 0.7}, {}),
    ],
    ids=["repeat", "subscription"],
)
def test_equity_at_the_horizon_is_the_margin_the_customers_go_on_to_bring(product, segment):
    horizon, extra, replicates = 12, 30, 12
    short, long = closing(product, horizon, extra, **segment)
    valued = simulate(short, seed=3, replicates=replicates)
    went_on = simulate(long, seed=3, replicates=replicates)
    equity = np.array([m.customer_equity for m in valued.metrics()])
    after = went_on.timeseries[went_on.timeseries["step"] >= horizon]
    assert after["new_customers"].sum() == 0  # the market really closed
    margin = after.groupby("replicate").apply(
        lambda rows: float((rows["revenue"] - rows["cost_of_goods"]).sum()), include_groups=False
    )
    realised = margin.to_numpy()
    assert equity.mean() > 1000
    # The valuation is an expectation given each replicate's book: the realised margin
    # scatters around it by the luck of the later draws alone.
    diff = realised - equity
    assert abs(diff.mean()) < 3 * diff.std(ddof=1) / math.sqrt(replicates) + 0.01 * equity.mean()
