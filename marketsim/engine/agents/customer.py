"""Customer: a Mesa agent that is a view onto one row of the population arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from marketsim.core.layout import NEVER_CUSTOMER
from marketsim.core.stages import CUSTOMER, STAGES
from marketsim.engine.products import elasticity

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
        self.model.population.changes.forget()

    @property
    def ad_memory(self) -> float:
        """Adstock: decayed sum of exposures' impact, over every medium."""
        return float(self.model.population.ad_memory[self.row].astype(float).sum())

    @property
    def customer_since(self) -> int | None:
        """The step the person last became a customer (None if they never were)."""
        since = int(self.model.population.customer_since[self.row])
        return None if since == NEVER_CUSTOMER else since

    @property
    def tenure(self) -> int | None:
        """Steps the person has been a customer this time (None unless one now).

        What kernel hooks compute at the next step, `step - customer_since`: 1 for
        someone who became a customer in the step just run.
        """
        since = self.customer_since
        if since is None or self.model.population.stage[self.row] != CUSTOMER:
            return None
        return self.model.steps - since

    @property
    def plugin_state(self) -> dict[str, float | int | bool]:
        """The person's values of every active plugin's `state` columns, by column name."""
        return {
            column.name: np.asarray(plugin.columns[k, self.row]).astype(column.dtype).item()
            for plugin in self.model.plugins.plugins
            for k, column in enumerate(plugin.state)
        }

    @property
    def traits(self) -> dict[str, float]:
        """The person's individual traits, by name (`marketsim.engine.traits.TRAITS`).

        The segment's values where its people do not differ.
        """
        model = self.model
        seg = model.scenario.segments[model.population.segment[self.row]]
        columns = model.population.traits
        defaults = {
            "price_sensitivity": elasticity(seg),
            "purchase_rate": 1.0,
            "word_of_mouth": 1.0,
            "attitude": 1.0,
        }
        return {
            name: float(getattr(columns, name)[self.row])
            if getattr(columns, name).shape[0]
            else default
            for name, default in defaults.items()
        }

    @property
    def habits(self) -> dict[str, float]:
        """Reach of each medium whose habits vary, relative to the segment's average."""
        columns = self.model.population.traits
        return {m: float(columns.habit[self.row, j]) for j, m in enumerate(columns.media)}

    @property
    def purchases(self) -> int:
        """Units the person bought over the run so far."""
        return int(self.model.population.purchases[self.row])

    @property
    def satisfied(self) -> bool | None:
        """Whether the last purchase satisfied them (None before any)."""
        value = int(self.model.population.satisfied[self.row])
        return None if value < 0 else bool(value)

    @property
    def contacts(self) -> list[int]:
        """Rows of the people this person talks to."""
        pop = self.model.population
        return pop.indices[pop.indptr[self.row] : pop.indptr[self.row + 1]].tolist()
