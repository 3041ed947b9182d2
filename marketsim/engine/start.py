"""An established business at step 0: people, customers and accounts as `start:` says.

Run once when the model is built, after the population (and, for accounts, the sales
organisation) exist. Every draw is counter-based on the set-up key (docs/model.md
section 11): a person's stage, product and satisfaction by their row and a purpose of
their own; how long ago they bought from a stream named by the segment, as traits are;
an account's stage and contract by its index.
"""

from __future__ import annotations

import zlib

import numpy as np

from marketsim.core.layout import TOUCH_NONE
from marketsim.core.purposes import (
    P_START,
    P_START_ACCOUNT,
    P_START_DEAL,
    P_START_DUE,
    P_START_PRODUCT,
    P_START_SATISFY,
)
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, OPPORTUNITY, QUALIFIED
from marketsim.engine.accounts import AccountBook
from marketsim.engine.population import Population
from marketsim.engine.products import ProductRange
from marketsim.engine.traits import fill_trait
from marketsim.kernels import sales as K
from marketsim.kernels.population import draw_start_stages
from marketsim.kernels.rng import derive_key
from marketsim.scenario.schema import Scenario, Segment
from marketsim.scenario.start import Start, Steps

PERSON_STAGES = (CUSTOMER, LEAD, INTERESTED, AWARE)
"""The stages `start:` shares people out to, in the order one draw meets them."""

ACCOUNT_STAGES = (CUSTOMER, LEAD, QUALIFIED, OPPORTUNITY, K.PROPOSAL)
"""The same for accounts: under contract, then the pipeline from lead to proposal."""

CONTRACT_BEFORE = -1
"""`customer_since` of the members of an account under contract at the start: the
scenario says how long the contract has to run, not since when it runs."""


def person_shares(start: Start) -> tuple[float, ...]:
    """A segment's shares of people in `PERSON_STAGES`."""
    return (start.customers, start.leads, start.interested, start.aware)


def account_shares(start: Start) -> tuple[float, ...]:
    """A b2b segment's shares of accounts in `ACCOUNT_STAGES`."""
    p = start.pipeline
    return (start.contracts, p.leads, p.appointments, p.opportunities, p.proposals)


def establish_people(
    scenario: Scenario, pop: Population, products: ProductRange, key: np.uint64
) -> None:
    """Put each person of a segment with `start:` at their stage; date existing customers."""
    segments = scenario.segments
    if all(s.start is None for s in segments):
        return
    cumulative = np.zeros((len(segments), len(PERSON_STAGES)))
    for s, seg in enumerate(segments):
        if seg.start is not None:
            cumulative[s] = np.cumsum(person_shares(seg.start))
    codes = np.array(PERSON_STAGES, dtype=np.int8)
    draw_start_stages(key, pop.stage, pop.segment, cumulative, codes, P_START)
    _, shares = products.choice(0, np.ones((len(segments), len(products.ids))))
    quality = np.array([p.quality for p in scenario.products])
    for s, seg in enumerate(segments):
        lo, hi = int(pop.offsets[s]), int(pop.offsets[s + 1])
        if seg.start is None or seg.kind != "b2c":
            continue
        rows = lo + np.flatnonzero(pop.stage[lo:hi] == CUSTOMER)
        if not rows.size:
            continue
        product = _pick(K.draws(key, rows, P_START_PRODUCT), shares[s])
        pop.product[rows] = product
        pop.purchased_at[rows] = -_ages(seg, products, key, product, rows, lo, hi)
        pop.customer_since[rows] = pop.purchased_at[rows]
        satisfied = K.draws(key, rows, P_START_SATISFY) < quality[product]
        pop.satisfied[rows] = satisfied
        if seg.dissatisfied_word_of_mouth == "against":
            pop.detractor[rows] = ~satisfied
        pop.first_touch[rows] = TOUCH_NONE
        pop.last_touch[rows] = TOUCH_NONE


def _pick(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Index of the product each uniform picks over the cumulative `shares`."""
    picked = np.searchsorted(np.cumsum(shares), u, side="right")
    return np.minimum(picked, len(shares) - 1).astype(np.int8)


def _ages(
    seg: Segment,
    products: ProductRange,
    key: np.uint64,
    product: np.ndarray,
    rows: np.ndarray,
    lo: int,
    hi: int,
) -> np.ndarray:
    """Steps since each existing customer subscribed (a subscription) or last bought.

    At least 1 (they bought before step 0). By default spread evenly over one term or
    repurchase interval: customers are at every point of their cycle.
    """
    start = seg.start
    assert start is not None
    ages = np.ones(len(rows), dtype=np.int64)
    for model, given, length in (
        ("subscription", start.tenure, [p.renewal_term for p in products.specs]),
        ("repeat", start.last_purchase, [p.repurchase_every for p in products.specs]),
    ):
        mine = np.array([products.models[p] == model for p in product], dtype=np.bool_)
        if not mine.any():
            continue
        name = "tenure" if model == "subscription" else "last_purchase"
        stream = derive_key(key, zlib.crc32(f"start:{seg.id}:{name}".encode()))
        drawn = _steps(given, stream, hi - lo)
        if given is None:  # uniform on 1 .. one cycle
            cycle = np.maximum(1, np.rint(np.array(length)[product[mine]])).astype(np.int64)
            ages[mine] = 1 + np.floor(drawn[rows[mine] - lo] * cycle).astype(np.int64)
        else:
            ages[mine] = np.maximum(1, np.rint(drawn[rows[mine] - lo])).astype(np.int64)
    return ages


def _steps(given: Steps | None, key: np.uint64, n: int) -> np.ndarray:
    """A segment's n draws of a number of steps (uniforms in [0, 1) where none is given).

    Drawn by each person's place in the segment, so resizing another segment changes none.
    """
    if given is None:
        return K.draws(key, np.arange(n), 0)
    out = np.empty(n, dtype=np.float32)
    fill_trait(given, key, out, 0, n)
    return out.astype(np.float64)


def establish_accounts(
    scenario: Scenario,
    pop: Population,
    products: ProductRange,
    acc: AccountBook,
    key: np.uint64,
) -> None:
    """Put b2b accounts under contract or in the pipeline as their segment's `start:` says.

    Members follow their account: customers under a contract, leads, appointments or
    opportunities in the pipeline (a proposal's members are at the opportunity stage and
    have all agreed). Open opportunities and proposals are dealt round-robin to the
    outside reps. Contracts are at list price, for a product picked by the choice shares
    of step 0; they come up for renewal `remaining` steps after step 0.
    """
    segments = scenario.segments
    starting = [s for s, seg in enumerate(segments) if seg.kind == "b2b" and seg.start]
    if not starting or not acc.count:
        return
    cumulative = np.zeros((len(segments), len(ACCOUNT_STAGES)))
    for s in starting:
        cumulative[s] = np.cumsum(account_shares(segments[s].start))  # type: ignore[arg-type]
    stage = np.full(acc.count, -1, dtype=np.int8)
    codes = np.array(ACCOUNT_STAGES, dtype=np.int8)
    draw_start_stages(key, stage, acc.segment.astype(np.int16), cumulative, codes, P_START_ACCOUNT)
    placed = np.flatnonzero(stage >= 0)
    acc.stage[placed] = stage[placed]
    acc.since[placed] = 0
    acc.ready[placed] = 0
    for a in placed:
        lo, size = int(acc.first[a]), int(acc.size[a])
        pop.stage[lo : lo + size] = OPPORTUNITY if stage[a] == K.PROPOSAL else stage[a]
        if stage[a] == CUSTOMER:
            pop.customer_since[lo : lo + size] = CONTRACT_BEFORE
        if stage[a] == K.PROPOSAL:
            acc.approvals[lo : lo + size] = 1
    _contracts(scenario, products, acc, key, np.flatnonzero(stage == CUSTOMER))
    open_ = np.flatnonzero((stage == OPPORTUNITY) | (stage == K.PROPOSAL))
    reps = scenario.sales.outside.count if scenario.sales is not None else 0
    if open_.size and reps:
        acc.owner[open_] = np.arange(open_.size) % reps
    proposals = np.flatnonzero(stage == K.PROPOSAL)
    if proposals.size:
        steps = scenario.sales.cycle.proposal_steps  # type: ignore[union-attr]
        acc.due[proposals] = np.floor(K.draws(key, proposals, P_START_DUE) * steps)


def _contracts(
    scenario: Scenario, products: ProductRange, acc: AccountBook, key: np.uint64, held: np.ndarray
) -> None:
    """Terms of the running contracts: product, value and renewal step."""
    if not held.size:
        return
    segments = scenario.segments
    _, shares = products.choice(0, np.ones((len(segments), len(products.ids))))
    u = K.draws(key, held, P_START_DEAL)
    for s in np.unique(acc.segment[held]):
        seg = segments[int(s)]
        mine = held[acc.segment[held] == s]
        product = _pick(u[acc.segment[held] == s], shares[s]).astype(np.int64)
        acc.product[mine] = product
        acc.value[mine] = seg.deal_size * products.list_price[product]
        length = seg.contract_length
        if length == 0:
            acc.renew_at[mine] = -1
            continue
        assert seg.start is not None
        stream = derive_key(key, zlib.crc32(f"start:{seg.id}:remaining".encode()))
        first = int(np.flatnonzero(acc.segment == s)[0])
        drawn = _steps(seg.start.remaining, stream, int((acc.segment == s).sum()))[mine - first]
        if seg.start.remaining is None:  # uniform on 0 .. length - 1
            acc.renew_at[mine] = np.floor(drawn * length).astype(np.int64)
        else:
            acc.renew_at[mine] = np.rint(drawn).astype(np.int64)
