"""Account-level kernels: what routing, calls, meetings and decisions do to buying centres.

Reps and brokers decide *whom* to work in Python (Mesa agents); these kernels apply what
happens to each account and its buying centre, over arrays. Account stages reuse the
funnel's indices: UNAWARE (0) means "with marketing", then LEAD (routed to sales),
QUALIFIED (appointment booked), OPPORTUNITY (in discovery), `PROPOSAL` (a proposal out,
the buying centre deciding; its members stay at the opportunity stage) and CUSTOMER
(under contract). `delta[segment, stage]` collects the people each kernel moves, so the
model's stage counts stay exact without a recount.

The public functions validate what they are given and call the private kernels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from marketsim.core.purposes import P_APPROVE, P_DECIDE, P_HANDOFF, P_QUALIFY, P_SHOW
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, OPPORTUNITY, QUALIFIED, UNAWARE
from marketsim.kernels.config import jit
from marketsim.kernels.rng import uniform

WITH_MARKETING = UNAWARE
PROPOSAL = CUSTOMER + 1
"""Account stage of a proposal awaiting the buying centre's decision."""

INBOUND, REFERRAL, COLD = 0, 1, 2
"""Where an account's opportunity came from (`warmth` is indexed by these)."""

NO_SHOW, OPENED, PROPOSED = -1, 1, 2
"""What a meeting did: the appointment was not held, an opportunity opened, a proposal went out."""

WON, LOST_COMPETITOR, LOST_NO_DECISION = 1, 2, 3
"""How a decision on a proposal ended."""


class AccountState(Protocol):
    """The per-account arrays the kernels read and write (see `AccountBook`)."""

    stage: np.ndarray  # int8
    since: np.ndarray  # int64: step the account entered its pipeline stage
    ready: np.ndarray  # int64: step a routed lead reaches inside sales
    due: np.ndarray  # int64: step the buying centre decides on a proposal
    source: np.ndarray  # int8: INBOUND, REFERRAL or COLD
    approvals: np.ndarray  # int8, per person: whether that decision maker agreed


@dataclass(frozen=True)
class Centres:
    """Buying centres within the population: where each account's members are.

    Attributes:
        stage: every person's funnel stage (int8).
        first / size / segment: each account's first member, its size and its segment.
        delta: [segment, stage] people moved by the kernels this step (int64).

    """

    stage: np.ndarray
    first: np.ndarray
    size: np.ndarray
    segment: np.ndarray
    delta: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(stage, first, size, segment, delta), as the kernels take them."""
        return self.stage, self.first, self.size, self.segment, self.delta


# --------------------------------------------------------------------------- helpers


@jit
def _move(a, lo, hi, to, stage, first, size, seg, delta):
    """Move account `a`'s members whose stage is in [lo, hi] to stage `to`."""
    s = seg[a]
    for row in range(first[a], first[a] + size[a]):
        st = stage[row]
        if lo <= st <= hi and st != to:
            delta[s, st] -= 1
            delta[s, to] += 1
            stage[row] = to


@jit
def _engagement(a, stage, first, size):
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
def _back_to_marketing(a, acc, approvals, stage, first, size, seg, delta):
    """Account `a` returns to marketing: members in the pipeline fall back to aware."""
    acc[a] = WITH_MARKETING
    _move(a, INTERESTED, CUSTOMER, AWARE, stage, first, size, seg, delta)
    for row in range(first[a], first[a] + size[a]):
        approvals[row] = 0


# --------------------------------------------------------------------------- kernels


@jit
def _route(
    key,
    t,
    threshold,
    delay,
    loss,
    wom_code,
    first_touch,
    acc,
    since,
    ready,
    source,
    stage,
    first,
    size,
    seg,
    delta,
):
    routed = 0
    lost = 0
    for a in range(acc.shape[0]):
        if acc[a] != WITH_MARKETING:
            continue
        leads, engaged = _engagement(a, stage, first, size)
        if leads == 0 or engaged / size[a] < threshold:
            continue
        if uniform(key, a, P_HANDOFF) < loss:
            lost += 1
            _move(a, LEAD, LEAD, AWARE, stage, first, size, seg, delta)
        else:
            routed += 1
            acc[a] = LEAD
            since[a] = t
            ready[a] = t + delay
            source[a] = REFERRAL if first_touch[first[a]] == wom_code else INBOUND
    return routed, lost


@jit
def _expire(t, at_stage, patience, acc, since, approvals, stage, first, size, seg, delta):
    expired = 0
    for a in range(acc.shape[0]):
        if acc[a] == at_stage and t - since[a] >= patience:
            expired += 1
            _back_to_marketing(a, acc, approvals, stage, first, size, seg, delta)
    return expired


@jit
def _calls(
    key,
    t,
    accounts,
    cold,
    rates,
    trust,
    cooling,
    in_market,
    acc,
    since,
    source,
    stage,
    first,
    size,
    seg,
    delta,
):
    qualified = np.zeros(accounts.shape[0], dtype=np.int64)
    for i in range(accounts.shape[0]):
        a = accounts[i]
        s = seg[a]
        if cold[i]:
            p = rates[i] * trust[s] if in_market[a] else 0.0
        else:
            _, engaged = _engagement(a, stage, first, size)
            p = rates[i] * engaged / size[a] * trust[s] * (1.0 - cooling) ** (t - since[a])
        if uniform(key, a, P_QUALIFY) < p:
            qualified[i] = 1
            acc[a] = QUALIFIED
            since[a] = t
            if cold[i]:
                source[a] = COLD
            _move(a, UNAWARE, LEAD, QUALIFIED, stage, first, size, seg, delta)
        else:
            acc[a] = WITH_MARKETING
            if not cold[i]:
                _move(a, LEAD, LEAD, INTERESTED, stage, first, size, seg, delta)
            elif stage[first[a]] == UNAWARE:
                delta[s, UNAWARE] -= 1
                delta[s, AWARE] += 1
                stage[first[a]] = AWARE
    return qualified


@jit
def _meetings(
    key,
    t,
    accounts,
    approve,
    warmth,
    show_rate,
    discovery,
    proposal_steps,
    acc,
    since,
    due,
    source,
    approvals,
    stage,
    first,
    size,
    seg,
    delta,
):
    outcome = np.zeros(accounts.shape[0], dtype=np.int64)
    for i in range(accounts.shape[0]):
        a = accounts[i]
        s = seg[a]
        if acc[a] == QUALIFIED:
            if not uniform(key, a, P_SHOW) < show_rate:
                outcome[i] = NO_SHOW
                _back_to_marketing(a, acc, approvals, stage, first, size, seg, delta)
                continue
            acc[a] = OPPORTUNITY
            since[a] = t
            outcome[i] = OPENED
            _move(a, UNAWARE, QUALIFIED, OPPORTUNITY, stage, first, size, seg, delta)
        chance = min(1.0, approve[s] * warmth[source[a]])
        yes = 0
        for row in range(first[a], first[a] + size[a]):
            if approvals[row] == 0 and uniform(key, row, P_APPROVE) < chance:
                approvals[row] = 1
            yes += approvals[row]
        agreed = approvals[first[a]] == 1 and 2 * yes > size[a]
        if agreed and t - since[a] + 1 >= discovery:
            acc[a] = PROPOSAL
            since[a] = t
            due[a] = t + proposal_steps
            outcome[i] = PROPOSED
    return outcome


@jit
def _decide(
    key, accounts, ours, competition, status_quo, warmth, acc, source, approvals, first, size, seg
):
    outcome = np.zeros(accounts.shape[0], dtype=np.int64)
    for i in range(accounts.shape[0]):
        a = accounts[i]
        s = seg[a]
        yes = 0
        for row in range(first[a], first[a] + size[a]):
            yes += approvals[row]
        w = yes / size[a] * warmth[source[a]] * ours[s]
        total = w + competition[s] + status_quo[s]
        u = uniform(key, a, P_DECIDE)
        if total > 0.0 and u < w / total:
            outcome[i] = WON
        elif total > 0.0 and u < (w + competition[s]) / total:
            outcome[i] = LOST_COMPETITOR
        else:
            outcome[i] = LOST_NO_DECISION
    return outcome


@jit
def _close(accounts, won, acc, approvals, stage, first, size, seg, delta):
    for i in range(accounts.shape[0]):
        a = accounts[i]
        if won[i]:
            acc[a] = CUSTOMER
            _move(a, UNAWARE, CUSTOMER, CUSTOMER, stage, first, size, seg, delta)
            for row in range(first[a], first[a] + size[a]):
                approvals[row] = 0
        else:
            _back_to_marketing(a, acc, approvals, stage, first, size, seg, delta)


@jit
def _draws(key, candidates, purpose, out):
    for i in range(candidates.shape[0]):
        out[i] = uniform(key, candidates[i], purpose)


@jit
def _prospects(acc, blocked_until, t, stage, first, size, seg, in_target):
    out = np.empty(acc.shape[0], dtype=np.int64)
    n = 0
    for a in range(acc.shape[0]):
        if acc[a] != WITH_MARKETING or not in_target[seg[a]] or t < blocked_until[a]:
            continue
        for row in range(first[a], first[a] + size[a]):
            if stage[row] >= AWARE:
                out[n] = a
                n += 1
                break
    return out[:n]


# --------------------------------------------------------------------------- wrappers


def _check(accounts: AccountState, centres: Centres) -> None:
    n = centres.first.shape[0]
    for name in ("stage", "since", "ready", "due", "source"):
        if getattr(accounts, name).shape != (n,):
            raise ValueError(
                f"account `{name}` must have one entry per account ({n}), "
                f"but got {getattr(accounts, name).shape}"
            )
    if accounts.approvals.shape != centres.stage.shape:
        raise ValueError(
            f"`approvals` must have one entry per person ({centres.stage.shape[0]}), "
            f"but got {accounts.approvals.shape}"
        )


def route_leads(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    t: int,
    *,
    threshold: float,
    delay: int,
    loss: float,
    wom_code: int,
    first_touch: np.ndarray,
) -> tuple[int, int]:
    """Marketing hands accounts with a lead to sales, if they score high enough.

    An account's score is the share of its buying centre interested or further. Each
    passed account is lost on the way with chance `loss` (its leads fall back to aware),
    else it reaches inside sales `delay` steps later, its source a referral when its
    economic buyer first heard of the company by word of mouth. Returns (routed, lost).
    """
    _check(accounts, centres)
    return _route(
        np.uint64(key),
        t,
        threshold,
        delay,
        loss,
        wom_code,
        first_touch,
        accounts.stage,
        accounts.since,
        accounts.ready,
        accounts.source,
        *centres.arrays(),
    )


def expire(accounts: AccountState, centres: Centres, t: int, at_stage: int, patience: int) -> int:
    """Accounts left at `at_stage` for `patience` steps go back to marketing, cold.

    Members in the pipeline (interested to customer) fall back to aware; approvals are
    forgotten. Returns how many accounts expired.
    """
    _check(accounts, centres)
    return _expire(
        t,
        at_stage,
        patience,
        accounts.stage,
        accounts.since,
        accounts.approvals,
        *centres.arrays(),
    )


def calls(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    t: int,
    called: np.ndarray,
    cold: np.ndarray,
    rates: np.ndarray,
    *,
    trust: np.ndarray,
    cooling: float,
    in_market: np.ndarray,
) -> np.ndarray:
    """Inside reps' calls: qualify each called account or send it back to nurture.

    A lead qualifies with chance rate x (share of its buying centre engaged) x trust x
    (1 - cooling)^(steps since it was passed to sales); a cold account only if it could
    buy (`in_market`), with chance rate x trust, and its first member hears of the
    company either way. Returns a 0/1 array: qualified.
    """
    _check(accounts, centres)
    if not (called.shape == cold.shape == rates.shape):
        raise ValueError(f"one cold flag and rate per call, but got {cold.shape}, {rates.shape}")
    return _calls(
        np.uint64(key),
        t,
        called.astype(np.int64),
        cold.astype(np.bool_),
        rates.astype(np.float64),
        trust,
        cooling,
        in_market,
        accounts.stage,
        accounts.since,
        accounts.source,
        *centres.arrays(),
    )


def meetings(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    t: int,
    met: np.ndarray,
    *,
    approve: np.ndarray,
    warmth: np.ndarray,
    show_rate: float,
    discovery: int,
    proposal_steps: int,
) -> np.ndarray:
    """Outside reps' meetings: hold appointments, win over decision makers, send proposals.

    An appointment is held with chance `show_rate` (else the account goes back to
    marketing: NO_SHOW) and opens an opportunity (OPENED). In each meeting every undecided
    member agrees with chance approve[segment] x warmth[source]; once the economic buyer
    and more than half the members have agreed and the opportunity has had `discovery`
    steps of meetings, a proposal goes out (PROPOSED), decided `proposal_steps` later.
    """
    _check(accounts, centres)
    return _meetings(
        np.uint64(key),
        t,
        met.astype(np.int64),
        approve,
        warmth,
        show_rate,
        discovery,
        proposal_steps,
        accounts.stage,
        accounts.since,
        accounts.due,
        accounts.source,
        accounts.approvals,
        *centres.arrays(),
    )


def decide(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    deciding: np.ndarray,
    *,
    ours: np.ndarray,
    competition: np.ndarray,
    status_quo: np.ndarray,
    warmth: np.ndarray,
) -> np.ndarray:
    """Each buying centre's decision on a proposal: WON, LOST_COMPETITOR or LOST_NO_DECISION.

    A choice between three pulls: ours (the share of members who agreed x warmth x
    `ours[segment]`, the offer's pull at its price and the buyer's trust), a
    competitor's (`competition`) and doing nothing (`status_quo`).
    """
    _check(accounts, centres)
    return _decide(
        np.uint64(key),
        deciding.astype(np.int64),
        ours,
        competition,
        status_quo,
        warmth,
        accounts.stage,
        accounts.source,
        accounts.approvals,
        centres.first,
        centres.size,
        centres.segment,
    )


def close(accounts: AccountState, centres: Centres, closed: np.ndarray, won: np.ndarray) -> None:
    """Book outcomes: won (members become customers) or lost (back to marketing, cold)."""
    _check(accounts, centres)
    if closed.shape != won.shape:
        raise ValueError(f"one outcome per account, but got {closed.shape} and {won.shape}")
    _close(
        closed.astype(np.int64),
        won.astype(np.bool_),
        accounts.stage,
        accounts.approvals,
        *centres.arrays(),
    )


def draws(key: np.uint64, candidates: np.ndarray, purpose: int) -> np.ndarray:
    """One counter-based uniform per candidate, keyed by the candidate."""
    out = np.empty(candidates.shape[0])
    _draws(np.uint64(key), candidates.astype(np.int64), purpose, out)
    return out


def random_first(key: np.uint64, candidates: np.ndarray, k: int, purpose: int) -> np.ndarray:
    """The first `k` candidates of a random order that no loop order can change."""
    k = min(k, len(candidates))
    if k == 0:
        return candidates[:0]
    u = draws(key, candidates, purpose)
    chosen = np.argpartition(u, k - 1)[:k] if k < len(candidates) else np.arange(k)
    return candidates[chosen[np.argsort(u[chosen], kind="stable")]]


def marketing_prospects(
    accounts: AccountState,
    centres: Centres,
    t: int,
    blocked_until: np.ndarray,
    in_target: np.ndarray,
) -> np.ndarray:
    """Accounts still with marketing, in targeted segments, not blocked, with someone aware."""
    _check(accounts, centres)
    return _prospects(
        accounts.stage,
        blocked_until,
        t,
        centres.stage,
        centres.first,
        centres.size,
        centres.segment,
        in_target,
    )
