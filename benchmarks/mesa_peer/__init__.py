"""The plain-Mesa peer: marketsim's consumer model as a Mesa user would write it.

`ConsumerMarket(scenario)` is a `mesa.Model` with one `Consumer` agent per person; see
`model` for the rules and `draws` for where its random numbers come from.
"""

from benchmarks.mesa_peer.model import Consumer, ConsumerMarket
from benchmarks.mesa_peer.parameters import Unsupported

__all__ = ["Consumer", "ConsumerMarket", "Unsupported"]
