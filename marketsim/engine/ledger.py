"""Money and units, step by step: the single place revenue, cost and profit are summed.

Every row satisfies profit = revenue - cost_of_goods - spend - commissions exactly;
spend is marketing spend plus the sales organisation's costs. Revenue is recognised
at the price actually paid, net of refunds. A customer is a consumer or a b2b account
(not each member of its buying centre); the `stage_*` columns count people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketsim.core.layout import N_STAGES, CountColumn, units_first_touch
from marketsim.core.stages import CUSTOMER, STAGES
from marketsim.engine.channels import Discount
from marketsim.engine.products import ProductRange
from marketsim.scenario.schema import Scenario


@dataclass
class SalesBook:
    """What the sales organisation and brokers add to a step's books.

    Attributes:
        units / paid: [segment, product] units sold by reps and brokers, and revenue.
        last_touch / first_touch: revenue by the buyer's touch code (as the kernel's).
        involvement: revenue by who closed it: reps, brokers, or a renewal.
        cost: team and oversight costs; commissions: paid by the company.
        refunds: [segment] revenue handed back for mis-sold deals (the goods or cover
            were provided, so their cost stays booked).
        new_customers: customers won through a deal (an account counts once).
        customer_accounts: b2b accounts under contract at the end of the step.
        counts: pipeline counts for the timeseries (leads, meetings, deals_won, ...).
    """

    units: np.ndarray
    paid: np.ndarray
    last_touch: np.ndarray
    first_touch: np.ndarray
    involvement: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INVOLVEMENT, 0.0))
    cost: float = 0.0
    commissions: float = 0.0
    refunds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_customers: int = 0
    customer_accounts: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, n_segments: int, n_products: int, n_channels: int) -> SalesBook:
        """A step in which nobody from sales sold anything."""
        return cls(
            units=np.zeros((n_segments, n_products), dtype=np.int64),
            paid=np.zeros((n_segments, n_products)),
            refunds=np.zeros(n_segments),
            last_touch=np.zeros(n_channels + 2),
            first_touch=np.zeros(n_channels + 2),
        )


INVOLVEMENT = ("self_service", "reps", "brokers", "renewals")
PIPELINE = (
    "leads",
    "leads_lost",
    "leads_cold",
    "calls",
    "appointments",
    "meetings",
    "deals_won",
    "deals_lost",
    "renewals",
    "contracts_churned",
    "refunds_issued",
)


class Ledger:
    """Accumulates one replicate's per-step outcomes and per-channel attribution."""

    def __init__(self, scenario: Scenario, replicate: int, products: ProductRange) -> None:
        self.replicate = replicate
        self.channel_ids = [c.id for c in scenario.channels]
        self.consumer = np.array([s.kind == "b2c" for s in scenario.segments])
        self.products = products
        n = len(self.channel_ids)
        self.rows: list[dict[str, float | int]] = []
        self.last_touch_revenue = np.zeros(n + 2)
        self.first_touch_revenue = np.zeros(n + 2)
        self.discount_cost = np.zeros(n)
        self.channel_spend = np.zeros(n)
        self.segment_revenue = np.zeros(len(scenario.segments))
        self.segment_units = np.zeros(len(scenario.segments), dtype=np.int64)
        self.product_units = np.zeros(len(scenario.products), dtype=np.int64)
        self.involvement = dict.fromkeys(INVOLVEMENT, 0.0)
        self.agents: list[dict[str, object]] = []

    def record(
        self,
        step: int,
        counts: np.ndarray,
        units: np.ndarray,
        spend: np.ndarray,
        price: np.ndarray,
        discounts: list[Discount],
        sales: SalesBook | None = None,
    ) -> dict[str, float | int]:
        """Book one step.

        Args:
            step: step index.
            counts: [segment, column] counts from the customer kernel.
            units: [segment, product] units bought by customers on their own.
            spend: [channel] money spent this step.
            price: [segment, product] price paid as a share of list price.
            discounts: the discounts channels give this step.
            sales: what reps and brokers sold and cost this step.
        """
        n = len(self.channel_ids)
        list_price = self.products.list_price
        paid = units * list_price * price
        by_segment = paid.sum(axis=1)
        self_units = units.sum(axis=1)
        average = np.divide(
            by_segment, self_units, out=np.zeros_like(by_segment), where=self_units > 0
        )
        last = counts[:, CountColumn.UNITS_LAST_TOUCH : CountColumn.UNITS_LAST_TOUCH + n + 2]
        first_col = units_first_touch(n)
        first = counts[:, first_col : first_col + n + 2]
        self.last_touch_revenue += average @ last
        self.first_touch_revenue += average @ first
        for d in discounts:
            cell = np.ix_(d.segments, d.products)
            self.discount_cost[d.channel] += float(
                (units[cell] * list_price[d.products] * (1.0 - price[cell])).sum()
            )
        sales = sales or SalesBook.empty(*units.shape, n)
        self.last_touch_revenue += sales.last_touch
        self.first_touch_revenue += sales.first_touch
        self.involvement["self_service"] += float(by_segment.sum())
        for who, value in sales.involvement.items():
            self.involvement[who] += value
        all_units = units + sales.units
        revenue_by_segment = by_segment + sales.paid.sum(axis=1) - sales.refunds
        revenue = float(revenue_by_segment.sum())
        cogs = float((all_units * self.products.unit_cost).sum())
        marketing = float(spend.sum())
        total_spend = marketing + sales.cost
        self.channel_spend += spend
        self.segment_revenue += revenue_by_segment
        self.segment_units += all_units.sum(axis=1)
        self.product_units += all_units.sum(axis=0)
        stage_counts = counts[:, :N_STAGES].sum(axis=0)
        row: dict[str, float | int] = {
            "replicate": self.replicate,
            "step": step,
            "revenue": revenue,
            "units": int(all_units.sum()),
            "spend": total_spend,
            "new_customers": int(counts[:, CountColumn.NEW_CUSTOMERS].sum()) + sales.new_customers,
            "customers": int(counts[self.consumer, CUSTOMER].sum()) + sales.customer_accounts,
        }
        for name, value in zip(STAGES, stage_counts, strict=True):
            row[f"stage_{name}"] = int(value)
        for cid, value in zip(self.channel_ids, spend, strict=True):
            row[f"spend_{cid}"] = float(value)
        row |= {
            "marketing_spend": marketing,
            "sales_cost": sales.cost,
            "commissions": sales.commissions,
            "refunds": float(sales.refunds.sum()),
            "cost_of_goods": cogs,
            "profit": revenue - cogs - total_spend - sales.commissions,
            "new_leads": int(counts[:, CountColumn.NEW_LEADS].sum()),
        }
        row |= {name: int(sales.counts.get(name, 0)) for name in PIPELINE}
        self.rows.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        """The replicate's timeseries, one row per step."""
        return pd.DataFrame(self.rows)
