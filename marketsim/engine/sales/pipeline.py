"""The B2B pipeline, phase by phase: hand-off, calls, meetings, decisions, renewals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from marketsim.core.layout import touch_word_of_mouth
from marketsim.core.purposes import P_COLD, P_RENEW
from marketsim.core.stages import CUSTOMER, LEAD, OPPORTUNITY, QUALIFIED
from marketsim.engine.sales.state import Deal, SalesStep
from marketsim.kernels import sales as K
from marketsim.kernels.rng import uniform_py

if TYPE_CHECKING:
    from marketsim.engine.accounts import AccountBook
    from marketsim.engine.agents.sales import Salesperson
    from marketsim.engine.sales.organisation import SalesOrganisation


def route_and_expire(org: SalesOrganisation, step: SalesStep) -> None:
    """Marketing hands scored leads to sales; leads and appointments left waiting go cold."""
    acc, routing = org.accounts, org.spec.routing
    centres = org.centres(step)
    waiting = acc.stage == K.WITH_MARKETING
    _, lost = K.route_leads(
        acc,
        centres,
        step.key,
        step.t,
        threshold=routing.score_threshold,
        delay=routing.handoff_delay,
        loss=routing.handoff_loss,
        wom_code=touch_word_of_mouth(org.n_channels),
        first_touch=org.population.first_touch,
    )
    step.book.count("leads", acc.segment[waiting & (acc.stage == LEAD)])
    cold = K.expire(acc, centres, step.t, LEAD, routing.handoff_delay + routing.lead_expiry)
    cold += K.expire(acc, centres, step.t, QUALIFIED, routing.lead_expiry)
    step.book.counts |= {"leads_lost": lost, "leads_cold": cold}


def _working(team: list[Salesperson], start: int, t: int) -> list[Salesperson]:
    return team if t >= start else []


def call_queue(acc: AccountBook, t: int) -> np.ndarray:
    """The leads ready for a call at step `t`, in the order inside sales calls them.

    Speed to lead: newest first (latest to reach sales, ties by account index), because
    a lead cools every step it waits, so the freshest is the likeliest to qualify; with
    too few calls the oldest wait and go cold.
    """
    queue = np.flatnonzero((acc.stage == LEAD) & (acc.ready <= t))
    return queue[np.lexsort((queue, -acc.ready[queue]))]


def inside_sales(org: SalesOrganisation, step: SalesStep) -> None:
    """Inside reps call the leads that reached them, then cold accounts with spare time."""
    acc, spec = org.accounts, org.spec.inside
    reps = _working(org.inside, spec.start, step.scheduled)
    queue = call_queue(acc, step.t)
    worked, who = [], []
    for r, rep in enumerate(reps):
        picks = rep.select(org.offer("lead_selection", rep, queue[r :: len(reps)], step.scheduled))
        worked.append(picks)
        who.append(np.full(len(picks), r))
    spare = [rep.available - len(w) for rep, w in zip(reps, worked, strict=True)]
    warm = sum(len(w) for w in worked)
    if sum(spare):
        candidates = np.flatnonzero((acc.stage == K.WITH_MARKETING) & (acc.blocked_until <= step.t))
        cold_calls = K.random_first(step.key, candidates, sum(spare), P_COLD)
        worked.append(cold_calls)
        who.append(np.repeat(np.arange(len(reps)), spare)[: len(cold_calls)])
    called = np.concatenate(worked).astype(np.int64) if worked else np.zeros(0, np.int64)
    reps_of = np.concatenate(who) if who else np.zeros(0, np.int64)
    is_cold = np.arange(len(called)) >= warm
    rates = np.where(is_cold, spec.cold_qualify_rate, spec.qualify_rate)
    rates = org.plugins.transition("qualify", rates, step.scheduled)
    qualified = K.calls(
        acc,
        org.centres(step),
        step.key,
        step.t,
        called,
        is_cold,
        rates,
        trust=step.trust,
        cooling=org.spec.routing.lead_cooling,
        in_market=org.in_market,
    )
    acc.booker[called[qualified == 1]] = reps_of[qualified == 1]
    for r, rep in enumerate(reps):
        rep.worked("calls", int((reps_of == r).sum()))
    step.book.counts["calls"] = len(called)
    step.book.count("appointments", acc.segment[called[qualified == 1]])


def outside_sales(org: SalesOrganisation, step: SalesStep) -> None:
    """Outside reps meet their open opportunities, then hold new appointments."""
    acc, spec = org.accounts, org.spec.outside
    reps = _working(org.outside, spec.start, step.scheduled)
    open_ = np.flatnonzero(acc.stage == OPPORTUNITY)
    open_ = open_[np.lexsort((open_, acc.since[open_]))]
    met, who, spare = [], [], []
    for r, rep in enumerate(reps):
        mine = open_[acc.owner[open_] == r]
        picks = rep.select(org.offer("lead_selection", rep, mine, step.scheduled))
        met.append(picks)
        who.append(np.full(len(picks), r))
        spare.append(rep.available - len(picks))
    appointments = np.flatnonzero(acc.stage == QUALIFIED)
    appointments = appointments[np.lexsort((appointments, acc.since[appointments]))]
    if reps and len(appointments) and sum(spare):
        # Deal new appointments round-robin over the reps' free slots.
        rank = np.concatenate([r + len(reps) * np.arange(n) for r, n in enumerate(spare)])
        slot_rep = np.concatenate([np.full(n, r) for r, n in enumerate(spare)])
        order = np.argsort(rank, kind="stable")[: len(appointments)]
        new_reps = slot_rep[order]
        new = appointments[: len(new_reps)]
        for r, rep in enumerate(reps):
            picks = rep.select(org.offer("lead_selection", rep, new[new_reps == r], step.scheduled))
            met.append(picks)
            who.append(np.full(len(picks), r))
    accounts = np.concatenate(met).astype(np.int64) if met else np.zeros(0, np.int64)
    reps_of = np.concatenate(who) if who else np.zeros(0, np.int64)
    acc.owner[accounts] = reps_of
    cycle = org.spec.cycle
    outcome = K.meetings(
        acc,
        org.centres(step),
        step.key,
        step.t,
        accounts,
        approve=org.plugins.transition(
            "approve", np.minimum(1.0, spec.skill * step.trust * step.pull), step.scheduled
        ),
        warmth=org.warmth,
        show_rate=cycle.show_rate,
        discovery=cycle.discovery_steps,
        proposal_steps=cycle.proposal_steps,
    )
    for r, rep in enumerate(reps):
        rep.worked("meetings", int((reps_of == r).sum()))
    step.book.counts["no_shows"] = int((outcome == K.NO_SHOW).sum())
    step.book.count("meetings", acc.segment[accounts])
    step.book.count("opportunities", acc.segment[accounts[outcome == K.OPENED]])
    step.book.count("proposals", acc.segment[accounts[outcome == K.PROPOSED]])


def decisions(org: SalesOrganisation, step: SalesStep) -> None:
    """Buying centres decide on the proposals due; stale opportunities are lost."""
    acc = org.accounts
    centres = org.centres(step)
    deciding = np.flatnonzero((acc.stage == K.PROPOSAL) & (acc.due <= step.t))
    outcome = K.decide(
        acc,
        centres,
        step.key,
        deciding,
        ours=org.plugins.transition("win", step.pull * step.trust, step.scheduled),
        competition=org.competition,
        status_quo=org.status_quo,
        warmth=org.warmth,
    )
    won = deciding[outcome == K.WON]
    for a in won:
        deal = org.contract(step, int(a), step.shares, step.price)
        org.book(step, deal)
        s = deal.segment
        step.book.commissions[s] += org.outside[acc.owner[a]].earn(deal.value)
        if acc.booker[a] >= 0:
            step.book.commissions[s] += org.inside[acc.booker[a]].earn(deal.value)
        step.book.involvement["reps"] += deal.value
    K.close(acc, centres, deciding, outcome == K.WON)
    stale = K.expire(acc, centres, step.t, OPPORTUNITY, org.spec.outside.max_cycle)
    competitor = int((outcome == K.LOST_COMPETITOR).sum())
    no_decision = int((outcome == K.LOST_NO_DECISION).sum()) + stale
    step.book.count("deals_won", acc.segment[won])
    step.book.counts |= {
        "deals_lost": competitor + no_decision,
        "deals_lost_competitor": competitor,
        "deals_lost_no_decision": no_decision,
    }


def renewals(org: SalesOrganisation, step: SalesStep) -> None:
    """Contracts at the end of their term renew (and are paid again) or churn."""
    acc = org.accounts
    renews = org.contract_length[acc.segment] > 0  # one-off contracts never come up (-1)
    due = np.flatnonzero((acc.stage == CUSTOMER) & (acc.renew_at == step.t) & renews)
    churned = []
    renewed = []
    for a in due:
        s = acc.segment[a]
        chance = min(1.0, org.renewal[s] * step.trust[s])
        if uniform_py(int(step.key), int(a), P_RENEW) < chance:
            renewed.append(a)
            acc.renew_at[a] += org.contract_length[s]
            units, value = int(org.deal_size[s]), float(acc.value[a])
            deal = Deal(int(s), int(acc.product[a]), units, value, int(acc.first[a]))
            org.book(step, deal, renewal=True)
            step.book.involvement["renewals"] += deal.value
        else:
            churned.append(a)
    lapsed = np.array(churned, dtype=np.int64)
    K.close(acc, org.centres(step), lapsed, np.zeros(len(lapsed), dtype=np.bool_))
    step.book.count("renewals", acc.segment[np.array(renewed, dtype=np.int64)])
    step.book.count("contracts_churned", acc.segment[lapsed])
