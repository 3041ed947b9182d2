"""What a Python hook sees of one step: the arrays it may read and change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from marketsim.engine.channels import MarketState, StepInputs
    from marketsim.engine.model import MarketModel
    from marketsim.engine.population import Population


@dataclass
class StepContext:
    """One step as the hooks see it.

    Attributes:
        model: the running `MarketModel` (scenario, sales organisation, ledger).
        step: the step index.
        key: the step's random stream key; draw with `marketsim.kernels.rng.uniform_py`
            (or `uniform` in numba) using purposes from `P_PLUGIN` upwards.
        inputs: the promotional mix's effect this step (exposure, impact, find, price,
            purchase multipliers) — `price` and `exposure` hooks change it.
        market: people, stage counts at the start of the step, reputation, search.
        population: per-person arrays (stage, ad_memory, touches, network, detractor).
        seg: [segment, column] effective parameters (columns in
            `marketsim.core.layout`) — `persuasion` and `purchase` hooks change it;
            None before they are computed.
        talk: per-person word-of-mouth input — the `word_of_mouth` hook changes it;
            None before it is computed.
    """

    model: MarketModel
    step: int
    key: np.uint64
    inputs: StepInputs
    market: MarketState
    population: Population
    seg: np.ndarray | None = None
    talk: np.ndarray | None = None
