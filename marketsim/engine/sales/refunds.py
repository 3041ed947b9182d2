"""Refunds: mis-sold sales come back when due, and the let-down buyers become detractors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marketsim.core.stages import AWARE, CUSTOMER
from marketsim.engine.sales.state import SalesStep
from marketsim.kernels import sales as K

if TYPE_CHECKING:
    from marketsim.engine.sales.organisation import SalesOrganisation


def fall_due(org: SalesOrganisation, step: SalesStep) -> None:
    """Hand back every refund due at this step; its buyer lapses and warns contacts."""
    pop, acc = org.population, org.accounts
    due = [r for r in org.refunds if r.due == step.t]
    org.refunds = [r for r in org.refunds if r.due != step.t]
    for refund in due:
        step.book.refunds[refund.segment] += refund.amount
        refund.broker.stats["refunds"] += 1
        if refund.account >= 0:
            a = refund.account
            if acc.stage[a] == CUSTOMER:
                lapsed = np.array([a])
                K.close(lapsed, np.zeros(1, np.int64), acc.stage, acc.approvals, *org.arrays(step))
            pop.detractor[acc.first[a] : acc.first[a] + acc.size[a]] = 1
        else:
            s = pop.segment[refund.person]
            if pop.stage[refund.person] == CUSTOMER:
                step.delta[s, CUSTOMER] -= 1
                step.delta[s, AWARE] += 1
                pop.stage[refund.person] = AWARE
            pop.detractor[refund.person] = 1
    step.book.counts["refunds_issued"] = len(due)
