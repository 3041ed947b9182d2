"""Refunds: mis-sold sales come back, and everything they earned is undone.

A refund hands the sale's revenue back and takes it off the channels and the closer it
was credited to; the seller's agent pays back its commission (`clawback`); the customer
lapses, turns detractor and, for `cooldown` steps, is no broker's prospect and no cold
call's target. Refunds still owed at the horizon are booked at its last step, as a
liability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marketsim.core.stages import AWARE, CUSTOMER
from marketsim.engine.sales.state import Refund, SalesStep
from marketsim.kernels import sales as K

if TYPE_CHECKING:
    from marketsim.engine.sales.organisation import SalesOrganisation


def fall_due(org: SalesOrganisation, step: SalesStep) -> None:
    """Hand back every refund due at this step; its buyer lapses and warns contacts."""
    pop, acc = org.population, org.accounts
    due = [r for r in org.refunds if r.due == step.t]
    org.refunds = [r for r in org.refunds if r.due != step.t]
    for refund in due:
        _undo(step, refund)
        cooldown = refund.broker.spec.cooldown
        if refund.account >= 0:
            a = refund.account
            if acc.stage[a] == CUSTOMER:
                lost = np.array([a])
                K.close(acc, org.centres(step), lost, np.zeros(1, dtype=np.bool_))
            pop.detractor[acc.first[a] : acc.first[a] + acc.size[a]] = 1
            acc.blocked_until[a] = step.t + cooldown
        else:
            s = pop.segment[refund.person]
            if pop.stage[refund.person] == CUSTOMER:
                step.delta[s, CUSTOMER] -= 1
                step.delta[s, AWARE] += 1
                pop.stage[refund.person] = AWARE
            pop.detractor[refund.person] = 1
            pop.purchases[refund.person] -= 1
            pop.spent[refund.person] -= np.float32(refund.amount)
            org.blocked_until[refund.person] = step.t + cooldown
    step.book.counts["refunds_issued"] = len(due)


def owe_the_rest(org: SalesOrganisation, step: SalesStep) -> None:
    """At the horizon, book the refunds that will fall due after it: a liability."""
    for refund in org.refunds:
        _undo(step, refund)
    step.book.counts["refunds_owed"] = len(org.refunds)
    org.refunds = []


def _undo(step: SalesStep, refund: Refund) -> None:
    book = step.book
    book.refunds[refund.segment] += refund.amount
    book.last_touch[refund.last_touch] -= refund.amount
    book.first_touch[refund.first_touch] -= refund.amount
    book.involvement["brokers"] -= refund.amount
    book.commissions[refund.segment] -= refund.broker.refund(
        refund.amount, refund.broker.spec.clawback
    )
