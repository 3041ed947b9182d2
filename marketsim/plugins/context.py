"""What a Python hook sees of one step: the arrays it may read and change.

The market's parts are described here by what a plugin may use of them (protocols), so
plugins depend on this contract rather than on the engine's classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from marketsim.scenario.schema import Scenario


class StepInputsView(Protocol):
    """The promotional mix's effect on one step (see `marketsim.engine.channels`)."""

    exposure: np.ndarray  # [channel, segment] expected exposures per person
    bernoulli: np.ndarray  # [channel] at most one exposure per person
    impact: np.ndarray  # [channel] ad memory added by one exposure
    find: np.ndarray  # [channel, segment] chance a searcher finds the company
    price: np.ndarray  # [segment, product] price paid as a share of list price
    purchase: np.ndarray  # [segment] multiplier on purchase chances beyond price


class MarketView(Protocol):
    """Per-segment market state at the start of the step."""

    people: np.ndarray  # people per segment in the real market (`represents`)
    stage_counts: np.ndarray  # [segment, stage] real people per funnel stage
    reputation: np.ndarray  # trust per segment, in [0, 1]
    search: np.ndarray  # chance an interested person searches


class PopulationView(Protocol):
    """Per-person arrays (row i is one person; segments are contiguous blocks)."""

    segment: np.ndarray
    stage: np.ndarray
    ad_memory: np.ndarray
    purchased_at: np.ndarray  # step of the last purchase (or when bought stock runs out)
    customer_since: np.ndarray  # step the person last became a customer (NEVER_CUSTOMER)
    first_touch: np.ndarray
    last_touch: np.ndarray
    detractor: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    offsets: np.ndarray

    @property
    def size(self) -> int:
        """Number of people."""
        ...


class ModelView(Protocol):
    """The running model, as `Plugin.setup` and hooks may use it."""

    scenario: Scenario
    population: PopulationView
    market: MarketView
    setup_key: np.uint64
    channels: list[Any]  # the channel models, in scenario order (`id`, `plan`, `spec`)
    products: Any  # the product range (`choice(step, price)`, `list_price`)
    sales: Any  # the sales organisation (`accounts`, reps and brokers)


@dataclass
class StepContext:
    """One step as the hooks see it.

    Attributes:
        model: the running model (scenario, population, channels, products, sales).
        step: the step index.
        key: the step's random stream key; draw with `marketsim.plugins.sdk.uniform_py`
            (or `uniform` in numba) using purposes from `Plugin.purpose(k)`.
        inputs: the promotional mix's effect this step (exposure, impact, find, price,
            purchase multipliers) — `price` and `exposure` hooks change it.
        market: people, stage counts at the start of the step, reputation, search.
        population: per-person arrays (stage, ad_memory, touches, network, detractor).
        seg: [segment, column] effective parameters (columns: `SegmentColumn`) —
            `persuasion` and `purchase` hooks change it; None before they are computed.
        talk: per-person word-of-mouth input — the `word_of_mouth` hook changes it;
            None before it is computed.
    """

    model: ModelView
    step: int
    key: np.uint64
    inputs: StepInputsView
    market: MarketView
    population: PopulationView
    seg: np.ndarray | None = None
    talk: np.ndarray | None = None
