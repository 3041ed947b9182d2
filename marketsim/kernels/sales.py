"""Account-level kernels: the per-customer effects of routing, calls and meetings.

Reps and brokers decide *whom* to work in Python (Mesa agents); these kernels apply
what happens to each account's buying centre, over arrays. Account stages reuse the
funnel's indices: UNAWARE (0) means "with marketing", then LEAD (routed to sales),
QUALIFIED (appointment booked), OPPORTUNITY (in a sales cycle), CUSTOMER (under
contract). `delta[segment, stage]` collects the people each kernel moves, so the
model's stage counts stay exact without a recount.
"""

from __future__ import annotations

import numpy as np

from marketsim.core.purposes import P_APPROVE, P_HANDOFF, P_QUALIFY
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, OPPORTUNITY, QUALIFIED, UNAWARE
from marketsim.kernels.config import jit
from marketsim.kernels.rng import uniform

WITH_MARKETING = UNAWARE


@jit
def move_members(a, lo, hi, to, stage, first, size, seg, delta):
    """Move account `a`'s members whose stage is in [lo, hi] to stage `to`."""
    s = seg[a]
    for row in range(first[a], first[a] + size[a]):
        st = stage[row]
        if lo <= st <= hi and st != to:
            delta[s, st] -= 1
            delta[s, to] += 1
            stage[row] = to


@jit
def engagement(a, stage, first, size):
    """(members who are leads, members interested or further) of account `a`."""
    leads = 0
    engaged = 0
    for row in range(first[a], first[a] + size[a]):
        st = stage[row]
        if st == LEAD:
            leads += 1
        if st >= INTERESTED:
            engaged += 1
    return leads, engaged


@jit
def route_leads(key, t, threshold, delay, loss, acc, since, ready, stage, first, size, seg, delta):
    """Marketing hands accounts with a lead to sales, if they score high enough.

    Returns (routed, lost in the hand-off).
    """
    routed = 0
    lost = 0
    for a in range(acc.shape[0]):
        if acc[a] != WITH_MARKETING:
            continue
        leads, engaged = engagement(a, stage, first, size)
        if leads == 0 or engaged / size[a] < threshold:
            continue
        if uniform(key, a, P_HANDOFF) < loss:
            lost += 1
            move_members(a, LEAD, LEAD, AWARE, stage, first, size, seg, delta)
        else:
            routed += 1
            acc[a] = LEAD
            since[a] = t
            ready[a] = t + delay
    return routed, lost


@jit
def expire(t, at_stage, patience, clock, acc, approvals, stage, first, size, seg, delta):
    """Accounts left at `at_stage` for `patience` steps go back to marketing, cold.

    Members in the pipeline (interested to opportunity) fall back to aware; approvals
    are forgotten. Returns how many accounts expired.
    """
    expired = 0
    for a in range(acc.shape[0]):
        if acc[a] == at_stage and t - clock[a] >= patience:
            expired += 1
            acc[a] = WITH_MARKETING
            move_members(a, INTERESTED, OPPORTUNITY, AWARE, stage, first, size, seg, delta)
            for row in range(first[a], first[a] + size[a]):
                approvals[row] = 0
    return expired


@jit
def calls(key, t, accounts, cold, rates, trust, acc, since, stage, first, size, seg, delta):
    """Inside reps' calls: qualify each called account or send it back to nurture.

    A lead qualifies with chance rate x (share of its buying centre engaged) x trust; a
    cold account with chance rate x trust, and its first member hears of the company.
    `rates[i]` is the qualify rate of call i. Returns a 0/1 array: qualified.
    """
    qualified = np.zeros_like(accounts)
    for i in range(accounts.shape[0]):
        a = accounts[i]
        s = seg[a]
        if cold[i]:
            p = rates[i] * trust[s]
        else:
            _, engaged = engagement(a, stage, first, size)
            p = rates[i] * engaged / size[a] * trust[s]
        if uniform(key, a, P_QUALIFY) < p:
            qualified[i] = 1
            acc[a] = QUALIFIED
            since[a] = t
            move_members(a, UNAWARE, LEAD, QUALIFIED, stage, first, size, seg, delta)
        else:
            qualified[i] = 0
            acc[a] = WITH_MARKETING
            if not cold[i]:
                move_members(a, LEAD, LEAD, INTERESTED, stage, first, size, seg, delta)
            elif stage[first[a]] == UNAWARE:
                delta[s, UNAWARE] -= 1
                delta[s, AWARE] += 1
                stage[first[a]] = AWARE
    return qualified


@jit
def meetings(key, t, accounts, approve, acc, since, approvals, stage, first, size, seg, delta):
    """Outside reps' meetings: win over decision makers; report accounts that agree.

    Each undecided member of a met account is won over with chance approve[segment]
    (skill x trust x the offer's pull). The buying centre agrees when its economic
    buyer (first member) approves and more than half of it does. Returns a 0/1 array:
    agreed.
    """
    agreed = np.zeros_like(accounts)
    for i in range(accounts.shape[0]):
        a = accounts[i]
        s = seg[a]
        if acc[a] == QUALIFIED:
            acc[a] = OPPORTUNITY
            since[a] = t
            move_members(a, UNAWARE, QUALIFIED, OPPORTUNITY, stage, first, size, seg, delta)
        yes = 0
        for row in range(first[a], first[a] + size[a]):
            if approvals[row] == 0 and uniform(key, row, P_APPROVE) < approve[s]:
                approvals[row] = 1
            yes += approvals[row]
        agreed[i] = 1 if approvals[first[a]] == 1 and 2 * yes > size[a] else 0
    return agreed


@jit
def close(accounts, outcome, acc, approvals, stage, first, size, seg, delta):
    """Book each account's outcome: 1 = won (members become customers), 0 = lost."""
    for i in range(accounts.shape[0]):
        a = accounts[i]
        if outcome[i] == 1:
            acc[a] = CUSTOMER
            move_members(a, UNAWARE, OPPORTUNITY, CUSTOMER, stage, first, size, seg, delta)
        else:
            acc[a] = WITH_MARKETING
            move_members(a, INTERESTED, CUSTOMER, AWARE, stage, first, size, seg, delta)
        for row in range(first[a], first[a] + size[a]):
            approvals[row] = 0


@jit
def draws(key, candidates, purpose):
    """One counter-based uniform per candidate."""
    out = np.empty(candidates.shape[0])
    for i in range(candidates.shape[0]):
        out[i] = uniform(key, candidates[i], purpose)
    return out


def random_first(key, candidates: np.ndarray, k: int, purpose: int) -> np.ndarray:
    """The first `k` candidates of a random order that no loop order can change."""
    k = min(k, len(candidates))
    if k == 0:
        return candidates[:0]
    u = draws(key, candidates, purpose)
    chosen = np.argpartition(u, k - 1)[:k] if k < len(candidates) else np.arange(k)
    return candidates[chosen[np.argsort(u[chosen], kind="stable")]]


@jit
def marketing_prospects(acc, stage, first, size, seg, in_target):
    """Accounts still with marketing, in targeted segments, with someone aware."""
    out = np.empty(acc.shape[0], dtype=np.int64)
    n = 0
    for a in range(acc.shape[0]):
        if acc[a] != WITH_MARKETING or not in_target[seg[a]]:
            continue
        for row in range(first[a], first[a] + size[a]):
            if stage[row] >= AWARE:
                out[n] = a
                n += 1
                break
    return out[:n]
