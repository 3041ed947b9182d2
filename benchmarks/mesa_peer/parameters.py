"""The peer's parameters: a marketsim scenario read into the numbers a Mesa model holds.

A Mesa user would type these into their model's constructor; reading them off a
scenario keeps the two models on exactly the same inputs. Each step-independent factor
is computed here once, with the same arithmetic as marketsim, so that on shared random
streams both give the same outcomes bit for bit (docs/model.md sections 3-5).

The peer models what the plain consumer market needs and refuses the rest by name
(`Unsupported`): b2c segments of one product, bought once or again; advertising and
inbound channels; the four individual traits. Promotions, publicity, public relations,
media habits, subscriptions, late launches, sampled segments (`represents`), sales and plugins are
out of its scope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from marketsim.scenario.schema import Advertising, Inbound, Scenario, Segment
from marketsim.scenario.traits import Beta, Fixed, Gamma, LogNormal, Mix, Trait, mean_of, varies

TRAITS = ("price_sensitivity", "purchase_rate", "word_of_mouth", "attitude")
"""The individual traits, as marketsim names them."""


class Unsupported(ValueError):
    """The scenario uses a feature the Mesa peer does not model."""


@dataclass(frozen=True)
class TraitDraw:
    """How one segment's people get a trait: a number, or a distribution's parameters.

    `family` is "fixed", "gamma" (p = mean, q = shape), "beta" (p, q = shapes),
    "lognormal" (p = mu, q = sigma) or "mix" (values with weights).
    """

    family: str
    p: float = 0.0
    q: float = 0.0
    values: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()


@dataclass(frozen=True)
class SegmentRules:
    """One segment's per-step chances and hazards (trust and price already applied)."""

    id: str
    first_row: int
    size: int
    network: str
    degree: int
    rewire: float
    initial_awareness: float
    potential: float
    innovation_hazard: float
    attention: float
    retention: float
    awareness_adstock: float
    awareness_decay: float
    persuasion: float
    interest: float
    word_of_mouth: float
    purchase: float
    search: float
    lead_conversion: float
    interest_decay: float
    churn: float
    dissatisfied_churn: float
    churn_price: float
    silent_when_let_down: bool
    repeat: float
    elasticity: float
    substitution: float
    relative: float
    """Price paid over the segment's reference price."""
    again: float
    """The product's own price response (relative ** -elasticity)."""
    pull: float
    traits: dict[str, TraitDraw]


@dataclass(frozen=True)
class ProductRules:
    """The one product: how it is bought again, what it costs, how it satisfies."""

    repeat: bool
    scale: float
    shape: float
    list_price: float
    appeal: float
    quality: float


@dataclass(frozen=True)
class AdRules:
    """An advertising channel: its spend plan and how its exposures weigh."""

    index: int
    targets: tuple[int, ...]
    plan: tuple[float, ...]
    cost_per_contact: float
    impact: float
    threshold: int
    wear_out: float


@dataclass(frozen=True)
class InboundRules:
    """An inbound channel: its spend plan, cost per visit and conversion."""

    index: int
    targets: tuple[int, ...]
    plan: tuple[float, ...]
    cost_per_contact: float
    conversion: float


@dataclass(frozen=True)
class MarketRules:
    """Everything the peer model reads from a scenario."""

    horizon: int
    seed: int
    segments: tuple[SegmentRules, ...]
    product: ProductRules
    advertising: tuple[AdRules, ...]
    inbound: tuple[InboundRules, ...]
    n_channels: int
    stored: dict[str, bool]
    """Per trait: whether anyone's value differs (else everyone has the default)."""

    @property
    def size(self) -> int:
        """People in the market."""
        return sum(s.size for s in self.segments)


def read_rules(scenario: Scenario) -> MarketRules:
    """The peer's parameters for `scenario`; `Unsupported` names what it cannot model."""
    _check(scenario)
    product = scenario.products[0]
    rules_product = ProductRules(
        repeat=product.purchase == "repeat",
        scale=product.repurchase_every / math.gamma(1.0 + 1.0 / product.repurchase_shape)
        if product.purchase == "repeat"
        else 1.0,
        shape=float(product.repurchase_shape),
        list_price=float(product.price),
        appeal=float(product.appeal),
        quality=float(product.quality),
    )
    segments, row = [], 0
    for seg in scenario.segments:
        segments.append(_segment(seg, row, rules_product))
        row += seg.size
    ids = [s.id for s in scenario.segments]
    advertising, inbound = [], []
    for index, channel in enumerate(scenario.channels):
        targets = tuple(ids.index(t) for t in (channel.targets or ids))
        plan = _plan(channel, scenario.horizon)
        if isinstance(channel, Advertising):
            advertising.append(
                AdRules(
                    index,
                    targets,
                    plan,
                    float(channel.cost_per_contact),
                    float(channel.impact),
                    int(channel.frequency_threshold),
                    float(channel.wear_out),
                )
            )
        elif isinstance(channel, Inbound):
            inbound.append(
                InboundRules(
                    index, targets, plan, float(channel.cost_per_contact), channel.conversion
                )
            )
    stored = {name: any(varies(_trait(seg, name)) for seg in scenario.segments) for name in TRAITS}
    return MarketRules(
        horizon=scenario.horizon,
        seed=scenario.seed,
        segments=tuple(segments),
        product=rules_product,
        advertising=tuple(advertising),
        inbound=tuple(inbound),
        n_channels=len(scenario.channels),
        stored=stored,
    )


def _check(scenario: Scenario) -> None:
    problems = []
    if len(scenario.products) != 1:
        problems.append(f"{len(scenario.products)} products (the peer models one)")
    elif scenario.products[0].purchase == "subscription":
        problems.append(f"product {scenario.products[0].id!r} is a subscription")
    elif scenario.products[0].launch_step > 0:
        problems.append(f"product {scenario.products[0].id!r} launches late")
    for seg in scenario.segments:
        if seg.kind != "b2c":
            problems.append(f"segment {seg.id!r} is {seg.kind}")
        elif seg.scale != 1:
            problems.append(f"segment {seg.id!r} represents a larger market")
        elif seg.media:
            problems.append(f"segment {seg.id!r} has media habits")
        elif seg.dissatisfied_word_of_mouth == "against":
            problems.append(f"segment {seg.id!r} has detractors (dissatisfied_word_of_mouth)")
    for channel in scenario.channels:
        if channel.enabled and not isinstance(channel, Advertising | Inbound):
            problems.append(f"channel {channel.id!r} is {channel.type}")
    if scenario.sales is not None or scenario.brokers or scenario.behaviours:
        problems.append("a sales organisation, brokers or behaviour plugins")
    if problems:
        raise Unsupported(
            f"scenario {scenario.name!r}: the Mesa peer does not model " + "; ".join(problems)
        )


def _segment(seg: Segment, first_row: int, product: ProductRules) -> SegmentRules:
    trust = 2.0 * seg.reputation
    eps = (
        seg.price_sensitivity
        if seg.traits.price_sensitivity is None
        else mean_of(seg.traits.price_sensitivity)
    )
    reference = seg.reference_price or product.list_price or 1.0
    relative = product.list_price / reference
    relative = relative if relative > 0 else 1.0
    # The nested-logit pull of a range of one product (section 4).
    weight = (product.appeal * relative**-eps) ** (1.0 / seg.substitution)
    pull = weight**seg.substitution
    churn_trust = (trust if trust > 0 else 1.0) ** -seg.churn_trust_response
    return SegmentRules(
        id=seg.id,
        first_row=first_row,
        size=seg.size,
        network=seg.network.type,
        degree=seg.network.degree,
        rewire=seg.network.rewire,
        initial_awareness=seg.initial_awareness,
        potential=seg.potential,
        innovation_hazard=-math.log1p(-min(seg.innovation, 1.0 - 1e-15)),
        attention=seg.attention,
        retention=seg.ad_memory_retention,
        awareness_adstock=seg.awareness_adstock,
        awareness_decay=seg.awareness_decay,
        persuasion=seg.persuasion,
        interest=seg.interest,
        word_of_mouth=seg.word_of_mouth * trust,
        purchase=seg.purchase * (pull * trust),
        search=seg.search,
        lead_conversion=seg.lead_conversion * (pull * trust),
        interest_decay=seg.interest_decay,
        churn=seg.churn * churn_trust,
        dissatisfied_churn=seg.dissatisfied_churn,
        churn_price=seg.churn_price_response,
        silent_when_let_down=seg.dissatisfied_word_of_mouth == "silent",
        repeat=trust,
        elasticity=eps,
        substitution=seg.substitution,
        relative=relative,
        again=relative**-eps,
        pull=pull,
        traits={name: _draw_of(_trait(seg, name)) for name in TRAITS},
    )


def _trait(seg: Segment, name: str) -> Trait:
    value = getattr(seg.traits, name)
    if value is not None:
        return value
    return seg.price_sensitivity if name == "price_sensitivity" else 1.0


def _draw_of(trait: Trait) -> TraitDraw:
    if isinstance(trait, int | float):
        return TraitDraw("fixed", float(trait))
    if isinstance(trait, Fixed):
        return TraitDraw("fixed", float(trait.value))
    if isinstance(trait, Gamma):
        return TraitDraw("gamma", trait.mean, trait.shape)
    if isinstance(trait, Beta):
        return TraitDraw("beta", trait.a, trait.b)
    if isinstance(trait, LogNormal):
        return TraitDraw("lognormal", trait.mu, trait.sigma)
    if isinstance(trait, Mix):
        return TraitDraw("mix", values=tuple(trait.values), weights=tuple(trait.weights))
    raise Unsupported(f"trait {trait!r}")


def _plan(channel: Advertising | Inbound, horizon: int) -> tuple[float, ...]:
    """Spend per step: the budget spread by the schedule, or evenly over the window."""
    if not channel.enabled:
        return (0.0,) * horizon
    if channel.schedule is not None:
        weights = np.asarray(channel.schedule, dtype=np.float64)
    else:
        weights = np.zeros(horizon)
        weights[channel.start : channel.end if channel.end is not None else horizon] = 1.0
    total = weights.sum()
    return tuple((channel.budget * weights / total).tolist()) if total > 0 else (0.0,) * horizon
