"""What one step of the sales organisation works with, and the records it keeps.

Every phase (`pipeline`, `brokers`, `refunds`) is a function of the organisation's
lasting state (`SalesOrganisation`) and of this step's state (`SalesStep`), passed as
arguments: nothing of a step lingers on the organisation once the step is booked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsim.engine.agents.broker import Broker
from marketsim.engine.ledger import SalesBook


@dataclass
class SalesStep:
    """One step of the sales phases: its inputs, and what they book.

    Attributes:
        t: the step.
        key: the step's random stream key.
        trust: [segment] trust multiplier (2 x reputation).
        pull: [segment] the product range's pull at this step's prices.
        shares: [segment, product] choice shares at this step's prices.
        price: [segment, product] price paid as a share of list price.
        book: the step's sales, costs and pipeline counts.
        delta: [segment, stage] the change in people per stage the phases make.

    """

    t: int
    key: np.uint64
    trust: np.ndarray
    pull: np.ndarray
    shares: np.ndarray
    price: np.ndarray
    book: SalesBook
    delta: np.ndarray

    @property
    def scheduled(self) -> int:
        """The step schedules (team and broker starts) read: step 0 during a burn-in."""
        return max(self.t, 0)


@dataclass
class Refund:
    """A mis-sold sale that will come back, and what it has to undo.

    Attributes:
        due: the step the customer asks for the money back.
        account / person: the account (-1 for a consumer) and the buyer's row.
        segment / amount: where the revenue was booked, and how much.
        broker: the agent who sold it (its commission may be paid back).
        last_touch / first_touch: the touch codes its revenue was credited to.
    """

    due: int
    account: int
    person: int
    segment: int
    amount: float
    broker: Broker
    last_touch: int
    first_touch: int


@dataclass
class Deal:
    """One sale made by a rep or broker, as the books need it."""

    segment: int
    product: int
    units: int
    value: float
    touch_person: int
    new_customers: int = 0


def pick(u: float, shares: np.ndarray) -> int:
    """Index chosen by a uniform draw `u` over cumulative `shares`."""
    cumulative = np.cumsum(shares)
    return int(min(np.searchsorted(cumulative, u, side="right"), len(shares) - 1))
