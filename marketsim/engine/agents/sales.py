"""Salespeople: inside reps who book meetings and outside reps who close deals.

Extension point: a rep's `select` picks which offered accounts it works this step (the
default keeps the order offered: oldest first; plugins' `lead_selection` hook reorders
the offer first). Everything a call or meeting does to a buying centre is applied in
batch by `marketsim.kernels.sales`.
"""

from __future__ import annotations

from typing import ClassVar

import mesa

from marketsim.engine.agents.selling import SellingAgent


class Salesperson(SellingAgent):
    """A member of the sales team with a capacity per step, a cost and a commission."""

    team: ClassVar[str]

    def __init__(
        self, model: mesa.Model, index: int, capacity: int, cost: float, commission: float
    ) -> None:
        super().__init__(model, index, capacity, commission)
        self.cost = cost

    @property
    def name(self) -> str:
        """Identifier used in agents.csv, e.g. `inside-1`."""
        return f"{self.team}-{self.index + 1}"

    @property
    def role(self) -> str:
        """`inside` or `outside`."""
        return self.team


class InsideRep(Salesperson):
    """Calls leads (and cold accounts), qualifies them and books meetings."""

    team = "inside"


class OutsideRep(Salesperson):
    """Meets qualified accounts, persuades their buying centres and closes deals."""

    team = "outside"
