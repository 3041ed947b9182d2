"""Salespeople: inside reps who book meetings and outside reps who close deals.

Extension point: a rep's `select` picks which offered accounts it works this step (the
default keeps the order offered: oldest first). Everything a call or meeting does to a
buying centre is applied in batch by `marketsim.kernels.sales`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

if TYPE_CHECKING:
    from marketsim.model import MarketModel


class Salesperson(mesa.Agent):
    """A member of the sales team with a capacity per step, a cost and a commission."""

    role: ClassVar[str]

    def __init__(
        self, model: MarketModel, index: int, capacity: int, cost: float, commission: float
    ) -> None:
        super().__init__(model)
        self.index = index
        self.capacity = capacity
        self.cost = cost
        self.commission = commission
        self.stats = {"calls": 0, "meetings": 0, "deals": 0, "revenue": 0.0, "commission": 0.0}
        self.capacity_offered = 0
        self.capacity_used = 0

    @property
    def name(self) -> str:
        """Identifier used in agents.csv, e.g. `inside-1`."""
        return f"{self.role}-{self.index + 1}"

    def select(self, offered: np.ndarray) -> np.ndarray:
        """Accounts to work this step, at most `capacity`, from those offered in order."""
        return offered[: self.capacity]

    def earn(self, revenue: float) -> float:
        """Credit a won deal; return the commission it pays."""
        paid = revenue * self.commission
        self.stats["deals"] += 1
        self.stats["revenue"] += revenue
        self.stats["commission"] += paid
        return paid

    def utilisation(self) -> float | None:
        """Share of the capacity offered over the run that was used."""
        return self.capacity_used / self.capacity_offered if self.capacity_offered else None


class InsideRep(Salesperson):
    """Calls leads (and cold accounts), qualifies them and books meetings."""

    role = "inside"


class OutsideRep(Salesperson):
    """Meets qualified accounts, persuades their buying centres and closes deals."""

    role = "outside"
