"""Account-level sales kernels against their one-account-at-a-time references.

Each test builds a random population laid out like `AccountBook.build` (b2b segments
with different buying-centre sizes, b2c segments in between whose people belong to no
account), runs a kernel on one copy and `naive_sales` on another, and asserts that every
output and every array is identical. It also checks that `delta` is exactly the change
of the per-segment stage histogram and that nobody outside the touched accounts moved.

"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from marketsim.kernels.products import split_units
from marketsim.kernels.rng import stream_key

WITH_MARKETING = UNAWARE
ACCOUNT_STAGES = (WITH_MARKETING, LEAD, QUALIFIED, OPPORTUNITY, CUSTOMER)
T = 20  # the step every test runs at

SEEDS = st.integers(0, 2**32 - 1)
ACCOUNTS = st.integers(1, 400)
CENTRES = st.integers(1, 12)


@dataclass
class State:
    """Everything the kernels read or write, plus who is in which segment."""

    acc: np.ndarray  # int8 [account]
    since: np.ndarray  # int64 [account]
    ready: np.ndarray  # int64 [account]
    first: np.ndarray  # int64 [account]
    size: np.ndarray  # int64 [account]
    seg: np.ndarray  # int64 [account]
    stage: np.ndarray  # int8 [person]
    approvals: np.ndarray  # int8 [person]
    person_seg: np.ndarray  # int64 [person]
    delta: np.ndarray  # int64 [segment, stage]

    def copy(self) -> State:
        return State(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def people(self) -> tuple[np.ndarray, ...]:
        """The trailing arguments every kernel takes."""
        return self.stage, self.first, self.size, self.seg, self.delta

    def rows(self, accounts) -> np.ndarray:
        """Population rows of the given accounts."""
        parts = [np.arange(self.first[a], self.first[a] + self.size[a]) for a in accounts]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def make_state(seed: int, n_accounts: int = 300, max_centre: int = 8) -> State:
    """A random valid state: b2b and b2c segments, random stages everywhere.

    Person stages are drawn 0..6 whatever their account's stage, account stages among
    with-marketing, lead, qualified, opportunity and customer; `delta` starts non-zero so
    the kernels must add to it, not overwrite it.
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
        acc=rng.choice(np.array(ACCOUNT_STAGES, dtype=np.int8), n_accounts),
        since=since,
        ready=since + rng.integers(0, 4, n_accounts),
        first=np.concatenate(first),
        size=np.concatenate(size),
        seg=np.concatenate(seg),
        stage=rng.integers(0, len(STAGES), n_people).astype(np.int8),
        approvals=rng.integers(0, 2, n_people).astype(np.int8),
        person_seg=np.repeat(np.arange(len(kinds), dtype=np.int64), people),
        delta=rng.integers(-5, 6, (len(kinds), len(STAGES))).astype(np.int64),
    )


def customers_only_in_won_accounts(state: State, seed: int) -> State:
    """Redraw customers outside customer accounts: only `close` makes b2b customers.

    b2b people cannot buy on their own (segments.py zeroes their self-service purchase),
    so in a running model a member is a customer only if their account is.
    """
    rng = np.random.default_rng(seed)
    for a in np.flatnonzero(state.acc != CUSTOMER):
        rows = state.rows([a])
        bad = rows[state.stage[rows] == CUSTOMER]
        state.stage[bad] = rng.integers(0, CUSTOMER, len(bad))
    return state


def one_segment(centres, acc, stage) -> State:
    """A hand-made state: one b2b segment whose accounts have the given centre sizes."""
    size = np.array(centres, dtype=np.int64)
    n = int(size.sum())
    return State(
        acc=np.array(acc, dtype=np.int8),
        since=np.zeros(len(size), np.int64),
        ready=np.zeros(len(size), np.int64),
        first=np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64),
        size=size,
        seg=np.zeros(len(size), np.int64),
        stage=np.array(stage, dtype=np.int8),
        approvals=np.zeros(n, np.int8),
        person_seg=np.zeros(n, np.int64),
        delta=np.zeros((1, len(STAGES)), np.int64),
    )


def owner_of(state: State) -> np.ndarray:
    """Account of every person; -1 for people in no account (b2c)."""
    owner = np.full(state.stage.shape[0], -1, dtype=np.int64)
    for a in range(state.acc.shape[0]):
        owner[state.first[a] : state.first[a] + state.size[a]] = a
    return owner


def per_account(state: State, values: np.ndarray) -> np.ndarray:
    """Sum of a per-person 0/1 array over each account's members."""
    owner = owner_of(state)
    inside = owner >= 0
    return np.bincount(owner[inside], values[inside], minlength=state.acc.shape[0]).astype(int)


def histogram(state: State) -> np.ndarray:
    counts = np.zeros_like(state.delta)
    np.add.at(counts, (state.person_seg, state.stage.astype(np.int64)), 1)
    return counts


# ------------------------------------------------------------------- checks
def assert_same(kernel_out, naive_out, kernel: State, naive: State) -> None:
    """Outputs and every array of the two states are identical."""
    if isinstance(kernel_out, np.ndarray):
        assert kernel_out.dtype == naive_out.dtype
        np.testing.assert_array_equal(kernel_out, naive_out)
    else:
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
    accounts = np.ones(before.acc.shape[0], dtype=np.bool_)
    accounts[np.asarray(touched, dtype=np.int64)] = False
    people = np.ones(before.stage.shape[0], dtype=np.bool_)
    people[before.rows(np.flatnonzero(~accounts))] = False
    for name in ("acc", "since", "ready"):
        np.testing.assert_array_equal(
            getattr(after, name)[accounts], getattr(before, name)[accounts], err_msg=name
        )
    for name in ("stage", "approvals"):
        np.testing.assert_array_equal(
            getattr(after, name)[people], getattr(before, name)[people], err_msg=name
        )
    for name in ("first", "size", "seg", "person_seg"):
        np.testing.assert_array_equal(getattr(after, name), getattr(before, name))


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
    pool = np.flatnonzero(np.isin(state.acc, stages))
    picked = rng.choice(pool, round(share * len(pool)), replace=False)
    return picked.astype(np.int64)


# ------------------------------------------------------------------- helpers
@pytest.mark.parametrize("seed", range(4))
def test_move_members_matches_naive(seed):
    state = make_state(seed)
    rng = np.random.default_rng(seed + 100)
    picks = rng.choice(state.acc.shape[0], 40, replace=False)
    moves = [(int(a), *sorted(rng.integers(0, 7, 2)), int(rng.integers(0, 7))) for a in picks]

    def run(module, s):
        for a, lo, hi, to in moves:
            module.move_members(a, lo, hi, to, *s.people())

    kernel, _ = compare(state, run, picks)
    # Only members in [lo, hi] moved, and they all went to `to`.
    for a, lo, hi, to in moves:
        rows = state.rows([a])
        was = state.stage[rows]
        now = kernel.stage[rows]
        inside = (was >= lo) & (was <= hi)
        assert (now[inside] == to).all()
        np.testing.assert_array_equal(now[~inside], was[~inside])


@pytest.mark.parametrize("seed", range(3))
def test_engagement_matches_naive(seed):
    state = make_state(seed, max_centre=12)
    leads = per_account(state, (state.stage == LEAD).astype(float))
    engaged = per_account(state, (state.stage >= INTERESTED).astype(float))
    for a in range(state.acc.shape[0]):
        got = K.engagement(a, state.stage, state.first, state.size)
        assert got == N.engagement(a, state.stage, state.first, state.size)
        assert got == (leads[a], engaged[a])


# ------------------------------------------------------------------- route_leads
def route_args(threshold, delay, loss, key):
    def run(module, s):
        return module.route_leads(
            key, T, threshold, delay, loss, s.acc, s.since, s.ready, *s.people()
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
@settings(max_examples=40, deadline=None)
def test_route_leads_matches_naive(seed, n_accounts, max_centre, twentieths, delay, loss):
    state = make_state(seed, n_accounts, max_centre)
    threshold = twentieths / 20
    key = stream_key(seed, 0, T)
    leads = per_account(state, (state.stage == LEAD).astype(float))
    engaged = per_account(state, (state.stage >= INTERESTED).astype(float))
    eligible = np.flatnonzero(
        (state.acc == WITH_MARKETING) & (leads > 0) & (engaged / state.size >= threshold)
    )
    kernel, (routed, lost) = compare(state, route_args(threshold, delay, loss, key), eligible)
    assert routed + lost == len(eligible)
    now_lead = eligible[kernel.acc[eligible] == LEAD]
    assert len(now_lead) == routed
    assert (kernel.since[now_lead] == T).all()
    assert (kernel.ready[now_lead] == T + delay).all()
    if loss == 0.0:
        assert lost == 0
    if loss == 1.0:
        assert routed == 0


def test_route_leads_passes_a_score_equal_to_the_threshold():
    # 1 lead + 6 interested of 25: a score of 7 / 25, which is the float 0.28.
    state = one_segment([25], [WITH_MARKETING], [LEAD] + [INTERESTED] * 6 + [AWARE] * 18)
    compare(state, route_args(7 / 25, 1, 0.0, stream_key(1, 0, T)), [0])


# ------------------------------------------------------------------- expire
@pytest.mark.parametrize("at_stage", [LEAD, QUALIFIED, OPPORTUNITY])
@pytest.mark.parametrize("seed", range(3))
def test_expire_matches_naive(seed, at_stage):
    state = customers_only_in_won_accounts(make_state(seed), seed)
    patience = int(np.random.default_rng(seed).integers(0, 8))
    due = np.flatnonzero((state.acc == at_stage) & (T - state.since >= patience))

    def run(module, s):
        return module.expire(T, at_stage, patience, s.since, s.acc, s.approvals, *s.people())

    kernel, expired = compare(state, run, due)
    assert expired == len(due)
    assert (kernel.acc[due] == WITH_MARKETING).all()
    rows = state.rows(due)
    assert (kernel.approvals[rows] == 0).all()
    assert (kernel.stage[rows] <= AWARE).all()


def test_expire_keeps_customers_and_drops_the_pipeline_to_aware():
    # A lead account (waiting since step 0) with a customer, an interested and a lead.
    state = one_segment([3], [LEAD], [CUSTOMER, INTERESTED, LEAD])

    def run(module, s):
        return module.expire(T, LEAD, 5, s.since, s.acc, s.approvals, *s.people())

    compare(state, run, [0])


# ------------------------------------------------------------------- calls
def call_args(key, accounts, cold, rates, trust):
    def run(module, s):
        return module.calls(key, T, accounts, cold, rates, trust, s.acc, s.since, *s.people())

    return run


def call_list(seed, state):
    """Leads, then cold accounts with marketing, as `SalesOrganisation` calls them."""
    rng = np.random.default_rng(seed)
    warm = draw_accounts(rng, state, [LEAD], rng.uniform(0.2, 1.0))
    cold = draw_accounts(rng, state, [WITH_MARKETING], rng.uniform(0.0, 0.8))
    accounts = np.concatenate([warm, cold])
    is_cold = np.concatenate([np.zeros(len(warm), np.bool_), np.ones(len(cold), np.bool_)])
    rates = np.where(is_cold, rng.uniform(0.0, 0.6), rng.uniform(0.2, 1.0))
    trust = rng.uniform(0.3, 2.0, state.delta.shape[0])
    return accounts, is_cold, rates, trust


@given(seed=SEEDS, n_accounts=ACCOUNTS, max_centre=CENTRES)
@settings(max_examples=40, deadline=None)
def test_calls_match_naive(seed, n_accounts, max_centre):
    state = make_state(seed, n_accounts, max_centre)
    accounts, is_cold, rates, trust = call_list(seed, state)
    key = stream_key(seed, 2, T)
    kernel, qualified = compare(state, call_args(key, accounts, is_cold, rates, trust), accounts)
    assert set(np.unique(qualified)) <= {0, 1}
    won = accounts[qualified == 1]
    assert (kernel.acc[won] == QUALIFIED).all()
    assert (kernel.since[won] == T).all()
    assert (kernel.stage[state.rows(won)] >= QUALIFIED).all()
    assert (kernel.acc[accounts[qualified == 0]] == WITH_MARKETING).all()
    nurtured = accounts[(qualified == 0) & ~is_cold]
    assert (kernel.stage[state.rows(nurtured)] != LEAD).all()


def test_failed_cold_call_wakes_only_the_economic_buyer():
    state = one_segment([4, 4, 1], [WITH_MARKETING] * 3, [UNAWARE] * 9)
    cold = np.arange(3, dtype=np.int64)
    never = np.zeros(3)  # a qualify rate of 0: every call fails
    run = call_args(stream_key(3, 0, T), cold, np.ones(3, np.bool_), never, np.ones(1))
    compare(state, run, cold)


# ------------------------------------------------------------------- meetings
@given(seed=SEEDS, n_accounts=ACCOUNTS, max_centre=CENTRES)
@settings(max_examples=40, deadline=None)
def test_meetings_match_naive(seed, n_accounts, max_centre):
    state = make_state(seed, n_accounts, max_centre)
    rng = np.random.default_rng(seed)
    accounts = np.concatenate(
        [
            draw_accounts(rng, state, [OPPORTUNITY], rng.uniform(0.2, 1.0)),
            draw_accounts(rng, state, [QUALIFIED], rng.uniform(0.2, 1.0)),
        ]
    )
    approve = rng.choice([0.0, 0.2, 0.5, 0.9, 1.0], state.delta.shape[0])
    key = stream_key(seed, 3, T)

    def run(module, s):
        return module.meetings(key, T, accounts, approve, s.acc, s.since, s.approvals, *s.people())

    kernel, agreed = compare(state, run, accounts)
    assert set(np.unique(agreed)) <= {0, 1}
    assert (kernel.acc[accounts] == OPPORTUNITY).all()
    opened = accounts[state.acc[accounts] == QUALIFIED]
    assert (kernel.since[opened] == T).all()
    rows = state.rows(opened)
    assert (kernel.stage[rows] >= OPPORTUNITY).all()
    # Approvals are never withdrawn; agreement needs the buyer and a majority.
    met = state.rows(accounts)
    assert (kernel.approvals[met] >= state.approvals[met]).all()
    yes = per_account(kernel, kernel.approvals.astype(float))[accounts]
    expect = (kernel.approvals[kernel.first[accounts]] == 1) & (2 * yes > kernel.size[accounts])
    np.testing.assert_array_equal(agreed, expect.astype(agreed.dtype))


# ------------------------------------------------------------------- close
@pytest.mark.parametrize("seed", range(4))
def test_close_matches_naive(seed):
    state = make_state(seed)
    rng = np.random.default_rng(seed)
    accounts = draw_accounts(rng, state, ACCOUNT_STAGES, 0.5)
    outcome = rng.integers(0, 2, len(accounts)).astype(np.int64)

    def run(module, s):
        return module.close(accounts, outcome, s.acc, s.approvals, *s.people())

    kernel, _ = compare(state, run, accounts)
    won, lost = accounts[outcome == 1], accounts[outcome == 0]
    assert (kernel.acc[won] == CUSTOMER).all()
    assert (kernel.stage[state.rows(won)] == CUSTOMER).all()
    assert (kernel.acc[lost] == WITH_MARKETING).all()
    assert (kernel.stage[state.rows(lost)] <= AWARE).all()
    assert (kernel.approvals[state.rows(accounts)] == 0).all()


# ------------------------------------------------------------------- the rest
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
    np.testing.assert_array_equal(
        K.draws(key, candidates, purpose), N.draws(key, candidates, purpose)
    )
    whole = K.random_first(key, candidates, n + extra, purpose)
    np.testing.assert_array_equal(whole, N.random_first(key, candidates, n + extra, purpose))
    np.testing.assert_array_equal(np.sort(whole), np.sort(candidates))
    for k in sorted({0, 1, n // 3, n // 2, max(n - 1, 0)}):
        got = K.random_first(key, candidates, k, purpose)
        assert got.dtype == candidates.dtype
        np.testing.assert_array_equal(got, N.random_first(key, candidates, k, purpose))
        np.testing.assert_array_equal(got, whole[:k])  # a prefix of one fixed order
        shuffled = K.random_first(key, rng.permutation(candidates), k, purpose)
        np.testing.assert_array_equal(got, shuffled)


def test_random_first_keeps_repeated_entries():
    key = stream_key(4, 0, T)
    candidates = np.array([5, 3, 5, 9, 3, 3, 11, 5], dtype=np.int64)
    for k in range(len(candidates) + 2):
        got = K.random_first(key, candidates, k, P_COLD)
        np.testing.assert_array_equal(got, N.random_first(key, candidates, k, P_COLD))


@pytest.mark.parametrize("seed", range(4))
def test_marketing_prospects_match_naive(seed):
    state = make_state(seed)
    in_target = np.random.default_rng(seed).integers(0, 2, state.delta.shape[0]).astype(np.bool_)
    args = (state.acc, state.stage, state.first, state.size, state.seg, in_target)
    got = K.marketing_prospects(*args)
    np.testing.assert_array_equal(got, N.marketing_prospects(*args))
    aware = per_account(state, (state.stage >= AWARE).astype(float))
    expect = (state.acc == WITH_MARKETING) & in_target[state.seg] & (aware > 0)
    np.testing.assert_array_equal(got, np.flatnonzero(expect))


def one_step(module, s: State, t: int, key, trust, approve) -> list:
    """The account phases of `SalesOrganisation.step`, in its order; their outputs."""
    out = [module.route_leads(key, t, 0.25, 1, 0.1, s.acc, s.since, s.ready, *s.people())]
    out.append(module.expire(t, LEAD, 4, s.since, s.acc, s.approvals, *s.people()))
    out.append(module.expire(t, QUALIFIED, 3, s.since, s.acc, s.approvals, *s.people()))
    leads = np.flatnonzero((s.acc == LEAD) & (s.ready <= t)).astype(np.int64)
    cold = np.flatnonzero(s.acc == WITH_MARKETING)[:10].astype(np.int64)
    called = np.concatenate([leads, cold])
    is_cold = np.arange(len(called)) >= len(leads)
    rates = np.where(is_cold, 0.05, 0.6)
    out.append(module.calls(key, t, called, is_cold, rates, trust, s.acc, s.since, *s.people()))
    met = np.flatnonzero((s.acc == QUALIFIED) | (s.acc == OPPORTUNITY)).astype(np.int64)
    agreed = module.meetings(key, t, met, approve, s.acc, s.since, s.approvals, *s.people())
    won = met[agreed == 1]
    module.close(won, np.ones(len(won), np.int64), s.acc, s.approvals, *s.people())
    out.append(agreed)
    out.append(module.expire(t, OPPORTUNITY, 2, s.since, s.acc, s.approvals, *s.people()))
    return out


@pytest.mark.parametrize("seed", range(3))
def test_a_run_of_steps_stays_identical(seed):
    """Every phase, step after step, on one evolving state: the two never drift apart."""
    kernel = customers_only_in_won_accounts(make_state(seed, 200, 6), seed)
    naive = kernel.copy()
    start = kernel.copy()
    rng = np.random.default_rng(seed)
    for t in range(T, T + 8):
        key = stream_key(seed, 1, t)
        trust = rng.uniform(0.5, 1.5, kernel.delta.shape[0])
        approve = rng.uniform(0.2, 0.9, kernel.delta.shape[0])
        before = kernel.copy()
        kernel_out = one_step(K, kernel, t, key, trust, approve)
        naive_out = one_step(N, naive, t, key, trust, approve)
        for k, n in zip(kernel_out, naive_out, strict=True):
            np.testing.assert_array_equal(k, n)
        assert_same(0, 0, kernel, naive)
        assert_books_balance(before, kernel)
    assert_books_balance(start, kernel)
    assert (kernel.acc == CUSTOMER).sum() > (start.acc == CUSTOMER).sum()  # deals were won


# ------------------------------------------------------------------- split_units
@given(
    seed=SEEDS,
    n_segments=st.integers(1, 4),
    n_products=st.integers(1, 4),
)
@settings(max_examples=25, deadline=None)
def test_split_units_matches_reference(seed, n_segments, n_products):
    rng = np.random.default_rng(seed)
    units = rng.integers(0, 400, n_segments)
    shares = rng.dirichlet(np.ones(n_products), n_segments)
    shares[rng.random(shares.shape) < 0.2] = 0.0  # products a segment does not consider
    key = stream_key(seed, 0, T)
    got = split_units(key, units, shares)
    np.testing.assert_array_equal(got, N.split_units(int(key), units, shares))
    np.testing.assert_array_equal(got.sum(axis=1), units)


@pytest.mark.parametrize(
    "shares", [[0.2, 0.8], [0.5, 0.5], [0.1, 0.3, 0.6], [0.0, 1.0, 0.0]], ids=str
)
def test_split_units_respects_shares(shares):
    key = stream_key(12, 0, 3)
    n = 100_000
    got = split_units(key, np.array([n, n // 2]), np.array([shares, shares[::-1]]))
    np.testing.assert_allclose(got[0] / n, shares, atol=0.01)
    np.testing.assert_allclose(got[1] / (n // 2), shares[::-1], atol=0.01)
    zero = np.array(shares) == 0.0
    assert (got[0, zero] == 0).all()
