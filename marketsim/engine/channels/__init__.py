"""The promotional mix: one module per channel type."""

from __future__ import annotations

from marketsim.engine.channels.advertising import AdvertisingChannel
from marketsim.engine.channels.base import ChannelModel, MarketState, StepInputs, spend_plan
from marketsim.engine.channels.inbound import InboundChannel
from marketsim.engine.channels.promotion import PromotionChannel
from marketsim.engine.channels.public_relations import PublicRelationsChannel
from marketsim.engine.channels.publicity import PublicityChannel
from marketsim.scenario.schema import Scenario

CHANNEL_TYPES: dict[str, type[ChannelModel]] = {
    cls.type: cls
    for cls in (
        AdvertisingChannel,
        InboundChannel,
        PromotionChannel,
        PublicityChannel,
        PublicRelationsChannel,
    )
}


def build_channels(scenario: Scenario) -> list[ChannelModel]:
    """One channel model per scenario channel, in scenario order."""
    return [CHANNEL_TYPES[c.type](c, i, scenario) for i, c in enumerate(scenario.channels)]


__all__ = [
    "CHANNEL_TYPES",
    "ChannelModel",
    "MarketState",
    "StepInputs",
    "build_channels",
    "spend_plan",
]
