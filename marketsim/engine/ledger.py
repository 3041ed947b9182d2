"""Money and units, step by step: the single place revenue, cost and profit are summed.

Every row satisfies profit = revenue - cost_of_goods - spend - commissions exactly;
spend is marketing spend plus the sales organisation's costs. Revenue is recognised at
the price actually paid, net of refunds; commissions net of commissions paid back on
refunds. A customer is a consumer or a b2b account (not each member of its buying
centre); the `stage_*` columns count people. Consumers and accounts are also counted
apart (`customers_consumers`, `customers_accounts`, and their revenue, new customers and
acquisition cost), so no figure needs to pool a household with a company.

The outcomes a segment can be held to (`SEGMENT_SERIES`) are also kept per segment,
step by step (`segment_rows`), for calibration only: no output file shows them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketsim.core import portable
from marketsim.core.layout import N_STAGES, CountColumn, units_by_product, units_first_touch
from marketsim.core.stages import CUSTOMER, STAGES
from marketsim.engine.channels import Discount
from marketsim.engine.products import ProductRange
from marketsim.engine.trait_bands import TraitBand
from marketsim.scenario.calibration import PER_SEGMENT, split_series
from marketsim.scenario.schema import Scenario

INVOLVEMENT = ("self_service", "reps", "brokers", "renewals")
"""Who closed the revenue: customers on their own, reps, brokers, or nobody new: a
contract renewing or a subscriber's later bill."""

PIPELINE = (
    "leads",
    "leads_lost",
    "leads_cold",
    "calls",
    "appointments",
    "no_shows",
    "meetings",
    "opportunities",
    "proposals",
    "deals_won",
    "deals_lost",
    "deals_lost_competitor",
    "deals_lost_no_decision",
    "broker_sales",
    "renewals",
    "contracts_churned",
    "reps_replaced",
    "refunds_issued",
    "refunds_owed",
)
"""The sales organisation's counts per step, in timeseries.csv order."""

TYPES = ("consumers", "accounts")
"""The two kinds of customer, counted apart."""


@dataclass
class SalesBook:
    """What the sales organisation and brokers add to a step's books, by segment.

    Attributes:
        units / paid: [segment, product] units sold by reps and brokers, and revenue.
        priced_now: [segment, product] the part of `paid` priced at this step's prices
            (deals won and broker sales; not renewals, which keep their contract's), on
            which this step's promotions gave their discount.
        last_touch / first_touch: revenue by the buyer's touch code (as the kernel's),
            net of refunds.
        involvement: revenue by who closed it: reps, brokers, or a renewal (net).
        cost: [segment] team and oversight costs, allocated to the segments they serve.
        commissions: [segment] paid by the company, net of commissions paid back.
        refunds: [segment] revenue handed back for mis-sold deals (the goods or cover
            were provided, so their cost stays booked), including at the horizon those
            still owed.
        new_customers: [segment] customers won through a deal (an account counts once).
        customer_accounts: [segment] b2b accounts under contract at the end of the step.
        counts: pipeline counts for the timeseries (leads, meetings, deals_won, ...).
        by_segment: the pipeline counts that know their account's segment, [segment]
            (the rest of `PER_SEGMENT`'s pipeline series: leads, deals_won, ...).
    """

    units: np.ndarray
    paid: np.ndarray
    priced_now: np.ndarray
    last_touch: np.ndarray
    first_touch: np.ndarray
    cost: np.ndarray
    commissions: np.ndarray
    refunds: np.ndarray
    new_customers: np.ndarray
    customer_accounts: np.ndarray
    involvement: dict[str, float] = field(default_factory=lambda: dict.fromkeys(INVOLVEMENT, 0.0))
    counts: dict[str, int] = field(default_factory=dict)
    by_segment: dict[str, np.ndarray] = field(default_factory=dict)

    def count(self, name: str, segments: np.ndarray) -> None:
        """Count one `name` event in each listed segment (an account or sale each).

        Into the segment's tally and the market's total alike, so the two cannot part.
        """
        n = len(self.cost)
        found = np.bincount(segments, minlength=n) if len(segments) else np.zeros(n, np.int64)
        self.by_segment[name] = self.by_segment.get(name, 0) + found
        self.counts[name] = self.counts.get(name, 0) + len(segments)

    @classmethod
    def empty(cls, n_segments: int, n_products: int, n_channels: int) -> SalesBook:
        """A step in which nobody from sales sold anything."""
        return cls(
            units=np.zeros((n_segments, n_products), dtype=np.int64),
            paid=np.zeros((n_segments, n_products)),
            priced_now=np.zeros((n_segments, n_products)),
            last_touch=np.zeros(n_channels + 2),
            first_touch=np.zeros(n_channels + 2),
            cost=np.zeros(n_segments),
            commissions=np.zeros(n_segments),
            refunds=np.zeros(n_segments),
            new_customers=np.zeros(n_segments, dtype=np.int64),
            customer_accounts=np.zeros(n_segments, dtype=np.int64),
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
        self.segment_ids = [s.id for s in scenario.segments]
        self.segment_rows: list[dict[str, np.ndarray]] = []
        """Per step, each series of `PER_SEGMENT` by segment (0 where a kind has none)."""
        self.last_touch_revenue = np.zeros(n + 2)
        self.first_touch_revenue = np.zeros(n + 2)
        self.discount_cost = np.zeros(n)
        self.channel_spend = np.zeros(n)
        self.segment_revenue = np.zeros(len(scenario.segments))
        self.segment_cost_of_goods = np.zeros(len(scenario.segments))
        self.segment_acquisition_cost = np.zeros(len(scenario.segments))
        self.segment_units = np.zeros(len(scenario.segments), dtype=np.int64)
        self.product_units = np.zeros(len(scenario.products), dtype=np.int64)
        self.involvement = dict.fromkeys(INVOLVEMENT, 0.0)
        self.agents: list[dict[str, object]] = []
        self.trait_bands: list[TraitBand] = []
        """Outcomes by trait band at the horizon, where consumers' traits vary."""
        self.reach = _reach(scenario)

    def record(
        self,
        step: int,
        counts: np.ndarray,
        spend: np.ndarray,
        price: np.ndarray,
        renewal_price: np.ndarray,
        discounts: list[Discount],
        sales: SalesBook,
    ) -> dict[str, float | int]:
        """Book one step.

        Args:
            step: step index.
            counts: [segment, column] counts from the customer kernel (units by product:
                new purchases, repeat purchases and subscription bills).
            spend: [channel] money spent this step.
            price: [segment, product] price paid as a share of list price by buyers.
            renewal_price: [segment, product] the same for subscribers' bills.
            discounts: the discounts channels give this step.
            sales: what reps and brokers sold and cost this step.
        """
        n = len(self.channel_ids)
        n_products = len(self.products.ids)
        list_price = self.products.list_price
        col = units_by_product(n)
        new, again, billed = (
            counts[:, col + k * n_products : col + (k + 1) * n_products] for k in range(3)
        )
        bought = new + again
        units = bought + billed
        paid = (bought * price + billed * renewal_price) * list_price
        by_segment = paid.sum(axis=1)
        self_units = units.sum(axis=1)
        average = np.divide(
            by_segment, self_units, out=np.zeros_like(by_segment), where=self_units > 0
        )
        last = counts[:, CountColumn.UNITS_LAST_TOUCH : CountColumn.UNITS_LAST_TOUCH + n + 2]
        first_col = units_first_touch(n)
        first = counts[:, first_col : first_col + n + 2]
        self.last_touch_revenue += portable.matmul(average, last) + sales.last_touch
        self.first_touch_revenue += portable.matmul(average, first) + sales.first_touch
        self._book_discounts(
            discounts, bought * list_price * price, billed * list_price * renewal_price, sales
        )
        recurring = float((billed * renewal_price * list_price).sum())
        self.involvement["self_service"] += float(by_segment.sum()) - recurring
        self.involvement["renewals"] += recurring
        for who, value in sales.involvement.items():
            self.involvement[who] += value
        all_units = units + sales.units
        revenue_by_segment = by_segment + sales.paid.sum(axis=1) - sales.refunds
        revenue = float(revenue_by_segment.sum())
        cogs_by_segment = (all_units * self.products.unit_cost).sum(axis=1)
        cogs = float(cogs_by_segment.sum())
        marketing = float(spend.sum())
        sales_cost = float(sales.cost.sum())
        commissions = float(sales.commissions.sum())
        total_spend = marketing + sales_cost
        self.channel_spend += spend
        self.segment_revenue += revenue_by_segment
        self.segment_cost_of_goods += cogs_by_segment
        self.segment_units += all_units.sum(axis=1)
        self.product_units += all_units.sum(axis=0)
        new_by_segment = counts[:, CountColumn.NEW_CUSTOMERS] + sales.new_customers
        customers_by_segment = np.where(self.consumer, counts[:, CUSTOMER], sales.customer_accounts)
        acquisition = portable.matmul(spend, self.reach) + sales.cost + sales.commissions
        self.segment_acquisition_cost += acquisition
        stage_counts = counts[:, :N_STAGES].sum(axis=0)
        row: dict[str, float | int] = {
            "replicate": self.replicate,
            "step": step,
            "revenue": revenue,
            "units": int(all_units.sum()),
            "spend": total_spend,
            "new_customers": int(new_by_segment.sum()),
            "customers": int(customers_by_segment.sum()),
        }
        for name, value in zip(STAGES, stage_counts, strict=True):
            row[f"stage_{name}"] = int(value)
        for cid, value in zip(self.channel_ids, spend, strict=True):
            row[f"spend_{cid}"] = float(value)
        row |= {
            "marketing_spend": marketing,
            "sales_cost": sales_cost,
            "commissions": commissions,
            "refunds": float(sales.refunds.sum()),
            "cost_of_goods": cogs,
            "profit": revenue - cogs - total_spend - commissions,
            "visits": int(counts[:, CountColumn.VISITS].sum()),
            "new_leads": int(counts[:, CountColumn.NEW_LEADS].sum()),
            "lapsed": int(counts[:, CountColumn.LAPSED].sum()),
            "forgot": int(counts[:, CountColumn.FORGOT].sum()),
        }
        for kind, mask in zip(TYPES, (self.consumer, ~self.consumer), strict=True):
            row |= {
                f"customers_{kind}": int(customers_by_segment[mask].sum()),
                f"new_{kind}": int(new_by_segment[mask].sum()),
                f"revenue_{kind}": float(revenue_by_segment[mask].sum()),
                f"acquisition_cost_{kind}": float(acquisition[mask].sum()),
            }
        row |= {name: int(sales.counts.get(name, 0)) for name in PIPELINE}
        self.rows.append(row)
        own = {
            "revenue": revenue_by_segment,
            "units": all_units.sum(axis=1),
            "new_customers": new_by_segment,
            "customers": customers_by_segment,
            "visits": counts[:, CountColumn.VISITS],
            "new_leads": counts[:, CountColumn.NEW_LEADS],
            "lapsed": counts[:, CountColumn.LAPSED],
        }
        none = np.zeros(len(self.segment_ids), dtype=np.int64)
        self.segment_rows.append(
            {name: own.get(name, sales.by_segment.get(name, none)) for name in PER_SEGMENT}
        )
        return row

    def series(self, name: str) -> list[float | int]:
        """Series `name` per step: a timeseries column, or a segment's (`revenue.smb`)."""
        series, segment = split_series(name)
        if segment is None:
            return [row[series] for row in self.rows]
        s = self.segment_ids.index(segment)
        return [row[series][s] for row in self.segment_rows]

    def _book_discounts(
        self, discounts: list[Discount], bought: np.ndarray, billed: np.ndarray, sales: SalesBook
    ) -> None:
        """The revenue promotions gave up this step, each unit's discount counted once.

        `bought` and `billed` are what buyers and subscribers paid, [segment, product];
        reps' and brokers' sales at this step's prices count like purchases. Where
        promotions overlap, their discounts multiply; the discount given on a unit is
        shared among them in proportion to -log(1 - rate), their shares of the combined
        log discount.
        """
        if not discounts:
            return
        shape = bought.shape
        weight = np.zeros((len(discounts), *shape))
        billed_weight = np.zeros_like(weight)
        for k, d in enumerate(discounts):
            weight[k][np.ix_(d.segments, d.products)] = -math.log1p(-d.rate)
            billed_weight[k][np.ix_(d.segments, d.billed)] = -math.log1p(-d.rate)
        for paid, w in (
            (bought + sales.priced_now, weight),
            (billed, billed_weight),
        ):
            total = w.sum(axis=0)
            factor = portable.exp(-total)  # what the promotions together leave of the price
            given = paid * (1.0 / factor - 1.0)
            share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
            self.discount_cost[[d.channel for d in discounts]] += (share * given).sum(axis=(1, 2))

    def frame(self) -> pd.DataFrame:
        """The replicate's timeseries, one row per step."""
        return pd.DataFrame(self.rows)


def _reach(scenario: Scenario) -> np.ndarray:
    """[channel, segment] share of a channel's spend on each segment: its targets, by people."""
    ids = [s.id for s in scenario.segments]
    people = np.array([s.represented for s in scenario.segments], dtype=np.float64)
    reach = np.zeros((len(scenario.channels), len(ids)))
    for c, channel in enumerate(scenario.channels):
        targets = [ids.index(t) for t in (channel.targets or ids)]
        reach[c, targets] = people[targets] / people[targets].sum()
    return reach
