"""Customer equity at the horizon: what the customers held are worth after the run ends.

A plan can buy this year's profit by harvesting the customer base: cutting what keeps
customers, or winning fewer of them. The run's totals stop at the horizon and cannot
see it; the customers held at the horizon can. Each is valued at the margin it is
expected to bring after the horizon, by the scenario's own rates, discounted to the
horizon at `equity.discount_rate` a year over `equity.years` (docs/model.md, section 6):

- a consumer holding a **repeat** product p in segment s lapses with chance churn_s a
  step and otherwise buys again with the customer step's chance at the steps since
  its last purchase (the Weibull hazard of repurchase_every and repurchase_shape, times
  V_{s,p}, the product's price response at its list price): the expected discounted
  purchases are summed exactly over those steps, from each customer's own last purchase;
- a **subscriber** is billed price_p every billing period and renews at the end of each
  term with chance renewal_p, counted from the step the subscription started;
- an **account** under contract renews at its renewal date, then every
  contract_length steps, with chance renewal_s each time, at the value it pays now;
- a one-off product, or a one-off deal, brings nothing more.

Margin is the list price (or the contract's value) less the cost of goods, before sales
costs and commissions; trust is taken as neutral and prices as listed, since neither a
promotion nor public relations is assumed to go on after the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marketsim.core import portable
from marketsim.engine.products import ProductRange
from marketsim.scenario.schema import Product, Scenario


@dataclass(frozen=True)
class Holdings:
    """The customers held at the end of the last step, as the valuation needs them.

    Attributes:
        consumer_segment / consumer_product / consumer_age: per consumer customer, its
            segment, the product it holds and the steps since it bought it (or, for a
            subscription, since the subscription started), at the last step.
        account_segment / account_product / account_value / account_renewal: per
            account under contract, its segment, product, revenue per contract term and
            the steps from the last step to its renewal (0: none, a one-off deal).

    """

    consumer_segment: np.ndarray
    consumer_product: np.ndarray
    consumer_age: np.ndarray
    account_segment: np.ndarray
    account_product: np.ndarray
    account_value: np.ndarray
    account_renewal: np.ndarray


def discount_factors(scenario: Scenario) -> np.ndarray:
    """The discount of each step after the horizon: element k-1 for step k = 1, 2, ...

    (1 + rate)^(-k / steps per year), for the steps of `equity.years`.
    """
    per_year = scenario.steps_per_year
    steps = max(1, math.ceil(scenario.equity.years * per_year - 1e-9))
    k = np.arange(1, steps + 1, dtype=np.float64)
    return portable.power(1.0 + scenario.equity.discount_rate, -k / per_year)


def can_have_equity(scenario: Scenario) -> bool:
    """Whether any customer of the scenario can bring margin after the horizon.

    Not with only one-off products sold to consumers and one-off (or no) deals with
    accounts: customer equity is then 0 whatever the plan.
    """
    margin = any(p.price > p.unit_cost for p in scenario.products)
    consumers = any(
        seg.kind == "b2c"
        and any(
            p.purchase != "one_off"
            for p in scenario.products
            if seg.products is None or p.id in seg.products
        )
        for seg in scenario.segments
    )
    contracts = any(seg.kind == "b2b" and seg.contract_length > 0 for seg in scenario.segments)
    return margin and (consumers or contracts)


def equity_by_segment(scenario: Scenario, held: Holdings) -> np.ndarray:
    """[segment] the discounted expected margin after the horizon of the customers held."""
    n_segments, n_products = len(scenario.segments), len(scenario.products)
    disc = discount_factors(scenario)
    out = np.zeros(n_segments)
    price = np.array([p.price for p in scenario.products])
    margin = price - np.array([p.unit_cost for p in scenario.products])
    models = [p.purchase for p in scenario.products]
    response = ProductRange(scenario).again(np.ones((n_segments, n_products)))
    churn = np.array([seg.churn if seg.kind == "b2c" else 0.0 for seg in scenario.segments])
    for p, product in enumerate(scenario.products):
        mine = held.consumer_product == p
        if not mine.any() or models[p] == "one_off":
            continue
        segments, ages = held.consumer_segment[mine], held.consumer_age[mine]
        if models[p] == "repeat":
            for s in np.unique(segments):
                value = _repeat_value(
                    product, float(response[s, p]), float(churn[s]), disc, int(ages.max())
                )
                here = segments == s
                out[s] += margin[p] * value[np.minimum(ages[here], value.size - 1)].sum()
        else:  # a subscription: bills and renewals fall on fixed steps of its age
            value = _subscription_value(
                product.billing_period or 1, product.renewal_term, product.renewal, disc
            )
            out += np.bincount(
                segments, weights=margin[p] * value[ages % value.size], minlength=n_segments
            )
    if held.account_segment.size:
        out += _contract_values(scenario, held, margin, price, disc)
    return out


def _repeat_value(
    product: Product, response: float, churn: float, disc: np.ndarray, oldest: int
) -> np.ndarray:
    """Discounted purchases expected after the horizon, by steps since the last purchase.

    Backward over the steps of `disc`: a customer at `tau` steps since its last purchase
    stays with chance 1 - churn, then buys with chance q(tau + 1) (and is back at 0
    steps) or not (at tau + 1). The chance at tau is the customer step's:
    (1 - exp(-((tau / scale)^shape - ((tau - 1) / scale)^shape))) x response. Once that
    chance stops changing (a flat or saturated hazard) older ages share one value.
    """
    scale = product.repurchase_every / math.gamma(1.0 + 1.0 / product.repurchase_shape)
    tau = np.arange(oldest + disc.size + 2, dtype=np.float64)
    shape = product.repurchase_shape
    hazard = portable.power(tau / scale, shape) - portable.power(
        np.maximum(tau - 1.0, 0.0) / scale, shape
    )
    chance = np.minimum(1.0, (1.0 - portable.exp(-hazard)) * response)
    moving = np.flatnonzero(np.abs(chance - chance[-1]) > 1e-12)
    cap = min(tau.size - 1, int(moving[-1]) + 2 if moving.size else 1)
    chance = chance[: cap + 1]
    ahead = np.minimum(np.arange(cap + 1) + 1, cap)
    buy = chance[ahead]
    step = disc[0]  # the discount of one step
    value = np.zeros(cap + 1)
    for _ in range(disc.size):
        value = (1.0 - churn) * step * (buy * (1.0 + value[0]) + (1.0 - buy) * value[ahead])
    return value


def _subscription_value(billing: int, term: int, renewal: float, disc: np.ndarray) -> np.ndarray:
    """Discounted bills expected after the horizon, per unit of margin, by age mod cycle.

    At age a + k (k steps after the last one) a term ends when (a + k) % term == 0 and the
    subscriber renews with chance `renewal` (else lapses, unbilled); a bill falls when
    (a + k) % billing == 0.
    """
    cycle = math.lcm(billing, term)
    ages = np.arange(cycle)[:, None]
    k = np.arange(1, disc.size + 1)[None, :]
    decisions = (ages + k) // term - ages // term
    billed = (ages + k) % billing == 0
    return (disc[None, :] * portable.power(renewal, decisions) * billed).sum(axis=1)


def _contract_values(
    scenario: Scenario,
    held: Holdings,
    margin: np.ndarray,
    price: np.ndarray,
    disc: np.ndarray,
) -> np.ndarray:
    """[segment] discounted expected margin of the contracts' renewals after the horizon."""
    out = np.zeros(len(scenario.segments))
    units = np.array([seg.deal_size for seg in scenario.segments], dtype=np.float64)
    unit_cost = price - margin
    for a in range(held.account_segment.size):
        s, due = int(held.account_segment[a]), int(held.account_renewal[a])
        seg = scenario.segments[s]
        if due <= 0 or seg.contract_length <= 0:
            continue
        value = float(held.account_value[a]) - units[s] * unit_cost[held.account_product[a]]
        steps = np.arange(due, disc.size + 1, seg.contract_length)
        out[s] += value * float(
            (disc[steps - 1] * portable.power(seg.renewal, np.arange(1, steps.size + 1))).sum()
        )
    return out
