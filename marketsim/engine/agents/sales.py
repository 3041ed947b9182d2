"""Salespeople: inside reps who book meetings and outside reps who close deals.

Extension point: a rep's `select` picks which offered accounts it works this step (the
default keeps the order offered: an inside rep's leads newest first, an outside rep's
opportunities and appointments oldest first; plugins' `lead_selection` hook reorders
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
        self,
        model: mesa.Model,
        index: int,
        capacity: int,
        cost: float,
        commission: float,
        *,
        hired_at: int | None = None,
        ramp_steps: int = 0,
    ) -> None:
        super().__init__(model, index, capacity, commission)
        self.cost = cost
        self.hired_at = hired_at
        """Step the rep joined, or None for a rep up to speed from the start."""
        self.ramp_steps = ramp_steps

    def productivity(self, t: int) -> float:
        """Share of full capacity at step `t`: rising evenly over `ramp_steps` after hiring."""
        if self.hired_at is None or self.ramp_steps == 0:
            return 1.0
        return min(1.0, max(0.0, (t - self.hired_at + 1) / self.ramp_steps))

    def start_step(self, t: int) -> None:
        """Set this step's capacity from the rep's productivity."""
        self.available = round(self.capacity * self.productivity(t))

    def replace(self, t: int) -> None:
        """The rep left at step `t`; a new hire takes the slot and ramps from zero."""
        self.hired_at = t
        self.stats["replaced"] += 1

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
