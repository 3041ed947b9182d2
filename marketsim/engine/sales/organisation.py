"""The sales organisation and the brokers: their lasting state, and one step of their work.

Phases, in order (docs/model.md section 8): refunds of mis-sold deals fall due;
marketing routes leads to sales (score threshold, hand-off delay and loss); leads and
appointments that waited too long go cold; inside reps call leads (then cold accounts
with spare capacity) and book meetings; outside reps meet their open opportunities, then
new appointments, and close deals when a buying centre agrees; stale opportunities are
lost; contracts renew or churn; brokers work their prospects. Reps and brokers choose
whom to work (Mesa agents, Python); kernels apply the effect on buying centres
(`marketsim.kernels.sales`). Each phase is a function of this organisation and the
step's `SalesStep`.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from marketsim.core.layout import N_STAGES, touch_organic
from marketsim.core.purposes import P_DEAL
from marketsim.core.stages import CUSTOMER
from marketsim.engine.accounts import AccountBook
from marketsim.engine.agents.broker import Broker
from marketsim.engine.agents.sales import InsideRep, OutsideRep
from marketsim.engine.agents.selling import SellingAgent
from marketsim.engine.ledger import SalesBook
from marketsim.engine.population import Population
from marketsim.engine.products import ProductRange
from marketsim.engine.sales import brokers, pipeline, refunds
from marketsim.engine.sales.state import Deal, Refund, SalesStep, pick
from marketsim.kernels.rng import uniform_py
from marketsim.plugins.runtime import PluginSet
from marketsim.scenario.schema import Sales, Scenario


@dataclass(frozen=True)
class SalesForce:
    """The people who sell: inside reps, outside reps and each broker group's agents."""

    inside: list[InsideRep]
    outside: list[OutsideRep]
    brokers: list[list[Broker]]

    @classmethod
    def hire(cls, model: mesa.Model, scenario: Scenario) -> SalesForce:
        """Every rep and broker agent the scenario asks for, as Mesa agents of `model`."""
        spec = scenario.sales or Sales()
        inside, outside = spec.inside, spec.outside
        ids = [s.id for s in scenario.segments]
        brokers = []
        for g, group in enumerate(scenario.brokers):
            targets = np.zeros(len(ids), dtype=np.bool_)
            targets[[ids.index(t) for t in (group.targets or ids)]] = True
            brokers.append([Broker(model, group, g, i, targets) for i in range(group.count)])
        return cls(
            inside=[
                InsideRep(model, i, inside.calls_per_step, inside.cost_per_step, inside.commission)
                for i in range(inside.count)
            ],
            outside=[
                OutsideRep(
                    model, i, outside.meetings_per_step, outside.cost_per_step, outside.commission
                )
                for i in range(outside.count)
            ],
            brokers=brokers,
        )

    @property
    def agents(self) -> list[SellingAgent]:
        """Every rep and broker agent, in a fixed order."""
        return [*self.inside, *self.outside, *(b for group in self.brokers for b in group)]


class SalesOrganisation:
    """Inside and outside reps, broker agents and the accounts they work."""

    def __init__(
        self,
        scenario: Scenario,
        population: Population,
        products: ProductRange,
        setup_key: np.uint64,
        plugins: PluginSet,
        force: SalesForce,
    ) -> None:
        self.scenario = scenario
        self.setup_key = setup_key
        self.plugins = plugins
        self.spec = scenario.sales or Sales()
        self.population = population
        self.products = products
        self.accounts = AccountBook.build(scenario, population.offsets)
        self.force = force
        segs = scenario.segments
        self.is_b2b = np.array([s.kind == "b2b" for s in segs])
        self.deal_size = np.array([s.deal_size for s in segs])
        self.contract_length = np.array([s.contract_length for s in segs])
        self.renewal = np.array([s.renewal for s in segs])
        self.potential = np.array([s.potential for s in segs])
        self.refunds: list[Refund] = []
        self.n_channels = len(scenario.channels)

    @property
    def inside(self) -> list[InsideRep]:
        """The inside sales reps."""
        return self.force.inside

    @property
    def outside(self) -> list[OutsideRep]:
        """The outside (field) reps."""
        return self.force.outside

    @property
    def brokers(self) -> list[list[Broker]]:
        """Each broker group's agents."""
        return self.force.brokers

    def agent_rows(self, replicate: int) -> list[dict[str, object]]:
        """One row per rep and broker for agents.csv."""
        return [agent.row(replicate) for agent in self.force.agents]

    def step(
        self,
        t: int,
        key: np.uint64,
        trust: np.ndarray,
        pull: np.ndarray,
        shares: np.ndarray,
        price: np.ndarray,
    ) -> tuple[SalesBook, np.ndarray]:
        """Run the sales phases of step `t` (the arguments are those of `SalesStep`).

        Returns:
            The step's sales book and the change in people per [segment, stage].
        """
        step = SalesStep(
            t=t,
            key=key,
            trust=trust,
            pull=pull,
            shares=shares,
            price=price,
            book=SalesBook.empty(*shares.shape, self.n_channels),
            delta=np.zeros((shares.shape[0], N_STAGES), dtype=np.int64),
        )
        refunds.fall_due(self, step)
        if self.accounts.count:
            pipeline.route_and_expire(self, step)
            pipeline.inside_sales(self, step)
            pipeline.outside_sales(self, step)
            pipeline.renewals(self, step)
        for group in self.brokers:
            brokers.work(self, step, group)
        step.book.cost += self._team_cost(t)
        step.book.customer_accounts = int(np.count_nonzero(self.accounts.stage == CUSTOMER))
        return step.book, step.delta

    def arrays(self, step: SalesStep) -> tuple[np.ndarray, ...]:
        """(people's stage, accounts' first member and size, accounts' segment, delta)."""
        acc, pop = self.accounts, self.population
        return pop.stage, acc.first, acc.size, acc.segment, step.delta

    def offer(self, hook: str, agent: SellingAgent, offered: np.ndarray, t: int) -> np.ndarray:
        """What `agent` is offered, after plugins' lead selection or broker hooks."""
        return self.plugins.select(hook, agent, offered, t)

    def contract(self, step: SalesStep, a: int, shares: np.ndarray, price: np.ndarray) -> Deal:
        """Terms of a deal won with account `a`: product, units, value, renewal date."""
        acc = self.accounts
        s = int(acc.segment[a])
        product = pick(uniform_py(int(step.key), a, P_DEAL), shares[s])
        units = int(self.deal_size[s])
        value = float(units * self.products.list_price[product] * price[s, product])
        acc.product[a] = product
        acc.value[a] = value
        length = self.contract_length[s]
        acc.renew_at[a] = step.t + length if length > 0 else -1
        return Deal(s, product, units, value, int(acc.first[a]), 1)

    def book(self, step: SalesStep, deal: Deal) -> None:
        """Book a deal's units and revenue, by segment, product and the buyer's touches."""
        pop = self.population
        book = step.book
        book.units[deal.segment, deal.product] += deal.units
        book.new_customers += deal.new_customers
        book.paid[deal.segment, deal.product] += deal.value
        organic = touch_organic(self.n_channels)
        last = pop.last_touch[deal.touch_person]
        first = pop.first_touch[deal.touch_person]
        book.last_touch[last if last >= 0 else organic] += deal.value
        book.first_touch[first if first >= 0 else organic] += deal.value

    def _team_cost(self, t: int) -> float:
        inside, outside = self.spec.inside, self.spec.outside
        cost = 0.0
        if t >= inside.start:
            cost += inside.count * inside.cost_per_step
        if t >= outside.start:
            cost += outside.count * outside.cost_per_step
        return cost
