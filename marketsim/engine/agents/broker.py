"""Brokers: agents in the market who represent either the seller or the buyer.

A seller's agent (reseller) is extra selling capacity paid a commission by the company;
without oversight some of its sales are mis-sold and come back as refunds, churn and
unhappy customers. A buyer's broker is hired by customers: it finds the offer for its
clients, makes them likelier to buy, negotiates the price down, and is paid by them.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from marketsim.engine.agents.selling import SellingAgent
from marketsim.scenario.schema import Broker as BrokerSpec


class Broker(SellingAgent):
    """One agent of a broker group from the scenario's `brokers` section."""

    def __init__(
        self, model: mesa.Model, spec: BrokerSpec, group: int, index: int, targets: np.ndarray
    ) -> None:
        super().__init__(model, index, spec.clients_per_step, spec.commission)
        self.spec = spec
        self.group = group
        self.targets = targets

    @property
    def name(self) -> str:
        """Identifier used in agents.csv, e.g. `resellers-2`."""
        return f"{self.spec.id}-{self.index + 1}"

    @property
    def role(self) -> str:
        """`seller` or `buyer`: whom the agent represents."""
        return self.spec.represents

    def active(self, step: int) -> bool:
        """Whether the agent works at `step` (a channel can open mid-horizon)."""
        return step >= self.spec.start

    def oversell_chance(self, oversight_per_step: float) -> float:
        """Chance a sale is mis-sold, cut by oversight spending."""
        if self.spec.represents != "seller":
            return 0.0
        return self.spec.oversell * math.exp(-oversight_per_step / self.spec.oversight_scale)
