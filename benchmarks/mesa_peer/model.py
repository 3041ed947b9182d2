"""marketsim's consumer market written the plain Mesa way: one agent object per customer.

Each `Consumer` is a `mesa.Agent` whose `step` walks docs/model.md section 3 for that
one person: exposure and ad memory, awareness, interest and forgetting, purchase or
search, leads, churn and repeat purchase, satisfaction, with the person's traits. The
`ConsumerMarket` model sets each step's channel effects (advertising's exposure rates,
inbound's chance to be found) and the well-mixed mean field from the counts at the
start of the step, lets every consumer `listen` to their contacts (who are customers
at the start of the step), then steps them in random order with Mesa's
`shuffle_do`. A `DataCollector` records the market per step.

This is the peer a Mesa user would otherwise write, for the speed comparison; it is
not marketsim's engine and imports none of it (only marketsim's scenario, for the
parameters, and its random streams in `SharedStreams` mode). Attribution (first and
last touch) is bookkeeping that changes no behaviour and is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import mesa
import numpy as np

from benchmarks.mesa_peer.draws import MesaRandom, SharedStreams
from benchmarks.mesa_peer.parameters import TRAITS, MarketRules, SegmentRules, read_rules
from marketsim.core.purposes import (
    P_AWARE,
    P_BUY,
    P_CHURN,
    P_CONVERT,
    P_DECAY,
    P_EXPOSURE,
    P_FIND,
    P_FORGET,
    P_INITIAL,
    P_INTEREST,
    P_POTENTIAL,
    P_REPEAT,
    P_SATISFY,
    P_SEARCH,
)
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, UNAWARE
from marketsim.scenario.schema import Scenario

Draws = Literal["shared", "mesa"]
NEW, AGAIN = 1, 2
"""What a purchase is: a new customer's first, or a repeat."""


def single(x: float) -> float:
    """`x` rounded to single precision, as marketsim stores ad memory and traits."""
    return float(np.float32(x))


def poisson(u: float, lam: float, p0: float) -> int:
    """The Poisson(`lam`) count at uniform `u` by inversion; `p0` is exp(-lam)."""
    k, p = 0, p0
    c = p
    while u >= c and k < 10_000:
        k += 1
        p *= lam / k
        c += p
        if p == 0.0 and c < u:
            break
    return k


@dataclass
class Tally:
    """One segment's counts for one step."""

    stages: list[int] = field(default_factory=lambda: [0] * (CUSTOMER + 1))
    silent: int = 0
    new_customers: int = 0
    lapsed: int = 0
    units: int = 0
    visits: int = 0
    new_leads: int = 0
    forgot: int = 0


@dataclass(frozen=True)
class Exposure:
    """An advertising channel in one step: its Poisson rate per segment (0: not targeted)."""

    index: int
    rate: tuple[float, ...]
    p0: tuple[float, ...]
    threshold: int
    wear_out: float
    impact: float


@dataclass(frozen=True)
class Finding:
    """An inbound channel in one step: the chance a searcher is found, per segment."""

    index: int
    chance: tuple[float, ...]
    conversion: float


class Consumer(mesa.Agent):
    """One customer, with their stage, ad memory, traits and contacts."""

    def __init__(self, model: ConsumerMarket, row: int, s: int, rules: SegmentRules) -> None:
        super().__init__(model)
        draws = model.draws
        self.row, self.s, self.rules = row, s, rules
        self.stage = (
            AWARE if draws.setup_uniform(row, P_INITIAL) < rules.initial_awareness else UNAWARE
        )
        self.in_market = draws.setup_uniform(row, P_POTENTIAL) < rules.potential
        defaults = {"price_sensitivity": rules.elasticity}
        for name in TRAITS:
            if model.rules.stored[name]:
                value = single(draws.trait(rules, name, rules.traits[name], row))
            else:
                value = defaults.get(name, 1.0)
            setattr(self, name, value)
        eps = self.price_sensitivity
        # The product's pull and own price response at this person's price sensitivity.
        weight = (model.rules.product.appeal * rules.relative**-eps) ** (1.0 / rules.substitution)
        self.pull = weight**rules.substitution
        self.again = (
            rules.relative**-eps if model.rules.stored["price_sensitivity"] else rules.again
        )
        self.memory = 0.0
        self.contacts: list[Consumer] = []
        self.heard = 0.0
        self.has_product = False
        self.bought_at = -1
        self.satisfied = -1
        self.purchases = 0

    def speaks(self) -> bool:
        """Whether this person talks for the company: a customer, unless let down and silent."""
        return self.stage == CUSTOMER and (
            not self.rules.silent_when_let_down or self.satisfied != 0
        )

    def listen(self) -> None:
        """Count the contacts who talk for the company (before anyone moves this step)."""
        if self.stage > AWARE:
            return
        mean_field = self.model.mean_field[self.s]
        if mean_field is not None:
            self.heard = mean_field
        else:
            self.heard = float(sum(1 for c in self.contacts if c.speaks()))

    def step(self) -> None:
        """Advance one step through the funnel (docs/model.md sections 3.1-3.8)."""
        model, r, row = self.model, self.rules, self.row
        uniform, t, s = model.draws.uniform, model.t, self.s
        tally = model.tally[s]
        was = st = self.stage
        # 3.1 exposure
        exposures = 0.0
        for ad in model.exposure:
            lam = ad.rate[s]
            if lam <= 0.0:
                continue
            k = poisson(uniform(row, P_EXPOSURE + ad.index), lam, ad.p0[s])
            if k == 0 or k < ad.threshold:
                continue
            wear = ad.wear_out
            weight = ad.impact * (1.0 - (1.0 - wear) ** k) / wear if wear > 0.0 else ad.impact * k
            if weight > 0.0:
                exposures += weight
        # 3.2 ad memory
        carried = r.retention * self.memory
        memory = carried + exposures
        self.memory = single(memory)
        wom = self.heard * r.word_of_mouth * self.word_of_mouth if was <= AWARE else 0.0
        unit = 0
        # 3.3 awareness
        if st == UNAWARE:
            hazard = r.innovation_hazard + r.attention * (exposures + r.awareness_adstock * carried)
            hazard += wom
            if hazard > 0.0 and uniform(row, P_AWARE) < 1.0 - math.exp(-hazard):
                st = AWARE
        # 3.4 interest, or forgetting
        if st == AWARE:
            interested = False
            if self.in_market:
                pressure = r.persuasion * (1.0 - math.exp(-memory)) + wom
                p = 1.0 - (1.0 - r.interest) * math.exp(-pressure)
                interested = uniform(row, P_INTEREST) < min(1.0, self.attitude * p)
            if interested:
                st = INTERESTED
            elif was == AWARE and r.awareness_decay > 0.0:
                forget = r.awareness_decay * math.exp(-(memory + wom))
                if uniform(row, P_FORGET) < forget:
                    st = UNAWARE
                    tally.forgot += 1
        mult = self.purchase_rate * self.attitude
        if model.rules.stored["price_sensitivity"] and r.pull > 0.0:
            mult *= self.pull / r.pull
        # 3.5 purchase, or search
        if st == INTERESTED:
            if uniform(row, P_BUY) < min(1.0, r.purchase * mult):
                st, unit = CUSTOMER, NEW
            else:
                visited = False
                if uniform(row, P_SEARCH) < r.search:
                    for inbound in model.finding:
                        f = inbound.chance[s]
                        if f > 0.0 and uniform(row, P_FIND + inbound.index) < f:
                            visited = True
                            if uniform(row, P_CONVERT + inbound.index) < inbound.conversion:
                                st = LEAD
                            break
                tally.visits += visited
                if st == LEAD:
                    tally.new_leads += 1
                elif was == INTERESTED and uniform(row, P_DECAY) < r.interest_decay:
                    st = AWARE
        # 3.6 leads
        elif st == LEAD and was == LEAD:
            if uniform(row, P_BUY) < min(1.0, r.lead_conversion * mult):
                st, unit = CUSTOMER, NEW
            elif uniform(row, P_DECAY) < r.interest_decay:
                st = AWARE
        # 3.7-3.8 customers: churn, or buy again once the last purchase is used up
        elif st == CUSTOMER and was == CUSTOMER and self.has_product:
            product = model.rules.product
            tau = t - self.bought_at
            churn = r.churn
            if self.satisfied == 0:
                churn *= r.dissatisfied_churn
            if r.churn_price > 0.0 and r.relative > 0.0:
                churn *= r.relative ** (r.churn_price * self.price_sensitivity)
            if uniform(row, P_CHURN) < min(1.0, churn):
                st = AWARE
            elif product.repeat and tau > 0:
                hazard = (tau / product.scale) ** product.shape - (
                    (tau - 1) / product.scale
                ) ** product.shape
                chance = (1.0 - math.exp(-hazard * self.purchase_rate)) * self.again * r.repeat
                if uniform(row, P_REPEAT) < chance:
                    unit = AGAIN
        if unit:
            self.has_product = True
            self.bought_at = t
            chance = model.rules.product.quality
            if r.relative > 1.0:
                chance *= r.relative**-self.price_sensitivity
            self.satisfied = 1 if uniform(row, P_SATISFY) < chance else 0
            self.purchases += 1
            tally.units += 1
        self.stage = st
        tally.stages[st] += 1
        if st == CUSTOMER:
            tally.silent += not self.speaks()
            tally.new_customers += was != CUSTOMER
        elif was == CUSTOMER:
            tally.lapsed += 1


class ConsumerMarket(mesa.Model):
    """The consumer market of a marketsim scenario, one `Consumer` agent per person.

    Args:
        scenario: a b2c scenario within the peer's scope (`parameters.read_rules`).
        replicate: replicate index (marketsim's, with shared streams).
        draws: "shared" for marketsim's random streams (identical outcomes), "mesa" for
            the model's own generator.

    """

    def __init__(self, scenario: Scenario, *, replicate: int = 0, draws: Draws = "mesa") -> None:
        rules = read_rules(scenario)
        super().__init__(seed=rules.seed * 1_000_003 + replicate)
        self.rules: MarketRules = rules
        self.draws = (
            SharedStreams(rules.seed, replicate) if draws == "shared" else MesaRandom(self.random)
        )
        self.t = -1
        self.consumers: list[Consumer] = []
        for s, seg in enumerate(rules.segments):
            for row in range(seg.first_row, seg.first_row + seg.size):
                self.consumers.append(Consumer(self, row, s, seg))
            for a, b in self.draws.ties(seg):
                self.consumers[a].contacts.append(self.consumers[b])
                self.consumers[b].contacts.append(self.consumers[a])
        start = [Tally() for _ in rules.segments]
        for c in self.consumers:
            start[c.s].stages[c.stage] += 1
        self.tally = start
        self.exposure: list[Exposure] = []
        self.finding: list[Finding] = []
        self.mean_field: list[float | None] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "customers": lambda m: sum(x.stages[CUSTOMER] for x in m.tally),
                "interested": lambda m: sum(x.stages[INTERESTED] for x in m.tally),
                "units": lambda m: sum(x.units for x in m.tally),
                "visits": lambda m: sum(x.visits for x in m.tally),
                "new_leads": lambda m: sum(x.new_leads for x in m.tally),
            }
        )

    def step(self) -> None:
        """Channels act on the market at the start of the step; then every consumer moves."""
        t = self.t = self.steps - 1
        self.draws.begin_step(t)
        start, rules = self.tally, self.rules
        sizes = [seg.size for seg in rules.segments]
        self.exposure = []
        for ad in rules.advertising:
            lam = ad.plan[t] / ad.cost_per_contact / float(sum(sizes[s] for s in ad.targets))
            rate = tuple(lam if s in ad.targets else 0.0 for s in range(len(sizes)))
            p0 = tuple(math.exp(-x) for x in rate)
            self.exposure.append(Exposure(ad.index, rate, p0, ad.threshold, ad.wear_out, ad.impact))
        self.finding = []
        for inbound in rules.inbound:
            visits = inbound.plan[t] / inbound.cost_per_contact
            if visits <= 0:
                continue
            searchers = float(
                np.sum(
                    [
                        start[s].stages[INTERESTED] * rules.segments[s].search
                        for s in inbound.targets
                    ]
                )
            )
            found = 1.0 - math.exp(-visits / searchers) if searchers > 0 else 0.0
            chance = tuple(found if s in inbound.targets else 0.0 for s in range(len(sizes)))
            self.finding.append(Finding(inbound.index, chance, inbound.conversion))
        self.mean_field = [
            single(seg.degree * ((x.stages[CUSTOMER] - x.silent) / seg.size))
            if seg.network == "well_mixed"
            else None
            for seg, x in zip(rules.segments, start, strict=True)
        ]
        self.tally = [Tally() for _ in rules.segments]
        self.agents.do("listen")
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)
        if self.steps >= rules.horizon:
            self.running = False
