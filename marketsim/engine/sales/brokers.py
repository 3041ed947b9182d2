"""Brokers at work: each group's agents take prospects in the market and close some."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marketsim.core.purposes import P_BROKER, P_DEAL, P_OVERSELL
from marketsim.core.stages import AWARE, CUSTOMER, LEAD
from marketsim.engine.agents.broker import Broker
from marketsim.engine.sales.state import Deal, Refund, SalesStep, pick
from marketsim.kernels import sales as K
from marketsim.kernels.rng import uniform_py

if TYPE_CHECKING:
    from marketsim.engine.sales.organisation import SalesOrganisation


def work(org: SalesOrganisation, step: SalesStep, group: list[Broker]) -> None:
    """One broker group's step: pick prospects in its targets, then try to close each.

    Prospects are consumers who are aware, interested or leads and accounts still with
    marketing that have someone aware, inside the segment's potential and not refusing
    (a refunded customer's cooldown).
    """
    if not group or not group[0].active(step.scheduled):
        return
    spec = group[0].spec
    g = group[0].group
    pop, acc = org.population, org.accounts
    targets = group[0].targets
    consumers = np.flatnonzero(
        (pop.stage >= AWARE)
        & (pop.stage <= LEAD)
        & targets[pop.segment]
        & ~org.is_b2b[pop.segment]
        & (org.blocked_until <= step.t)
    )
    companies = K.marketing_prospects(acc, org.centres(step), step.t, acc.blocked_until, targets)
    consumers = consumers[org.could_buy(consumers, pop.segment[consumers])]
    companies = companies[org.in_market[companies]]
    # Accounts and people share one ordering; accounts are offset past the people.
    pool = np.concatenate([consumers, companies + pop.size])
    capacity = spec.clients_per_step * len(group)
    order = K.random_first(step.key, pool, capacity, P_BROKER + 2 * g)
    buyer = spec.represents == "buyer"
    paid_price = step.price * ((1.0 - spec.negotiation) if buyer else 1.0)
    # A buyer's broker's client pays the price plus the broker's fee, and weighs that.
    weighed = paid_price * (1.0 + spec.commission) if buyer else paid_price
    pull, shares = org.products.choice(step.scheduled, weighed)
    close = np.minimum(1.0, spec.close_rate * step.trust * pull)
    per_step = spec.oversight_budget / max(1, org.scenario.horizon - spec.start)
    for j, agent in enumerate(group):
        picks = agent.select(org.offer("broker", agent, order[j :: len(group)], step.scheduled))
        agent.worked("clients", len(picks))
        oversell = agent.oversell_chance(per_step)
        for entity in picks:
            _sale(org, step, agent, int(entity), close, shares, paid_price, oversell)
    step.book.cost[targets] += per_step * org.population_share(targets)


def _sale(
    org: SalesOrganisation,
    step: SalesStep,
    agent: Broker,
    entity: int,
    close: np.ndarray,
    shares: np.ndarray,
    paid_price: np.ndarray,
    oversell: float,
) -> None:
    pop, acc = org.population, org.accounts
    key = int(step.key)
    is_account = entity >= pop.size
    a = entity - pop.size if is_account else -1
    s = int(acc.segment[a]) if is_account else int(pop.segment[entity])
    if uniform_py(key, entity, P_BROKER + 2 * agent.group + 1) >= close[s]:
        return
    mis_sold = uniform_py(key, entity, P_OVERSELL) < oversell
    if is_account:
        deal = org.contract(step, a, shares, paid_price)
        acc.broker[a] = agent.group
        K.close(acc, org.centres(step), np.array([a]), np.ones(1, dtype=np.bool_))
        person = int(acc.first[a])
    else:
        product = pick(uniform_py(key, entity, P_DEAL), shares[s])
        value = float(org.products.list_price[product] * paid_price[s, product])
        deal = Deal(s, product, 1, value, entity, 1)
        step.delta[s, pop.stage[entity]] -= 1
        step.delta[s, CUSTOMER] += 1
        if pop.stage[entity] != CUSTOMER:
            pop.customer_since[entity] = step.t
        pop.stage[entity] = CUSTOMER
        pop.product[entity] = product  # our customer now: repeats and bills follow
        pop.purchased_at[entity] = step.t
        pop.purchases[entity] += 1
        pop.spent[entity] += np.float32(value)
        pop.satisfied[entity] = 0 if mis_sold else 1
        person = entity
    org.book(step, deal)
    step.book.count("broker_sales", np.array([s]))
    fee = agent.earn(deal.value)
    if agent.role == "seller":
        step.book.commissions[s] += fee
    step.book.involvement["brokers"] += deal.value
    if mis_sold:
        last, first = org.touches(person)
        due = step.t + agent.spec.refund_after
        org.refunds.append(Refund(due, a, person, s, deal.value, agent, last, first))
