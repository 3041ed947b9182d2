"""What a trial's replicates are worth: the objective metric and the risk measure.

Every trial simulates replicates 0..R-1 of one seed, so all trials share their random
streams (common random numbers) and their differences are not drowned by noise. The R
per-replicate totals of the objective metric become one number by the risk measure:

- `mean`: the average (a risk-neutral strategist);
- `cvar:ALPHA`: the mean of the worst ceil(ALPHA x R) replicates (expected shortfall);
- `quantile:Q`: the Q quantile of the replicates (a lower quantile for Q < 0.5).

The objective metrics are revenue, profit and total ROI over the horizon, and
profit+equity: profit plus the customer equity of the customers held at the horizon
(`marketsim.drivers.equity`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marketsim.drivers.metrics import ReplicateMetrics

OBJECTIVES = ("revenue", "profit", "roi", "profit+equity")
"""What the optimiser can maximise; profit+equity adds the customer equity held at the
horizon to the profit over it, so a plan that harvests the customer base shows as one."""


@dataclass(frozen=True)
class Risk:
    """A risk measure over replicates, parsed from `mean`, `cvar:ALPHA` or `quantile:Q`."""

    kind: str
    level: float | None = None

    @classmethod
    def parse(cls, text: str) -> Risk:
        """The measure `text` names.

        Raises:
            ValueError: anything else, with what was expected.

        """
        kind, _, level = text.partition(":")
        if kind == "mean" and not level:
            return cls("mean")
        if kind in ("cvar", "quantile") and level:
            try:
                value = float(level)
            except ValueError:
                value = math.nan
            if 0.0 < value < 1.0:
                return cls(kind, value)
        raise ValueError(
            f"expected 'mean', 'cvar:ALPHA' or 'quantile:Q' with 0 < ALPHA, Q < 1, found {text!r}"
        )

    def __str__(self) -> str:
        return self.kind if self.level is None else f"{self.kind}:{self.level:g}"

    def __call__(self, values: Sequence[float] | np.ndarray) -> float:
        """The measure of `values` (higher is better)."""
        x = np.sort(np.asarray(values, dtype=np.float64))
        if x.size == 0:
            return math.nan
        if self.kind == "mean":
            return float(x.mean())
        assert self.level is not None
        if self.kind == "cvar":
            worst = max(1, math.ceil(self.level * x.size))
            return float(x[:worst].mean())
        return float(np.quantile(x, self.level))


def metric_value(totals: ReplicateMetrics, objective: str) -> float:
    """The objective metric of one replicate."""
    if objective not in OBJECTIVES:
        raise ValueError(f"`objective` must be one of {OBJECTIVES}, but got {objective=}")
    if objective == "profit+equity":
        return totals.profit + totals.customer_equity
    return totals.value(objective)
