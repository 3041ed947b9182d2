"""The hot loop: one step of every person's funnel, over arrays.

Private kernels; `marketsim.engine.model` validates inputs and calls them. The plain-Python
twin in `marketsim.kernels.reference` implements the same equations one person at a time;
tests demand the two agree bit for bit. `docs/model.md` states every equation.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba import njit, types

from marketsim.core import layout as L
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, UNAWARE
from marketsim.kernels.config import JIT, PARALLEL_JIT, jit, parallel_jit
from marketsim.kernels.rng import (
    P_AWARE,
    P_BUY,
    P_CHURN,
    P_DECAY,
    P_EXPOSURE,
    P_FIND,
    P_INTEREST,
    P_POTENTIAL,
    P_REPEAT,
    P_SEARCH,
    draw,
    entity_hash,
    poisson_inverse,
    uniform,
)
from marketsim.plugins.base import KERNEL_SIGNATURE

# Slack in the early exits below. A skipped comparison `u < p` is one whose answer is
# known to be False: u >= bound, where bound exceeds every value the exact formula can
# produce by far more than its rounding error (a few units of 1e-16; libm's exp is
# accurate to under one ulp). Rare people near the bound take the exact path.
SLACK = 1e-9


@jit
def _chance(p, i, s, hook_args):
    """A purchase chance, after the purchase hook if a plugin provides one."""
    key, stage, indptr, indices, hooks, hooked, hook_params = hook_args
    if hooked[PURCHASE_HOOK]:
        params = hook_params[PURCHASE_HOOK]
        return hooks[PURCHASE_HOOK](key, i, s, p, stage, indptr, indices, params)
    return p


@jit
def _touch(i, code, first_touch, last_touch):
    """Record a touch: it is the person's latest, and their first if they had none."""
    last_touch[i] = code
    if first_touch[i] < 0:
        first_touch[i] = code


@parallel_jit
def _count_talkers(stage, seg_of, seg, indptr, indices, talk):
    """Word-of-mouth input per person, recounted from the network (as the reference does).

    The model keeps a running tally instead (`_sync_contacts`); tests hold the two equal.
    """
    n = stage.shape[0]
    nblocks = (n + L.BLOCK - 1) // L.BLOCK
    for b in numba.prange(nblocks):
        for i in range(b * L.BLOCK, min(n, (b + 1) * L.BLOCK)):
            if stage[i] > AWARE:
                talk[i] = 0.0
                continue
            mean_field = seg[seg_of[i], L.MEAN_FIELD_TALKERS]
            if mean_field >= 0.0:
                talk[i] = mean_field
                continue
            c = 0
            for k in range(indptr[i], indptr[i + 1]):
                if stage[indices[k]] == CUSTOMER:
                    c += 1
            talk[i] = c


@jit
def _sync_contacts(stage, counted, indptr, indices, contacts):
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


_HOOK = types.FunctionType(KERNEL_SIGNATURE)
ADVANCE_SIGNATURE = types.void(
    types.uint64,  # key
    types.uint64,  # setup_key
    types.int16[::1],  # seg_of
    types.int8[::1],  # stage
    types.float32[::1],  # ad_memory
    types.int8[::1],  # first_touch
    types.int8[::1],  # last_touch
    types.int32[::1],  # contacts
    types.float32[::1],  # talk: word-of-mouth input per person, or empty to use contacts
    types.float64[:, ::1],  # seg
    types.float64[:, ::1],  # exposure
    types.boolean[::1],  # bernoulli
    types.float64[::1],  # impact
    types.float64[:, ::1],  # find
    types.int64[:, :, ::1],  # counts
    types.int64[::1],  # indptr
    types.int32[::1],  # indices
    types.UniTuple(_HOOK, 4),  # kernel hooks: exposure, word of mouth, persuasion, purchase
    types.boolean[::1],  # which of the four hooks a plugin provides
    types.UniTuple(types.float64[::1], 4),  # each hook's parameters
)
EXPOSURE_HOOK, WOM_HOOK, PERSUASION_HOOK, PURCHASE_HOOK = range(4)


def _advance(
    key,
    setup_key,
    seg_of,
    stage,
    ad_memory,
    first_touch,
    last_touch,
    contacts,
    talk_in,
    seg,
    exposure,
    bernoulli,
    impact,
    find,
    counts,
    indptr,
    indices,
    hooks,
    hooked,
    hook_params,
):
    """Move every person through exposure, awareness, interest, search and purchase.

    The same equations, draws and arithmetic as `marketsim.kernels.reference.customer_step`;
    only work whose outcome is already known is skipped (see `SLACK`). `contacts` must
    be current (`_sync_contacts`): it is the word-of-mouth input read before any update,
    unless `talk_in` (one value per person) replaces it. Plugins' kernel hooks run where
    `hooked` says, in the person's own loop.
    """
    n = stage.shape[0]
    n_channels = exposure.shape[0]
    n_segments = seg.shape[0]
    n_cols = counts.shape[2]
    wom_code = n_channels
    organic_code = n_channels + 1
    first_col = L.UNITS_LAST_TOUCH + n_channels + 2
    # exp(-rate) of each Poisson exposure stream: the same for a whole segment.
    p0 = np.empty((n_channels, n_segments))
    for c in range(n_channels):
        for s in range(n_segments):
            p0[c, s] = np.exp(-exposure[c, s])
    nblocks = (n + L.BLOCK - 1) // L.BLOCK
    for b in numba.prange(nblocks):
        # Built inside the parallel loop: a parfor cannot capture a tuple of arrays.
        hook_args = (key, stage, indptr, indices, hooks, hooked, hook_params)
        tally = np.zeros((n_segments, n_cols), dtype=np.int64)
        for i in range(b * L.BLOCK, min(n, (b + 1) * L.BLOCK)):
            s = seg_of[i]
            was = stage[i]
            st = was
            h = entity_hash(key, i)
            exposures = 0.0
            touch = -1
            strongest = 0.0
            for c in range(n_channels):
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
                    exposures += weight
                    if weight > strongest:  # credit the channel that weighed most
                        strongest = weight
                        touch = c
            if hooked[EXPOSURE_HOOK]:
                exposures = hooks[EXPOSURE_HOOK](
                    key, i, s, exposures, stage, indptr, indices, hook_params[EXPOSURE_HOOK]
                )
            memory = seg[s, L.RETENTION] * np.float64(ad_memory[i]) + exposures
            ad_memory[i] = memory
            if touch >= 0 and was != CUSTOMER:  # touches after a purchase don't claim it
                _touch(i, touch, first_touch, last_touch)
            talk = 0.0
            if was <= AWARE:
                mean_field = seg[s, L.MEAN_FIELD_TALKERS]
                if talk_in.shape[0] > 0:
                    talk = np.float64(talk_in[i])
                elif mean_field >= 0.0:
                    talk = np.float64(np.float32(mean_field))
                else:
                    talk = np.float64(contacts[i])
                if hooked[WOM_HOOK]:
                    talk = hooks[WOM_HOOK](
                        key, i, s, talk, stage, indptr, indices, hook_params[WOM_HOOK]
                    )
            wom = talk * seg[s, L.WORD_OF_MOUTH]
            units = 0
            if st == UNAWARE:
                ad = seg[s, L.ATTENTION] * exposures
                hazard = seg[s, L.INNOVATION_HAZARD] + ad + wom
                if hazard > 0.0:
                    u = draw(h, P_AWARE)
                    # 1 - exp(-hazard) <= hazard: far above it, u < p is False.
                    if u < hazard + SLACK:
                        p = 1.0 - np.exp(-hazard)
                        if u < p:
                            st = AWARE
                            # The same draw names the source, in proportion to its hazard.
                            share = u / p * hazard
                            if share >= ad:
                                source = wom_code if share < ad + wom else organic_code
                                _touch(i, source, first_touch, last_touch)
            if st == AWARE:
                u = draw(h, P_INTEREST)
                persuasion = seg[s, L.PERSUASION]
                interest = seg[s, L.INTEREST]
                # With persuasion, wom, interest >= 0: p <= interest + pressure
                # <= interest + persuasion + wom, as 1 - exp(-x) <= x.
                known_no = (
                    not hooked[PERSUASION_HOOK]
                    and persuasion >= 0.0
                    and wom >= 0.0
                    and interest >= 0.0
                    and u >= interest + persuasion + wom + SLACK
                )
                if not known_no and uniform(setup_key, i, P_POTENTIAL) < seg[s, L.POTENTIAL]:
                    pressure = persuasion * (1.0 - np.exp(-memory)) + wom
                    if hooked[PERSUASION_HOOK]:
                        pressure = hooks[PERSUASION_HOOK](
                            key,
                            i,
                            s,
                            pressure,
                            stage,
                            indptr,
                            indices,
                            hook_params[PERSUASION_HOOK],
                        )
                    p = 1.0 - (1.0 - interest) * np.exp(-pressure)
                    if u < p:
                        st = INTERESTED
            if st == INTERESTED:
                if draw(h, P_BUY) < _chance(seg[s, L.PURCHASE], i, s, hook_args):
                    st = CUSTOMER
                    units = 1
                else:
                    found = -1
                    if draw(h, P_SEARCH) < seg[s, L.SEARCH]:
                        for c in range(n_channels):
                            f = find[c, s]
                            if f > 0.0 and draw(h, P_FIND + c) < f:
                                found = c
                                break
                    if found >= 0:
                        st = LEAD
                        tally[s, L.NEW_LEADS] += 1
                        _touch(i, found, first_touch, last_touch)
                    elif was == INTERESTED and draw(h, P_DECAY) < seg[s, L.INTEREST_DECAY]:
                        st = AWARE
            elif st == LEAD and was == LEAD:
                if draw(h, P_BUY) < _chance(seg[s, L.LEAD_CONVERSION], i, s, hook_args):
                    st = CUSTOMER
                    units = 1
                elif draw(h, P_DECAY) < seg[s, L.INTEREST_DECAY]:
                    st = AWARE
            elif st == CUSTOMER and was == CUSTOMER:
                if draw(h, P_CHURN) < seg[s, L.CHURN]:
                    st = AWARE
                elif draw(h, P_REPEAT) < _chance(seg[s, L.REPEAT], i, s, hook_args):
                    units = 1
            stage[i] = st
            tally[s, st] += 1
            if st == CUSTOMER and was != CUSTOMER:
                tally[s, L.NEW_CUSTOMERS] += 1
            if units > 0:
                tally[s, L.UNITS] += units
                lt = last_touch[i] if last_touch[i] >= 0 else organic_code
                ft = first_touch[i] if first_touch[i] >= 0 else organic_code
                tally[s, L.UNITS_LAST_TOUCH + lt] += units
                tally[s, first_col + ft] += units
        counts[b] = tally


@functools.cache
def advance_kernel():
    """`_advance` compiled for `ADVANCE_SIGNATURE` (or loaded from numba's cache).

    Compiled on first use, not at import: a process that only imports marketsim (such as
    the fork server that worker processes start from) must not start numba's threads.
    """
    return njit(ADVANCE_SIGNATURE, **PARALLEL_JIT)(_advance)


@njit(KERNEL_SIGNATURE, **JIT)
def identity_hook(key, i, s, value, stage, indptr, indices, params):
    """The built-in behaviour at every kernel hook point: leave the value as it is."""
    return value


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
        mean_field = seg[s, L.MEAN_FIELD_TALKERS]
        if mean_field >= 0.0:
            talk[i] = np.float32(mean_field - detractors_mean[s])
            continue
        heard = 0
        if against:  # only scan the network when someone speaks against the company
            for k in range(indptr[i], indptr[i + 1]):
                heard += detractor[indices[k]]
        talk[i] = np.float32(contacts[i] - heard)
