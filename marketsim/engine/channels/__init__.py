"""The promotional mix: one module per channel type, registered as it is defined."""

from __future__ import annotations

from marketsim.engine.channels import (  # noqa: F401  (each defines and registers a type)
    advertising,
    inbound,
    promotion,
    public_relations,
    publicity,
)
from marketsim.engine.channels.base import (
    CHANNEL_TYPES,
    ChannelModel,
    Discount,
    MarketState,
    StepInputs,
    build_channels,
    spend_plan,
)

__all__ = [
    "CHANNEL_TYPES",
    "ChannelModel",
    "Discount",
    "MarketState",
    "StepInputs",
    "build_channels",
    "spend_plan",
]
