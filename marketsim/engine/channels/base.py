"""What a channel of the promotional mix is, and what it may change in a step.

Extension point: subclass `ChannelModel`, set `type` to the scenario's `type` value and
implement `apply`, which reads the market and writes this step's effect into
`StepInputs` (exposures, findability, price and purchase multipliers, reputation).
Spend follows the channel's plan (`spend_plan`); `apply` must not change money. A
channel that discounts what buyers pay also says so in `discount`, so the ledger books
the discount's cost. Defining the subclass registers it: the registry is
`CHANNEL_TYPES`, keyed by `type`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from marketsim.scenario.schema import ChannelBase, Scenario


@dataclass
class MarketState:
    """What channels may read about the market at the start of a step.

    Attributes:
        people: people per segment in the real market (a segment's `represents`).
        stage_counts: real people per segment and funnel stage at the start of the
            step (each simulated person counts `represents / size`).
        reputation: trust in the company per segment, in [0, 1]; mutable by channels.
        search: chance per step an interested person searches, per segment.
        silent: customers per segment who do not speak for the company (let down).

    """

    people: np.ndarray
    stage_counts: np.ndarray
    reputation: np.ndarray
    search: np.ndarray
    silent: np.ndarray


@dataclass
class StepInputs:
    """The promotional mix's effect on one step, handed to the customer kernel.

    Attributes:
        exposure: [channel, segment] expected exposures per person (Poisson), or the
            chance of one exposure where `bernoulli` is set.
        bernoulli: [channel] whether exposures are at most one per person.
        impact: [channel] ad memory added by one exposure.
        find: [channel, segment] chance a searching person finds the company: a visit.
        convert: [channel] chance a visit becomes a lead.
        price: [segment, product] price paid as a share of the list price by buyers.
        renewal_price: [segment, product] the same for subscribers' bills: promotions
            lower it only for products whose promotions apply to every bill.
        purchase: [segment] multiplier on purchase chances beyond price (e.g. a dip).

    """

    exposure: np.ndarray
    bernoulli: np.ndarray
    impact: np.ndarray
    find: np.ndarray
    convert: np.ndarray
    price: np.ndarray
    renewal_price: np.ndarray
    purchase: np.ndarray

    @classmethod
    def empty(cls, n_channels: int, n_segments: int, n_products: int) -> StepInputs:
        """Inputs of a step in which no channel acts."""
        return cls(
            exposure=np.zeros((n_channels, n_segments)),
            bernoulli=np.zeros(n_channels, dtype=np.bool_),
            impact=np.zeros(n_channels),
            find=np.zeros((n_channels, n_segments)),
            convert=np.zeros(n_channels),
            price=np.ones((n_segments, n_products)),
            renewal_price=np.ones((n_segments, n_products)),
            purchase=np.ones(n_segments),
        )


def spend_plan(spec: ChannelBase, horizon: int) -> np.ndarray:
    """Spend per step: the budget spread by the schedule, or evenly over the window."""
    if spec.schedule is not None:
        weights = np.asarray(spec.schedule, dtype=np.float64)
    else:
        weights = np.zeros(horizon)
        weights[spec.start : spec.end if spec.end is not None else horizon] = 1.0
    total = weights.sum()
    return spec.budget * weights / total if total > 0 else np.zeros(horizon)


@dataclass(frozen=True)
class Discount:
    """Who pays less this step because of a channel, and by what share of the price."""

    channel: int
    segments: np.ndarray
    products: np.ndarray
    billed: np.ndarray
    """Products whose subscription bills are discounted too."""
    rate: float


class ChannelModel(ABC):
    """One channel of the promotional mix, built from its scenario section."""

    type: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type in CHANNEL_TYPES:
            raise TypeError(
                f"channel type {cls.type!r} is defined twice: "
                f"{CHANNEL_TYPES[cls.type].__qualname__} and {cls.__qualname__}"
            )
        CHANNEL_TYPES[cls.type] = cls

    def __init__(self, spec: ChannelBase, index: int, scenario: Scenario) -> None:
        ids = [s.id for s in scenario.segments]
        self.spec = spec
        self.id = spec.id
        self.index = index
        self.targets = np.array([ids.index(t) for t in (spec.targets or ids)], dtype=np.int64)
        self.plan = (
            spend_plan(spec, scenario.horizon) if spec.enabled else np.zeros(scenario.horizon)
        )

    @abstractmethod
    def apply(self, step: int, key: np.uint64, market: MarketState, inputs: StepInputs) -> None:
        """Write this step's effect of `self.plan[step]` spend into `inputs`."""

    def discount(self, step: int) -> Discount | None:
        """The discount this channel gives at `step`, if any (default: none)."""
        return None


CHANNEL_TYPES: dict[str, type[ChannelModel]] = {}
"""Every channel type, by the scenario's `type` value; filled as subclasses are defined."""


def build_channels(scenario: Scenario) -> list[ChannelModel]:
    """One channel model per scenario channel, in scenario order."""
    return [CHANNEL_TYPES[c.type](c, i, scenario) for i, c in enumerate(scenario.channels)]
