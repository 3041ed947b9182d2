"""The sales organisation and the brokers: their lasting state, and one step of their work.

Phases, in order (docs/model.md section 8): reps join, ramp up and leave; refunds of
mis-sold deals fall due; marketing routes leads to sales (score threshold, hand-off
delay and loss); leads and appointments that waited too long go cold; inside reps call
leads (then cold accounts with spare capacity) and book appointments; outside reps hold
appointments, meet open opportunities and send proposals; buying centres decide on the
proposals due (won, lost to a competitor, or no decision); stale opportunities are lost;
contracts renew or churn; brokers work their prospects; at the horizon the refunds still
owed are booked. Reps and brokers choose whom to work (Mesa agents, Python); kernels
apply the effect on buying centres (`marketsim.kernels.sales`). Each phase is a function
of this organisation and the step's `SalesStep`.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from marketsim.core.layout import N_STAGES, touch_organic
from marketsim.core.purposes import P_DEAL, P_POTENTIAL, P_REP
from marketsim.core.stages import CUSTOMER
from marketsim.engine.accounts import NOT_BLOCKED, AccountBook
from marketsim.engine.agents.broker import Broker
from marketsim.engine.agents.sales import InsideRep, OutsideRep
from marketsim.engine.agents.selling import SellingAgent
from marketsim.engine.ledger import SalesBook
from marketsim.engine.population import Population
from marketsim.engine.products import ProductRange
from marketsim.engine.sales import brokers, pipeline, refunds
from marketsim.engine.sales.state import Deal, Refund, SalesStep, pick
from marketsim.kernels import sales as K
from marketsim.kernels.rng import uniform_py
from marketsim.plugins.runtime import PluginSet
from marketsim.scenario.schema import Sales, Scenario, Team


@dataclass(frozen=True)
class SalesForce:
    """The people who sell: inside reps, outside reps and each broker group's agents."""

    inside: list[InsideRep]
    outside: list[OutsideRep]
    brokers: list[list[Broker]]

    @classmethod
    def hire(cls, model: mesa.Model, scenario: Scenario) -> SalesForce:
        """Every rep and broker agent the scenario asks for, as Mesa agents of `model`.

        Reps beyond a team's `tenured` ones are new hires at the team's start, who ramp.
        """
        spec = scenario.sales or Sales()
        ids = [s.id for s in scenario.segments]
        brokers_ = []
        for g, group in enumerate(scenario.brokers):
            targets = np.zeros(len(ids), dtype=np.bool_)
            targets[[ids.index(t) for t in (group.targets or ids)]] = True
            brokers_.append([Broker(model, group, g, i, targets) for i in range(group.count)])
        return cls(
            inside=_team(model, InsideRep, spec.inside, spec.inside.calls_per_step),
            outside=_team(model, OutsideRep, spec.outside, spec.outside.meetings_per_step),
            brokers=brokers_,
        )

    @property
    def agents(self) -> list[SellingAgent]:
        """Every rep and broker agent, in a fixed order."""
        return [*self.inside, *self.outside, *(b for group in self.brokers for b in group)]


def _team(model: mesa.Model, kind: type, team: Team, capacity: int) -> list:
    tenured = team.tenured_reps()
    return [
        kind(
            model,
            i,
            capacity,
            team.cost_per_step,
            team.commission,
            hired_at=None if i < tenured else team.start,
            ramp_steps=team.ramp_steps,
        )
        for i in range(team.count)
    ]


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
        self.competition = np.array([s.competition for s in segs])
        self.status_quo = np.array([s.status_quo for s in segs])
        warmth = self.spec.cycle.warmth
        self.warmth = np.array([warmth.inbound, warmth.referral, warmth.cold])
        acc = self.accounts
        self.in_market = self.could_buy(acc.first, acc.segment)
        """Per account: whether its economic buyer could ever buy (the potential draw)."""
        self.blocked_until = np.full(population.size, NOT_BLOCKED, dtype=np.int64)
        """Per person: first step a refunded consumer may be sold to again."""
        self.refunds: list[Refund] = []
        self.n_channels = len(scenario.channels)
        self.team_share = _team_share(scenario)

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

    @property
    def writes_people(self) -> bool:
        """Whether its phases may write people's stage, satisfaction or detractor flag.

        Account-based selling moves buying centres through the funnel, and brokers'
        deals and refunds move consumers; reps with no accounts to work touch nobody.
        """
        return bool(self.accounts.count) or any(self.brokers)

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
        self._staff(step)
        refunds.fall_due(self, step)
        if self.accounts.count:
            pipeline.route_and_expire(self, step)
            pipeline.inside_sales(self, step)
            pipeline.outside_sales(self, step)
            pipeline.decisions(self, step)
            pipeline.renewals(self, step)
        for group in self.brokers:
            brokers.work(self, step, group)
        if t == self.scenario.horizon - 1:
            refunds.owe_the_rest(self, step)
        step.book.cost += self._team_cost(step.scheduled) * self.team_share
        acc = self.accounts
        step.book.customer_accounts += np.bincount(
            acc.segment[acc.stage == CUSTOMER], minlength=len(self.scenario.segments)
        )
        return step.book, step.delta

    def centres(self, step: SalesStep) -> K.Centres:
        """The buying centres as the kernels take them, booking moves in this step."""
        acc = self.accounts
        return K.Centres(self.population.stage, acc.first, acc.size, acc.segment, step.delta)

    def population_share(self, segments: np.ndarray) -> np.ndarray:
        """Each of the given segments' share of their people (a mask or index array)."""
        people = np.diff(self.population.offsets).astype(np.float64)[segments]
        return people / people.sum()

    def could_buy(self, people: np.ndarray, segments: np.ndarray) -> np.ndarray:
        """Whether each person could ever buy: the customer step's potential draw."""
        return K.draws(self.setup_key, people, P_POTENTIAL) < self.potential[segments]

    def offer(self, hook: str, agent: SellingAgent, offered: np.ndarray, t: int) -> np.ndarray:
        """What `agent` is offered, after plugins' lead selection or broker hooks."""
        return self.plugins.select(hook, agent, offered, t)

    def contract(self, step: SalesStep, a: int, shares: np.ndarray, price: np.ndarray) -> Deal:
        """Terms of a deal won with account `a`: product, units, value, renewal date.

        Members who were not customers become ones at this step (`customer_since`).
        """
        acc = self.accounts
        members = slice(int(acc.first[a]), int(acc.first[a] + acc.size[a]))
        pop = self.population
        joining = pop.stage[members] != CUSTOMER
        pop.customer_since[members][joining] = step.t
        s = int(acc.segment[a])
        product = pick(uniform_py(int(step.key), a, P_DEAL), shares[s])
        units = int(self.deal_size[s])
        value = float(units * self.products.list_price[product] * price[s, product])
        acc.product[a] = product
        acc.value[a] = value
        length = self.contract_length[s]
        acc.renew_at[a] = step.t + length if length > 0 else -1
        return Deal(s, product, units, value, int(acc.first[a]), 1)

    def book(self, step: SalesStep, deal: Deal, renewal: bool = False) -> None:
        """Book a deal's units and revenue, by segment, product and the buyer's touches.

        A deal but a `renewal` was priced at this step's prices (promotions included).
        """
        book = step.book
        book.units[deal.segment, deal.product] += deal.units
        book.new_customers[deal.segment] += deal.new_customers
        book.paid[deal.segment, deal.product] += deal.value
        if not renewal:
            book.priced_now[deal.segment, deal.product] += deal.value
        last, first = self.touches(deal.touch_person)
        book.last_touch[last] += deal.value
        book.first_touch[first] += deal.value

    def touches(self, person: int) -> tuple[int, int]:
        """(last, first) touch codes of a person, organic for none."""
        pop = self.population
        organic = touch_organic(self.n_channels)
        last, first = int(pop.last_touch[person]), int(pop.first_touch[person])
        return (last if last >= 0 else organic), (first if first >= 0 else organic)

    def _staff(self, step: SalesStep) -> None:
        """Reps who leave are replaced by new hires; every rep's capacity for the step."""
        for team, offset, spec in (
            (self.inside, 0, self.spec.inside),
            (self.outside, 1, self.spec.outside),
        ):
            for rep in team:
                if spec.attrition > 0 and step.scheduled >= spec.start:
                    draw = uniform_py(int(step.key), rep.index, P_REP + offset)
                    if draw < spec.attrition:
                        rep.replace(step.t)
                        step.book.counts["reps_replaced"] = (
                            step.book.counts.get("reps_replaced", 0) + 1
                        )
                rep.start_step(step.t)

    def _team_cost(self, t: int) -> float:
        inside, outside = self.spec.inside, self.spec.outside
        cost = 0.0
        if t >= inside.start:
            cost += inside.count * inside.cost_per_step
        if t >= outside.start:
            cost += outside.count * outside.cost_per_step
        return cost


def _team_share(scenario: Scenario) -> np.ndarray:
    """[segment] share of the sales teams' cost: the b2b segments they sell to, by accounts."""
    size = np.array([s.size if s.kind == "b2b" else 0 for s in scenario.segments], dtype=float)
    if size.sum() == 0:
        size = np.array([s.represented for s in scenario.segments], dtype=float)
    return size / size.sum()
