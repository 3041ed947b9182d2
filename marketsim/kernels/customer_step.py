"""The hot loop: one step of every person's funnel, over arrays.

`advance` validates what it is given and runs `_advance`, which moves each person through
the phases of docs/model.md section 3, one helper per phase: exposure, ad memory,
awareness, interest, purchase or search, leads, customers. The helpers are small numba
functions the compiler inlines into the loop. The plain-Python twin in
`marketsim.kernels.reference` implements the same equations one person at a time; tests
demand the two agree bit for bit.

A person's traits (price sensitivity, purchase rate, word-of-mouth response, attitude,
media habits) are per-person columns; a column that is empty means nobody differs, and
the segment's value applies. With every column empty the equations reduce exactly, bit
for bit, to those of a homogeneous segment.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numba
import numpy as np
from numba import njit, types

from marketsim.core import portable
from marketsim.core.hooks import KERNEL_SLOTS, inlines
from marketsim.core.layout import (
    AGAIN,
    AGAINST,
    BILLED,
    NEW,
    PRAISE,
    CountColumn,
    SegmentColumn,
    customer_blocks,
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
    P_FORGET,
    P_INTEREST,
    P_POTENTIAL,
    P_RENEW,
    P_REPEAT,
    P_SATISFY,
    P_SEARCH,
    P_STOCK,
)
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, UNAWARE
from marketsim.kernels.config import PARALLEL_JIT, inline_jit, parallel_jit
from marketsim.kernels.contact_tallies import TallyChanges, speaks, update_tallies
from marketsim.kernels.hook_chain import HOOKED, NO_HOOKS, POINTERS, inline_spec, run_chain
from marketsim.kernels.hooks import (
    BAD_PERSON,
    BAD_SLOT,
    BAD_VALUE,
    CALLED_FOR,
    CALLING,
    CHURN_HOOK,
    EXPOSURE_HOOK,
    KERNEL_HOOK_TYPE,
    PERSUASION_HOOK,
    PURCHASE_HOOK,
    SATISFACTION_HOOK,
    VALUE_IN,
    VIEW_HOOK_TYPE,
    WATCH_WIDTH,
    WOM_HOOK,
    HookFault,
    KernelView,
    identity_hook,
    identity_view_hook,
    takes_view,
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
    ad_memory: np.ndarray  # float32 [person, memory group]: adstock
    first_touch: np.ndarray  # int8: touch codes for attribution
    last_touch: np.ndarray  # int8
    contacts: np.ndarray  # int32: talking customers among each person's contacts
    counted: np.ndarray  # bool: whether the person talked for us when last tallied
    heard: np.ndarray  # int32: detractors among each person's contacts (or empty)
    heard_counted: np.ndarray  # bool: whether the person was a detractor when last tallied
    product: np.ndarray  # int8: the product a customer bought last (-1: none yet)
    purchased_at: np.ndarray  # int32: step of that purchase, or when its stock runs out
    customer_since: np.ndarray  # int32: step the person last became a customer
    satisfied: np.ndarray  # int8: 1 satisfied with the last purchase, 0 not, -1 none yet
    detractor: np.ndarray  # int8: 1 for people who warn their contacts against us
    purchases: np.ndarray  # int32: units the person bought over the run
    spent: np.ndarray  # float32: what they paid for them
    price_sensitivity: np.ndarray  # float32 traits, or empty where nobody differs
    purchase_rate: np.ndarray
    word_of_mouth: np.ndarray
    attitude: np.ndarray
    habit: np.ndarray  # float32 [person, medium with habits], or (0, 0)
    indptr: np.ndarray  # int64: contact network, CSR
    indices: np.ndarray  # int32
    changes: TallyChanges  # who may have changed what they say since the tallies' sync


@dataclass(frozen=True)
class ProductArrays:
    """How each product is bought (fixed for a run), one entry per product.

    Attributes:
        model: `ONE_OFF`, `REPEAT` or `SUBSCRIPTION`.
        scale / shape: a repeat product's Weibull scale and shape: the chance of buying
            again after tau steps is 1 - exp(-((tau / scale)^shape - ((tau-1) / scale)^shape)).
        billing / term: a subscription's steps between bills and between renewals.
        list_price: the list price.
        appeal: attractiveness at equal price (the nested logit's weight).
        every: a repeat product's mean steps between purchases (what a unit lasts).
        stockpile: extra units bought per unit of relative discount.
        quality: chance a purchase at or below the reference price satisfies.
        repeat: [0, product, tau] a repeat product's hazard of buying again tau steps
            after the last purchase, and [1, product, tau] the chance 1 - exp(-hazard),
            for tau < `REPEAT_TABLE`: worked out once (`repeat_table`), not per customer
            and step (two pows and an exp each).

    """

    model: np.ndarray
    scale: np.ndarray
    shape: np.ndarray
    billing: np.ndarray
    term: np.ndarray
    list_price: np.ndarray
    appeal: np.ndarray
    every: np.ndarray
    stockpile: np.ndarray
    quality: np.ndarray
    repeat: np.ndarray


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
        threshold: [channel] exposures in a step before an ad works (0: from the first).
        wear_out: [channel] how much less each further exposure in a step weighs.
        group: [channel] the ad-memory group the channel's exposures feed.
        habit: [channel] the channel's column of the people's habits, or -1.
        retention: [segment, group] share of each group's ad memory carried over.
        find: [channel, segment] chance a searching person finds the company (a visit).
        convert: [channel] chance a visit through the channel becomes a lead.
        choice: [segment, product] cumulative choice shares of a new purchase.
        again: [segment, product] multiplier on the chance of buying a product again
            (its price response at this step's price).
        renewal: [segment, product] chance a subscription renews at the end of a term.
        price / renewal_price: [segment, product] share of the list price buyers and
            subscribers' bills pay.
        relative: [segment, product] price paid over the segment's reference price.
        available: [segment, product] whether the segment considers and can buy it.
        pull: [segment] the product range's pull at the segment's own elasticity.
        talk: each person's word-of-mouth input, or empty to read `contacts` (less
            `heard`, where detractors are tallied).
        detractors_mean: [segment] detractors a person of a well-mixed segment hears
            from on average, or empty where nobody speaks against the company.

    """

    t: int
    key: np.uint64
    setup_key: np.uint64
    seg: np.ndarray
    exposure: np.ndarray
    bernoulli: np.ndarray
    impact: np.ndarray
    threshold: np.ndarray
    wear_out: np.ndarray
    group: np.ndarray
    habit: np.ndarray
    retention: np.ndarray
    find: np.ndarray
    convert: np.ndarray
    choice: np.ndarray
    again: np.ndarray
    renewal: np.ndarray
    price: np.ndarray
    renewal_price: np.ndarray
    relative: np.ndarray
    available: np.ndarray
    pull: np.ndarray
    talk: np.ndarray
    detractors_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))


class HookSlot(NamedTuple):
    """One plugin's kernel hook at one point, with what it is handed."""

    function: Any  # numba function of `KERNEL_SIGNATURE` or `VIEW_SIGNATURE`
    params: np.ndarray  # float64: the plugin's `kernel_params()`
    state: np.ndarray  # float64 [column, person]: the plugin's own columns, or (0, 0)
    segments: np.ndarray  # float64 [segment, value]: its per-segment values, or (0, 0)


@dataclass(frozen=True)
class KernelHooks:
    """Plugins' kernel hooks as the kernel takes them: each hook point's chain of slots.

    Attributes:
        functions: `KERNEL_SLOTS` numba functions of `KERNEL_SIGNATURE` (`identity_hook`
            where a slot is unused or holds a view-form hook).
        view_functions: the same of `VIEW_SIGNATURE` (`identity_view_hook` elsewhere).
        viewed: bool [slot] which of the two a slot calls.
        first: int64 [point + 1]: point p's chain is the slots `first[p]` to
            `first[p + 1]`, in the order they run (`first[-1]`: slots used).
        params: each slot's parameters (float64 arrays).
        state: each slot's plugin's own columns, float64 [column, person] (or (0, 0)).
        segments: each slot's plugin's per-segment values, float64 [segment, value].

    """

    functions: tuple[Any, ...]
    view_functions: tuple[Any, ...]
    viewed: np.ndarray
    first: np.ndarray
    params: tuple[np.ndarray, ...]
    state: tuple[np.ndarray, ...]
    segments: tuple[np.ndarray, ...]

    @classmethod
    def chains(cls, chains: list[list[HookSlot]]) -> KernelHooks:
        """Hooks from one chain of slots per `KERNEL_HOOKS` point."""
        slots = [hook for chain in chains for hook in chain]
        if len(slots) > KERNEL_SLOTS:
            raise ValueError(
                f"at most {KERNEL_SLOTS} kernel hooks may be active together, but got {len(slots)}"
            )
        free = KERNEL_SLOTS - len(slots)
        viewed = [takes_view(slot.function) for slot in slots] + [False] * free
        fns = [slot.function for slot in slots] + [identity_hook] * free
        return cls(
            functions=tuple(identity_hook if v else fn for fn, v in zip(fns, viewed, strict=True)),
            view_functions=tuple(
                fn if v else identity_view_hook for fn, v in zip(fns, viewed, strict=True)
            ),
            viewed=np.array(viewed, dtype=np.bool_),
            first=np.cumsum([0, *(len(chain) for chain in chains)], dtype=np.int64),
            params=(
                *(np.ascontiguousarray(slot.params, dtype=np.float64) for slot in slots),
                *(np.zeros(0),) * free,
            ),
            state=(*(slot.state for slot in slots), *(np.zeros((0, 0)),) * free),
            segments=(
                *(np.ascontiguousarray(slot.segments, dtype=np.float64) for slot in slots),
                *(np.zeros((0, 0)),) * free,
            ),
        )

    @property
    def active(self) -> bool:
        """Whether any kernel hook runs (only then are the people copied for them)."""
        return bool(self.first[-1] > 0)

    @functools.cached_property
    def _inline_spec(self) -> str | None:
        used = int(self.first[-1])
        pairs = zip(self.functions, self.view_functions, self.viewed, strict=True)
        functions = [v if w else f for f, v, w in pairs]
        return inline_spec(functions[:used], [self.point_of(k) for k in range(used)])

    def spec(self, people: int) -> str:
        """How the kernel calls these hooks for a market of `people` (`hook_chain`)."""
        if not self.active:
            return NO_HOOKS
        if inlines(people) and self._inline_spec is not None:
            return self._inline_spec
        return POINTERS

    def __getstate__(self) -> dict[str, Any]:
        """Without the inlined spec: another process registers its own when it needs it."""
        return {k: v for k, v in self.__dict__.items() if k != "_inline_spec"}

    def point_of(self, slot: int) -> int:
        """The hook point whose chain holds `slot`."""
        return int(np.searchsorted(self.first, slot, side="right") - 1)

    def views(self, people: People, t: int) -> tuple[KernelView, ...]:
        """What each slot's hook sees at step `t`: `people` as they are now (its start).

        Copies of what the kernel writes: `stage` when any hook runs, ad memory, purchase
        and customer steps when a view-form hook does; the plugin's own columns twice, to
        write and as they were. Without hooks nothing is copied.
        """
        staged = people.stage.copy() if self.active else people.stage
        viewed = bool(self.viewed.any())
        shared = (
            staged,
            people.indptr,
            people.indices,
            people.ad_memory.copy() if viewed else people.ad_memory,
            people.purchased_at.copy() if viewed else people.purchased_at,
            people.customer_since.copy() if viewed else people.customer_since,
            people.price_sensitivity,
            people.purchase_rate,
            people.word_of_mouth,
            people.attitude,
            t,
        )
        seen: dict[int, np.ndarray] = {}
        views = []
        for state, segments in zip(self.state, self.segments, strict=True):
            if id(state) not in seen:
                seen[id(state)] = state.copy() if state.size else state
            views.append(KernelView(*shared, state, seen[id(state)], segments))
        return tuple(views)


# --------------------------------------------------------------------------- phases


@inline_jit
def _hooked(point, hook_args):
    """Whether any kernel hook is active at `point`."""
    first = hook_args[5]
    return hook_args[HOOKED] and first[point + 1] > first[point]


@inline_jit
def _trait(column, i, default):
    """Person i's value of a trait, or `default` where nobody in the run differs."""
    if column.shape[0] > 0:
        return np.float64(column[i])
    return default


@inline_jit
def _touch(i, code, first_touch, last_touch):
    """Record a touch: it is the person's latest, and their first if they had none."""
    last_touch[i] = code
    if first_touch[i] < 0:
        first_touch[i] = code


@inline_jit
def _weighed(k, impact, threshold, wear_out):
    """3.1: the ad memory `k` exposures in one step add.

    None below the threshold; above it each exposure after the first weighs
    (1 - wear_out) times the one before.
    """
    if k < threshold:
        return 0.0
    if wear_out > 0.0:
        # A float exponent: libm's pow, as Python's `**` (an integer one is squared out).
        return impact * (1.0 - (1.0 - wear_out) ** np.float64(k)) / wear_out
    return impact * k


@inline_jit
def _exposure(
    h,
    i,
    s,
    exposure,
    bernoulli,
    impact,
    threshold,
    wear_out,
    group,
    habit_of,
    habit,
    p0,
    weights,
    reaching,
    acc,
    groups,
    habits,
):
    """3.1: (weighted exposures this step, the channel that weighed most or -1).

    `reaching[s]` lists the channels a person of segment s draws for (`_reaching`), in
    channel order, then -1s: the others can expose nobody there and make no draw.

    `weights[c, k]` is `_weighed(k, ...)` of channel c for the commonest k, computed once.

    With several memory `groups`, each group's share of the weight is added to
    `acc[group]` (zeroed first); with one, `acc` is not used. Without `habits` nobody's
    reach differs from the segment's.
    """
    if groups:
        for g in range(acc.shape[0]):
            acc[g] = 0.0
    total = 0.0
    touch = -1
    strongest = 0.0
    for j in range(reaching.shape[1]):
        c = reaching[s, j]
        if c < 0:
            break
        lam = exposure[c, s]
        u = draw(h, P_EXPOSURE + c)
        if habits and habit_of[c] >= 0:  # the person's own rate: the habit x the mean
            mine = lam * np.float64(habit[i, habit_of[c]])
            if bernoulli[c]:
                k = 1 if u < min(1.0, mine) else 0
            elif u < 1.0 - mine - SLACK:  # exp(-mine) >= 1 - mine: no exposure, no exp()
                k = 0
            else:
                k = poisson_inverse(u, mine, np.exp(-mine)) if mine > 0.0 else 0
        elif bernoulli[c]:
            k = 1 if u < lam else 0
        elif u < p0[c, s]:
            k = 0  # what `poisson_inverse` returns here, without its loop
        else:
            k = poisson_inverse(u, lam, p0[c, s])
        if k > 0:
            if k < weights.shape[1]:
                weight = weights[c, k]
            else:
                weight = _weighed(k, impact[c], threshold[c], wear_out[c])
            if weight > 0.0:
                total += weight
                if groups:
                    acc[group[c]] += weight
                if weight > strongest:  # credit the channel that weighed most
                    strongest = weight
                    touch = c
    return total, touch


@inline_jit
def _remember(i, s, exposures, raw, ad_memory, retention, acc, groups):
    """3.2: update the person's ad memory; return (memory now, memory carried over).

    A plugin may have changed the step's exposures (`raw` before, `exposures` after):
    each group gets its share of the change. With one group this is memory =
    retention x memory + exposures.
    """
    if not groups:
        carried = retention[s, 0] * np.float64(ad_memory[i, 0])
        memory = carried + exposures
        ad_memory[i, 0] = memory
        return memory, carried
    # x / x is exactly 1: without a plugin changing exposures, no division
    scale = 1.0 if exposures == raw or raw <= 0.0 else exposures / raw
    if raw <= 0.0:
        acc[0] = exposures
    carried = 0.0
    memory = 0.0
    for g in range(ad_memory.shape[1]):
        kept = retention[s, g] * np.float64(ad_memory[i, g])
        now = kept + scale * acc[g]
        ad_memory[i, g] = now
        carried += kept
        memory += now
    return memory, carried


@inline_jit
def _talk(i, s, seg, talk_in, contacts, heard, detractors_mean):
    """Word-of-mouth input of an unaware or aware person, before hooks (section 7).

    Talking customers minus detractors among the person's contacts (`heard`, empty
    where nobody is tallied), or their means in a well-mixed segment; rounded to float32
    as `word_of_mouth_input` stores it, so either way gives the same bits.
    """
    if talk_in.shape[0] > 0:
        return np.float64(talk_in[i])
    mean_field = seg[s, SegmentColumn.MEAN_FIELD_TALKERS]
    if mean_field >= 0.0:
        if detractors_mean.shape[0] > 0:
            return np.float64(np.float32(mean_field - detractors_mean[s]))
        return np.float64(np.float32(mean_field))
    if heard.shape[0] > 0:
        return np.float64(contacts[i] - heard[i])
    return np.float64(contacts[i])


@inline_jit
def _awareness(h, i, s, exposures, carried, wom, seg, first_touch, last_touch, n_channels):
    """3.3: whether an unaware person becomes aware; credits word of mouth or organic."""
    ad = seg[s, SegmentColumn.ATTENTION] * (
        exposures + seg[s, SegmentColumn.AWARENESS_ADSTOCK] * carried
    )
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
def _interest(h, i, s, memory, wom, attitude, seg, setup_key, hook_args):
    """3.4: whether an aware person in the market becomes interested."""
    u = draw(h, P_INTEREST)
    persuasion = seg[s, SegmentColumn.PERSUASION]
    interest = seg[s, SegmentColumn.INTEREST]
    # With persuasion, wom >= 0 and 0 <= interest <= 1, the chance rises with pressure
    # and pressure <= persuasion x min(1, max(0, memory)) + wom = x, as 1 - exp(-m) is
    # below both 1 and m (and below 0 for m < 0); so p <= 1 - (1 - interest) exp(-x)
    # <= interest + x, as 1 - exp(-x) <= x.
    if (
        not _hooked(PERSUASION_HOOK, hook_args)
        and persuasion >= 0.0
        and wom >= 0.0
        and 0.0 <= interest <= 1.0
        and u >= attitude * (interest + persuasion * min(1.0, max(0.0, memory)) + wom) + SLACK
    ):
        return False
    if not uniform(setup_key, i, P_POTENTIAL) < seg[s, SegmentColumn.POTENTIAL]:
        return False  # never in the market
    pressure = persuasion * (1.0 - np.exp(-memory)) + wom
    pressure = run_chain(PERSUASION_HOOK, pressure, i, s, hook_args)
    return u < min(1.0, attitude * (1.0 - (1.0 - interest) * np.exp(-pressure)))


@inline_jit
def _forgets(h, s, memory, wom, seg):
    """3.4: whether an aware person who stayed aware forgets the brand (no reminder)."""
    decay = seg[s, SegmentColumn.AWARENESS_DECAY]
    if not decay > 0.0:
        return False
    u = draw(h, P_FORGET)
    reminded = memory + wom
    if reminded >= 0.0 and u >= decay:  # exp(-reminded) <= 1: u < p is False, skip exp()
        return False
    return u < decay * np.exp(-reminded)


@inline_jit
def _own_pull(s, eps, seg, relative, available, appeal):
    """The product range's pull for a person of price elasticity `eps` (section 4)."""
    inverse = 1.0 / seg[s, SegmentColumn.SUBSTITUTION]
    total = 0.0
    for p in range(relative.shape[1]):
        if available[s, p]:
            total += (appeal[p] * relative[s, p] ** -eps) ** inverse
    return total ** seg[s, SegmentColumn.SUBSTITUTION]


@inline_jit
def _pull_ratio(s, eps, varied, seg, relative, available, appeal, pull):
    """The person's pull over the segment's: 1 where price sensitivity does not vary."""
    if not varied or not pull[s] > 0.0:
        return 1.0
    return _own_pull(s, eps, seg, relative, available, appeal) / pull[s]


@inline_jit
def _purchase_or_search(
    h, i, s, was, chance_mult, seg, find, convert, first_touch, last_touch, hook_args
):
    """3.5: an interested person buys, visits the company through search, cools or waits.

    A visit is a touch; it turns into a lead with the channel's conversion chance.
    Returns (stage, unit bought (NEW or 0), channel visited or -1).
    """
    chance = min(1.0, seg[s, SegmentColumn.PURCHASE] * chance_mult)
    if draw(h, P_BUY) < run_chain(PURCHASE_HOOK, chance, i, s, hook_args):
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
def _lead(h, i, s, chance_mult, seg, hook_args):
    """3.6: a lead buys or goes cold. Returns (stage, unit bought)."""
    chance = min(1.0, seg[s, SegmentColumn.LEAD_CONVERSION] * chance_mult)
    if draw(h, P_BUY) < run_chain(PURCHASE_HOOK, chance, i, s, hook_args):
        return CUSTOMER, NEW
    if draw(h, P_DECAY) < seg[s, SegmentColumn.INTEREST_DECAY]:
        return AWARE, 0
    return LEAD, 0


@inline_jit
def _repeat_hazard(tau, scale, shape):
    """3.7: the Weibull hazard of buying again between tau - 1 and tau steps after."""
    # Float exponents: libm's pow, as Python's `**` (`repeat_table` runs this in Python).
    return (tau / scale) ** shape - ((tau - 1) / scale) ** shape


@inline_jit
def _customer(
    h,
    i,
    s,
    t,
    p,
    since,
    eps,
    varied,
    rate,
    satisfied,
    seg,
    model,
    scale,
    shape,
    repeat,
    billing,
    term,
    again,
    renewal,
    relative,
    hook_args,
):
    """3.7: a customer of product `p` (bought at `since`) renews, lapses or buys again.

    Any customer may lapse (likelier when dissatisfied or the price is above the
    reference, as the segment says): a subscriber only when a bill falls due, with the
    churn of the whole period behind it, so they pay for every period they stay, and
    also at the end of each term if they do not renew. Any other customer lapses with
    that chance each step and, for a repeat product, buys again with a chance that rises
    with the steps since the last purchase, once any stock bought is used up. Returns
    (stage, unit bought).
    """
    if p < 0:  # an account's member, or a customer someone else sold: not ours to renew
        return CUSTOMER, 0
    tau = t - since
    churn = seg[s, SegmentColumn.CHURN]
    if satisfied == 0:
        churn *= seg[s, SegmentColumn.DISSATISFIED_CHURN]
    response = seg[s, SegmentColumn.CHURN_PRICE]
    if response > 0.0 and relative[s, p] > 0.0:
        churn *= relative[s, p] ** (response * eps)
    if model[p] == SUBSCRIPTION:
        if tau % term[p] == 0 and not draw(h, P_RENEW) < renewal[s, p]:
            return AWARE, 0
        if tau % billing[p] == 0:
            period = np.float64(billing[p])
            lapse = 1.0 - (1.0 - min(1.0, churn)) ** period
            if draw(h, P_CHURN) < run_chain(CHURN_HOOK, lapse, i, s, hook_args):
                return AWARE, 0
            return CUSTOMER, BILLED
        return CUSTOMER, 0
    if draw(h, P_CHURN) < run_chain(CHURN_HOOK, min(1.0, churn), i, s, hook_args):
        return AWARE, 0
    if model[p] == REPEAT and tau > 0:
        tabled = tau < repeat.shape[2]
        if tabled and rate == 1.0:  # hazard x 1 is the hazard: the table's chance, bit for bit
            ready = repeat[1, p, tau]
        else:
            hazard = repeat[0, p, tau] if tabled else _repeat_hazard(tau, scale[p], shape[p])
            ready = 1.0 - np.exp(-hazard * rate)
        own = again[s, p]
        if varied and relative[s, p] > 0.0:
            own = relative[s, p] ** -eps
        chance = ready * own * seg[s, SegmentColumn.REPEAT]
        if draw(h, P_REPEAT) < run_chain(PURCHASE_HOOK, chance, i, s, hook_args):
            return CUSTOMER, AGAIN
    return CUSTOMER, 0


@inline_jit
def _choose(h, s, eps, varied, choice, seg, relative, available, appeal):
    """The product a new buyer in segment `s` picks, by their own choice shares.

    The shares at the person's price sensitivity (the segment's, where nobody differs).
    """
    u = draw(h, P_CHOICE)
    n = choice.shape[1]
    if not varied:
        for p in range(n):
            if u < choice[s, p]:
                return p
        return n - 1
    inverse = 1.0 / seg[s, SegmentColumn.SUBSTITUTION]
    total = 0.0
    for p in range(n):
        if available[s, p]:
            total += (appeal[p] * relative[s, p] ** -eps) ** inverse
    running = 0.0
    last = n - 1
    for p in range(n):
        if available[s, p]:
            running += (appeal[p] * relative[s, p] ** -eps) ** inverse
            last = p
            if u < running / total:
                return p
    return last


@inline_jit
def _stock_up(h, t, p, price_share, model, every, stockpile):
    """(extra units a repeat buyer stocks up on, step their stock runs out until).

    At a share d off the list price a buyer takes stockpile x d extra units on average
    (the integer part, and one more with the fractional part as chance); each extra unit
    lasts a mean gap between purchases, so the next purchase waits.
    """
    off = 1.0 - price_share
    if model[p] != REPEAT or not off > 0.0 or not stockpile[p] > 0.0:
        return 0, t
    mean = stockpile[p] * off
    extra = np.int64(np.floor(mean))
    if draw(h, P_STOCK) < mean - extra:
        extra += 1
    return extra, t + np.int64(np.floor(extra * every[p] + 0.5))


@inline_jit
def _satisfaction(h, i, s, p, eps, quality, relative, hook_args):
    """1 if a purchase at this step's price satisfies the buyer, else 0 (section 3.8)."""
    chance = quality[p]
    if relative[s, p] > 1.0:
        chance *= relative[s, p] ** -eps
    return 1 if draw(h, P_SATISFY) < run_chain(SATISFACTION_HOOK, chance, i, s, hook_args) else 0


@inline_jit
def _count(
    tally, s, was, st, unit, quantity, p, i, first_touch, last_touch, n_channels, n_products
):
    """Book the person's end-of-step stage and any units by touch and by product."""
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
        tally[s, CountColumn.UNITS] += quantity
        tally[s, CountColumn.UNITS_LAST_TOUCH + lt] += quantity
        tally[s, first_touch_col + ft] += quantity
        tally[s, product_col + (unit - 1) * n_products + p] += quantity


# --------------------------------------------------------------------------- the step


def _advance_for(alike: bool, spec: str) -> Any:
    """The step's loop, with `alike` and the hooks' chain `spec` fixed when it is compiled.

    With alike people (no trait varies, one ad-memory group, no media habits) every
    branch on traits is compiled away, and without kernel hooks (`NO_HOOKS`) every hook
    call, so such runs pay nothing for them; `spec` says how hooks are called
    (`marketsim.kernels.hook_chain`).
    """
    hooked = spec != NO_HOOKS

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
        heard,
        product,
        purchased_at,
        customer_since,
        satisfied,
        detractor,
        purchases,
        spent,
        price_sensitivity,
        purchase_rate,
        wom_response,
        attitude_of,
        habit,
        talk_in,
        detractors_mean,
        seg,
        exposure,
        bernoulli,
        impact,
        threshold,
        wear_out,
        group,
        habit_of,
        retention,
        find,
        convert,
        choice,
        again,
        renewal,
        price,
        renewal_price,
        relative,
        available,
        pull,
        model,
        scale,
        shape,
        repeat,
        billing,
        term,
        list_price,
        appeal,
        every,
        stockpile,
        quality,
        counts,
        scratch,
        indptr,
        indices,
        seen_stage,
        seen_memory,
        seen_bought,
        seen_since,
        functions,
        view_functions,
        viewed,
        first,
        params,
        state,
        seen,
        segments,
        watch,
        p0,
        weights,
        reaching,
        changed,
        n_changed,
    ):
        """Move every person one step, in `counts.shape[0]` blocks run in parallel.

        Block b tallies into `counts[b]` and keeps its per-person memory-group sums in
        `scratch[b]`, so sums never depend on threads and nothing is allocated. `contacts`
        (less `heard`, where detractors are tallied) must be current (`update_tallies`): it
        is the word-of-mouth input read before any update, unless `talk_in` (one value
        per person) replaces it. `p0` is exp(-exposure),
        the chance of no exposure from each Poisson stream. The kernel allocates nothing, so
        it is compiled without reference counting: otherwise every array a phase helper
        reads would cost atomic increments per person, tripling the step's time. Kernel
        hooks read `seen_*` (other people as at the start of the step), their plugins'
        `state` (and `seen`, as it was) and report into `watch[b]`. Block b appends the
        people who became or stopped being customers, or whose satisfaction or detractor
        flag changed, to `changed[b]` (`TallyChanges`): the only ones whose talking
        status can differ from the last sync's.
        """
        n = stage.shape[0]
        n_channels = exposure.shape[0]
        n_products = choice.shape[1]
        varied = not alike and price_sensitivity.shape[0] > 0
        groups = not alike and ad_memory.shape[1] > 1
        habits = not alike and habit.shape[0] > 0
        nblocks = counts.shape[0]
        size = (n + nblocks - 1) // nblocks
        for b in numba.prange(nblocks):
            # Built inside the parallel loop: a parfor cannot capture a tuple of arrays.
            shared = (
                seen_stage,
                indptr,
                indices,
                seen_memory,
                seen_bought,
                seen_since,
                price_sensitivity,
                purchase_rate,
                wom_response,
                attitude_of,
                t,
            )
            hook_args = (
                key,
                shared,
                functions,
                view_functions,
                viewed,
                first,
                params,
                state,
                seen,
                segments,
                watch[b],
                hooked,
                spec,
            )
            tally = counts[b]
            acc = scratch[b]
            for i in range(b * size, min(n, (b + 1) * size)):
                s = seg_of[i]
                was = stage[i]
                h = entity_hash(key, i)
                eps = seg[s, SegmentColumn.ELASTICITY]
                rate = 1.0
                attitude = 1.0
                response = 1.0
                if not alike:
                    eps = _trait(price_sensitivity, i, eps)
                    rate = _trait(purchase_rate, i, 1.0)
                    attitude = _trait(attitude_of, i, 1.0)
                    response = _trait(wom_response, i, 1.0)
                raw, touch = _exposure(
                    h,
                    i,
                    s,
                    exposure,
                    bernoulli,
                    impact,
                    threshold,
                    wear_out,
                    group,
                    habit_of,
                    habit,
                    p0,
                    weights,
                    reaching,
                    acc,
                    groups,
                    habits,
                )
                exposures = run_chain(EXPOSURE_HOOK, raw, i, s, hook_args)
                memory, carried = _remember(i, s, exposures, raw, ad_memory, retention, acc, groups)
                if touch >= 0 and was != CUSTOMER:  # touches after a purchase don't claim it
                    _touch(i, touch, first_touch, last_touch)
                talk = 0.0
                if was <= AWARE:
                    talk = run_chain(
                        WOM_HOOK,
                        _talk(i, s, seg, talk_in, contacts, heard, detractors_mean),
                        i,
                        s,
                        hook_args,
                    )
                wom = talk * seg[s, SegmentColumn.WORD_OF_MOUTH] * response
                st = was
                unit = 0
                if st == UNAWARE and _awareness(
                    h, i, s, exposures, carried, wom, seg, first_touch, last_touch, n_channels
                ):
                    st = AWARE
                if st == AWARE:
                    if _interest(h, i, s, memory, wom, attitude, seg, setup_key, hook_args):
                        st = INTERESTED
                    elif was == AWARE and _forgets(h, s, memory, wom, seg):
                        st = UNAWARE
                        tally[s, CountColumn.FORGOT] += 1
                if st == INTERESTED or (st == LEAD and was == LEAD):
                    mult = rate * attitude
                    if varied:
                        mult *= _pull_ratio(s, eps, varied, seg, relative, available, appeal, pull)
                    if st == INTERESTED:
                        st, unit, visited = _purchase_or_search(
                            h,
                            i,
                            s,
                            was,
                            mult,
                            seg,
                            find,
                            convert,
                            first_touch,
                            last_touch,
                            hook_args,
                        )
                        if visited >= 0 or st == LEAD:
                            tally[s, CountColumn.VISITS] += 1
                        if st == LEAD:
                            tally[s, CountColumn.NEW_LEADS] += 1
                    else:
                        st, unit = _lead(h, i, s, mult, seg, hook_args)
                elif st == CUSTOMER and was == CUSTOMER:
                    st, unit = _customer(
                        h,
                        i,
                        s,
                        t,
                        product[i],
                        purchased_at[i],
                        eps,
                        varied,
                        rate,
                        satisfied[i],
                        seg,
                        model,
                        scale,
                        shape,
                        repeat,
                        billing,
                        term,
                        again,
                        renewal,
                        relative,
                        hook_args,
                    )
                quantity = 1
                p = -1
                moved = (st == CUSTOMER) != (was == CUSTOMER)  # what they say may change
                if unit > 0:
                    if unit == NEW:
                        product[i] = _choose(
                            h, s, eps, varied, choice, seg, relative, available, appeal
                        )
                    p = product[i]
                    if unit != BILLED:
                        extra, until = _stock_up(h, t, p, price[s, p], model, every, stockpile)
                        quantity += extra
                        purchased_at[i] = until
                        pleased = _satisfaction(h, i, s, p, eps, quality, relative, hook_args)
                        moved |= pleased != satisfied[i]
                        satisfied[i] = pleased
                        if seg[s, SegmentColumn.DISSATISFIED_WORD] == AGAINST:
                            moved |= detractor[i] != 1 - pleased
                            detractor[i] = 1 - pleased
                    paid = renewal_price[s, p] if unit == BILLED else price[s, p]
                    purchases[i] += quantity
                    spent[i] += np.float32(quantity * list_price[p] * paid)
                stage[i] = st
                if st == CUSTOMER and was != CUSTOMER:
                    customer_since[i] = t
                if st == CUSTOMER and not speaks(
                    st, satisfied[i], seg[s, SegmentColumn.DISSATISFIED_WORD] != PRAISE
                ):
                    tally[s, CountColumn.SILENT] += 1
                if moved:  # customer or not, satisfaction or detractor flag changed
                    listed = n_changed[b]
                    if listed < changed.shape[1]:
                        changed[b, listed] = i
                    n_changed[b] = listed + 1
                _count(
                    tally,
                    s,
                    was,
                    st,
                    unit,
                    quantity,
                    p,
                    i,
                    first_touch,
                    last_touch,
                    n_channels,
                    n_products,
                )

    return _advance


_F32 = types.float32[::1]
_F64 = types.float64[::1]
_F64_2D = types.float64[:, ::1]
_FUNCTIONS = types.UniTuple(KERNEL_HOOK_TYPE, KERNEL_SLOTS)
_VIEW_FUNCTIONS = types.UniTuple(VIEW_HOOK_TYPE, KERNEL_SLOTS)
_ADVANCE_ARGS = (
    types.int64,  # t
    types.uint64,  # key
    types.uint64,  # setup_key
    types.int16[::1],  # seg_of
    types.int8[::1],  # stage
    types.float32[:, ::1],  # ad_memory [person, group]
    types.int8[::1],  # first_touch
    types.int8[::1],  # last_touch
    types.int32[::1],  # contacts
    types.int32[::1],  # heard: detractors among contacts, or empty
    types.int8[::1],  # product
    types.int32[::1],  # purchased_at
    types.int32[::1],  # customer_since
    types.int8[::1],  # satisfied
    types.int8[::1],  # detractor
    types.int32[::1],  # purchases
    _F32,  # spent
    _F32,  # price_sensitivity (or empty)
    _F32,  # purchase_rate
    _F32,  # word-of-mouth response
    _F32,  # attitude
    types.float32[:, ::1],  # habit [person, medium]
    _F32,  # talk: word-of-mouth input per person, or empty to use contacts
    _F64,  # detractors_mean [segment], or empty
    _F64_2D,  # seg
    _F64_2D,  # exposure
    types.boolean[::1],  # bernoulli
    _F64,  # impact
    types.int64[::1],  # threshold
    _F64,  # wear_out
    types.int64[::1],  # group
    types.int64[::1],  # habit column per channel
    _F64_2D,  # retention [segment, group]
    _F64_2D,  # find
    _F64,  # convert
    _F64_2D,  # choice
    _F64_2D,  # again
    _F64_2D,  # renewal
    _F64_2D,  # price
    _F64_2D,  # renewal_price
    _F64_2D,  # relative
    types.boolean[:, ::1],  # available
    _F64,  # pull
    types.int8[::1],  # model
    _F64,  # scale
    _F64,  # shape
    types.float64[:, :, ::1],  # repeat [hazard or chance, product, tau]
    types.int64[::1],  # billing
    types.int64[::1],  # term
    _F64,  # list_price
    _F64,  # appeal
    _F64,  # every
    _F64,  # stockpile
    _F64,  # quality
    types.int64[:, :, ::1],  # counts
    _F64_2D,  # scratch [block, group]
    types.int64[::1],  # indptr
    types.int32[::1],  # indices
    types.int8[::1],  # stage at the start of the step, as hooks see it
    types.float32[:, ::1],  # ad memory at the start of the step
    types.int32[::1],  # purchased_at at the start of the step
    types.int32[::1],  # customer_since at the start of the step
    _FUNCTIONS,  # kernel hooks, chain by chain (chain spec POINTERS; else ())
    _VIEW_FUNCTIONS,  # the same, of the view form
    types.boolean[::1],  # viewed: which of the two each slot calls
    types.int64[::1],  # first: where each hook point's chain starts
    types.UniTuple(types.float64[::1], KERNEL_SLOTS),  # each hook's parameters
    types.UniTuple(_F64_2D, KERNEL_SLOTS),  # each hook's plugin's state columns
    types.UniTuple(_F64_2D, KERNEL_SLOTS),  # the same at the start of the step
    types.UniTuple(_F64_2D, KERNEL_SLOTS),  # each hook's plugin's per-segment values
    _F64_2D,  # watch [block, WATCH_WIDTH]
    _F64_2D,  # p0: exp(-exposure)
    _F64_2D,  # weights [channel, exposures]: ad memory they add
    types.int64[:, ::1],  # reaching [segment, j]: channels drawn for (`_reaching`), then -1
    types.int32[:, ::1],  # changed [block, CHANGES_PER_BLOCK]: people listed as changed
    types.int64[::1],  # n_changed [block]: how many each block listed
)


def _signature(spec: str) -> Any:
    """`_advance`'s one signature for chain spec `spec`: only `POINTERS` takes functions.

    Passing first-class functions costs milliseconds a call (numba looks up each one's
    address), so the other variants take empty tuples in their place.
    """
    if spec == POINTERS:
        return types.void(*_ADVANCE_ARGS)
    return types.void(
        *(types.Tuple(()) if a in (_FUNCTIONS, _VIEW_FUNCTIONS) else a for a in _ADVANCE_ARGS)
    )


@functools.cache
def _compiled(alike: bool, spec: str) -> Any:
    """`_advance` compiled for its one signature (or loaded from numba's cache).

    Compiled on first use, not at import: a process that only imports marketsim (such as
    the fork server that worker processes start from) must not start numba's threads.
    Without numba's reference counting (`_nrt=False`), as `_advance` says why.
    """
    return njit(_signature(spec), _nrt=False, **PARALLEL_JIT)(_advance_for(alike, spec))


def compile_every_variant() -> None:
    """Compile (or load from numba's cache) the four shared variants of the customer step.

    Alike people or not, with kernel hooks called through pointers or without hooks.

    The customer step is by far the longest kernel to compile (about 15 s a variant on a
    free 2-core machine) and a scenario needs one or two variants, so compiling all ahead
    (`marketsim warm-up`) leaves no scenario waiting for it. Kernels with a plugin set
    inlined are compiled by the first run that needs them.
    """
    for alike, spec in itertools.product((True, False), (NO_HOOKS, POINTERS)):
        _compiled(alike, spec)


@functools.cache
def _entry(alike: bool, spec: str) -> Any:
    """The compiled `_advance`'s entry point, called without numba's dispatch.

    Its one signature is fixed, so matching the arguments' types on every call (which
    for the tuples of first-class functions the hooks travel in costs milliseconds, more
    than the step of a small market) can only find it again.
    """
    dispatcher = _compiled(alike, spec)
    return dispatcher.overloads[dispatcher.signatures[0]].entry_point


_DTYPES = {
    "segment": np.int16,
    "stage": np.int8,
    "ad_memory": np.float32,
    "first_touch": np.int8,
    "last_touch": np.int8,
    "contacts": np.int32,
    "counted": np.bool_,
    "heard": np.int32,
    "heard_counted": np.bool_,
    "product": np.int8,
    "purchased_at": np.int32,
    "customer_since": np.int32,
    "satisfied": np.int8,
    "detractor": np.int8,
    "purchases": np.int32,
    "spent": np.float32,
    "price_sensitivity": np.float32,
    "purchase_rate": np.float32,
    "word_of_mouth": np.float32,
    "attitude": np.float32,
    "habit": np.float32,
    "indptr": np.int64,
    "indices": np.int32,
}
_OPTIONAL = frozenset(
    {
        "heard",
        "heard_counted",
        "price_sensitivity",
        "purchase_rate",
        "word_of_mouth",
        "attitude",
        "habit",
    }
)
_MATRICES = frozenset({"ad_memory", "habit"})


def check_people(people: People) -> None:
    """Refuse arrays the kernel would misread: wrong dtype, length or memory layout."""
    n = people.stage.shape[0]
    for name, dtype in _DTYPES.items():
        a = getattr(people, name)
        dims = 2 if name in _MATRICES else 1
        if a.dtype != dtype or not a.flags.c_contiguous or a.ndim != dims:
            raise ValueError(
                f"`{name}` must be a contiguous {dims}-d {np.dtype(dtype)} array, "
                f"but got {a.dtype} with shape {a.shape}"
            )
        length = n + 1 if name == "indptr" else people.indptr[-1] if name == "indices" else n
        if a.shape[0] != length and not (name in _OPTIONAL and a.shape[0] == 0):
            raise ValueError(f"`{name}` must have {length} entries, but got {a.shape[0]}")
    if people.ad_memory.shape[1] < 1:
        raise ValueError("`ad_memory` needs at least one memory group")
    blocks = customer_blocks(n)
    rows, count = people.changes.rows, people.changes.count
    if not (
        rows.dtype == np.int32
        and count.dtype == np.int64
        and rows.flags.c_contiguous
        and rows.ndim == 2
        and rows.shape[0] == blocks
        and rows.shape[1] > 0
        and count.shape == (blocks,)
    ):
        raise ValueError(
            f"`changes` must list people in {blocks} blocks (int32 rows, int64 counts), but "
            f"got {rows.dtype} rows of shape {rows.shape} and {count.dtype} counts of shape "
            f"{count.shape}"
        )


def advance(
    people: People, products: ProductArrays, step: StepArrays, hooks: KernelHooks
) -> np.ndarray:
    """Move every person one step in place; return counts[segment, CountColumn...].

    `people.contacts` (and `people.heard`, where detractors are tallied) are brought up
    to date first (`update_tallies`) unless the step's `talk` gives everyone's
    word-of-mouth input instead.
    """
    check_people(people)
    n_channels, n_segments = step.exposure.shape
    n_products = products.model.shape[0]
    groups = people.ad_memory.shape[1]
    if step.seg.shape[0] != n_segments or step.find.shape != step.exposure.shape:
        raise ValueError(
            f"`seg`, `exposure` and `find` must agree on segments and channels, but got "
            f"{step.seg.shape=}, {step.exposure.shape=} and {step.find.shape=}"
        )
    for name in ("choice", "again", "renewal", "price", "renewal_price", "relative", "available"):
        if getattr(step, name).shape != (n_segments, n_products):
            raise ValueError(
                f"`{name}` must be [segment, product] ({n_segments}, {n_products}), but got "
                f"{getattr(step, name).shape}"
            )
    if step.retention.shape != (n_segments, groups):
        raise ValueError(
            f"`retention` must be [segment, memory group] ({n_segments}, {groups}), "
            f"but got {step.retention.shape}"
        )
    if step.group.shape[0] and not (step.group.min() >= 0 and step.group.max() < groups):
        raise ValueError(f"channel memory groups must lie in [0, {groups}), got {step.group}")
    used = step.habit[step.habit >= 0]
    if used.size and (people.habit.shape[0] == 0 or used.max() >= people.habit.shape[1]):
        raise ValueError(
            f"channel habit columns must lie below {people.habit.shape[1]}, got {step.habit}"
        )
    if step.talk.shape[0] not in (0, people.stage.shape[0]):
        raise ValueError(f"`talk` must be empty or one per person, but got {step.talk.shape}")
    if step.detractors_mean.shape[0] not in (0, n_segments):
        raise ValueError(
            f"`detractors_mean` must be empty or one per segment ({n_segments}), "
            f"but got {step.detractors_mean.shape}"
        )
    if step.talk.shape[0] == 0:  # else `talk` replaces the tallies: they may catch up later
        update_tallies(people, step.seg)
    nblocks = customer_blocks(people.stage.shape[0])
    counts = np.zeros(
        (nblocks, n_segments, n_count_columns(n_channels, n_products)), dtype=np.int64
    )
    f64 = functools.partial(np.ascontiguousarray, dtype=np.float64)
    i64 = functools.partial(np.ascontiguousarray, dtype=np.int64)
    alike = people.ad_memory.shape[1] == 1 and not any(
        getattr(people, name).shape[0]
        for name in ("price_sensitivity", "purchase_rate", "word_of_mouth", "attitude", "habit")
    )
    watch = np.zeros((nblocks, WATCH_WIDTH))
    views = hooks.views(people, step.t)
    spec = hooks.spec(people.stage.shape[0])
    try:
        _entry(alike, spec)(
            np.int64(step.t),
            np.uint64(step.key),
            np.uint64(step.setup_key),
            people.segment,
            people.stage,
            people.ad_memory,
            people.first_touch,
            people.last_touch,
            people.contacts,
            people.heard,
            people.product,
            people.purchased_at,
            people.customer_since,
            people.satisfied,
            people.detractor,
            people.purchases,
            people.spent,
            people.price_sensitivity,
            people.purchase_rate,
            people.word_of_mouth,
            people.attitude,
            people.habit,
            np.ascontiguousarray(step.talk, dtype=np.float32),
            f64(step.detractors_mean),
            f64(step.seg),
            f64(step.exposure),
            np.ascontiguousarray(step.bernoulli, dtype=np.bool_),
            f64(step.impact),
            i64(step.threshold),
            f64(step.wear_out),
            i64(step.group),
            i64(step.habit),
            f64(step.retention),
            f64(step.find),
            f64(step.convert),
            f64(step.choice),
            f64(step.again),
            f64(step.renewal),
            f64(step.price),
            f64(step.renewal_price),
            f64(step.relative),
            np.ascontiguousarray(step.available, dtype=np.bool_),
            f64(step.pull),
            np.ascontiguousarray(products.model, dtype=np.int8),
            f64(products.scale),
            f64(products.shape),
            f64(products.repeat),
            i64(products.billing),
            i64(products.term),
            f64(products.list_price),
            f64(products.appeal),
            f64(products.every),
            f64(products.stockpile),
            f64(products.quality),
            counts,
            np.zeros((nblocks, groups)),
            people.indptr,
            people.indices,
            views[0].stage,
            views[0].ad_memory,
            views[0].purchased_at,
            views[0].customer_since,
            hooks.functions if spec == POINTERS else (),
            hooks.view_functions if spec == POINTERS else (),
            hooks.viewed,
            hooks.first,
            hooks.params,
            tuple(v.state for v in views),
            tuple(v.seen for v in views),
            hooks.segments,
            watch,
            _no_exposure_chance(step.exposure),
            _exposure_weights(step.impact, step.threshold, step.wear_out),
            _reaching(step.exposure),
            people.changes.rows,
            people.changes.count,
        )
    except Exception as e:  # a hook raised: numba stops that block with its watch row set
        calling = np.flatnonzero(watch[:, CALLING])
        if not calling.size:
            raise
        cause = e.__context__ or e
        raise _fault(hooks, watch[calling[0]], CALLING, CALLED_FOR, VALUE_IN, cause) from cause
    bad = np.flatnonzero(watch[:, BAD_SLOT])
    if bad.size:
        raise _fault(hooks, watch[bad[0]], BAD_SLOT, BAD_PERSON, BAD_VALUE, None)
    return counts.sum(axis=0)


def _fault(
    hooks: KernelHooks,
    row: np.ndarray,
    slot: int,
    person: int,
    value: int,
    raised: BaseException | None,
) -> HookFault:
    """The fault a block's watch row records (columns `slot`, `person`, `value`)."""
    k = int(row[slot]) - 1
    return HookFault(k, hooks.point_of(k), int(row[person]), float(row[value]), raised)


WEIGHED = 16
"""Exposure counts below this have their ad memory looked up, not recomputed (pow)."""


def _exposure_weights(
    impact: np.ndarray, threshold: np.ndarray, wear_out: np.ndarray
) -> np.ndarray:
    """[channel, k] the memory k exposures add: `_weighed` itself, run by Python (libm pow)."""
    weigh = _weighed.py_func
    return np.array(
        [
            [weigh(k, float(a), int(t), float(w)) for k in range(WEIGHED)]
            for a, t, w in zip(impact, threshold, wear_out, strict=True)
        ],
        dtype=np.float64,
    ).reshape(len(impact), WEIGHED)


REPEAT_TABLE = 256
"""Steps since a purchase that `ProductArrays.repeat` covers (a kernel works out the rest)."""


def repeat_table(model: np.ndarray, scale: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """`ProductArrays.repeat` for products of these purchase models, Weibull scales, shapes.

    `_repeat_hazard` itself, run by Python: libm's pow and exp, as the kernel's. Rows of
    products that are not bought repeatedly stay zero (the kernel never reads them).
    """
    hazard = _repeat_hazard.py_func
    table = np.zeros((2, len(model), REPEAT_TABLE))
    for p in np.flatnonzero(model == REPEAT):
        lam, k = float(scale[p]), float(shape[p])
        for tau in range(1, REPEAT_TABLE):
            h = hazard(tau, lam, k)
            table[0, p, tau] = h
            table[1, p, tau] = 1.0 - math.exp(-h)
    return table


def _reaching(exposure: np.ndarray) -> np.ndarray:
    """[segment, j] the channels a person of the segment draws for, in order, then -1.

    Those whose rate is not zero or below: a rate of zero or less exposes nobody.
    """
    rates = np.asarray(exposure).T
    reaching = np.full(rates.shape, -1, dtype=np.int64)
    for s, row in enumerate(rates):
        positive = np.flatnonzero(~(row <= 0.0))
        reaching[s, : positive.size] = positive
    return reaching


def _no_exposure_chance(exposure: np.ndarray) -> np.ndarray:
    """exp(-rate) of each [channel, segment] Poisson stream, with libm's exp as numba's."""
    return np.ascontiguousarray(portable.exp(-np.asarray(exposure, dtype=np.float64)))


@parallel_jit
def word_of_mouth_input(stage, seg_of, seg, contacts, heard, detractors_mean, talk):
    """Each person's word-of-mouth input: talking customers minus detractors among contacts.

    Used when the input must exist as an array: for Python word-of-mouth hooks, and when
    let-down customers (detractors) speak against the company (`heard`, else empty). In
    a well-mixed segment the detractors' mean field is `detractors_mean[segment]`.
    """
    n = stage.shape[0]
    against = heard.shape[0] > 0
    for i in numba.prange(n):
        if stage[i] > AWARE:
            talk[i] = 0.0
            continue
        s = seg_of[i]
        mean_field = seg[s, SegmentColumn.MEAN_FIELD_TALKERS]
        if mean_field >= 0.0:
            talk[i] = np.float32(mean_field - detractors_mean[s])
        elif against:
            talk[i] = np.float32(contacts[i] - heard[i])
        else:
            talk[i] = np.float32(contacts[i])
