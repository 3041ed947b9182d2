"""Customer: a Mesa agent that is a view onto one row of the population arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from marketsim.core.stages import STAGES

if TYPE_CHECKING:
    from marketsim.engine.model import MarketModel


class Customer(mesa.Agent):
    """One person in the market. State lives in `model.population`, row `row`.

    Reading or writing an attribute reads or writes the arrays the kernels use, so a
    view never goes stale and costs nothing while the model steps.
    """

    def __init__(self, model: MarketModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    @property
    def segment(self) -> str:
        """Id of the person's segment."""
        return self.model.scenario.segments[self.model.population.segment[self.row]].id

    @property
    def stage(self) -> str:
        """Name of the person's funnel stage."""
        return STAGES[self.model.population.stage[self.row]]

    @stage.setter
    def stage(self, name: str) -> None:
        if name not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, but got {name!r}")
        self.model.population.stage[self.row] = STAGES.index(name)

    @property
    def ad_memory(self) -> float:
        """Adstock: decayed sum of exposures' impact."""
        return float(self.model.population.ad_memory[self.row])

    @property
    def contacts(self) -> list[int]:
        """Rows of the people this person talks to."""
        pop = self.model.population
        return pop.indices[pop.indptr[self.row] : pop.indptr[self.row + 1]].tolist()
