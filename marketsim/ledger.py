"""Money and units, step by step: the single place revenue, cost and profit are summed.

Every row satisfies profit = revenue - cost_of_goods - spend exactly, and spend is the
sum of the channel spends. Revenue is recognised at the price actually paid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketsim.funnel import CUSTOMER, STAGES
from marketsim.kernels import layout as L
from marketsim.scenario.schema import Scenario
from marketsim.segments import list_prices, unit_costs


class Ledger:
    """Accumulates one replicate's per-step outcomes and per-channel attribution."""

    def __init__(self, scenario: Scenario, replicate: int) -> None:
        self.replicate = replicate
        self.channel_ids = [c.id for c in scenario.channels]
        self.channel_types = [c.type for c in scenario.channels]
        self.list_price = list_prices(scenario)
        self.unit_cost = unit_costs(scenario)
        n = len(self.channel_ids)
        self.rows: list[dict[str, float | int]] = []
        self.last_touch_revenue = np.zeros(n + 2)
        self.first_touch_revenue = np.zeros(n + 2)
        self.discount_cost = np.zeros(n)
        self.channel_spend = np.zeros(n)
        self.segment_revenue = np.zeros(len(scenario.segments))
        self.segment_units = np.zeros(len(scenario.segments), dtype=np.int64)

    def record(
        self,
        step: int,
        counts: np.ndarray,
        spend: np.ndarray,
        price: np.ndarray,
        promotions: list[tuple[int, np.ndarray]],
    ) -> dict[str, float | int]:
        """Book one step.

        Args:
            step: step index.
            counts: [segment, column] counts from the customer kernel.
            spend: [channel] money spent this step.
            price: [segment] price paid as a share of list price.
            promotions: (channel index, segments) of promotions active this step.

        """
        n = len(self.channel_ids)
        units = counts[:, L.UNITS]
        paid = self.list_price * price
        revenue_by_segment = units * paid
        revenue = float(revenue_by_segment.sum())
        cogs = float((units * self.unit_cost).sum())
        total_spend = float(spend.sum())
        last = counts[:, L.UNITS_LAST_TOUCH : L.UNITS_LAST_TOUCH + n + 2]
        first_col = L.units_first_touch(n)
        first = counts[:, first_col : first_col + n + 2]
        self.last_touch_revenue += paid @ last
        self.first_touch_revenue += paid @ first
        for channel, segments in promotions:
            self.discount_cost[channel] += float(
                (units[segments] * (self.list_price[segments] - paid[segments])).sum()
            )
        self.channel_spend += spend
        self.segment_revenue += revenue_by_segment
        self.segment_units += units
        stage_counts = counts[:, : L.N_STAGES].sum(axis=0)
        row: dict[str, float | int] = {
            "replicate": self.replicate,
            "step": step,
            "revenue": revenue,
            "units": int(units.sum()),
            "spend": total_spend,
            "cost_of_goods": cogs,
            "profit": revenue - cogs - total_spend,
            "new_customers": int(counts[:, L.NEW_CUSTOMERS].sum()),
            "customers": int(stage_counts[CUSTOMER]),
            "new_leads": int(counts[:, L.NEW_LEADS].sum()),
        }
        for name, value in zip(STAGES, stage_counts, strict=True):
            row[f"stage_{name}"] = int(value)
        for cid, value in zip(self.channel_ids, spend, strict=True):
            row[f"spend_{cid}"] = float(value)
        self.rows.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        """The replicate's timeseries, one row per step."""
        return pd.DataFrame(self.rows)
