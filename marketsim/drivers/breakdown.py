"""One replicate by segment and channel, and what it holds at the horizon.

The timeseries says how the market moved step by step. Saying *where* a difference
between two plans came from, and what the customers held are worth after the run, needs
more: the ledger's totals per segment and per channel, and the state of the market at
the end (who holds which product since when, each account's contract, the people at
each funnel stage). `of_model` reads them once a replicate is finished; every later
question (summaries, comparisons, the optimiser's side effects and constraints) reads
the `Breakdown`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsim.core.layout import N_STAGES
from marketsim.core.stages import CUSTOMER
from marketsim.drivers.equity import Holdings, equity_by_segment
from marketsim.engine.model import MarketModel


@dataclass(frozen=True)
class Breakdown:
    """One replicate's totals per segment and channel, and its state at the horizon.

    Attributes:
        segments / channels: ids, in scenario order.
        revenue / cost_of_goods / acquisition_cost: [segment] totals over the horizon;
            acquisition cost is the marketing spend that reached the segment plus the
            sales costs and commissions of its deals, so revenue - cost of goods -
            acquisition cost summed over segments is the run's profit.
        customers: [segment] customers held at the horizon (consumers or accounts).
        equity: [segment] customer equity of those customers (`marketsim.drivers.equity`).
        stages: [segment, stage] people at each funnel stage at the horizon.
        Counts and equity are of real people: a segment that `represents` a larger
        market is scaled up by its people per agent, as the ledger is.
        spend: [channel] spend over the horizon.
        last_touch / first_touch: [channel, then word of mouth, organic] revenue credited.

    """

    segments: tuple[str, ...]
    channels: tuple[str, ...]
    revenue: np.ndarray
    cost_of_goods: np.ndarray
    acquisition_cost: np.ndarray
    customers: np.ndarray
    equity: np.ndarray
    stages: np.ndarray
    spend: np.ndarray
    last_touch: np.ndarray
    first_touch: np.ndarray

    @property
    def profit(self) -> np.ndarray:
        """[segment] revenue less cost of goods and acquisition cost."""
        return self.revenue - self.cost_of_goods - self.acquisition_cost

    @property
    def customer_equity(self) -> float:
        """Customer equity of every customer held."""
        return float(self.equity.sum())

    def segment(self, field: str, segment: str) -> float:
        """`field` (revenue, profit, customers, equity, ...) of the segment with id `segment`."""
        return float(getattr(self, field)[self.segments.index(segment)])


def holdings(model: MarketModel) -> Holdings:
    """The customers a finished model holds, as `equity_by_segment` values them."""
    scenario = model.scenario
    pop = model.population
    last = scenario.horizon - 1
    b2c = np.array([s.kind == "b2c" for s in scenario.segments])
    held = (pop.stage == CUSTOMER) & (pop.product >= 0) & b2c[pop.segment]
    acc = model.sales.accounts
    signed = acc.stage == CUSTOMER
    renew = acc.renew_at[signed]
    return Holdings(
        consumer_segment=pop.segment[held].astype(np.int64),
        consumer_product=pop.product[held].astype(np.int64),
        consumer_age=(last - pop.purchased_at[held]).astype(np.int64),
        account_segment=acc.segment[signed].astype(np.int64),
        account_product=acc.product[signed].astype(np.int64),
        account_value=acc.value[signed].astype(np.float64),
        account_renewal=np.where(renew >= 0, renew - last, 0).astype(np.int64),
    )


def of_model(model: MarketModel) -> Breakdown:
    """The breakdown of a model that has run to its horizon."""
    scenario = model.scenario
    ledger = model.ledger
    n_segments = len(scenario.segments)
    pop = model.population
    scale = np.array([s.scale for s in scenario.segments], dtype=np.int64)
    stages = np.zeros((n_segments, N_STAGES), dtype=np.int64)
    np.add.at(stages, (pop.segment.astype(np.int64), pop.stage.astype(np.int64)), 1)
    stages *= scale[:, None]  # real people, as the ledger counts them
    acc = model.sales.accounts
    accounts = np.bincount(acc.segment[acc.stage == CUSTOMER], minlength=n_segments)
    consumer = np.array([s.kind == "b2c" for s in scenario.segments])
    return Breakdown(
        segments=tuple(s.id for s in scenario.segments),
        channels=tuple(c.id for c in scenario.channels),
        revenue=ledger.segment_revenue.copy(),
        cost_of_goods=ledger.segment_cost_of_goods.copy(),
        acquisition_cost=ledger.segment_acquisition_cost.copy(),
        customers=np.where(consumer, stages[:, CUSTOMER], accounts).astype(np.int64),
        equity=equity_by_segment(scenario, holdings(model)) * scale,
        stages=stages,
        spend=ledger.channel_spend.copy(),
        last_touch=ledger.last_touch_revenue.copy(),
        first_touch=ledger.first_touch_revenue.copy(),
    )
