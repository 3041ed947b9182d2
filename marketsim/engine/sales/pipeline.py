"""The B2B pipeline, phase by phase: hand-off, inside sales, outside sales, renewals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marketsim.core.purposes import P_COLD, P_RENEW
from marketsim.core.stages import CUSTOMER, LEAD, OPPORTUNITY, QUALIFIED
from marketsim.engine.sales.state import Deal, SalesStep
from marketsim.kernels import sales as K
from marketsim.kernels.rng import uniform_py

if TYPE_CHECKING:
    from marketsim.engine.sales.organisation import SalesOrganisation


def route_and_expire(org: SalesOrganisation, step: SalesStep) -> None:
    """Marketing hands scored leads to sales; leads and appointments left waiting go cold."""
    acc, routing = org.accounts, org.spec.routing
    arrays = org.arrays(step)
    routed, lost = K.route_leads(
        step.key,
        step.t,
        routing.score_threshold,
        routing.handoff_delay,
        routing.handoff_loss,
        acc.stage,
        acc.since,
        acc.ready,
        *arrays,
    )
    cold = K.expire(
        step.t,
        LEAD,
        routing.handoff_delay + routing.lead_expiry,
        acc.since,
        acc.stage,
        acc.approvals,
        *arrays,
    )
    cold += K.expire(
        step.t, QUALIFIED, routing.lead_expiry, acc.since, acc.stage, acc.approvals, *arrays
    )
    step.book.counts |= {"leads": routed, "leads_lost": lost, "leads_cold": cold}


def inside_sales(org: SalesOrganisation, step: SalesStep) -> None:
    """Inside reps call the leads that reached them, then cold accounts with spare time."""
    acc, spec = org.accounts, org.spec.inside
    reps = org.inside if step.t >= spec.start else []
    queue = np.flatnonzero((acc.stage == LEAD) & (acc.ready <= step.t))
    queue = queue[np.lexsort((queue, acc.ready[queue]))]
    worked, cold, who = [], [], []
    spare = 0
    for r, rep in enumerate(reps):
        picks = rep.select(org.offer("lead_selection", rep, queue[r :: len(reps)], step.t))
        worked.append(picks)
        who.append(np.full(len(picks), r))
        spare += rep.capacity - len(picks)
    if spare:
        candidates = np.flatnonzero(acc.stage == K.WITH_MARKETING)
        cold_calls = K.random_first(step.key, candidates, spare, P_COLD)
        owners = np.repeat(
            np.arange(len(reps)),
            [rep.capacity - len(w) for rep, w in zip(reps, worked, strict=False)],
        )[: len(cold_calls)]
        worked.append(cold_calls)
        who.append(owners)
        cold.append(np.ones(len(cold_calls), dtype=np.bool_))
    accounts = np.concatenate(worked) if worked else np.zeros(0, np.int64)
    reps_of = np.concatenate(who) if who else np.zeros(0, np.int64)
    is_cold = np.zeros(len(accounts), dtype=np.bool_)
    if cold:
        is_cold[len(accounts) - len(cold[0]) :] = True
    rates = np.where(is_cold, spec.cold_qualify_rate, spec.qualify_rate)
    qualified = K.calls(
        step.key,
        step.t,
        accounts.astype(np.int64),
        is_cold,
        rates,
        step.trust,
        acc.stage,
        acc.since,
        *org.arrays(step),
    )
    acc.booker[accounts[qualified == 1]] = reps_of[qualified == 1]
    for r, rep in enumerate(reps):
        rep.worked("calls", int((reps_of == r).sum()))
    step.book.counts["calls"] = len(accounts)
    step.book.counts["appointments"] = int(qualified.sum())


def outside_sales(org: SalesOrganisation, step: SalesStep) -> None:
    """Outside reps meet open opportunities, then new appointments, and close deals."""
    acc, spec = org.accounts, org.spec.outside
    reps = org.outside if step.t >= spec.start else []
    open_ = np.flatnonzero(acc.stage == OPPORTUNITY)
    open_ = open_[np.lexsort((open_, acc.since[open_]))]
    met, who, spare = [], [], []
    for r, rep in enumerate(reps):
        mine = open_[acc.owner[open_] == r]
        picks = rep.select(org.offer("lead_selection", rep, mine, step.t))
        met.append(picks)
        who.append(np.full(len(picks), r))
        spare.append(rep.capacity - len(picks))
    appointments = np.flatnonzero(acc.stage == QUALIFIED)
    appointments = appointments[np.lexsort((appointments, acc.since[appointments]))]
    if reps and len(appointments):
        # Deal new appointments round-robin over the reps' free slots.
        rank = np.concatenate([r + len(reps) * np.arange(n) for r, n in enumerate(spare)])
        slot_rep = np.concatenate([np.full(n, r) for r, n in enumerate(spare)])
        order = np.argsort(rank, kind="stable")[: len(appointments)]
        new_reps = slot_rep[order]
        new = appointments[: len(new_reps)]
        for r, rep in enumerate(reps):
            picks = rep.select(org.offer("lead_selection", rep, new[new_reps == r], step.t))
            met.append(picks)
            who.append(np.full(len(picks), r))
    accounts = np.concatenate(met).astype(np.int64) if met else np.zeros(0, np.int64)
    reps_of = np.concatenate(who) if who else np.zeros(0, np.int64)
    acc.owner[accounts] = reps_of
    approve = np.minimum(1.0, spec.skill * step.trust * step.pull)
    agreed = K.meetings(
        step.key,
        step.t,
        accounts,
        approve,
        acc.stage,
        acc.since,
        acc.approvals,
        *org.arrays(step),
    )
    won = accounts[agreed == 1]
    for a in won:
        deal = org.contract(step, int(a), step.shares, step.price)
        org.book(step, deal)
        commission = org.outside[acc.owner[a]].earn(deal.value)
        if acc.booker[a] >= 0:
            commission += org.inside[acc.booker[a]].earn(deal.value)
        step.book.commissions += commission
        step.book.involvement["reps"] += deal.value
    K.close(won, np.ones(len(won), np.int64), acc.stage, acc.approvals, *org.arrays(step))
    lost = K.expire(
        step.t,
        OPPORTUNITY,
        spec.max_cycle,
        acc.since,
        acc.stage,
        acc.approvals,
        *org.arrays(step),
    )
    for r, rep in enumerate(reps):
        rep.worked("meetings", int((reps_of == r).sum()))
    step.book.counts |= {
        "meetings": len(accounts),
        "deals_won": step.book.counts.get("deals_won", 0) + len(won),
        "deals_lost": int(lost),
    }


def renewals(org: SalesOrganisation, step: SalesStep) -> None:
    """Contracts at the end of their term renew (and are paid again) or churn."""
    acc = org.accounts
    due = np.flatnonzero((acc.stage == CUSTOMER) & (acc.renew_at == step.t))
    churned = []
    renewed = 0
    for a in due:
        s = acc.segment[a]
        chance = min(1.0, org.renewal[s] * step.trust[s])
        if uniform_py(int(step.key), int(a), P_RENEW) < chance:
            renewed += 1
            acc.renew_at[a] += org.contract_length[s]
            deal = Deal(
                int(s),
                int(acc.product[a]),
                int(org.deal_size[s]),
                float(acc.value[a]),
                int(acc.first[a]),
            )
            org.book(step, deal)
            step.book.involvement["renewals"] += deal.value
        else:
            churned.append(a)
    lapsed = np.array(churned, dtype=np.int64)
    K.close(lapsed, np.zeros(len(lapsed), np.int64), acc.stage, acc.approvals, *org.arrays(step))
    step.book.counts |= {"renewals": renewed, "contracts_churned": len(lapsed)}
