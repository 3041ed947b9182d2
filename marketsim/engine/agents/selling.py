"""What every agent who sells has in common: capacity, commission and a record.

Reps and brokers differ in whom they work and how (`marketsim.engine.agents.sales`,
`marketsim.engine.agents.broker`); the bookkeeping of agents.csv is the same for all of them.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

COUNTED = ("calls", "meetings", "clients", "deals", "refunds")
"""Activities counted per agent, as in agents.csv."""


class SellingAgent(mesa.Agent):
    """An agent with a capacity per step who may earn a commission on what they sell."""

    def __init__(self, model: mesa.Model, index: int, capacity: int, commission: float) -> None:
        super().__init__(model)
        self.index = index
        self.capacity = capacity
        self.commission = commission
        self.stats: dict[str, Any] = {
            **dict.fromkeys(COUNTED, 0),
            "revenue": 0.0,
            "commission": 0.0,
        }
        self.capacity_offered = 0
        self.capacity_used = 0

    @property
    def name(self) -> str:
        """Identifier used in agents.csv, e.g. `inside-1` or `resellers-2`."""
        raise NotImplementedError

    @property
    def role(self) -> str:
        """What the agent does: inside, outside, seller or buyer."""
        raise NotImplementedError

    def select(self, offered: np.ndarray) -> np.ndarray:
        """What to work this step, at most `capacity`, from what is offered in order."""
        return offered[: self.capacity]

    def worked(self, activity: str, count: int) -> None:
        """Book `count` calls, meetings or clients worked this step against capacity."""
        self.stats[activity] += count
        self.capacity_offered += self.capacity
        self.capacity_used += count

    def earn(self, revenue: float) -> float:
        """Credit a deal worth `revenue`; return the commission it earns the agent."""
        paid = revenue * self.commission
        self.stats["deals"] += 1
        self.stats["revenue"] += revenue
        self.stats["commission"] += paid
        return paid

    def utilisation(self) -> float | None:
        """Share of the capacity offered over the run that was used."""
        return self.capacity_used / self.capacity_offered if self.capacity_offered else None

    def row(self, replicate: int) -> dict[str, Any]:
        """The agent's line in agents.csv."""
        return {
            "replicate": replicate,
            "agent": self.name,
            "role": self.role,
            **{k: self.stats[k] for k in ("calls", "meetings", "clients", "deals")},
            "revenue": self.stats["revenue"],
            "commission": self.stats["commission"],
            "refunds": self.stats["refunds"],
            "utilisation": self.utilisation(),
        }
