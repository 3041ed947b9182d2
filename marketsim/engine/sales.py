"""The sales organisation and the brokers, stepped after the customers each step.

Phases, in order: refunds of mis-sold deals fall due; marketing routes leads to sales
(score threshold, hand-off delay and loss); leads and appointments that waited too long
go cold; inside reps call leads (then cold accounts with spare capacity) and book
meetings; outside reps meet their open opportunities, then new appointments, and close
deals when a buying centre agrees; stale opportunities are lost; contracts renew or
churn; brokers work their prospects. Reps and brokers choose whom to work (Mesa agents,
Python); kernels apply the effect on buying centres (`marketsim.kernels.sales`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marketsim.core.layout import N_STAGES
from marketsim.core.purposes import P_BROKER, P_COLD, P_DEAL, P_OVERSELL, P_POTENTIAL, P_RENEW
from marketsim.core.stages import AWARE, CUSTOMER, LEAD, OPPORTUNITY, QUALIFIED
from marketsim.engine.accounts import AccountBook
from marketsim.engine.agents.broker import Broker
from marketsim.engine.agents.sales import InsideRep, OutsideRep
from marketsim.engine.agents.selling import SellingAgent
from marketsim.engine.ledger import SalesBook
from marketsim.engine.population import Population
from marketsim.engine.products import ProductRange
from marketsim.kernels import sales as K
from marketsim.kernels.rng import uniform_py
from marketsim.plugins.runtime import PluginSet
from marketsim.scenario.schema import Sales, Scenario

if TYPE_CHECKING:
    from marketsim.engine.model import MarketModel

SALES_TEAM = "sales team"


@dataclass
class Refund:
    """A mis-sold sale that will come back."""

    due: int
    account: int  # -1 for a consumer sale
    person: int
    segment: int
    amount: float
    broker: Broker


@dataclass
class Deal:
    """One sale made by a rep or broker, as the books need it."""

    segment: int
    product: int
    units: int
    value: float
    touch_person: int
    new_customers: int = 0


class SalesOrganisation:
    """Inside and outside reps, broker agents and the accounts they work."""

    def __init__(
        self,
        model: MarketModel,
        scenario: Scenario,
        population: Population,
        products: ProductRange,
        setup_key: np.uint64,
        plugins: PluginSet,
    ) -> None:
        self.scenario = scenario
        self.setup_key = setup_key
        self.plugins = plugins
        self.spec = scenario.sales or Sales()
        self.population = population
        self.products = products
        self.accounts = AccountBook.build(scenario, population.offsets)
        inside, outside = self.spec.inside, self.spec.outside
        self.inside = [
            InsideRep(model, i, inside.calls_per_step, inside.cost_per_step, inside.commission)
            for i in range(inside.count)
        ]
        self.outside = [
            OutsideRep(
                model, i, outside.meetings_per_step, outside.cost_per_step, outside.commission
            )
            for i in range(outside.count)
        ]
        ids = [s.id for s in scenario.segments]
        self.brokers: list[list[Broker]] = []
        for g, spec in enumerate(scenario.brokers):
            targets = np.zeros(len(ids), dtype=np.bool_)
            targets[[ids.index(t) for t in (spec.targets or ids)]] = True
            self.brokers.append([Broker(model, spec, g, i, targets) for i in range(spec.count)])
        segs = scenario.segments
        self.is_b2b = np.array([s.kind == "b2b" for s in segs])
        self.deal_size = np.array([s.deal_size for s in segs])
        self.contract_length = np.array([s.contract_length for s in segs])
        self.renewal = np.array([s.renewal for s in segs])
        self.potential = np.array([s.potential for s in segs])
        self.refunds: list[Refund] = []
        self.n_channels = len(scenario.channels)

    @property
    def agents(self) -> list[SellingAgent]:
        """Every rep and broker agent, in a fixed order."""
        return [*self.inside, *self.outside, *(b for group in self.brokers for b in group)]

    def agent_rows(self, replicate: int) -> list[dict[str, object]]:
        """One row per rep and broker for agents.csv."""
        return [agent.row(replicate) for agent in self.agents]

    def step(
        self,
        t: int,
        key: np.uint64,
        trust: np.ndarray,
        pull: np.ndarray,
        shares: np.ndarray,
        price: np.ndarray,
    ) -> tuple[SalesBook, np.ndarray]:
        """Run the sales phases of step `t`.

        Args:
            t: the step.
            key: the step's random stream key.
            trust: [segment] trust multiplier (2 x reputation).
            pull: [segment] the product range's pull at this step's prices.
            shares: [segment, product] choice shares at this step's prices.
            price: [segment, product] price paid as a share of list price.

        Returns:
            The step's sales book and the change in people per [segment, stage].
        """
        self.book = SalesBook.empty(*shares.shape, self.n_channels)
        self.delta = np.zeros((shares.shape[0], N_STAGES), dtype=np.int64)
        self.key, self.t = key, t
        self._refunds_due()
        if self.accounts.count:
            self._route_and_expire()
            self._inside_sales(trust)
            self._outside_sales(trust, pull, shares, price)
            self._renewals(trust)
        for group in self.brokers:
            self._brokers(group, trust, price, shares)
        self.book.cost += self._team_cost()
        self.book.customer_accounts = int(np.count_nonzero(self.accounts.stage == CUSTOMER))
        return self.book, self.delta

    # ----------------------------------------------------------------- phases
    def _arrays(self) -> tuple[np.ndarray, ...]:
        acc, pop = self.accounts, self.population
        return pop.stage, acc.first, acc.size, acc.segment, self.delta

    def _route_and_expire(self) -> None:
        acc, routing = self.accounts, self.spec.routing
        routed, lost = K.route_leads(
            self.key,
            self.t,
            routing.score_threshold,
            routing.handoff_delay,
            routing.handoff_loss,
            acc.stage,
            acc.since,
            acc.ready,
            *self._arrays(),
        )
        cold = K.expire(
            self.t,
            LEAD,
            routing.handoff_delay + routing.lead_expiry,
            acc.since,
            acc.stage,
            acc.approvals,
            *self._arrays(),
        )
        cold += K.expire(
            self.t,
            QUALIFIED,
            routing.lead_expiry,
            acc.since,
            acc.stage,
            acc.approvals,
            *self._arrays(),
        )
        self.book.counts |= {"leads": routed, "leads_lost": lost, "leads_cold": cold}

    def _inside_sales(self, trust: np.ndarray) -> None:
        acc, spec = self.accounts, self.spec.inside
        reps = self.inside if self.t >= spec.start else []
        queue = np.flatnonzero((acc.stage == LEAD) & (acc.ready <= self.t))
        queue = queue[np.lexsort((queue, acc.ready[queue]))]
        worked, cold, who = [], [], []
        spare = 0
        for r, rep in enumerate(reps):
            picks = rep.select(self._offer("lead_selection", rep, queue[r :: len(reps)]))
            worked.append(picks)
            who.append(np.full(len(picks), r))
            spare += rep.capacity - len(picks)
        if spare:
            candidates = np.flatnonzero(acc.stage == K.WITH_MARKETING)
            cold_calls = K.random_first(self.key, candidates, spare, P_COLD)
            owners = np.repeat(
                np.arange(len(reps)),
                [rep.capacity - len(w) for rep, w in zip(reps, worked, strict=False)],
            )[: len(cold_calls)]
            worked.append(cold_calls)
            who.append(owners)
            cold.append(np.ones(len(cold_calls), dtype=np.bool_))
        accounts = np.concatenate(worked) if worked else np.zeros(0, np.int64)
        reps_of = np.concatenate(who) if who else np.zeros(0, np.int64)
        is_cold = np.zeros(len(accounts), dtype=np.bool_)
        if cold:
            is_cold[len(accounts) - len(cold[0]) :] = True
        rates = np.where(is_cold, spec.cold_qualify_rate, spec.qualify_rate)
        qualified = K.calls(
            self.key,
            self.t,
            accounts.astype(np.int64),
            is_cold,
            rates,
            trust,
            acc.stage,
            acc.since,
            *self._arrays(),
        )
        acc.booker[accounts[qualified == 1]] = reps_of[qualified == 1]
        for r, rep in enumerate(reps):
            mine = reps_of == r
            rep.worked("calls", int(mine.sum()))
        self.book.counts["calls"] = len(accounts)
        self.book.counts["appointments"] = int(qualified.sum())

    def _outside_sales(
        self, trust: np.ndarray, pull: np.ndarray, shares: np.ndarray, price: np.ndarray
    ) -> None:
        acc, spec = self.accounts, self.spec.outside
        reps = self.outside if self.t >= spec.start else []
        open_ = np.flatnonzero(acc.stage == OPPORTUNITY)
        open_ = open_[np.lexsort((open_, acc.since[open_]))]
        met, who, spare = [], [], []
        for r, rep in enumerate(reps):
            picks = rep.select(self._offer("lead_selection", rep, open_[acc.owner[open_] == r]))
            met.append(picks)
            who.append(np.full(len(picks), r))
            spare.append(rep.capacity - len(picks))
        appointments = np.flatnonzero(acc.stage == QUALIFIED)
        appointments = appointments[np.lexsort((appointments, acc.since[appointments]))]
        if reps and len(appointments):
            # Deal new appointments round-robin over the reps' free slots.
            rank = np.concatenate([r + len(reps) * np.arange(n) for r, n in enumerate(spare)])
            slot_rep = np.concatenate([np.full(n, r) for r, n in enumerate(spare)])
            order = np.argsort(rank, kind="stable")[: len(appointments)]
            new_reps = slot_rep[order]
            new = appointments[: len(new_reps)]
            for r, rep in enumerate(reps):
                picks = rep.select(self._offer("lead_selection", rep, new[new_reps == r]))
                met.append(picks)
                who.append(np.full(len(picks), r))
        accounts = np.concatenate(met).astype(np.int64) if met else np.zeros(0, np.int64)
        reps_of = np.concatenate(who) if who else np.zeros(0, np.int64)
        acc.owner[accounts] = reps_of
        approve = np.minimum(1.0, spec.skill * trust * pull)
        agreed = K.meetings(
            self.key,
            self.t,
            accounts,
            approve,
            acc.stage,
            acc.since,
            acc.approvals,
            *self._arrays(),
        )
        won = accounts[agreed == 1]
        for a in won:
            deal = self._contract(int(a), shares, price)
            self._book(deal)
            commission = self.outside[acc.owner[a]].earn(deal.value)
            if acc.booker[a] >= 0:
                commission += self.inside[acc.booker[a]].earn(deal.value)
            self.book.commissions += commission
            self.book.involvement["reps"] += deal.value
        K.close(won, np.ones(len(won), np.int64), acc.stage, acc.approvals, *self._arrays())
        lost = K.expire(
            self.t,
            OPPORTUNITY,
            spec.max_cycle,
            acc.since,
            acc.stage,
            acc.approvals,
            *self._arrays(),
        )
        for r, rep in enumerate(reps):
            mine = int((reps_of == r).sum())
            rep.worked("meetings", mine)
        self.book.counts |= {
            "meetings": len(accounts),
            "deals_won": self.book.counts.get("deals_won", 0) + len(won),
            "deals_lost": int(lost),
        }

    def _renewals(self, trust: np.ndarray) -> None:
        acc = self.accounts
        due = np.flatnonzero((acc.stage == CUSTOMER) & (acc.renew_at == self.t))
        churned = []
        renewed = 0
        for a in due:
            s = acc.segment[a]
            if uniform_py(int(self.key), int(a), P_RENEW) < min(1.0, self.renewal[s] * trust[s]):
                renewed += 1
                acc.renew_at[a] += self.contract_length[s]
                deal = Deal(
                    int(s),
                    int(acc.product[a]),
                    int(self.deal_size[s]),
                    float(acc.value[a]),
                    int(acc.first[a]),
                )
                self._book(deal)
                self.book.involvement["renewals"] += deal.value
            else:
                churned.append(a)
        churned = np.array(churned, dtype=np.int64)
        K.close(
            churned, np.zeros(len(churned), np.int64), acc.stage, acc.approvals, *self._arrays()
        )
        self.book.counts |= {"renewals": renewed, "contracts_churned": len(churned)}

    def _brokers(
        self, group: list[Broker], trust: np.ndarray, price: np.ndarray, shares: np.ndarray
    ) -> None:
        if not group or not group[0].active(self.t):
            return
        spec = group[0].spec
        g = group[0].group
        pop, acc = self.population, self.accounts
        targets = group[0].targets
        consumers = np.flatnonzero(
            (pop.stage >= AWARE)
            & (pop.stage <= LEAD)
            & targets[pop.segment]
            & ~self.is_b2b[pop.segment]
        )
        companies = K.marketing_prospects(
            acc.stage, pop.stage, acc.first, acc.size, acc.segment, targets
        )
        consumers = consumers[self._in_market(consumers, pop.segment[consumers])]
        companies = companies[self._in_market(acc.first[companies], acc.segment[companies])]
        # Accounts and people share one ordering; accounts are offset past the people.
        pool = np.concatenate([consumers, companies + pop.size])
        capacity = spec.clients_per_step * len(group)
        order = K.random_first(self.key, pool, capacity, P_BROKER + 2 * g)
        buyer = spec.represents == "buyer"
        factor = (1.0 - spec.negotiation) if buyer else 1.0
        paid_price = price * factor
        if buyer:
            # The client pays the price plus the broker's fee, and weighs that.
            pull_b, shares_b = self.products.choice(self.t, paid_price * (1.0 + spec.commission))
        else:
            pull_b, shares_b = self.products.choice(self.t, paid_price)
        close = np.minimum(1.0, spec.close_rate * trust * pull_b)
        per_step = spec.oversight_budget / max(1, self.scenario.horizon - spec.start)
        for j, agent in enumerate(group):
            picks = agent.select(self._offer("broker", agent, order[j :: len(group)]))
            agent.worked("clients", len(picks))
            oversell = agent.oversell_chance(per_step)
            for entity in picks:
                self._broker_sale(agent, int(entity), close, shares_b, paid_price, oversell)
        self.book.cost += per_step

    def _broker_sale(
        self,
        agent: Broker,
        entity: int,
        close: np.ndarray,
        shares: np.ndarray,
        paid_price: np.ndarray,
        oversell: float,
    ) -> None:
        pop, acc = self.population, self.accounts
        key = int(self.key)
        is_account = entity >= pop.size
        a = entity - pop.size if is_account else -1
        s = int(acc.segment[a]) if is_account else int(pop.segment[entity])
        if uniform_py(key, entity, P_BROKER + 2 * agent.group + 1) >= close[s]:
            return
        if is_account:
            deal = self._contract(a, shares, paid_price)
            acc.broker[a] = agent.group
            K.close(np.array([a]), np.ones(1, np.int64), acc.stage, acc.approvals, *self._arrays())
            person = int(acc.first[a])
        else:
            product = _pick(uniform_py(key, entity, P_DEAL), shares[s])
            value = float(self.products.list_price[product] * paid_price[s, product])
            deal = Deal(s, product, 1, value, entity, 1)
            self.delta[s, pop.stage[entity]] -= 1
            self.delta[s, CUSTOMER] += 1
            pop.stage[entity] = CUSTOMER
            person = entity
        self._book(deal)
        self.book.counts["deals_won"] = self.book.counts.get("deals_won", 0) + 1
        fee = agent.earn(deal.value)
        if agent.role == "seller":
            self.book.commissions += fee
        self.book.involvement["brokers"] += deal.value
        if uniform_py(key, entity, P_OVERSELL) < oversell:
            due = self.t + agent.spec.refund_after
            self.refunds.append(Refund(due, a, person, s, deal.value, agent))

    def _offer(self, hook: str, agent: SellingAgent, offered: np.ndarray) -> np.ndarray:
        """What `agent` is offered, after plugins' lead selection or broker hooks."""
        return self.plugins.select(hook, agent, offered, self.t)

    def _in_market(self, people: np.ndarray, segments: np.ndarray) -> np.ndarray:
        """Whether each person could ever buy (the kernel's potential draw)."""
        return K.draws(self.setup_key, people, P_POTENTIAL) < self.potential[segments]

    def _refunds_due(self) -> None:
        pop, acc = self.population, self.accounts
        due = [r for r in self.refunds if r.due == self.t]
        self.refunds = [r for r in self.refunds if r.due != self.t]
        for refund in due:
            self.book.refunds[refund.segment] += refund.amount
            refund.broker.stats["refunds"] += 1
            if refund.account >= 0:
                if acc.stage[refund.account] == CUSTOMER:
                    K.close(
                        np.array([refund.account]),
                        np.zeros(1, np.int64),
                        acc.stage,
                        acc.approvals,
                        *self._arrays(),
                    )
                rows = slice(
                    acc.first[refund.account], acc.first[refund.account] + acc.size[refund.account]
                )
                pop.detractor[rows] = 1
            else:
                s = pop.segment[refund.person]
                if pop.stage[refund.person] == CUSTOMER:
                    self.delta[s, CUSTOMER] -= 1
                    self.delta[s, AWARE] += 1
                    pop.stage[refund.person] = AWARE
                pop.detractor[refund.person] = 1
        self.book.counts["refunds_issued"] = len(due)

    # ----------------------------------------------------------------- money
    def _contract(self, a: int, shares: np.ndarray, price: np.ndarray) -> Deal:
        """Terms of a deal won with account `a`: product, units, value, renewal date."""
        acc = self.accounts
        s = int(acc.segment[a])
        product = _pick(uniform_py(int(self.key), a, P_DEAL), shares[s])
        units = int(self.deal_size[s])
        value = float(units * self.products.list_price[product] * price[s, product])
        acc.product[a] = product
        acc.value[a] = value
        length = self.contract_length[s]
        acc.renew_at[a] = self.t + length if length > 0 else -1
        return Deal(s, product, units, value, int(acc.first[a]), 1)

    def _book(self, deal: Deal) -> None:
        pop = self.population
        book = self.book
        book.units[deal.segment, deal.product] += deal.units
        book.new_customers += deal.new_customers
        book.paid[deal.segment, deal.product] += deal.value
        organic = self.n_channels + 1
        last = pop.last_touch[deal.touch_person]
        first = pop.first_touch[deal.touch_person]
        book.last_touch[last if last >= 0 else organic] += deal.value
        book.first_touch[first if first >= 0 else organic] += deal.value

    def _team_cost(self) -> float:
        inside, outside = self.spec.inside, self.spec.outside
        cost = 0.0
        if self.t >= inside.start:
            cost += inside.count * inside.cost_per_step
        if self.t >= outside.start:
            cost += outside.count * outside.cost_per_step
        return cost


def _pick(u: float, shares: np.ndarray) -> int:
    """Index chosen by a uniform draw `u` over cumulative `shares`."""
    cumulative = np.cumsum(shares)
    return int(min(np.searchsorted(cumulative, u, side="right"), len(shares) - 1))
