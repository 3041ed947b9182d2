"""The account-level sales kernels written the obvious way, one account at a time.

Plain Python, read off the docstrings of `marketsim.kernels.sales` (and the module's
stage conventions), never off the kernels themselves, which this file does not import.
Every function takes the same arguments as its kernel, mutates the same arrays the same
way and returns the same values, so tests can run both on copies of one state.

Conventions taken from the docstrings:

* An account's buying centre is rows ``first[a] .. first[a] + size[a] - 1``; the first
  member is the economic buyer.
* A member is *engaged* when interested or further (the `engagement` docstring).
* Every change of a person's stage is booked in ``delta[segment, stage]``: one out of
  the old stage, one into the new one.
* Each random decision is one `uniform_py` draw keyed by who decides: the account for
  hand-offs and calls, the person for approvals.

Where a docstring is silent the obvious reading is written down next to the code.
"""

from __future__ import annotations

import numpy as np

from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, OPPORTUNITY, QUALIFIED, UNAWARE
from marketsim.kernels.rng import P_APPROVE, P_HANDOFF, P_QUALIFY, uniform_py

WITH_MARKETING = UNAWARE


def rows(a, first, size) -> range:
    """The population rows of account `a`'s buying centre."""
    return range(int(first[a]), int(first[a]) + int(size[a]))


def set_stage(row, new, stage, segment, delta) -> None:
    """Put person `row` (of `segment`) at stage `new`, booking the move in `delta`."""
    old = int(stage[row])
    if old == new:
        return
    delta[segment, old] -= 1
    delta[segment, new] += 1
    stage[row] = new


def move_members(a, lo, hi, to, stage, first, size, seg, delta) -> None:
    """Members of `a` at a stage between `lo` and `hi` (inclusive) go to `to`."""
    s = int(seg[a])
    for row in rows(a, first, size):
        if lo <= int(stage[row]) <= hi:
            set_stage(row, to, stage, s, delta)


def engagement(a, stage, first, size) -> tuple[int, int]:
    """(members who are leads, members interested or further)."""
    member_stages = [int(stage[row]) for row in rows(a, first, size)]
    leads = sum(1 for st in member_stages if st == LEAD)
    engaged = sum(1 for st in member_stages if st >= INTERESTED)
    return leads, engaged


def back_to_marketing_cold(a, acc, approvals, stage, first, size, seg, delta, top=CUSTOMER) -> None:
    """Account `a` returns to marketing: members interested..`top` fall back to aware."""
    s = int(seg[a])
    acc[a] = WITH_MARKETING
    for row in rows(a, first, size):
        if INTERESTED <= int(stage[row]) <= top:
            set_stage(row, AWARE, stage, s, delta)
        approvals[row] = 0


def route_leads(key, t, threshold, delay, loss, acc, since, ready, stage, first, size, seg, delta):
    """Accounts with marketing that have a lead and score (share engaged) >= threshold.

    Each is lost on the way with chance `loss` (its leads are dropped back to aware:
    the docstring is silent, dropping a lost lead to "aware" is the reading used), else
    it becomes a LEAD account that entered its stage at `t` and reaches sales at
    `t + delay`. Returns (routed, lost).
    """
    routed = 0
    lost = 0
    for a in range(len(acc)):
        if int(acc[a]) != WITH_MARKETING:
            continue
        leads, engaged = engagement(a, stage, first, size)
        score = engaged / int(size[a])
        if leads == 0 or score < threshold:
            continue
        if uniform_py(int(key), a, P_HANDOFF) < loss:
            lost += 1
            for row in rows(a, first, size):
                if int(stage[row]) == LEAD:
                    set_stage(row, AWARE, stage, int(seg[a]), delta)
        else:
            routed += 1
            acc[a] = LEAD
            since[a] = t
            ready[a] = t + delay
    return routed, lost


def expire(t, at_stage, patience, clock, acc, approvals, stage, first, size, seg, delta):
    """Accounts at `at_stage` whose clock is `patience` or more steps old go back cold."""
    expired = 0
    for a in range(len(acc)):
        waited = t - int(clock[a])
        if int(acc[a]) == at_stage and waited >= patience:
            expired += 1
            back_to_marketing_cold(a, acc, approvals, stage, first, size, seg, delta, OPPORTUNITY)
    return expired


def calls(key, t, accounts, cold, rates, trust, acc, since, stage, first, size, seg, delta):
    """Call each account once; returns a 0/1 int array of which ones qualified.

    Qualifying (chance rate x trust, times the share engaged for a lead) books an
    appointment: the account is QUALIFIED since `t` and every member not yet qualified
    (unaware .. lead) is qualified. Otherwise the account goes back to nurture (with
    marketing); a cold account's economic buyer hears of the company (unaware -> aware);
    a lead's leads step back to interested (the docstring is silent: the reading used is
    that nurture means interested, not lead, so marketing does not re-route them at once).
    """
    qualified = np.zeros(len(accounts), dtype=np.asarray(accounts).dtype)
    for i in range(len(accounts)):
        a = int(accounts[i])
        s = int(seg[a])
        if cold[i]:
            p = float(rates[i]) * float(trust[s])
        else:
            _, engaged = engagement(a, stage, first, size)
            p = float(rates[i]) * engaged / int(size[a]) * float(trust[s])
        if uniform_py(int(key), a, P_QUALIFY) < p:
            qualified[i] = 1
            acc[a] = QUALIFIED
            since[a] = t
            for row in rows(a, first, size):
                if int(stage[row]) <= LEAD:
                    set_stage(row, QUALIFIED, stage, s, delta)
        else:
            acc[a] = WITH_MARKETING
            if cold[i]:
                buyer = int(first[a])
                if int(stage[buyer]) == UNAWARE:
                    set_stage(buyer, AWARE, stage, s, delta)
            else:
                for row in rows(a, first, size):
                    if int(stage[row]) == LEAD:
                        set_stage(row, INTERESTED, stage, s, delta)
    return qualified


def meetings(key, t, accounts, approve, acc, since, approvals, stage, first, size, seg, delta):
    """Meet each account once; returns a 0/1 int array of which ones agreed.

    Meeting an account with an appointment (QUALIFIED) opens its sales cycle: it is an
    OPPORTUNITY since `t` and every member short of opportunity (not a customer) joins it.
    Then each member without an approval gives one with chance approve[segment]; the
    account agrees when the economic buyer approves and more than half the members do.
    """
    agreed = np.zeros(len(accounts), dtype=np.asarray(accounts).dtype)
    for i in range(len(accounts)):
        a = int(accounts[i])
        s = int(seg[a])
        if int(acc[a]) == QUALIFIED:
            acc[a] = OPPORTUNITY
            since[a] = t
            for row in rows(a, first, size):
                if int(stage[row]) < OPPORTUNITY:
                    set_stage(row, OPPORTUNITY, stage, s, delta)
        for row in rows(a, first, size):
            if approvals[row] == 0 and uniform_py(int(key), row, P_APPROVE) < approve[s]:
                approvals[row] = 1
        yes = sum(int(approvals[row]) for row in rows(a, first, size))
        buyer_agrees = int(approvals[int(first[a])]) == 1
        agreed[i] = 1 if buyer_agrees and yes > int(size[a]) / 2 else 0
    return agreed


def close(accounts, outcome, acc, approvals, stage, first, size, seg, delta) -> None:
    """Won (1): the account and all its members are customers. Lost (0): back cold.

    Either way the deal is over, so its approvals are cleared; a lost account is treated
    like an expired one (the docstring only says "lost").
    """
    for i in range(len(accounts)):
        a = int(accounts[i])
        s = int(seg[a])
        if int(outcome[i]) == 1:
            acc[a] = CUSTOMER
            for row in rows(a, first, size):
                set_stage(row, CUSTOMER, stage, s, delta)
                approvals[row] = 0
        else:
            back_to_marketing_cold(a, acc, approvals, stage, first, size, seg, delta)


def draws(key, candidates, purpose):
    """One uniform per candidate, keyed by the candidate itself."""
    return np.array([uniform_py(int(key), int(c), purpose) for c in candidates], dtype=float)


def random_first(key, candidates, k, purpose):
    """The first `k` candidates once all are ordered by their own draw (ties keep order)."""
    ordered = sorted(
        (int(c) for c in candidates), key=lambda c: uniform_py(int(key), c, purpose)
    )  # Python's sort is stable.
    return np.array(ordered[:k], dtype=np.asarray(candidates).dtype)


def marketing_prospects(acc, stage, first, size, seg, in_target):
    """Accounts with marketing, in a targeted segment, with a member aware or further."""
    out = [
        a
        for a in range(len(acc))
        if int(acc[a]) == WITH_MARKETING
        and in_target[int(seg[a])]
        and any(int(stage[row]) >= AWARE for row in rows(a, first, size))
    ]
    return np.array(out, dtype=np.int64)
