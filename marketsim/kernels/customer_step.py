"""The hot loop: one step of every person's funnel, over arrays.

`advance` validates what it is given and runs `_advance`, which moves each person through
the phases of docs/model.md section 3, one helper per phase: exposure, ad memory,
awareness, interest, purchase or search, leads, customers. The helpers are small numba
functions the compiler inlines into the loop. The plain-Python twin in
`marketsim.kernels.reference` implements the same equations one person at a time; tests
demand the two agree bit for bit.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Protocol

import numba
import numpy as np
from numba import njit, types

from marketsim.core.layout import (
    AGAIN,
    BILLED,
    BLOCK,
    NEW,
    CountColumn,
    SegmentColumn,
    n_count_columns,
)
from marketsim.core.purposes import (
    P_AWARE,
    P_BUY,
    P_CHOICE,
    P_CHURN,
    P_CONVERT,
    P_DECAY,
    P_EXPOSURE,
    P_FIND,
    P_INTEREST,
    P_POTENTIAL,
    P_RENEW,
    P_REPEAT,
    P_SEARCH,
)
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, UNAWARE
from marketsim.kernels.config import PARALLEL_JIT, inline_jit, jit, parallel_jit
from marketsim.kernels.hooks import (
    EXPOSURE_HOOK,
    KERNEL_HOOK_TYPE,
    PERSUASION_HOOK,
    PURCHASE_HOOK,
    WOM_HOOK,
)
from marketsim.kernels.rng import draw, entity_hash, poisson_inverse, uniform

# Slack in the early exits below. A skipped comparison `u < p` is one whose answer is
# known to be False: u >= bound, where bound exceeds every value the exact formula can
# produce by far more than its rounding error (a few units of 1e-16; libm's exp is
# accurate to under one ulp). Rare people near the bound take the exact path.
SLACK = 1e-9


class People(Protocol):
    """The per-person arrays the customer step reads and writes (one row a person)."""

    segment: np.ndarray  # int16: segment index
    stage: np.ndarray  # int8: funnel stage
    ad_memory: np.ndarray  # float32: adstock
    first_touch: np.ndarray  # int8: touch codes for attribution
    last_touch: np.ndarray  # int8
    contacts: np.ndarray  # int32: customers among each person's contacts (`sync_contacts`)
    counted: np.ndarray  # bool: whether the person was a customer when last tallied
    product: np.ndarray  # int8: the product a customer bought last (-1: none yet)
    purchased_at: np.ndarray  # int32: step of that purchase (a subscription's start)
    indptr: np.ndarray  # int64: contact network, CSR
    indices: np.ndarray  # int32


@dataclass(frozen=True)
class ProductArrays:
    """How each product is bought (fixed for a run), one entry per product.

    Attributes:
        model: `ONE_OFF`, `REPEAT` or `SUBSCRIPTION`.
        scale / shape: a repeat product's Weibull scale and shape: the chance of buying
            again after tau steps is 1 - exp(-((tau / scale)^shape - ((tau-1) / scale)^shape)).
        billing / term: a subscription's steps between bills and between renewals.

    """

    model: np.ndarray
    scale: np.ndarray
    shape: np.ndarray
    billing: np.ndarray
    term: np.ndarray


ONE_OFF, REPEAT, SUBSCRIPTION = 0, 1, 2
"""Codes of `ProductArrays.model`."""


@dataclass(frozen=True)
class StepArrays:
    """What the customer step needs to know about one step, besides the people.

    Attributes:
        t: the step.
        key / setup_key: the step's and the set-up's random stream keys.
        seg: [segment, SegmentColumn] effective parameters.
        exposure: [channel, segment] expected exposures per person (Poisson), or the
            chance of one exposure where `bernoulli` is set.
        bernoulli: [channel] whether exposures are at most one per person.
        impact: [channel] ad memory added by one exposure.
        find: [channel, segment] chance a searching person finds the company (a visit).
        convert: [channel] chance a visit through the channel becomes a lead.
        choice: [segment, product] cumulative choice shares of a new purchase.
        again: [segment, product] multiplier on the chance of buying a product again
            (its price response at this step's price).
        renewal: [segment, product] chance a subscription renews at the end of a term.
        talk: each person's word-of-mouth input, or empty to read `contacts`.

    """

    t: int
    key: np.uint64
    setup_key: np.uint64
    seg: np.ndarray
    exposure: np.ndarray
    bernoulli: np.ndarray
    impact: np.ndarray
    find: np.ndarray
    convert: np.ndarray
    choice: np.ndarray
    again: np.ndarray
    renewal: np.ndarray
    talk: np.ndarray


@dataclass(frozen=True)
class KernelHooks:
    """Plugins' kernel hooks as the kernel takes them, one entry per `KERNEL_HOOKS` point.

    Attributes:
        functions: the numba function at each point (the identity where none is given).
        provided: [point] whether a plugin provides it (the kernel skips the others).
        params: each point's parameters (float64 arrays).

    """

    functions: tuple[Any, ...]
    provided: np.ndarray
    params: tuple[np.ndarray, ...]


# --------------------------------------------------------------------------- phases


@inline_jit
def _hook(point, value, i, s, hook_args):
    """`value` after the kernel hook at `point`, or as it is where no plugin provides one."""
    key, stage, indptr, indices, functions, provided, params = hook_args
    if provided[point]:
        return functions[point](key, i, s, value, stage, indptr, indices, params[point])
    return value


@inline_jit
def _touch(i, code, first_touch, last_touch):
    """Record a touch: it is the person's latest, and their first if they had none."""
    last_touch[i] = code
    if first_touch[i] < 0:
        first_touch[i] = code


@inline_jit
def _exposure(h, s, exposure, bernoulli, impact, p0):
    """3.1: (weighted exposures this step, the channel that weighed most or -1)."""
    total = 0.0
    touch = -1
    strongest = 0.0
    for c in range(exposure.shape[0]):
        lam = exposure[c, s]
        if lam <= 0.0:
            continue
        u = draw(h, P_EXPOSURE + c)
        if bernoulli[c]:
            k = 1 if u < lam else 0
        elif u < p0[c, s]:
            k = 0  # what `poisson_inverse` returns here, without its loop
        else:
            k = poisson_inverse(u, lam, p0[c, s])
        if k > 0:
            weight = impact[c] * k
            total += weight
            if weight > strongest:  # credit the channel that weighed most
                strongest = weight
                touch = c
    return total, touch


@inline_jit
def _talk(i, s, seg, talk_in, contacts):
    """Word-of-mouth input of an unaware or aware person, before hooks (section 7)."""
    if talk_in.shape[0] > 0:
        return np.float64(talk_in[i])
    mean_field = seg[s, SegmentColumn.MEAN_FIELD_TALKERS]
    if mean_field >= 0.0:
        return np.float64(np.float32(mean_field))
    return np.float64(contacts[i])


@inline_jit
def _awareness(h, i, s, exposures, wom, seg, first_touch, last_touch, n_channels):
    """3.3: whether an unaware person becomes aware; credits word of mouth or organic."""
    ad = seg[s, SegmentColumn.ATTENTION] * exposures
    hazard = seg[s, SegmentColumn.INNOVATION_HAZARD] + ad + wom
    if not hazard > 0.0:
        return False
    u = draw(h, P_AWARE)
    if not u < hazard + SLACK:  # 1 - exp(-hazard) <= hazard: far above it, u < p is False
        return False
    p = 1.0 - np.exp(-hazard)
    if not u < p:
        return False
    share = u / p * hazard  # the same draw names the source, in proportion to its hazard
    if share >= ad:
        source = n_channels if share < ad + wom else n_channels + 1  # word of mouth, organic
        _touch(i, source, first_touch, last_touch)
    return True


@inline_jit
def _interest(h, i, s, memory, wom, seg, setup_key, hook_args):
    """3.4: whether an aware person in the market becomes interested."""
    u = draw(h, P_INTEREST)
    persuasion = seg[s, SegmentColumn.PERSUASION]
    interest = seg[s, SegmentColumn.INTEREST]
    provided = hook_args[5]
    # With persuasion, wom, interest >= 0: p <= interest + pressure
    # <= interest + persuasion + wom, as 1 - exp(-x) <= x.
    if (
        not provided[PERSUASION_HOOK]
        and persuasion >= 0.0
        and wom >= 0.0
        and interest >= 0.0
        and u >= interest + persuasion + wom + SLACK
    ):
        return False
    if not uniform(setup_key, i, P_POTENTIAL) < seg[s, SegmentColumn.POTENTIAL]:
        return False  # never in the market
    pressure = persuasion * (1.0 - np.exp(-memory)) + wom
    pressure = _hook(PERSUASION_HOOK, pressure, i, s, hook_args)
    return u < 1.0 - (1.0 - interest) * np.exp(-pressure)


@inline_jit
def _purchase_or_search(h, i, s, was, seg, find, convert, first_touch, last_touch, hook_args):
    """3.5: an interested person buys, visits the company through search, cools or waits.

    A visit is a touch; it turns into a lead with the channel's conversion chance.
    Returns (stage, unit bought (NEW or 0), channel visited or -1).
    """
    if draw(h, P_BUY) < _hook(PURCHASE_HOOK, seg[s, SegmentColumn.PURCHASE], i, s, hook_args):
        return CUSTOMER, NEW, -1
    visited = -1
    if draw(h, P_SEARCH) < seg[s, SegmentColumn.SEARCH]:
        for c in range(find.shape[0]):
            f = find[c, s]
            if f > 0.0 and draw(h, P_FIND + c) < f:
                _touch(i, c, first_touch, last_touch)
                if draw(h, P_CONVERT + c) < convert[c]:
                    return LEAD, 0, c
                visited = c
                break
    if was == INTERESTED and draw(h, P_DECAY) < seg[s, SegmentColumn.INTEREST_DECAY]:
        return AWARE, 0, visited
    return INTERESTED, 0, visited


@inline_jit
def _lead(h, i, s, seg, hook_args):
    """3.6: a lead buys or goes cold. Returns (stage, unit bought)."""
    chance = _hook(PURCHASE_HOOK, seg[s, SegmentColumn.LEAD_CONVERSION], i, s, hook_args)
    if draw(h, P_BUY) < chance:
        return CUSTOMER, NEW
    if draw(h, P_DECAY) < seg[s, SegmentColumn.INTEREST_DECAY]:
        return AWARE, 0
    return LEAD, 0


@inline_jit
def _customer(
    h, i, s, t, p, since, seg, model, scale, shape, billing, term, again, renewal, hook_args
):
    """3.7: a customer of product `p` (bought at `since`) renews, lapses or buys again.

    A subscriber decides only at the end of each term and is billed every period; any
    other customer may lapse any step and, for a repeat product, buys again with a chance
    that rises with the steps since the last purchase. Returns (stage, unit bought).
    """
    if p < 0:  # an account's member, or a customer someone else sold: not ours to renew
        return CUSTOMER, 0
    tau = t - since
    if model[p] == SUBSCRIPTION:
        if tau % term[p] == 0 and not draw(h, P_RENEW) < renewal[s, p]:
            return AWARE, 0
        if tau % billing[p] == 0:
            return CUSTOMER, BILLED
        return CUSTOMER, 0
    if draw(h, P_CHURN) < seg[s, SegmentColumn.CHURN]:
        return AWARE, 0
    if model[p] == REPEAT:
        hazard = (tau / scale[p]) ** shape[p] - ((tau - 1) / scale[p]) ** shape[p]
        chance = (1.0 - np.exp(-hazard)) * again[s, p] * seg[s, SegmentColumn.REPEAT]
        if draw(h, P_REPEAT) < _hook(PURCHASE_HOOK, chance, i, s, hook_args):
            return CUSTOMER, AGAIN
    return CUSTOMER, 0


@inline_jit
def _choose(h, s, choice):
    """The product a new buyer in segment `s` picks, by the segment's choice shares."""
    u = draw(h, P_CHOICE)
    n = choice.shape[1]
    for p in range(n):
        if u < choice[s, p]:
            return p
    return n - 1


@inline_jit
def _count(tally, s, was, st, unit, p, i, first_touch, last_touch, n_channels, n_products):
    """Book the person's end-of-step stage and any unit by touch and by product."""
    tally[s, st] += 1
    if st == CUSTOMER and was != CUSTOMER:
        tally[s, CountColumn.NEW_CUSTOMERS] += 1
    if was == CUSTOMER and st != CUSTOMER:
        tally[s, CountColumn.LAPSED] += 1
    if unit > 0:
        organic = n_channels + 1
        lt = last_touch[i] if last_touch[i] >= 0 else organic
        ft = first_touch[i] if first_touch[i] >= 0 else organic
        first_touch_col = CountColumn.UNITS_LAST_TOUCH + n_channels + 2
        product_col = first_touch_col + n_channels + 2
        tally[s, CountColumn.UNITS] += 1
        tally[s, CountColumn.UNITS_LAST_TOUCH + lt] += 1
        tally[s, first_touch_col + ft] += 1
        tally[s, product_col + (unit - 1) * n_products + p] += 1


# --------------------------------------------------------------------------- the step


def _advance(
    t,
    key,
    setup_key,
    seg_of,
    stage,
    ad_memory,
    first_touch,
    last_touch,
    contacts,
    product,
    purchased_at,
    talk_in,
    seg,
    exposure,
    bernoulli,
    impact,
    find,
    convert,
    choice,
    again,
    renewal,
    model,
    scale,
    shape,
    billing,
    term,
    counts,
    indptr,
    indices,
    functions,
    provided,
    params,
    p0,
):
    """Move every person one step, in blocks of `BLOCK` people run in parallel.

    Block b tallies into `counts[b]`, so sums never depend on threads. `contacts` must
    be current (`sync_contacts`): it is the word-of-mouth input read before any update,
    unless `talk_in` (one value per person) replaces it. `p0` is exp(-exposure), the
    chance of no exposure from each Poisson stream. The kernel allocates nothing, so it
    is compiled without reference counting: otherwise every array a phase helper reads
    would cost atomic increments per person, tripling the step's time.
    """
    n = stage.shape[0]
    n_channels = exposure.shape[0]
    n_products = choice.shape[1]
    nblocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(nblocks):
        # Built inside the parallel loop: a parfor cannot capture a tuple of arrays.
        hook_args = (key, stage, indptr, indices, functions, provided, params)
        tally = counts[b]
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            s = seg_of[i]
            was = stage[i]
            h = entity_hash(key, i)
            exposures, touch = _exposure(h, s, exposure, bernoulli, impact, p0)
            exposures = _hook(EXPOSURE_HOOK, exposures, i, s, hook_args)
            memory = seg[s, SegmentColumn.RETENTION] * np.float64(ad_memory[i]) + exposures
            ad_memory[i] = memory
            if touch >= 0 and was != CUSTOMER:  # touches after a purchase don't claim it
                _touch(i, touch, first_touch, last_touch)
            talk = 0.0
            if was <= AWARE:
                talk = _hook(WOM_HOOK, _talk(i, s, seg, talk_in, contacts), i, s, hook_args)
            wom = talk * seg[s, SegmentColumn.WORD_OF_MOUTH]
            st = was
            unit = 0
            if st == UNAWARE and _awareness(
                h, i, s, exposures, wom, seg, first_touch, last_touch, n_channels
            ):
                st = AWARE
            if st == AWARE and _interest(h, i, s, memory, wom, seg, setup_key, hook_args):
                st = INTERESTED
            if st == INTERESTED:
                st, unit, visited = _purchase_or_search(
                    h, i, s, was, seg, find, convert, first_touch, last_touch, hook_args
                )
                if visited >= 0 or st == LEAD:
                    tally[s, CountColumn.VISITS] += 1
                if st == LEAD:
                    tally[s, CountColumn.NEW_LEADS] += 1
            elif st == LEAD and was == LEAD:
                st, unit = _lead(h, i, s, seg, hook_args)
            elif st == CUSTOMER and was == CUSTOMER:
                st, unit = _customer(
                    h,
                    i,
                    s,
                    t,
                    product[i],
                    purchased_at[i],
                    seg,
                    model,
                    scale,
                    shape,
                    billing,
                    term,
                    again,
                    renewal,
                    hook_args,
                )
            if unit == NEW:
                product[i] = _choose(h, s, choice)
            if unit in (NEW, AGAIN):
                purchased_at[i] = t
            stage[i] = st
            _count(
                tally,
                s,
                was,
                st,
                unit,
                product[i],
                i,
                first_touch,
                last_touch,
                n_channels,
                n_products,
            )


ADVANCE_SIGNATURE = types.void(
    types.int64,  # t
    types.uint64,  # key
    types.uint64,  # setup_key
    types.int16[::1],  # seg_of
    types.int8[::1],  # stage
    types.float32[::1],  # ad_memory
    types.int8[::1],  # first_touch
    types.int8[::1],  # last_touch
    types.int32[::1],  # contacts
    types.int8[::1],  # product
    types.int32[::1],  # purchased_at
    types.float32[::1],  # talk: word-of-mouth input per person, or empty to use contacts
    types.float64[:, ::1],  # seg
    types.float64[:, ::1],  # exposure
    types.boolean[::1],  # bernoulli
    types.float64[::1],  # impact
    types.float64[:, ::1],  # find
    types.float64[::1],  # convert
    types.float64[:, ::1],  # choice
    types.float64[:, ::1],  # again
    types.float64[:, ::1],  # renewal
    types.int8[::1],  # model
    types.float64[::1],  # scale
    types.float64[::1],  # shape
    types.int64[::1],  # billing
    types.int64[::1],  # term
    types.int64[:, :, ::1],  # counts
    types.int64[::1],  # indptr
    types.int32[::1],  # indices
    types.UniTuple(KERNEL_HOOK_TYPE, 4),  # kernel hooks, in KERNEL_HOOKS order
    types.boolean[::1],  # which of them a plugin provides
    types.UniTuple(types.float64[::1], 4),  # each hook's parameters
    types.float64[:, ::1],  # p0: exp(-exposure)
)


@functools.cache
def _compiled() -> Any:
    """`_advance` compiled for `ADVANCE_SIGNATURE` (or loaded from numba's cache).

    Compiled on first use, not at import: a process that only imports marketsim (such as
    the fork server that worker processes start from) must not start numba's threads.
    Without numba's reference counting (`_nrt=False`), as `_advance` says why.
    """
    return njit(ADVANCE_SIGNATURE, _nrt=False, **PARALLEL_JIT)(_advance)


_DTYPES = {
    "segment": np.int16,
    "stage": np.int8,
    "ad_memory": np.float32,
    "first_touch": np.int8,
    "last_touch": np.int8,
    "contacts": np.int32,
    "counted": np.bool_,
    "product": np.int8,
    "purchased_at": np.int32,
    "indptr": np.int64,
    "indices": np.int32,
}


def check_people(people: People) -> None:
    """Refuse arrays the kernel would misread: wrong dtype, length or memory layout."""
    n = people.stage.shape[0]
    for name, dtype in _DTYPES.items():
        a = getattr(people, name)
        if a.dtype != dtype or not a.flags.c_contiguous or a.ndim != 1:
            raise ValueError(
                f"`{name}` must be a contiguous 1-d {np.dtype(dtype)} array, "
                f"but got {a.dtype} with shape {a.shape}"
            )
        length = n + 1 if name == "indptr" else people.indptr[-1] if name == "indices" else n
        if a.shape[0] != length:
            raise ValueError(f"`{name}` must have {length} entries, but got {a.shape[0]}")


def advance(
    people: People, products: ProductArrays, step: StepArrays, hooks: KernelHooks
) -> np.ndarray:
    """Move every person one step in place; return counts[segment, CountColumn...].

    `people.contacts` is brought up to date first (`sync_contacts`).
    """
    check_people(people)
    n_channels, n_segments = step.exposure.shape
    n_products = products.model.shape[0]
    if step.seg.shape[0] != n_segments or step.find.shape != step.exposure.shape:
        raise ValueError(
            f"`seg`, `exposure` and `find` must agree on segments and channels, but got "
            f"{step.seg.shape=}, {step.exposure.shape=} and {step.find.shape=}"
        )
    for name in ("choice", "again", "renewal"):
        if getattr(step, name).shape != (n_segments, n_products):
            raise ValueError(
                f"`{name}` must be [segment, product] ({n_segments}, {n_products}), but got "
                f"{getattr(step, name).shape}"
            )
    if step.talk.shape[0] not in (0, people.stage.shape[0]):
        raise ValueError(f"`talk` must be empty or one per person, but got {step.talk.shape}")
    sync_contacts(people.stage, people.counted, people.indptr, people.indices, people.contacts)
    nblocks = max(1, -(-people.stage.shape[0] // BLOCK))
    counts = np.zeros(
        (nblocks, n_segments, n_count_columns(n_channels, n_products)), dtype=np.int64
    )
    f64 = functools.partial(np.ascontiguousarray, dtype=np.float64)
    _compiled()(
        np.int64(step.t),
        np.uint64(step.key),
        np.uint64(step.setup_key),
        people.segment,
        people.stage,
        people.ad_memory,
        people.first_touch,
        people.last_touch,
        people.contacts,
        people.product,
        people.purchased_at,
        np.ascontiguousarray(step.talk, dtype=np.float32),
        f64(step.seg),
        f64(step.exposure),
        np.ascontiguousarray(step.bernoulli, dtype=np.bool_),
        f64(step.impact),
        f64(step.find),
        f64(step.convert),
        f64(step.choice),
        f64(step.again),
        f64(step.renewal),
        np.ascontiguousarray(products.model, dtype=np.int8),
        f64(products.scale),
        f64(products.shape),
        np.ascontiguousarray(products.billing, dtype=np.int64),
        np.ascontiguousarray(products.term, dtype=np.int64),
        counts,
        people.indptr,
        people.indices,
        hooks.functions,
        hooks.provided,
        hooks.params,
        _no_exposure_chance(step.exposure),
    )
    return counts.sum(axis=0)


def _no_exposure_chance(exposure: np.ndarray) -> np.ndarray:
    """exp(-rate) of each [channel, segment] Poisson stream, with libm's exp as numba's."""
    return np.array([[math.exp(-x) for x in row] for row in exposure.tolist()]).reshape(
        exposure.shape
    )


@jit
def sync_contacts(stage, counted, indptr, indices, contacts):
    """Bring `contacts[i]` (customers among i's contacts) up to date with `stage`.

    `counted[i]` says whether i was a customer when last counted. Only people whose
    customer status changed since (in the kernel or by anyone writing `stage`) touch
    their contacts' tallies, so a step costs a scan of `stage`, not of the network.
    Integer increments commute: the result does not depend on order.
    """
    n = stage.shape[0]
    for i in range(n):
        now = stage[i] == CUSTOMER
        if now != counted[i]:
            d = 1 if now else -1
            for k in range(indptr[i], indptr[i + 1]):
                contacts[indices[k]] += d
            counted[i] = now


@parallel_jit
def word_of_mouth_input(
    against, stage, seg_of, seg, contacts, detractor, detractors_mean, indptr, indices, talk
):
    """Each person's word-of-mouth input: talking customers minus detractors among contacts.

    Used when the input must exist as an array: for Python word-of-mouth hooks, and when
    let-down customers (detractors) speak against the company. In a well-mixed segment
    the detractors' mean field is `detractors_mean[segment]`.
    """
    n = stage.shape[0]
    for i in numba.prange(n):
        if stage[i] > AWARE:
            talk[i] = 0.0
            continue
        s = seg_of[i]
        mean_field = seg[s, SegmentColumn.MEAN_FIELD_TALKERS]
        if mean_field >= 0.0:
            talk[i] = np.float32(mean_field - detractors_mean[s])
            continue
        heard = 0
        if against:  # only scan the network when someone speaks against the company
            for k in range(indptr[i], indptr[i + 1]):
                heard += detractor[indices[k]]
        talk[i] = np.float32(contacts[i] - heard)
