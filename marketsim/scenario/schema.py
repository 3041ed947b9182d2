"""Typed, immutable scenario: what a strategist writes in YAML.

Every behavioural parameter has a default, a unit (given in its description) and a
range. Probabilities are per step; money is in the scenario's currency; counts of
people are people. `docs/model.md` gives the equation each parameter enters.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    model_validator,
)

from marketsim.core.limits import MAX_SEED
from marketsim.scenario.calibration import CalibrateSpec
from marketsim.scenario.demand import Demand
from marketsim.scenario.start import BurnIn, Start
from marketsim.scenario.traits import Medium, MediumHabit, Traits
from marketsim.scenario.types import (
    Frozen,
    Id,
    Int,
    KindSpecific,
    NonNegative,
    Number,
    Positive,
    Probability,
    StepIndex,
)

PurchaseModel = Literal["one_off", "repeat", "subscription"]


class Product(KindSpecific):
    """Something the company sells, and how customers buy it (docs/model.md section 3.7)."""

    ONLY: ClassVar[dict[str, tuple[str, ...]]] = {
        "subscription": ("billing_period", "term", "renewal", "promotions_apply_to"),
        "repeat": ("repurchase_every", "repurchase_shape", "stockpile"),
    }
    KIND_KEY: ClassVar[str] = "purchase"

    id: Id
    price: NonNegative = Field(description="list price per unit (currency)")
    unit_cost: NonNegative = Field(0.0, description="cost of goods per unit (currency)")
    purchase: PurchaseModel = Field(
        "one_off",
        description="how customers buy it: one_off (once), repeat (a consumable, bought "
        "again the likelier the longer since the last purchase) or subscription (billed "
        "every billing_period); default: repeat when repurchase_every > 0, else one_off",
    )
    repurchase_every: NonNegative = Field(
        0.0, description="repeat: mean steps between a customer's purchases"
    )
    repurchase_shape: Annotated[Number, Field(ge=1.0, le=10.0)] = Field(
        2.0,
        description="repeat: how the chance of buying again rises with the steps since "
        "the last purchase (1 = memoryless, 2 = in proportion to the time since)",
    )
    billing_period: Annotated[Int, Field(ge=1)] | None = Field(
        None, description="subscription: steps between bills (required for a subscription)"
    )
    term: Annotated[Int, Field(ge=1)] | None = Field(
        None,
        description="subscription: steps a subscription runs before it comes up for "
        "renewal (default: the billing period)",
    )
    renewal: Probability = Field(
        0.9, description="subscription: chance a subscriber renews at the end of a term"
    )
    promotions_apply_to: Literal["new", "all"] = Field(
        "new",
        description="subscription: whether a promotion discounts new subscriptions only, "
        "or every bill it is running for",
    )
    stockpile: NonNegative = Field(
        0.0,
        description="repeat: extra units a buyer stocks up per unit of relative discount "
        "(2: at 25% off, half an extra unit on average); the stock delays the next purchase",
    )
    quality: Probability = Field(
        1.0,
        description="chance a purchase at or below the buyer's reference price leaves "
        "them satisfied",
    )
    launch_step: StepIndex = Field(0, description="first step the product can be bought")
    appeal: Positive = Field(
        1.0, description="attractiveness relative to the segment's other products at equal price"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_purchase(cls, data: Any) -> Any:
        """`purchase` left out: repeat when a repurchase interval is given, else one-off."""
        if isinstance(data, dict) and data.get("purchase") is None:
            every = data.get("repurchase_every", 0)
            repeat = isinstance(every, int | float) and not isinstance(every, bool) and every > 0
            data = {**data, "purchase": "repeat" if repeat else "one_off"}
        return data

    @property
    def renewal_term(self) -> int:
        """Steps between renewal decisions of a subscription."""
        return self.term or self.billing_period or 1


class Network(Frozen):
    """Who talks to whom inside a segment (word of mouth)."""

    type: Literal["random", "small_world", "scale_free", "well_mixed"] = Field(
        "small_world", description="contact network model"
    )
    degree: Annotated[Int, Field(ge=0, le=1000)] = Field(
        6, description="mean number of contacts per person"
    )
    rewire: Probability = Field(
        0.1, description="small world only: chance each lattice tie is rewired"
    )

    @model_validator(mode="after")
    def _even_degree(self) -> Network:
        if self.type in ("small_world", "scale_free") and self.degree % 2:
            raise ValueError(
                f"a {self.type} network needs an even degree, but got degree={self.degree}"
            )
        return self


class Segment(KindSpecific):
    """A group of buyers with shared behaviour: consumers (b2c) or accounts (b2b)."""

    ONLY: ClassVar[dict[str, tuple[str, ...]]] = {
        "b2b": (
            "buying_center",
            "deal_size",
            "contract_length",
            "renewal",
            "competition",
            "status_quo",
        ),
        "b2c": (
            "churn",
            "purchase",
            "lead_conversion",
            "represents",
            "dissatisfied_churn",
            "dissatisfied_word_of_mouth",
            "churn_price_response",
            "churn_trust_response",
        ),
    }

    id: Id
    kind: Literal["b2c", "b2b"] = "b2c"
    size: Annotated[Int, Field(ge=1)] = Field(
        description="people (b2c) or accounts (b2b) in the segment"
    )
    buying_center: Annotated[Int, Field(ge=1, le=64)] | None = Field(
        None, description="b2b only: decision makers per account (default 3)"
    )
    products: list[Id] | None = Field(
        None, description="products the segment considers (default: all)"
    )
    substitution: Annotated[Number, Field(gt=0.0, le=1.0)] = Field(
        0.5,
        description="how much a segment's products substitute for each other: near 0 they "
        "only cannibalise, 1 = each adds its own demand",
    )
    deal_size: Annotated[Int, Field(ge=1)] = Field(
        1, description="b2b only: units (contracts, seats) per deal"
    )
    contract_length: Annotated[Int, Field(ge=0)] = Field(
        52, description="b2b only: steps until a contract renews; 0 = one-off purchase"
    )
    renewal: Probability = Field(
        0.8, description="b2b only: chance a contract renews at the end of its term"
    )
    competition: NonNegative = Field(
        1.0,
        description="b2b only: pull of competitors' offers when a buying centre decides on "
        "a proposal, against ours at full approval and the reference price (1: as strong)",
    )
    status_quo: NonNegative = Field(
        0.4,
        description="b2b only: pull of deciding nothing and keeping things as they are, "
        "on the same scale",
    )
    network: Network = Field(default_factory=Network)
    potential: Probability = Field(
        0.5, description="share of people who could ever become interested (Bass market m)"
    )
    initial_awareness: Probability = Field(0.0, description="share aware at step 0")
    start: Start | None = Field(
        None,
        description="the segment's state at step 0: shares at each funnel stage, existing "
        "customers, contracts and pipeline (default: a launch, everyone unaware but "
        "initial_awareness)",
    )
    reputation: Probability = Field(0.5, description="initial trust in the company; 0.5 is neutral")
    innovation: Probability = Field(
        0.002, description="chance per step of becoming aware unprompted (Bass p)"
    )
    attention: NonNegative = Field(
        0.02, description="awareness hazard per unit of exposure impact (one ad exposure = 1)"
    )
    ad_memory_retention: Probability = Field(
        0.7, description="share of ad memory carried to the next step (adstock rate)"
    )
    persuasion: NonNegative = Field(
        0.02, description="interest hazard per unit of saturated ad memory"
    )
    interest: Probability = Field(
        0.003, description="chance per step an aware person becomes interested unprompted"
    )
    word_of_mouth: NonNegative = Field(
        0.01, description="hazard per step per talking contact (Bass q = degree x this)"
    )
    purchase: Probability = Field(
        0.03, description="chance per step an interested person buys at the reference price"
    )
    search: Probability = Field(0.3, description="chance per step an interested person searches")
    lead_conversion: Probability = Field(
        0.25, description="chance per step a lead buys at the reference price"
    )
    interest_decay: Probability = Field(
        0.1, description="chance per step an interested person or lead loses interest"
    )
    churn: Probability = Field(
        0.0,
        description="chance per step a customer lapses (a subscriber only at a bill, with "
        "the chance of the period: 1 - (1 - churn)^billing_period)",
    )
    price_sensitivity: NonNegative = Field(
        1.5, description="price elasticity of purchase probability"
    )
    reference_price: Positive | None = Field(
        None, description="price the segment expects (default: the product's price)"
    )
    represents: Annotated[Int, Field(ge=1)] | None = Field(
        None,
        description="b2c only: people in the real market the segment stands for, a whole "
        "multiple of size (default: size); every count and money figure is scaled up",
    )
    traits: Traits = Field(
        default_factory=Traits,
        description="how the segment's people differ (default: alike)",
    )
    media: dict[Medium, MediumHabit] = Field(
        default_factory=dict,
        description="per medium: people's habit of using it and how long its ads are remembered",
    )
    awareness_adstock: Probability = Field(
        0.0,
        description="weight of ad memory carried from earlier steps on the awareness "
        "hazard (0: only this step's exposures; 1: the whole adstock)",
    )
    awareness_decay: Probability = Field(
        0.0,
        description="chance per step an aware person with no reminder (no ad memory, no "
        "word of mouth) forgets the brand",
    )
    dissatisfied_churn: NonNegative = Field(
        1.0,
        description="b2c only: multiplier on a dissatisfied customer's churn (1: as a "
        "satisfied one)",
    )
    dissatisfied_word_of_mouth: Literal["praise", "silent", "against"] = Field(
        "praise",
        description="b2c only: what a dissatisfied customer tells contacts: praise (as "
        "any customer), nothing, or warnings against the company",
    )
    churn_price_response: NonNegative = Field(
        0.0,
        description="b2c only: churn x (price now / reference price)^(this x the "
        "person's price sensitivity); 0 = churn deaf to price",
    )
    churn_trust_response: NonNegative = Field(
        0.0,
        description="b2c only: churn x (2 x reputation)^-(this); 0 = churn deaf to trust",
    )

    @property
    def people_per_unit(self) -> int:
        """People per counted unit of `size`: the buying centre for b2b, else one."""
        return (self.buying_center or 3) if self.kind == "b2b" else 1

    @property
    def people(self) -> int:
        """Number of people in the population for this segment."""
        return self.size * self.people_per_unit

    @property
    def scale(self) -> int:
        """Real people each simulated person stands for (`represents / size`, else 1)."""
        return 1 if self.represents is None else self.represents // self.size

    @property
    def represented(self) -> int:
        """People in the real market: what channels buy contacts for and counts report."""
        return self.people * self.scale


class ChannelBase(Frozen):
    """What every channel of the promotional mix has: money, targets and timing."""

    id: Id
    enabled: bool = Field(True, description="false switches the channel off: no spend, no effect")
    budget: NonNegative = Field(0.0, description="total spend over the horizon (currency)")
    targets: list[Id] | None = Field(None, description="segment ids reached (default: all)")
    start: StepIndex = Field(0, description="first step the channel is active")
    end: StepIndex | None = Field(None, description="step after the last active one")
    schedule: list[NonNegative] | None = Field(
        None,
        description="relative spend weight per step, one per step of the horizon "
        "(default: even over the active window)",
    )

    @model_validator(mode="after")
    def _window(self) -> ChannelBase:
        if self.end is not None and self.end <= self.start:
            raise ValueError(
                f"`start < end` must hold, but got (start={self.start}, end={self.end})"
            )
        return self


class Advertising(ChannelBase):
    """Paid media that buys contacts; exposures build awareness and ad memory."""

    type: Literal["advertising"]
    cost_per_contact: Positive = Field(description="price of one exposure (currency)")
    impact: NonNegative = Field(
        1.0, description="weight of one exposure: ad memory added and awareness pull"
    )
    medium: Medium | None = Field(
        None,
        description="the medium bought: people reach it by their habits and remember it "
        "by its retention (default: no medium in particular)",
    )
    frequency_threshold: Annotated[Int, Field(ge=0, le=100)] = Field(
        0,
        description="exposures a person needs in a step before the ad works at all "
        "(0 or 1: every exposure works)",
    )
    wear_out: Probability = Field(
        0.0,
        description="each further exposure in a step weighs this share less than the one "
        "before (0: every exposure weighs the same)",
    )


class Inbound(ChannelBase):
    """Pull: interested people search; spend buys the visits of those who find the company."""

    type: Literal["inbound"]
    cost_per_contact: Positive = Field(description="price of one visit (currency)")
    conversion: Probability = Field(
        0.03,
        description="chance a visit turns into a lead (a form filled in, a demo asked "
        "for); typical 0.02 to 0.05",
    )


class Promotion(ChannelBase):
    """Sales promotion: a discount window that trades margin for volume."""

    type: Literal["promotion"]
    discount: Annotated[Number, Field(gt=0.0, lt=1.0)] = Field(
        0.2, description="share off the list price"
    )
    product: Id | None = Field(None, description="product discounted (default: all)")
    post_dip: Probability = Field(
        0.0,
        description="a fixed relative drop in purchase chance right after the promotion, "
        "on top of the dip that stocking up makes (0: none)",
    )
    dip_steps: Annotated[Int, Field(ge=0)] = Field(
        4, description="steps over which the post-promotion dip fades"
    )

    @model_validator(mode="after")
    def _needs_end(self) -> Promotion:
        if self.end is None:
            raise ValueError("a promotion needs an `end` step (the window is start <= t < end)")
        return self


class Publicity(ChannelBase):
    """Earned media: random bursts of coverage, larger with reputation."""

    type: Literal["publicity"]
    cost_per_burst: Positive = Field(
        20000.0, description="spend per step that makes a burst likely (currency)"
    )
    reach: Probability = Field(0.2, description="share of targets a burst reaches at neutral trust")
    medium: Medium | None = Field(
        None, description="the medium the coverage runs in (default: none in particular)"
    )
    impact: NonNegative = Field(
        2.0, description="weight of a burst exposure: ad memory added and awareness pull"
    )


class PublicRelations(ChannelBase):
    """Slow build of reputation and trust, which scale conversion and word of mouth."""

    type: Literal["public_relations"]
    cost_scale: Positive = Field(
        500000.0,
        description="spend in one step that would close 63% of the gap to full trust "
        "(currency); spend well below it builds trust slowly",
    )
    decay: Probability = Field(
        0.02, description="share of the gap to the initial reputation closed each step"
    )


Channel = Annotated[
    Advertising | Inbound | Promotion | Publicity | PublicRelations,
    Field(discriminator="type"),
]


class Team(Frozen):
    """What every sales team has: people, their cost and commission, and how they grow."""

    count: Annotated[Int, Field(ge=0)] = Field(0, description="reps on the team")
    cost_per_step: NonNegative = Field(0.0, description="cost per rep per step (currency)")
    commission: Probability = Field(0.0, description="share of won revenue paid to the rep")
    start: StepIndex = Field(0, description="first step the team works")
    ramp_steps: Annotated[Int, Field(ge=0)] = Field(
        0,
        description="steps a newly hired rep takes to reach full capacity (rising "
        "evenly from the first step); 0 = at once",
    )
    tenured: Annotated[Int, Field(ge=0)] | None = Field(
        None,
        description="reps already at full capacity at the team's start (default: all "
        "of them if the team works from step 0, none if it starts later); the others "
        "are new hires who ramp",
    )
    attrition: Probability = Field(
        0.0,
        description="chance per step a rep leaves; the slot is filled at once by a new "
        "hire, who ramps",
    )

    def tenured_reps(self) -> int:
        """Reps at full capacity from the start."""
        if self.tenured is not None:
            return min(self.tenured, self.count)
        return self.count if self.start == 0 else 0


class InsideSales(Team):
    """Inside sales reps: call leads, qualify them and book appointments for outside reps."""

    calls_per_step: Annotated[Int, Field(ge=0)] = Field(40, description="calls per rep per step")
    commission: Probability = Field(
        0.0, description="share of won revenue paid to the rep who booked the meeting"
    )
    qualify_rate: Probability = Field(
        0.6, description="chance a call qualifies a lead whose whole buying centre is engaged"
    )
    cold_qualify_rate: Probability = Field(
        0.03,
        description="chance a cold outbound call qualifies an account that could buy "
        "(within the segment's potential; no other account qualifies)",
    )


class OutsideSales(Team):
    """Outside (field) reps: meet qualified accounts, persuade buying centres, close deals."""

    meetings_per_step: Annotated[Int, Field(ge=0)] = Field(
        8, description="meetings per rep per step"
    )
    skill: Probability = Field(
        0.35, description="chance a meeting wins over one undecided decision maker"
    )
    max_cycle: Annotated[Int, Field(ge=1)] = Field(
        12,
        description="steps an opportunity may stay open before it is lost (no decision)",
    )


class Routing(Frozen):
    """How marketing hands leads to sales: where misalignment costs revenue."""

    score_threshold: Probability = Field(
        0.0,
        description="lowest lead score (share of the buying centre engaged) marketing "
        "passes to sales",
    )
    handoff_delay: Annotated[Int, Field(ge=0)] = Field(
        1, description="steps a passed lead takes to reach inside sales"
    )
    handoff_loss: Probability = Field(0.0, description="chance a passed lead is lost on the way")
    lead_expiry: Annotated[Int, Field(ge=1)] = Field(
        6, description="steps a lead may wait for a call before it goes cold"
    )
    lead_cooling: Probability = Field(
        0.1,
        description="share of a lead's chance to qualify lost for each step it waits after "
        "it was passed to sales (hand-off delay included)",
    )


class Warmth(Frozen):
    """How warm an opportunity is, by where it came from: it scales approval and the decision."""

    inbound: NonNegative = Field(1.0, description="a lead marketing passed to sales")
    referral: NonNegative = Field(
        1.3,
        description="a lead whose economic buyer first heard of the company by word of mouth",
    )
    cold: NonNegative = Field(0.5, description="an account reached by a cold call")


class Cycle(Frozen):
    """The stages of a B2B deal after the appointment: how long they take, how they end."""

    show_rate: Probability = Field(
        0.85,
        description="chance a booked appointment is held; otherwise the account goes back "
        "to marketing",
    )
    discovery_steps: Annotated[Int, Field(ge=1)] = Field(
        2,
        description="steps of meetings an opportunity needs before a proposal can go out",
    )
    proposal_steps: Annotated[Int, Field(ge=1)] = Field(
        3, description="steps a buying centre takes to decide on a proposal"
    )
    warmth: Warmth = Field(default_factory=Warmth)


class Sales(Frozen):
    """The sales organisation."""

    inside: InsideSales = Field(default_factory=InsideSales)
    outside: OutsideSales = Field(default_factory=OutsideSales)
    routing: Routing = Field(default_factory=Routing)
    cycle: Cycle = Field(default_factory=Cycle)


class Broker(KindSpecific):
    """Agents in the market: buyer's brokers or seller's agents (resellers)."""

    ONLY: ClassVar[dict[str, tuple[str, ...]]] = {
        "seller": (
            "oversell",
            "oversight_budget",
            "oversight_scale",
            "refund_after",
            "clawback",
            "cooldown",
        ),
        "buyer": ("negotiation",),
    }
    KIND_KEY: ClassVar[str] = "represents"

    id: Id
    represents: Literal["buyer", "seller"] = Field(
        description="'seller': the company's agents; 'buyer': brokers hired by customers"
    )
    count: Annotated[Int, Field(ge=0)] = 1
    targets: list[Id] | None = Field(None, description="segment ids served (default: all)")
    commission: Probability = Field(
        0.0,
        description="share of the deal value paid (by the company for sellers' agents, "
        "by the client for buyer's brokers)",
    )
    clients_per_step: Annotated[Int, Field(ge=0)] = Field(
        10, description="prospects each agent works per step"
    )
    close_rate: Probability = Field(
        0.05, description="chance a worked prospect buys at the reference price"
    )
    negotiation: Probability = Field(
        0.05, description="buyer's brokers: share they negotiate off the price"
    )
    oversell: Probability = Field(
        0.0, description="sellers' agents: share of sales mis-sold when unsupervised"
    )
    oversight_budget: NonNegative = Field(
        0.0, description="sellers' agents: spend on supervising them over the horizon"
    )
    oversight_scale: Positive = Field(
        1000.0, description="oversight spend per step that cuts overselling by 63%"
    )
    refund_after: Annotated[Int, Field(ge=1)] = Field(
        4, description="sellers' agents: steps until a mis-sold customer asks for a refund"
    )
    clawback: bool = Field(
        True, description="sellers' agents: the commission on a refunded sale is paid back"
    )
    cooldown: Annotated[Int, Field(ge=0)] = Field(
        26,
        description="sellers' agents: steps after a refund in which the customer is no "
        "broker's prospect and no cold call's target (they may still buy on their own, and "
        "marketing may still pass their leads to sales)",
    )
    start: StepIndex = Field(0, description="step the agents start working (a new channel)")


STEPS_PER_YEAR = {"day": 365, "week": 52, "month": 12, "quarter": 4, "year": 1}
"""How many steps of each kind make a year: what discounting and monthly plans count by."""


class Equity(Frozen):
    """How the customers held at the horizon are valued (docs/model.md, section 6).

    Their expected margin after the horizon, from the scenario's churn, repurchase,
    subscription renewal and contract renewal rates, discounted to the horizon.
    """

    discount_rate: Annotated[Number, Field(ge=0.0, le=1.0)] = Field(
        0.1, description="annual rate future margin is discounted at (0.1 = 10% a year)"
    )
    years: Annotated[Number, Field(gt=0.0, le=50.0)] = Field(
        5.0, description="years after the horizon whose margin is counted"
    )


class Scenario(Frozen):
    """A market and a promotional mix, simulated over `horizon` steps."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    horizon: Annotated[Int, Field(ge=1, le=100_000)] = Field(description="steps to simulate")
    step: Literal["day", "week", "month", "quarter", "year"] = "week"
    seed: Annotated[Int, Field(ge=0, lt=MAX_SEED + 1)] = 0
    products: Annotated[list[Product], Field(min_length=1)]
    segments: Annotated[list[Segment], Field(min_length=1)]
    channels: Annotated[list[Channel], Field(max_length=100)] = Field(default_factory=list)
    sales: Sales | None = None
    brokers: list[Broker] = Field(default_factory=list)
    behaviours: list[dict[str, Any]] = Field(
        default_factory=list,
        description="behaviour plugins, each `{plugin: NAME, ...its parameters}`, in order",
    )
    demand: Demand = Field(
        default_factory=Demand,
        description="demand's baseline by step: seasonality, trend, events (default: flat)",
    )
    equity: Equity = Field(default_factory=Equity)
    burn_in: BurnIn | None = Field(
        None, description="steps run before step 0 under a stated plan (default: none)"
    )
    optimize: OptimizeSpec | None = None
    calibrate: CalibrateSpec | None = None
    _prepared: bool = PrivateAttr(default=False)
    _warnings: tuple[Any, ...] = PrivateAttr(default=())

    @property
    def people(self) -> int:
        """Number of people in the population."""
        return sum(s.people for s in self.segments)

    @property
    def steps_per_year(self) -> int:
        """How many steps make a year (52 weeks, 12 months, ...)."""
        return STEPS_PER_YEAR[self.step]

    @property
    def prepared(self) -> bool:
        """Whether its references are checked and behaviours resolved, ready to run.

        Set by `marketsim.plugins.prepare`; a copy with changes is not prepared.
        """
        return self._prepared

    @property
    def warnings(self) -> tuple[Any, ...]:
        """What preparing found allowed but probably not meant (located problems)."""
        return self._warnings

    def mark_prepared(self, warnings: tuple[Any, ...] = ()) -> None:
        """Record that `marketsim.plugins.prepare` checked this scenario, and its warnings."""
        self._prepared = True
        self._warnings = warnings

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Scenario:
        """A copy; one with changes must be prepared again before it runs."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._prepared = False
        return copy

    def __eq__(self, other: object) -> bool:
        """Equal when every setting is: whether either was prepared does not matter."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # lists inside: never hashable


# --------------------------------------------------------------------------- optimize


def _risk(value: object) -> object:
    """`mean`, `cvar:ALPHA` or `quantile:Q` with 0 < ALPHA, Q < 1."""
    if not isinstance(value, str):
        return value
    kind, _, level = value.partition(":")
    if kind == "mean" and not level:
        return value
    if kind in ("cvar", "quantile") and level:
        try:
            number = float(level)
        except ValueError:
            number = float("nan")
        if 0.0 < number < 1.0:
            return value
    raise ValueError(
        f"expected 'mean', 'cvar:ALPHA' or 'quantile:Q' (0 < ALPHA, Q < 1), found {value!r}"
    )


Risk = Annotated[str, BeforeValidator(_risk)]


class BudgetBounds(Frozen):
    """Lowest and highest budget the optimiser may give one channel (currency)."""

    min: NonNegative = Field(0.0, description="lowest budget over the horizon (currency)")
    max: NonNegative | None = Field(
        None, description="highest budget over the horizon (currency); default: no limit"
    )

    @model_validator(mode="after")
    def _ordered(self) -> BudgetBounds:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"`min <= max` must hold, but got (min={self.min}, max={self.max})")
        return self


class CountRange(Frozen):
    """Lowest and highest whole number a decision variable may take."""

    min: Annotated[Int, Field(ge=0)] = Field(0, description="lowest value")
    max: Annotated[Int, Field(ge=0)] = Field(description="highest value")

    @model_validator(mode="after")
    def _ordered(self) -> CountRange:
        if self.max < self.min:
            raise ValueError(f"`min <= max` must hold, but got (min={self.min}, max={self.max})")
        return self


class DiscountRange(Frozen):
    """Lowest and highest promotion discount the optimiser may choose."""

    min: Annotated[Number, Field(gt=0.0, lt=1.0)] = Field(description="lowest share off")
    max: Annotated[Number, Field(gt=0.0, lt=1.0)] = Field(description="highest share off")

    @model_validator(mode="after")
    def _ordered(self) -> DiscountRange:
        if self.max < self.min:
            raise ValueError(f"`min <= max` must hold, but got (min={self.min}, max={self.max})")
        return self


class Flighting(Frozen):
    """Let the optimiser choose how a channel's budget is spread over time."""

    channel: Id = Field(description="id of the channel whose spend profile is chosen")
    periods: Annotated[Int, Field(ge=1, le=52)] = Field(
        4, description="equal periods of the channel's window, one weight each (4 = quarters)"
    )
    pulsing: bool = Field(
        False, description="also choose between continuous spend and pulsing (every other step)"
    )


class Headcount(Frozen):
    """Sales headcounts the optimiser may choose; their cost is paid from the total budget."""

    inside: CountRange | None = Field(None, description="inside sales reps")
    outside: CountRange | None = Field(None, description="outside (field) sales reps")


class Constraints(Frozen):
    """What every plan the optimiser returns must meet, on its re-evaluated means.

    Minimum customers and the largest cost per acquisition are outcomes: a trial that
    misses one is kept but not chosen (and the sampler is told how far it missed). A
    minimum spend share is a budget floor: share x total budget for that channel.
    """

    min_customers: dict[Id, NonNegative] = Field(
        default_factory=dict,
        description="customers held at the horizon, at least: per kind of customer "
        "(consumers, accounts) or per segment id",
    )
    min_share: dict[Id, Probability] = Field(
        default_factory=dict,
        description="per channel id: the least share of the total budget it is given (0.1 = 10%)",
    )
    max_cost_per_acquisition: dict[Literal["consumers", "accounts"], Positive] = Field(
        default_factory=dict,
        description="per kind of customer: the most a plan may spend per customer won "
        "(cost per consumer won, per account won; currency)",
    )

    @property
    def outcomes(self) -> bool:
        """Whether any constraint depends on how the market responds."""
        return bool(self.min_customers or self.max_cost_per_acquisition)


class PromotionChoice(Frozen):
    """Let the optimiser choose a promotion's discount and timing (its length is kept)."""

    channel: Id = Field(description="id of a promotion channel")
    discount: DiscountRange | None = Field(None, description="range of the share off")
    start: CountRange | None = Field(None, description="range of the first step of the offer")


class OptimizeSpec(Frozen):
    """Settings of `marketsim optimize`; command-line options override them."""

    objective: Literal["revenue", "profit", "roi", "profit+equity"] = Field(
        "revenue",
        description="what the optimiser maximises: totals over the horizon, or profit "
        "plus the customer equity held at the horizon (profit+equity)",
    )
    total_budget: Positive | None = Field(
        None,
        description="money split over the optimised channels (and headcount), always spent "
        "in full (currency); default: what the scenario gives them now",
    )
    channels: list[Id] | None = Field(
        None,
        description="channels whose budgets are chosen (default: every channel with a budget "
        "and every channel with bounds)",
    )
    bounds: dict[Id, BudgetBounds] = Field(
        default_factory=dict, description="budget limits per channel id"
    )
    flighting: list[Flighting] = Field(default_factory=list)
    headcount: Headcount | None = None
    promotions: list[PromotionChoice] = Field(default_factory=list)
    constraints: Constraints = Field(default_factory=Constraints)
    trials: Annotated[Int, Field(ge=1)] = Field(100, description="completed trials wanted")
    replicates: Annotated[Int, Field(ge=1)] = Field(
        3, description="replicates per trial, on common random numbers"
    )
    risk: Risk = Field(
        "mean",
        description="how a trial's replicates become one value: mean, cvar:ALPHA (mean of "
        "the worst ALPHA share) or quantile:Q",
    )
    pareto: Literal["spend", "risk"] | None = Field(
        None,
        description="multi-objective: trade the objective against spend, or its mean "
        "against its risk measure, and report the Pareto front",
    )
    sampler: Literal["tpe", "cmaes", "gp", "random", "nsga2"] = "tpe"
    workers: Annotated[Int, Field(ge=1, le=256)] = Field(1, description="parallel processes")
    timeout: Positive | None = Field(None, description="stop starting trials after (seconds)")
    study_name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="name of the study in its storage (default: the scenario name)"
    )
    reevaluate: Annotated[Int, Field(ge=2)] = Field(
        10, description="replicates on fresh seeds re-evaluating the best candidates"
    )
    candidates: Annotated[Int, Field(ge=1, le=50)] = Field(
        3, description="best trials re-evaluated on fresh seeds"
    )
    curve_points: Annotated[Int, Field(ge=0, le=101)] = Field(
        7, description="points of each channel's response curve in the report (0: none)"
    )


# Scenario names OptimizeSpec before it is defined: resolve that now, not on first use.
Scenario.model_rebuild()
