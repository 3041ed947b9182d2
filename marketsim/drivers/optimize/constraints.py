"""What every plan the optimiser returns must meet: customers held, cost per acquisition.

Budget floors (`min_share`) are met by construction (`Space`); the others depend on how
the market responds, so each trial measures how far it falls short of each, on the mean
of its replicates. The sampler is told (`Trial.set_constraint`: the shortfall over the
limit, positive when missed), candidates that meet every constraint are preferred,
and the winner must meet them on the fresh seeds too, else the optimisation fails with
the constraint and the shortfall of the closest plan (`InfeasibleError`, exit 2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marketsim.core.format import number
from marketsim.drivers.metrics import ReplicateMetrics
from marketsim.scenario.schema import Constraints


@dataclass(frozen=True)
class Limit:
    """One constraint: the path it was written at, what it measures, and its bound."""

    path: str
    label: str
    bound: float
    at_least: bool
    metric: str
    segment: str | None = None

    def value(self, totals: Sequence[ReplicateMetrics]) -> float:
        """The mean over replicates of what the limit measures (inf: no customer won)."""
        values = []
        for t in totals:
            if self.segment is not None:
                assert t.breakdown is not None, "a segment's customers need the breakdown"
                values.append(t.breakdown.segment("customers", self.segment))
            else:
                values.append(t.value(self.metric))
        mean = float(np.mean(values)) if values else math.nan
        return math.inf if math.isnan(mean) and not self.at_least else mean

    def shortfall(self, value: float) -> float:
        """How far `value` misses the bound (0 or less: met)."""
        return self.bound - value if self.at_least else value - self.bound

    def describe(self, value: float) -> str:
        """`customers (consumers) >= 5,000: 4,210, short by 790` for messages."""
        kind = "count" if self.at_least else "amount"
        sign = ">=" if self.at_least else "<="
        miss = self.shortfall(value)
        verdict = "met" if miss <= 0 else ("short by " if self.at_least else "over by ")
        tail = verdict if miss <= 0 else verdict + number(miss, kind)
        return f"{self.path} ({self.label} {sign} {number(self.bound, kind)}): " + (
            f"{number(value, kind)}, {tail}"
        )


def limits(constraints: Constraints) -> list[Limit]:
    """The outcome constraints of the settings, in the order written."""
    out = []
    for key, least in constraints.min_customers.items():
        path = f"optimize.constraints.min_customers.{key}"
        if key in ("consumers", "accounts"):
            out.append(Limit(path, f"customers ({key}) held", least, True, f"customers_{key}"))
        else:
            out.append(Limit(path, f"customers held in {key}", least, True, "customers", key))
    for key, most in constraints.max_cost_per_acquisition.items():
        label = f"cost per {key.removesuffix('s')} won"
        metric = f"cost_per_{key.removesuffix('s')}"
        out.append(
            Limit(
                f"optimize.constraints.max_cost_per_acquisition.{key}", label, most, False, metric
            )
        )
    return out


def relative_shortfalls(found: Sequence[Limit], totals: Sequence[ReplicateMetrics]) -> list[float]:
    """Each limit's shortfall over its bound: what Optuna's samplers read (<= 0 met)."""
    out = []
    for limit in found:
        miss = limit.shortfall(limit.value(totals)) / max(abs(limit.bound), 1e-12)
        out.append(min(miss, 1e6))
    return out


def meets(found: Sequence[Limit], totals: Sequence[ReplicateMetrics]) -> bool:
    """Whether the replicates' means meet every limit."""
    return all(s <= 0 for s in relative_shortfalls(found, totals))
