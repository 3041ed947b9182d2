"""What every agent who sells has in common: capacity, commission and a record.

Reps and brokers differ in whom they work and how (`marketsim.engine.agents.sales`,
`marketsim.engine.agents.broker`); the bookkeeping of agents.csv is the same for all of them.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

COUNTED = ("calls", "meetings", "clients", "deals", "refunds", "replaced")
"""Activities counted per agent, as in agents.csv."""


class SellingAgent(mesa.Agent):
    """An agent with a capacity per step who may earn a commission on what they sell."""

    def __init__(self, model: mesa.Model, index: int, capacity: int, commission: float) -> None:
        super().__init__(model)
        self.index = index
        self.capacity = capacity
        self.available = capacity
        """What the agent can work this step (a new rep works less while ramping up)."""
        self.commission = commission
        self.clear_record()

    def clear_record(self) -> None:
        """Start the agent's record afresh (at step 0, after a burn-in)."""
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
        """What to work this step, at most `available`, from what is offered in order."""
        return offered[: self.available]

    def worked(self, activity: str, count: int) -> None:
        """Book `count` calls, meetings or clients worked this step against capacity."""
        self.stats[activity] += count
        self.capacity_offered += self.available
        self.capacity_used += count

    def earn(self, revenue: float) -> float:
        """Credit a deal worth `revenue`; return the commission it earns the agent."""
        paid = revenue * self.commission
        self.stats["deals"] += 1
        self.stats["revenue"] += revenue
        self.stats["commission"] += paid
        return paid

    def refund(self, revenue: float, clawback: bool) -> float:
        """A deal worth `revenue` came back; return the commission the agent pays back."""
        self.stats["refunds"] += 1
        self.stats["revenue"] -= revenue
        if not clawback:
            return 0.0
        back = revenue * self.commission
        self.stats["commission"] -= back
        return back

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
            "replaced": self.stats["replaced"],
            "utilisation": self.utilisation(),
        }
