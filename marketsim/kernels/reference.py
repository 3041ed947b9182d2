"""Every kernel written the obvious way: one person or account at a time, in plain Python.

It is the specification the numba kernels are held to (tests compare them bit for bit)
and the slow peer in the speed benchmark. Nothing here is fast, on purpose.

- the customer step (`customer_step`, phase by phase as docs/model.md section 3 reads);
- word-of-mouth input (`talkers`), initial awareness, Poisson draws, product choice;
- the account-level sales kernels (`route_leads` ... `marketing_prospects`), read off
  the docstrings of `marketsim.kernels.sales` and never off the kernels themselves.
"""

from __future__ import annotations

import math

import numpy as np

from marketsim.core.layout import (
    CountColumn,
    SegmentColumn,
    n_count_columns,
    touch_organic,
    touch_word_of_mouth,
    units_first_touch,
)
from marketsim.core.purposes import (
    P_APPROVE,
    P_AWARE,
    P_BUY,
    P_CHOICE,
    P_CHURN,
    P_DECAY,
    P_EXPOSURE,
    P_FIND,
    P_HANDOFF,
    P_INITIAL,
    P_INTEREST,
    P_POTENTIAL,
    P_QUALIFY,
    P_REPEAT,
    P_SEARCH,
)
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, OPPORTUNITY, QUALIFIED, UNAWARE
from marketsim.kernels.customer_step import People, StepArrays
from marketsim.kernels.hooks import EXPOSURE_HOOK, PERSUASION_HOOK, PURCHASE_HOOK, WOM_HOOK
from marketsim.kernels.rng import uniform_py

S = SegmentColumn

# --------------------------------------------------------------------------- draws


def poisson_py(key: int, entity: int, purpose: int, lam: float) -> int:
    """A Poisson draw by inversion of one uniform; the arithmetic of `rng.poisson`."""
    if lam <= 0.0:
        return 0
    u = uniform_py(key, entity, purpose)
    k = 0
    p = math.exp(-lam)
    c = p
    while u >= c and k < 10_000:
        k += 1
        p *= lam / k
        c += p
        if p == 0.0 and c < u:
            break
    return k


def initial_awareness(key: int, i: int, share: float) -> bool:
    """Whether person `i` starts aware."""
    return uniform_py(key, i, P_INITIAL) < share


def split_units(key: int, units: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Units [segment] split into [segment, product] by choice shares, one draw a unit."""
    out = np.zeros(shares.shape, dtype=np.int64)
    n_products = shares.shape[1]
    for s, count in enumerate(units):
        for u in range(int(count)):
            x = uniform_py(key, (s << 32) + u, P_CHOICE)
            c, pick = 0.0, n_products - 1
            for p in range(n_products):
                c += float(shares[s, p])
                if x < c:
                    pick = p
                    break
            out[s, pick] += 1
    return out


# --------------------------------------------------------------------------- customer step


def talkers(i: int, stage, seg_of, seg, indptr, indices) -> float:
    """Word-of-mouth input of person `i`: how many of their contacts are customers.

    Rounded through float32, the precision the kernel stores it in.
    """
    if stage[i] > AWARE:
        return 0.0
    mean_field = float(seg[seg_of[i], S.MEAN_FIELD_TALKERS])
    if mean_field >= 0.0:
        return float(np.float32(mean_field))
    return float(sum(1 for j in indices[indptr[i] : indptr[i + 1]] if stage[j] == CUSTOMER))


def customer_step(people: People, step: StepArrays, hooks) -> np.ndarray:
    """Advance every person one step in place; return counts[segment, column].

    The same equations as `marketsim.kernels.customer_step.advance`, one person at a
    time; `hooks` is the `KernelHooks` the kernel takes, each called from Python.
    """
    stage, seg, exposure = people.stage, step.seg, step.exposure
    n = len(stage)
    n_channels = exposure.shape[0]
    wom_code, organic_code = touch_word_of_mouth(n_channels), touch_organic(n_channels)
    counts = np.zeros((seg.shape[0], n_count_columns(n_channels)), dtype=np.int64)
    key, setup_key = int(step.key), int(step.setup_key)
    first_touch, last_touch = people.first_touch, people.last_touch

    def hook(point: int, i: int, s: int, value: float) -> float:
        if not hooks.provided[point]:
            return value
        fn, params = hooks.functions[point], hooks.params[point]
        return float(fn(np.uint64(key), i, s, value, stage, people.indptr, people.indices, params))

    def touch(i: int, code: int) -> None:
        last_touch[i] = code
        if first_touch[i] < 0:
            first_touch[i] = code

    talk = [talkers(i, stage, people.segment, seg, people.indptr, people.indices) for i in range(n)]
    if len(step.talk):
        talk = [float(step.talk[i]) if stage[i] <= AWARE else 0.0 for i in range(n)]
    for i in range(n):
        s = int(people.segment[i])
        p_ = seg[s]
        was = int(stage[i])
        st = was
        # 3.1 exposure: a Poisson (or 0/1) number of contacts per channel
        exposures, strongest, channel = 0.0, 0.0, -1
        for c in range(n_channels):
            lam = float(exposure[c, s])
            if lam <= 0.0:
                continue
            if step.bernoulli[c]:
                k = 1 if uniform_py(key, i, P_EXPOSURE + c) < lam else 0
            else:
                k = poisson_py(key, i, P_EXPOSURE + c, lam)
            if k > 0:
                weight = float(step.impact[c]) * k
                exposures += weight
                if weight > strongest:
                    strongest, channel = weight, c
        exposures = hook(EXPOSURE_HOOK, i, s, exposures)
        # 3.2 ad memory
        memory = float(p_[S.RETENTION]) * float(people.ad_memory[i]) + exposures
        people.ad_memory[i] = np.float32(memory)
        if channel >= 0 and was != CUSTOMER:
            touch(i, channel)
        wom = (hook(WOM_HOOK, i, s, talk[i]) if was <= AWARE else 0.0) * float(p_[S.WORD_OF_MOUTH])
        units = 0
        # 3.3 awareness
        if st == UNAWARE:
            ad = float(p_[S.ATTENTION]) * exposures
            hazard = float(p_[S.INNOVATION_HAZARD]) + ad + wom
            if hazard > 0.0:
                p = 1.0 - math.exp(-hazard)
                u = uniform_py(key, i, P_AWARE)
                if u < p:
                    st = AWARE
                    share = u / p * hazard
                    if share >= ad:
                        touch(i, wom_code if share < ad + wom else organic_code)
        # 3.4 interest
        if st == AWARE and uniform_py(setup_key, i, P_POTENTIAL) < p_[S.POTENTIAL]:
            pressure = float(p_[S.PERSUASION]) * (1.0 - math.exp(-memory)) + wom
            pressure = hook(PERSUASION_HOOK, i, s, pressure)
            p = 1.0 - (1.0 - float(p_[S.INTEREST])) * math.exp(-pressure)
            if uniform_py(key, i, P_INTEREST) < p:
                st = INTERESTED
        # 3.5 purchase or search
        if st == INTERESTED:
            if uniform_py(key, i, P_BUY) < hook(PURCHASE_HOOK, i, s, float(p_[S.PURCHASE])):
                st, units = CUSTOMER, 1
            else:
                found = -1
                if uniform_py(key, i, P_SEARCH) < p_[S.SEARCH]:
                    for c in range(n_channels):
                        f = float(step.find[c, s])
                        if f > 0.0 and uniform_py(key, i, P_FIND + c) < f:
                            found = c
                            break
                if found >= 0:
                    st = LEAD
                    counts[s, CountColumn.NEW_LEADS] += 1
                    touch(i, found)
                elif was == INTERESTED and uniform_py(key, i, P_DECAY) < p_[S.INTEREST_DECAY]:
                    st = AWARE
        # 3.6 leads
        elif st == LEAD and was == LEAD:
            chance = hook(PURCHASE_HOOK, i, s, float(p_[S.LEAD_CONVERSION]))
            if uniform_py(key, i, P_BUY) < chance:
                st, units = CUSTOMER, 1
            elif uniform_py(key, i, P_DECAY) < p_[S.INTEREST_DECAY]:
                st = AWARE
        # 3.7 customers
        elif st == CUSTOMER and was == CUSTOMER:
            if uniform_py(key, i, P_CHURN) < p_[S.CHURN]:
                st = AWARE
            elif uniform_py(key, i, P_REPEAT) < hook(PURCHASE_HOOK, i, s, float(p_[S.REPEAT])):
                units = 1
        stage[i] = st
        counts[s, st] += 1
        if st == CUSTOMER and was != CUSTOMER:
            counts[s, CountColumn.NEW_CUSTOMERS] += 1
        if units:
            lt = int(last_touch[i]) if last_touch[i] >= 0 else organic_code
            ft = int(first_touch[i]) if first_touch[i] >= 0 else organic_code
            counts[s, CountColumn.UNITS] += units
            counts[s, CountColumn.UNITS_LAST_TOUCH + lt] += units
            counts[s, units_first_touch(n_channels) + ft] += units
    return counts


# --------------------------------------------------------------------------- sales kernels
#
# Conventions taken from the docstrings of `marketsim.kernels.sales`:
#
# * An account's buying centre is rows first[a] .. first[a] + size[a] - 1; the first
#   member is the economic buyer.
# * A member is *engaged* when interested or further (the `engagement` docstring).
# * Every change of a person's stage is booked in delta[segment, stage]: one out of the
#   old stage, one into the new one.
# * Each random decision is one `uniform_py` draw keyed by who decides: the account for
#   hand-offs and calls, the person for approvals.
#
# Where a docstring is silent the obvious reading is written down next to the code.

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
