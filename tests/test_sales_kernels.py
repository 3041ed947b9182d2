"""Account-level sales kernels against their one-account-at-a-time references.

Each test builds a random population laid out like `AccountBook.build` (b2b segments
with different buying-centre sizes, b2c segments in between whose people belong to no
account), runs a public function of `marketsim.kernels.sales` on one copy and its naive
twin in `marketsim.kernels.reference` on another, and asserts that every output and
every array is identical. It also checks that `delta` grows by exactly the change of
the per-segment stage histogram and that nobody outside the touched accounts moved.
Small hand-made cases with known answers pin the conventions down.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketsim.core.layout import TOUCH_NONE, touch_word_of_mouth
from marketsim.core.purposes import P_BROKER, P_COLD
from marketsim.core.stages import (
    AWARE,
    CUSTOMER,
    INTERESTED,
    LEAD,
    OPPORTUNITY,
    QUALIFIED,
    STAGES,
    UNAWARE,
)
from marketsim.kernels import reference as N
from marketsim.kernels import sales as K
from marketsim.kernels.rng import stream_key

WITH_MARKETING = K.WITH_MARKETING
ACCOUNT_STAGES = (WITH_MARKETING, LEAD, QUALIFIED, OPPORTUNITY, K.PROPOSAL, CUSTOMER)
SOURCES = (K.INBOUND, K.REFERRAL, K.COLD)
N_CHANNELS = 3
WOM = touch_word_of_mouth(N_CHANNELS)
T = 20  # the step every test runs at

SEEDS = st.integers(0, 2**32 - 1)
ACCOUNTS = st.integers(1, 300)
CENTRES = st.integers(1, 12)

ACCOUNT_FIELDS = ("stage", "since", "ready", "due", "source", "blocked_until", "in_market")
PERSON_FIELDS = ("person_stage", "approvals", "first_touch")
LAYOUT_FIELDS = ("first", "size", "segment", "person_seg")


@dataclass
class State:
    """Everything the kernels read or write, plus who is in which segment.

    It has the `AccountState` attributes (so it is passed as the accounts) and makes the
    `Centres` over its own arrays, so the kernels write into it.
    """

    stage: np.ndarray  # int8 [account]
    since: np.ndarray  # int64 [account]
    ready: np.ndarray  # int64 [account]
    due: np.ndarray  # int64 [account]
    source: np.ndarray  # int8 [account]
    blocked_until: np.ndarray  # int64 [account]
    in_market: np.ndarray  # bool [account]
    first: np.ndarray  # int64 [account]
    size: np.ndarray  # int64 [account]
    segment: np.ndarray  # int64 [account]
    approvals: np.ndarray  # int8 [person]
    person_stage: np.ndarray  # int8 [person]
    first_touch: np.ndarray  # int8 [person]
    person_seg: np.ndarray  # int64 [person]
    delta: np.ndarray  # int64 [segment, stage]

    def copy(self) -> State:
        return State(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def centres(self) -> K.Centres:
        return K.Centres(self.person_stage, self.first, self.size, self.segment, self.delta)

    def rows(self, accounts) -> np.ndarray:
        """Population rows of the given accounts."""
        parts = [np.arange(self.first[a], self.first[a] + self.size[a]) for a in accounts]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def make_state(seed: int, n_accounts: int = 200, max_centre: int = 8) -> State:
    """A random valid state: b2b and b2c segments, random stages everywhere.

    Person stages are drawn 0..6 whatever their account's stage, account stages among
    all six, sources among the three, first touches among none, the channels, word of
    mouth and organic; `delta` starts non-zero so the kernels must add to it.
    """
    rng = np.random.default_rng(seed)
    n_b2b = min(int(rng.integers(2, 5)), n_accounts)  # several buying-centre sizes
    kinds = ["b2b"] * n_b2b + ["b2c"] * int(rng.integers(0, 3))
    rng.shuffle(kinds)
    per_segment = rng.multinomial(n_accounts - n_b2b, np.full(n_b2b, 1 / n_b2b)) + 1
    counts, centres = [], []
    b = 0
    for kind in kinds:
        if kind == "b2b":
            centres.append(int(rng.integers(1, max_centre + 1)))
            counts.append(int(per_segment[b]))
            b += 1
        else:
            centres.append(1)
            counts.append(int(rng.integers(0, 40)))
    people = np.array([c * k for c, k in zip(counts, centres, strict=True)], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(people)])
    seg, first, size = [], [], []
    for s, kind in enumerate(kinds):  # as AccountBook.build lays them out
        if kind != "b2b":
            continue
        k = centres[s]
        seg.append(np.full(counts[s], s, dtype=np.int64))
        first.append(offsets[s] + k * np.arange(counts[s], dtype=np.int64))
        size.append(np.full(counts[s], k, dtype=np.int64))
    n_people = int(offsets[-1])
    since = rng.integers(0, T + 1, n_accounts).astype(np.int64)
    return State(
        stage=rng.choice(np.array(ACCOUNT_STAGES, dtype=np.int8), n_accounts),
        since=since,
        ready=since + rng.integers(0, 4, n_accounts),
        due=since + rng.integers(0, 4, n_accounts),
        source=rng.choice(np.array(SOURCES, dtype=np.int8), n_accounts),
        blocked_until=np.where(rng.random(n_accounts) < 0.7, 0, rng.integers(0, 2 * T, n_accounts)),
        in_market=rng.random(n_accounts) < 0.7,
        first=np.concatenate(first),
        size=np.concatenate(size),
        segment=np.concatenate(seg),
        approvals=rng.integers(0, 2, n_people).astype(np.int8),
        person_stage=rng.integers(0, len(STAGES), n_people).astype(np.int8),
        first_touch=rng.integers(TOUCH_NONE, WOM + 2, n_people).astype(np.int8),
        person_seg=np.repeat(np.arange(len(kinds), dtype=np.int64), people),
        delta=rng.integers(-5, 6, (len(kinds), len(STAGES))).astype(np.int64),
    )


def customers_only_in_won_accounts(state: State, seed: int) -> State:
    """Redraw customers outside customer accounts: only `close` makes b2b customers.

    b2b people cannot buy on their own (segments.py zeroes their self-service purchase),
    so in a running model a member is a customer only if their account is.
    """
    rng = np.random.default_rng(seed)
    for a in np.flatnonzero(state.stage != CUSTOMER):
        rows = state.rows([a])
        bad = rows[state.person_stage[rows] == CUSTOMER]
        state.person_stage[bad] = rng.integers(0, CUSTOMER, len(bad))
    return state


def one_segment(centres, stage, members, *, since=0, source=K.INBOUND) -> State:
    """A hand-made state: one b2b segment whose accounts have the given centre sizes."""
    size = np.array(centres, dtype=np.int64)
    n_acc, n = len(size), int(size.sum())
    return State(
        stage=np.array(stage, dtype=np.int8),
        since=np.full(n_acc, since, np.int64),
        ready=np.full(n_acc, since, np.int64),
        due=np.zeros(n_acc, np.int64),
        source=np.broadcast_to(np.array(source, dtype=np.int8), (n_acc,)).copy(),
        blocked_until=np.zeros(n_acc, np.int64),
        in_market=np.ones(n_acc, np.bool_),
        first=np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64),
        size=size,
        segment=np.zeros(n_acc, np.int64),
        approvals=np.zeros(n, np.int8),
        person_stage=np.array(members, dtype=np.int8),
        first_touch=np.full(n, TOUCH_NONE, np.int8),
        person_seg=np.zeros(n, np.int64),
        delta=np.zeros((1, len(STAGES)), np.int64),
    )


def owner_of(state: State) -> np.ndarray:
    """Account of every person; -1 for people in no account (b2c)."""
    owner = np.full(state.person_stage.shape[0], -1, dtype=np.int64)
    for a in range(state.stage.shape[0]):
        owner[state.first[a] : state.first[a] + state.size[a]] = a
    return owner


def per_account(state: State, values: np.ndarray) -> np.ndarray:
    """Sum of a per-person 0/1 array over each account's members."""
    owner = owner_of(state)
    inside = owner >= 0
    return np.bincount(owner[inside], values[inside], minlength=state.stage.shape[0]).astype(int)


def histogram(state: State) -> np.ndarray:
    counts = np.zeros_like(state.delta)
    np.add.at(counts, (state.person_seg, state.person_stage.astype(np.int64)), 1)
    return counts


# ------------------------------------------------------------------- checks
def assert_same(kernel_out, naive_out, kernel: State, naive: State) -> None:
    """Outputs and every array of the two states are identical."""
    if isinstance(kernel_out, np.ndarray):
        assert kernel_out.dtype == naive_out.dtype
        np.testing.assert_array_equal(kernel_out, naive_out)
    else:
        assert type(kernel_out) is type(naive_out)
        assert kernel_out == naive_out
    for f in fields(State):
        k, n = getattr(kernel, f.name), getattr(naive, f.name)
        assert k.dtype == n.dtype, f.name
        np.testing.assert_array_equal(k, n, err_msg=f.name)


def assert_books_balance(before: State, after: State) -> None:
    """delta grew by exactly the change in people per [segment, stage]."""
    np.testing.assert_array_equal(after.delta - before.delta, histogram(after) - histogram(before))


def assert_untouched(before: State, after: State, touched) -> None:
    """Accounts outside `touched`, and every person outside them, are as they were."""
    accounts = np.ones(before.stage.shape[0], dtype=np.bool_)
    accounts[np.asarray(touched, dtype=np.int64)] = False
    people = np.ones(before.person_stage.shape[0], dtype=np.bool_)
    people[before.rows(np.flatnonzero(~accounts))] = False
    for name in ACCOUNT_FIELDS:
        np.testing.assert_array_equal(
            getattr(after, name)[accounts], getattr(before, name)[accounts], err_msg=name
        )
    for name in PERSON_FIELDS:
        np.testing.assert_array_equal(
            getattr(after, name)[people], getattr(before, name)[people], err_msg=name
        )
    for name in (*LAYOUT_FIELDS, "blocked_until", "in_market", "first_touch"):
        np.testing.assert_array_equal(getattr(after, name), getattr(before, name), err_msg=name)


def compare(state: State, run, touched):
    """Run `run(module, state_copy)` with the kernels and the reference; check all.

    Returns the kernel's state and output.
    """
    kernel, naive = state.copy(), state.copy()
    kernel_out = run(K, kernel)
    naive_out = run(N, naive)
    assert_same(kernel_out, naive_out, kernel, naive)
    assert_books_balance(state, kernel)
    assert_untouched(state, kernel, touched)
    return kernel, kernel_out


def draw_accounts(rng, state: State, stages, share: float) -> np.ndarray:
    """A random share of the accounts at the given stages, in random order."""
    pool = np.flatnonzero(np.isin(state.stage, stages))
    picked = rng.choice(pool, round(share * len(pool)), replace=False)
    return picked.astype(np.int64)


# ------------------------------------------------------------------- route_leads
def route_args(key, threshold=0.0, delay=0, loss=0.0):
    def run(module, s):
        return module.route_leads(
            s,
            s.centres(),
            key,
            T,
            threshold=threshold,
            delay=delay,
            loss=loss,
            wom_code=WOM,
            first_touch=s.first_touch,
        )

    return run


@given(
    seed=SEEDS,
    n_accounts=ACCOUNTS,
    max_centre=CENTRES,
    twentieths=st.integers(0, 20),
    delay=st.integers(0, 5),
    loss=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
@settings(max_examples=30, deadline=None)
def test_route_leads_matches_naive(seed, n_accounts, max_centre, twentieths, delay, loss):
    state = make_state(seed, n_accounts, max_centre)
    threshold = twentieths / 20
    leads = per_account(state, (state.person_stage == LEAD).astype(float))
    engaged = per_account(state, (state.person_stage >= INTERESTED).astype(float))
    eligible = np.flatnonzero(
        (state.stage == WITH_MARKETING) & (leads > 0) & (engaged / state.size >= threshold)
    )
    run = route_args(stream_key(seed, 0, T), threshold, delay, loss)
    kernel, (routed, lost) = compare(state, run, eligible)
    assert isinstance(routed, int) and isinstance(lost, int)
    assert routed + lost == len(eligible)
    now_lead = eligible[kernel.stage[eligible] == LEAD]
    dropped = eligible[kernel.stage[eligible] == WITH_MARKETING]
    assert len(now_lead) == routed and len(dropped) == lost
    assert (kernel.since[now_lead] == T).all()
    assert (kernel.ready[now_lead] == T + delay).all()
    referral = state.first_touch[state.first[now_lead]] == WOM
    expect = np.where(referral, K.REFERRAL, K.INBOUND)
    np.testing.assert_array_equal(kernel.source[now_lead], expect)
    # A lost hand-off drops the leads to aware and nothing else.
    rows = state.rows(dropped)
    was, now = state.person_stage[rows], kernel.person_stage[rows]
    np.testing.assert_array_equal(now, np.where(was == LEAD, AWARE, was))
    for name in ("since", "ready", "source"):
        np.testing.assert_array_equal(getattr(kernel, name)[dropped], getattr(state, name)[dropped])
    if loss == 0.0:
        assert lost == 0
    if loss == 1.0:
        assert routed == 0


def test_route_leads_passes_a_score_equal_to_the_threshold():
    # 1 lead + 6 interested of 25: a score of 7 / 25, which is the float 0.28.
    state = one_segment([25], [WITH_MARKETING], [LEAD] + [INTERESTED] * 6 + [AWARE] * 18)
    kernel, out = compare(state, route_args(stream_key(1, 0, T), 7 / 25, 1), [0])
    assert out == (1, 0)
    assert kernel.stage[0] == LEAD and kernel.ready[0] == T + 1
    # Just above the score, nobody is routed.
    compare(state, route_args(stream_key(1, 0, T), np.nextafter(7 / 25, 1), 1), [])


def test_route_leads_source_follows_the_economic_buyers_first_touch():
    """Referral when the buyer first heard by word of mouth, whoever else did."""
    stage = [WITH_MARKETING] * 4
    members = [LEAD, INTERESTED] * 4
    state = one_segment([2, 2, 2, 2], stage, members, source=K.COLD)
    state.first_touch[:] = [WOM, 0, 1, WOM, TOUCH_NONE, TOUCH_NONE, WOM + 1, WOM]
    kernel, out = compare(state, route_args(stream_key(2, 0, T), 1.0, 2), range(4))
    assert out == (4, 0)
    np.testing.assert_array_equal(kernel.source, [K.REFERRAL, K.INBOUND, K.INBOUND, K.INBOUND])
    np.testing.assert_array_equal(kernel.person_stage, members)  # routing moves no one


def test_route_leads_needs_a_lead_and_takes_only_accounts_with_marketing():
    stage = [WITH_MARKETING, WITH_MARKETING, OPPORTUNITY]
    members = [INTERESTED, CUSTOMER, LEAD, AWARE, LEAD, LEAD]
    state = one_segment([2, 2, 2], stage, members)
    kernel, out = compare(state, route_args(stream_key(3, 0, T)), [1])
    assert out == (1, 0)
    np.testing.assert_array_equal(kernel.stage, [WITH_MARKETING, LEAD, OPPORTUNITY])


def test_a_lost_hand_off_drops_only_the_leads():
    state = one_segment([4], [WITH_MARKETING], [LEAD, LEAD, INTERESTED, QUALIFIED], since=3)
    kernel, out = compare(state, route_args(stream_key(4, 0, T), loss=1.0), [0])
    assert out == (0, 1)
    np.testing.assert_array_equal(kernel.person_stage, [AWARE, AWARE, INTERESTED, QUALIFIED])
    assert kernel.stage[0] == WITH_MARKETING and kernel.since[0] == 3
    np.testing.assert_array_equal(kernel.delta[0], [0, 2, 0, -2, 0, 0, 0])


# ------------------------------------------------------------------- expire
def expire_args(at_stage, patience, t=T):
    def run(module, s):
        return module.expire(s, s.centres(), t, at_stage, patience)

    return run


@pytest.mark.parametrize("at_stage", [LEAD, QUALIFIED, OPPORTUNITY, K.PROPOSAL])
@pytest.mark.parametrize("seed", range(3))
def test_expire_matches_naive(seed, at_stage):
    state = customers_only_in_won_accounts(make_state(seed), seed)
    patience = int(np.random.default_rng(seed).integers(0, 8))
    due = np.flatnonzero((state.stage == at_stage) & (T - state.since >= patience))
    kernel, expired = compare(state, expire_args(at_stage, patience), due)
    assert isinstance(expired, int) and expired == len(due)
    assert (kernel.stage[due] == WITH_MARKETING).all()
    rows = state.rows(due)
    assert (kernel.approvals[rows] == 0).all()
    was = state.person_stage[rows]
    np.testing.assert_array_equal(kernel.person_stage[rows], np.where(was >= AWARE, AWARE, was))
    for name in ("since", "ready", "due", "source"):
        np.testing.assert_array_equal(getattr(kernel, name), getattr(state, name))


def test_expire_drops_the_whole_pipeline_to_aware():
    # A lead account waiting since step 0: the customer, interested and lead fall to
    # aware, the unaware member stays unaware.
    state = one_segment([5], [LEAD], [CUSTOMER, INTERESTED, LEAD, UNAWARE, AWARE])
    state.approvals[:] = 1
    kernel, expired = compare(state, expire_args(LEAD, 5), [0])
    assert expired == 1
    np.testing.assert_array_equal(kernel.person_stage, [AWARE, AWARE, AWARE, UNAWARE, AWARE])
    np.testing.assert_array_equal(kernel.approvals, 0)
    np.testing.assert_array_equal(kernel.delta[0], [0, 3, -1, -1, 0, 0, -1])


def test_expire_waits_exactly_patience_steps():
    state = one_segment([1, 1], [QUALIFIED, QUALIFIED], [QUALIFIED, QUALIFIED])
    state.since[:] = [T - 3, T - 2]
    kernel, expired = compare(state, expire_args(QUALIFIED, 3), [0])
    assert expired == 1
    np.testing.assert_array_equal(kernel.stage, [WITH_MARKETING, QUALIFIED])


# ------------------------------------------------------------------- calls
def call_args(key, accounts, cold, rates, trust, cooling=0.0, t=T):
    def run(module, s):
        return module.calls(
            s,
            s.centres(),
            key,
            t,
            accounts,
            cold,
            rates,
            trust=trust,
            cooling=cooling,
            in_market=s.in_market,
        )

    return run


def call_list(seed, state):
    """Leads, then cold accounts with marketing, as `inside_sales` calls them."""
    rng = np.random.default_rng(seed)
    warm = draw_accounts(rng, state, [LEAD], rng.uniform(0.2, 1.0))
    cold = draw_accounts(rng, state, [WITH_MARKETING], rng.uniform(0.0, 0.8))
    accounts = np.concatenate([warm, cold])
    is_cold = np.concatenate([np.zeros(len(warm), np.bool_), np.ones(len(cold), np.bool_)])
    rates = np.where(is_cold, rng.uniform(0.0, 0.9), rng.uniform(0.2, 1.0))
    trust = rng.uniform(0.3, 2.0, state.delta.shape[0])
    return accounts, is_cold, rates, trust


@given(
    seed=SEEDS,
    n_accounts=ACCOUNTS,
    max_centre=CENTRES,
    cooling=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
)
@settings(max_examples=30, deadline=None)
def test_calls_match_naive(seed, n_accounts, max_centre, cooling):
    state = make_state(seed, n_accounts, max_centre)
    accounts, is_cold, rates, trust = call_list(seed, state)
    run = call_args(stream_key(seed, 2, T), accounts, is_cold, rates, trust, cooling)
    kernel, qualified = compare(state, run, accounts)
    assert qualified.dtype == np.int64
    assert set(np.unique(qualified)) <= {0, 1}
    won = accounts[qualified == 1]
    assert (kernel.stage[won] == QUALIFIED).all()
    assert (kernel.since[won] == T).all()
    assert (kernel.person_stage[state.rows(won)] >= QUALIFIED).all()
    np.testing.assert_array_equal(kernel.source[accounts[(qualified == 1) & is_cold]], K.COLD)
    warm_won = accounts[(qualified == 1) & ~is_cold]
    np.testing.assert_array_equal(kernel.source[warm_won], state.source[warm_won])
    assert not (qualified[is_cold & ~state.in_market[accounts]]).any()  # only in-market
    failed = accounts[qualified == 0]
    assert (kernel.stage[failed] == WITH_MARKETING).all()
    np.testing.assert_array_equal(kernel.since[failed], state.since[failed])
    nurtured = accounts[(qualified == 0) & ~is_cold]
    assert (kernel.person_stage[state.rows(nurtured)] != LEAD).all()
    woken = accounts[(qualified == 0) & is_cold]
    assert (kernel.person_stage[state.first[woken]] != UNAWARE).all()
    if cooling == 1.0:  # a lead passed before this step has cooled off entirely
        assert not qualified[~is_cold & (state.since[accounts] < T)].any()


def test_failed_cold_call_wakes_only_the_economic_buyer():
    state = one_segment([4, 4, 1], [WITH_MARKETING] * 3, [UNAWARE] * 9)
    cold = np.arange(3, dtype=np.int64)
    never = np.zeros(3)  # a qualify rate of 0: every call fails
    run = call_args(stream_key(3, 0, T), cold, np.ones(3, np.bool_), never, np.ones(1))
    kernel, qualified = compare(state, run, cold)
    np.testing.assert_array_equal(qualified, 0)
    np.testing.assert_array_equal(kernel.person_stage, [AWARE, 0, 0, 0, AWARE, 0, 0, 0, AWARE])


def test_cold_calls_qualify_only_accounts_in_market():
    # A certain call (rate 1, trust 1) qualifies the in-market accounts, never the rest.
    state = one_segment([2] * 4, [WITH_MARKETING] * 4, [UNAWARE, AWARE] * 4)
    state.in_market[:] = [True, False, True, False]
    cold = np.arange(4, dtype=np.int64)
    run = call_args(stream_key(5, 0, T), cold, np.ones(4, np.bool_), np.ones(4), np.ones(1))
    kernel, qualified = compare(state, run, cold)
    np.testing.assert_array_equal(qualified, [1, 0, 1, 0])
    np.testing.assert_array_equal(kernel.stage, [QUALIFIED, WITH_MARKETING] * 2)
    np.testing.assert_array_equal(kernel.source, [K.COLD, K.INBOUND] * 2)
    np.testing.assert_array_equal(kernel.since, [T, 0, T, 0])
    qualified_pair, woken_pair = [QUALIFIED, QUALIFIED], [AWARE, AWARE]
    np.testing.assert_array_equal(kernel.person_stage, (qualified_pair + woken_pair) * 2)


def test_warm_calls_cool_off_with_the_steps_since_hand_off():
    # Whole-hearted leads (all members leads), rate 1, trust 1: with cooling 1 a lead
    # passed this step is certain ((1 - 1) ** 0 = 1), one passed earlier is hopeless.
    state = one_segment([2, 2], [LEAD, LEAD], [LEAD] * 4, source=K.REFERRAL)
    state.since[:] = [T, T - 1]
    warm = np.arange(2, dtype=np.int64)
    run = call_args(stream_key(6, 0, T), warm, np.zeros(2, np.bool_), np.ones(2), np.ones(1), 1.0)
    kernel, qualified = compare(state, run, warm)
    np.testing.assert_array_equal(qualified, [1, 0])
    np.testing.assert_array_equal(kernel.source, K.REFERRAL)  # a lead keeps its source
    np.testing.assert_array_equal(kernel.person_stage, [QUALIFIED] * 2 + [INTERESTED] * 2)


def test_warm_call_rates_follow_the_cooling_factor():
    # 4000 single-person leads passed 2 steps ago: rate 0.9 x engaged 1 x trust 0.8 x
    # (1 - 0.25)^2 = 0.405.
    n = 4000
    state = one_segment([1] * n, [LEAD] * n, [LEAD] * n, since=T - 2)
    warm = np.arange(n, dtype=np.int64)
    rates = np.full(n, 0.9)
    run = call_args(stream_key(7, 0, T), warm, np.zeros(n, np.bool_), rates, np.array([0.8]), 0.25)
    _, qualified = compare(state, run, warm)
    assert abs(qualified.mean() - 0.405) < 0.03


# ------------------------------------------------------------------- meetings
def meeting_args(key, accounts, approve, warmth, show_rate=1.0, discovery=1, proposal_steps=0):
    def run(module, s):
        return module.meetings(
            s,
            s.centres(),
            key,
            T,
            accounts,
            approve=approve,
            warmth=warmth,
            show_rate=show_rate,
            discovery=discovery,
            proposal_steps=proposal_steps,
        )

    return run


@given(
    seed=SEEDS,
    n_accounts=ACCOUNTS,
    max_centre=CENTRES,
    show_rate=st.sampled_from([0.0, 0.6, 0.9, 1.0]),
    discovery=st.integers(0, 4),
    proposal_steps=st.integers(0, 3),
)
@settings(max_examples=30, deadline=None)
def test_meetings_match_naive(seed, n_accounts, max_centre, show_rate, discovery, proposal_steps):
    state = make_state(seed, n_accounts, max_centre)
    rng = np.random.default_rng(seed)
    accounts = np.concatenate(
        [
            draw_accounts(rng, state, [OPPORTUNITY], rng.uniform(0.2, 1.0)),
            draw_accounts(rng, state, [QUALIFIED], rng.uniform(0.2, 1.0)),
        ]
    )
    approve = rng.choice([0.0, 0.2, 0.5, 0.9, 1.0], state.delta.shape[0])
    warmth = rng.choice([0.0, 0.5, 1.0, 1.5], 3)
    key = stream_key(seed, 3, T)
    run = meeting_args(key, accounts, approve, warmth, show_rate, discovery, proposal_steps)
    kernel, outcome = compare(state, run, accounts)
    assert outcome.dtype == np.int64
    assert set(np.unique(outcome)) <= {K.NO_SHOW, 0, K.OPENED, K.PROPOSED}
    was = state.stage[accounts]
    appointment = was == QUALIFIED
    # Only appointments can be no-shows, and with a show rate of 0 (1) all are (none is).
    assert not (outcome[~appointment] == K.NO_SHOW).any()
    assert not (outcome[~appointment] == K.OPENED).any()
    if show_rate == 0.0:
        assert (outcome[appointment] == K.NO_SHOW).all()
    if show_rate == 1.0:
        assert not (outcome == K.NO_SHOW).any()
    no_show = accounts[outcome == K.NO_SHOW]
    assert (kernel.stage[no_show] == WITH_MARKETING).all()
    assert (kernel.approvals[state.rows(no_show)] == 0).all()
    assert (kernel.person_stage[state.rows(no_show)] <= AWARE).all()
    np.testing.assert_array_equal(kernel.since[no_show], state.since[no_show])
    # Held appointments open an opportunity: since now, members at least opportunity.
    held = accounts[appointment & (outcome != K.NO_SHOW)]
    assert (kernel.since[held] == T).all()
    assert (kernel.person_stage[state.rows(held)] >= OPPORTUNITY).all()
    # Proposals need the buyer, a majority and enough discovery; they set the due date.
    proposed = accounts[outcome == K.PROPOSED]
    assert (kernel.stage[proposed] == K.PROPOSAL).all()
    assert (kernel.since[proposed] == T).all()
    assert (kernel.due[proposed] == T + proposal_steps).all()
    yes = per_account(kernel, kernel.approvals.astype(float))[proposed]
    assert (kernel.approvals[kernel.first[proposed]] == 1).all()
    assert (2 * yes > kernel.size[proposed]).all()
    opened_at = np.where(appointment, T, state.since[accounts])[outcome == K.PROPOSED]
    assert (T - opened_at + 1 >= discovery).all()
    # The rest stay open opportunities, due date untouched; approvals never withdrawn.
    rest = accounts[(outcome == 0) | (outcome == K.OPENED)]
    assert (kernel.stage[rest] == OPPORTUNITY).all()
    np.testing.assert_array_equal(kernel.due[rest], state.due[rest])
    kept = state.rows(accounts[outcome != K.NO_SHOW])
    assert (kernel.approvals[kept] >= state.approvals[kept]).all()


def test_show_rate_zero_makes_every_appointment_a_no_show():
    stage = [QUALIFIED, QUALIFIED, OPPORTUNITY]
    members = [QUALIFIED, CUSTOMER, UNAWARE, QUALIFIED, OPPORTUNITY, OPPORTUNITY]
    state = one_segment([2, 2, 2], stage, members, since=T - 5)
    state.approvals[:] = [1, 1, 0, 1, 1, 0]
    met = np.arange(3, dtype=np.int64)
    run = meeting_args(stream_key(8, 0, T), met, np.ones(1), np.ones(3), 0.0, 1, 2)
    kernel, outcome = compare(state, run, met)
    np.testing.assert_array_equal(outcome, [K.NO_SHOW, K.NO_SHOW, K.PROPOSED])
    np.testing.assert_array_equal(kernel.stage, [WITH_MARKETING, WITH_MARKETING, K.PROPOSAL])
    np.testing.assert_array_equal(kernel.since, [T - 5, T - 5, T])
    np.testing.assert_array_equal(
        kernel.person_stage, [AWARE, AWARE, UNAWARE, AWARE, OPPORTUNITY, OPPORTUNITY]
    )
    np.testing.assert_array_equal(kernel.approvals, [0, 0, 0, 0, 1, 1])


def test_everyone_agreeing_proposes_at_the_first_meeting_with_discovery_one():
    members = [UNAWARE, LEAD, QUALIFIED, CUSTOMER, QUALIFIED, QUALIFIED, QUALIFIED]
    state = one_segment([4, 3], [QUALIFIED, QUALIFIED], members, since=T - 2)
    met = np.arange(2, dtype=np.int64)
    run = meeting_args(stream_key(9, 0, T), met, np.ones(1), np.ones(3), 1.0, 1, 4)
    kernel, outcome = compare(state, run, met)
    np.testing.assert_array_equal(outcome, [K.PROPOSED, K.PROPOSED])
    np.testing.assert_array_equal(kernel.stage, [K.PROPOSAL, K.PROPOSAL])
    np.testing.assert_array_equal(kernel.since, [T, T])
    np.testing.assert_array_equal(kernel.due, [T + 4, T + 4])
    np.testing.assert_array_equal(kernel.approvals, 1)
    expect = [OPPORTUNITY] * 3 + [CUSTOMER] + [OPPORTUNITY] * 3  # customers stay customers
    np.testing.assert_array_equal(kernel.person_stage, expect)


def test_a_proposal_waits_for_discovery_steps():
    # Everyone agrees; discovery 3: an opportunity opened now or a step ago keeps
    # meeting, one opened two steps ago (its third step) proposes.
    state = one_segment(
        [1, 1, 1], [QUALIFIED, OPPORTUNITY, OPPORTUNITY], [QUALIFIED, OPPORTUNITY, OPPORTUNITY]
    )
    state.since[:] = [T - 9, T - 1, T - 2]
    met = np.arange(3, dtype=np.int64)
    run = meeting_args(stream_key(10, 0, T), met, np.ones(1), np.ones(3), 1.0, 3, 2)
    kernel, outcome = compare(state, run, met)
    np.testing.assert_array_equal(outcome, [K.OPENED, 0, K.PROPOSED])
    np.testing.assert_array_equal(kernel.stage, [OPPORTUNITY, OPPORTUNITY, K.PROPOSAL])
    np.testing.assert_array_equal(kernel.since, [T, T - 1, T])
    np.testing.assert_array_equal(kernel.due, [0, 0, T + 2])
    np.testing.assert_array_equal(kernel.approvals, 1)


def test_approvals_are_scaled_by_the_warmth_of_the_source():
    # approve 0.5: warmth 2 makes every approval certain, warmth 0 impossible.
    members = [OPPORTUNITY] * 9
    sources = [K.INBOUND, K.REFERRAL, K.COLD]
    state = one_segment([3, 3, 3], [OPPORTUNITY] * 3, members, since=T - 4, source=sources)
    met = np.arange(3, dtype=np.int64)
    warmth = np.array([2.0, 0.0, 4.0])
    run = meeting_args(stream_key(11, 0, T), met, np.array([0.5]), warmth, 1.0, 1, 1)
    kernel, outcome = compare(state, run, met)
    np.testing.assert_array_equal(outcome, [K.PROPOSED, 0, K.PROPOSED])
    np.testing.assert_array_equal(kernel.approvals, [1, 1, 1, 0, 0, 0, 1, 1, 1])


def test_a_majority_without_the_economic_buyer_is_no_proposal():
    state = one_segment([3], [OPPORTUNITY], [OPPORTUNITY] * 3, since=T - 4)
    state.approvals[:] = [0, 1, 1]
    met = np.zeros(1, dtype=np.int64)
    run = meeting_args(stream_key(12, 0, T), met, np.zeros(1), np.ones(3))
    kernel, outcome = compare(state, run, met)
    np.testing.assert_array_equal(outcome, [0])
    assert kernel.stage[0] == OPPORTUNITY


# ------------------------------------------------------------------- decide
def decide_args(key, deciding, ours, competition, status_quo, warmth):
    def run(module, s):
        return module.decide(
            s,
            s.centres(),
            key,
            deciding,
            ours=ours,
            competition=competition,
            status_quo=status_quo,
            warmth=warmth,
        )

    return run


def proposals(seed, state):
    """The proposal accounts, buyer and a majority agreed as `meetings` leaves them."""
    rng = np.random.default_rng(seed)
    deciding = draw_accounts(rng, state, [K.PROPOSAL], rng.uniform(0.3, 1.0))
    for a in deciding:
        rows = state.rows([a])
        state.approvals[rows] = rng.random(len(rows)) < 0.8
        state.approvals[rows[0]] = 1
    return deciding


@given(seed=SEEDS, n_accounts=ACCOUNTS, max_centre=CENTRES)
@settings(max_examples=30, deadline=None)
def test_decide_matches_naive_and_changes_nothing(seed, n_accounts, max_centre):
    state = make_state(seed, n_accounts, max_centre)
    deciding = proposals(seed, state)
    rng = np.random.default_rng(seed + 1)
    n_seg = state.delta.shape[0]
    ours, competition, status_quo = (rng.choice([0.0, 0.3, 1.0, 2.0], n_seg) for _ in range(3))
    warmth = rng.uniform(0.5, 1.5, 3)
    key = stream_key(seed, 4, T)
    run = decide_args(key, deciding, ours, competition, status_quo, warmth)
    _, outcome = compare(state, run, [])  # decide touches no account
    assert outcome.dtype == np.int64
    assert set(np.unique(outcome)) <= {K.WON, K.LOST_COMPETITOR, K.LOST_NO_DECISION}
    seg = state.segment[deciding]
    assert not (outcome[ours[seg] == 0.0] == K.WON).any()
    assert not (outcome[competition[seg] == 0.0] == K.LOST_COMPETITOR).any()
    no_pull = (ours[seg] == 0.0) & (competition[seg] == 0.0)
    assert (outcome[no_pull] == K.LOST_NO_DECISION).all()
    # Without competition or inertia, every decision is a win; with ours at 0, none is.
    zero = np.zeros(n_seg)
    win = decide_args(key, deciding, np.ones(n_seg), zero, zero, warmth)
    _, outcome = compare(state, win, [])
    np.testing.assert_array_equal(outcome, K.WON)
    lose = decide_args(key, deciding, zero, np.ones(n_seg), np.ones(n_seg), warmth)
    _, outcome = compare(state, lose, [])
    assert not (outcome == K.WON).any()


def test_decisions_split_by_the_three_pulls():
    # Everyone agreed, warmth 1: pulls ours 1, competitor 1, status quo 2 of 4.
    n = 4000
    state = one_segment([2] * n, [K.PROPOSAL] * n, [OPPORTUNITY] * (2 * n))
    state.approvals[:] = 1
    deciding = np.arange(n, dtype=np.int64)
    one = np.ones(1)
    run = decide_args(stream_key(13, 0, T), deciding, one, one, 2 * one, np.ones(3))
    _, outcome = compare(state, run, [])
    shares = [(outcome == o).mean() for o in (K.WON, K.LOST_COMPETITOR, K.LOST_NO_DECISION)]
    np.testing.assert_allclose(shares, [0.25, 0.25, 0.5], atol=0.03)


def test_nobody_agreeing_or_no_pull_at_all_is_no_decision():
    state = one_segment([2, 2], [K.PROPOSAL] * 2, [OPPORTUNITY] * 4, source=[0, 1])
    state.approvals[:] = [0, 0, 1, 1]
    deciding = np.arange(2, dtype=np.int64)
    zero, one = np.zeros(1), np.ones(1)
    warmth = np.array([1.0, 0.0, 1.0])  # the second account's source is cold as ice
    _, outcome = compare(
        state, decide_args(stream_key(14, 0, T), deciding, one, zero, zero, warmth), []
    )
    np.testing.assert_array_equal(outcome, [K.LOST_NO_DECISION] * 2)


# ------------------------------------------------------------------- close
def close_args(closed, won):
    def run(module, s):
        return module.close(s, s.centres(), closed, won)

    return run


@pytest.mark.parametrize("seed", range(4))
def test_close_matches_naive(seed):
    state = make_state(seed)
    rng = np.random.default_rng(seed)
    accounts = draw_accounts(rng, state, ACCOUNT_STAGES, 0.5)
    won = rng.random(len(accounts)) < 0.5
    kernel, out = compare(state, close_args(accounts, won), accounts)
    assert out is None
    assert (kernel.stage[accounts[won]] == CUSTOMER).all()
    assert (kernel.person_stage[state.rows(accounts[won])] == CUSTOMER).all()
    lost = accounts[~won]
    assert (kernel.stage[lost] == WITH_MARKETING).all()
    was = state.person_stage[state.rows(lost)]
    np.testing.assert_array_equal(
        kernel.person_stage[state.rows(lost)], np.where(was >= AWARE, AWARE, was)
    )
    assert (kernel.approvals[state.rows(accounts)] == 0).all()
    for name in ("since", "ready", "due", "source"):
        np.testing.assert_array_equal(getattr(kernel, name), getattr(state, name))


def test_close_books_a_win_and_a_loss():
    stage = [K.PROPOSAL, K.PROPOSAL]
    members = [OPPORTUNITY, UNAWARE, OPPORTUNITY, UNAWARE]
    state = one_segment([2, 2], stage, members)
    state.approvals[:] = 1
    closed = np.array([1, 0], dtype=np.int64)
    kernel, _ = compare(state, close_args(closed, np.array([False, True])), [0, 1])
    np.testing.assert_array_equal(kernel.stage, [CUSTOMER, WITH_MARKETING])
    np.testing.assert_array_equal(kernel.person_stage, [CUSTOMER, CUSTOMER, AWARE, UNAWARE])
    np.testing.assert_array_equal(kernel.approvals, 0)
    np.testing.assert_array_equal(kernel.delta[0], [-1, 1, 0, 0, 0, -2, 2])


# ------------------------------------------------------------------- draws and orders
@given(
    seed=SEEDS,
    n=st.integers(0, 300),
    extra=st.integers(0, 5),
    purpose=st.sampled_from([P_COLD, P_BROKER, P_BROKER + 3]),
)
@settings(max_examples=30, deadline=None)
def test_random_first_matches_naive_and_ignores_input_order(seed, n, extra, purpose):
    rng = np.random.default_rng(seed)
    candidates = rng.choice(10 * n + 1, n, replace=False).astype(np.int64)
    key = stream_key(seed, 0, T)
    u = K.draws(key, candidates, purpose)
    assert u.dtype == np.float64
    np.testing.assert_array_equal(u, N.draws(key, candidates, purpose))
    whole = K.random_first(key, candidates, n + extra, purpose)
    np.testing.assert_array_equal(whole, N.random_first(key, candidates, n + extra, purpose))
    np.testing.assert_array_equal(np.sort(whole), np.sort(candidates))
    for k in sorted({0, 1, n // 3, n // 2, max(n - 1, 0)}):
        got = K.random_first(key, candidates, k, purpose)
        assert got.dtype == candidates.dtype
        naive = N.random_first(key, candidates, k, purpose)
        assert naive.dtype == candidates.dtype
        np.testing.assert_array_equal(got, naive)
        np.testing.assert_array_equal(got, whole[:k])  # a prefix of one fixed order
        shuffled = rng.permutation(candidates)
        np.testing.assert_array_equal(got, K.random_first(key, shuffled, k, purpose))
        np.testing.assert_array_equal(got, N.random_first(key, shuffled, k, purpose))


def test_random_first_keeps_repeated_entries():
    key = stream_key(4, 0, T)
    candidates = np.array([5, 3, 5, 9, 3, 3, 11, 5], dtype=np.int64)
    for k in range(len(candidates) + 2):
        got = K.random_first(key, candidates, k, P_COLD)
        np.testing.assert_array_equal(got, N.random_first(key, candidates, k, P_COLD))


# ------------------------------------------------------------------- marketing_prospects
@given(seed=SEEDS, n_accounts=ACCOUNTS, max_centre=CENTRES)
@settings(max_examples=20, deadline=None)
def test_marketing_prospects_match_naive(seed, n_accounts, max_centre):
    state = make_state(seed, n_accounts, max_centre)
    in_target = np.random.default_rng(seed).random(state.delta.shape[0]) < 0.6

    def run(module, s):
        return module.marketing_prospects(s, s.centres(), T, s.blocked_until, in_target)

    _, got = compare(state, run, [])
    assert got.dtype == np.int64
    aware = per_account(state, (state.person_stage >= AWARE).astype(float))
    expect = (
        (state.stage == WITH_MARKETING)
        & in_target[state.segment]
        & (aware > 0)
        & (state.blocked_until <= T)
    )
    np.testing.assert_array_equal(got, np.flatnonzero(expect))


def test_blocked_accounts_are_no_prospects_until_their_step():
    state = one_segment([1] * 4, [WITH_MARKETING] * 4, [AWARE, AWARE, UNAWARE, AWARE])
    state.blocked_until[:] = [T + 1, T, 0, 0]
    state.stage[3] = LEAD
    got = K.marketing_prospects(state, state.centres(), T, state.blocked_until, np.ones(1, bool))
    np.testing.assert_array_equal(got, [1])
    naive = N.marketing_prospects(state, state.centres(), T, state.blocked_until, np.ones(1, bool))
    np.testing.assert_array_equal(naive, [1])


# ------------------------------------------------------------------- wrappers
def test_wrappers_reject_misshapen_state():
    state = one_segment([2, 2], [LEAD, LEAD], [LEAD] * 4)
    short = state.copy()
    short.due = short.due[:1]
    with pytest.raises(ValueError, match="due"):
        K.expire(short, short.centres(), T, LEAD, 1)
    short = state.copy()
    short.approvals = short.approvals[:3]
    with pytest.raises(ValueError, match="approvals"):
        K.close(short, short.centres(), np.zeros(0, np.int64), np.zeros(0, bool))
    called = np.arange(2, dtype=np.int64)
    with pytest.raises(ValueError, match="cold flag"):
        call_args(stream_key(0, 0, T), called, np.zeros(2, bool), np.ones(1), np.ones(1))(
            K, state.copy()
        )
    with pytest.raises(ValueError, match="one outcome per account"):
        K.close(state, state.centres(), called, np.ones(1, bool))


# ------------------------------------------------------------------- a run of steps
def one_step(module, s: State, t: int, key, trust, approve) -> list:
    """The account phases of `marketsim.engine.sales.pipeline`, in its order; their outputs."""
    warmth = np.array([1.0, 1.4, 0.7])
    out = [
        module.route_leads(
            s,
            s.centres(),
            key,
            t,
            threshold=0.25,
            delay=1,
            loss=0.1,
            wom_code=WOM,
            first_touch=s.first_touch,
        )
    ]
    out.append(module.expire(s, s.centres(), t, LEAD, 4))
    out.append(module.expire(s, s.centres(), t, QUALIFIED, 3))
    leads = np.flatnonzero((s.stage == LEAD) & (s.ready <= t)).astype(np.int64)
    cold = np.flatnonzero((s.stage == WITH_MARKETING) & (s.blocked_until <= t))[:10]
    called = np.concatenate([leads, cold.astype(np.int64)])
    is_cold = np.arange(len(called)) >= len(leads)
    rates = np.where(is_cold, 0.3, 0.7)
    out.append(
        module.calls(
            s,
            s.centres(),
            key,
            t,
            called,
            is_cold,
            rates,
            trust=trust,
            cooling=0.1,
            in_market=s.in_market,
        )
    )
    met = np.flatnonzero((s.stage == OPPORTUNITY) | (s.stage == QUALIFIED)).astype(np.int64)
    out.append(
        module.meetings(
            s,
            s.centres(),
            key,
            t,
            met,
            approve=approve,
            warmth=warmth,
            show_rate=0.8,
            discovery=2,
            proposal_steps=1,
        )
    )
    deciding = np.flatnonzero((s.stage == K.PROPOSAL) & (s.due <= t)).astype(np.int64)
    n_seg = s.delta.shape[0]
    outcome = module.decide(
        s,
        s.centres(),
        key,
        deciding,
        ours=approve,
        competition=np.full(n_seg, 0.2),
        status_quo=np.full(n_seg, 0.3),
        warmth=warmth,
    )
    out.append(outcome)
    module.close(s, s.centres(), deciding, outcome == K.WON)
    out.append(module.expire(s, s.centres(), t, OPPORTUNITY, 6))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_run_of_steps_stays_identical(seed):
    """Every phase, step after step, on one evolving state: the two never drift apart."""
    kernel = customers_only_in_won_accounts(make_state(seed, 200, 6), seed)
    naive = kernel.copy()
    start = kernel.copy()
    rng = np.random.default_rng(seed)
    for t in range(T, T + 10):
        key = stream_key(seed, 1, t)
        trust = rng.uniform(0.5, 1.5, kernel.delta.shape[0])
        approve = rng.uniform(0.3, 0.9, kernel.delta.shape[0])
        before = kernel.copy()
        kernel_out = one_step(K, kernel, t, key, trust, approve)
        naive_out = one_step(N, naive, t, key, trust, approve)
        for k, n in zip(kernel_out, naive_out, strict=True):
            np.testing.assert_array_equal(k, n)
        assert_same(0, 0, kernel, naive)
        assert_books_balance(before, kernel)
    assert_books_balance(start, kernel)
    assert (kernel.stage == CUSTOMER).sum() > (start.stage == CUSTOMER).sum()  # deals were won
