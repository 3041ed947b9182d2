"""The hot loop: one step of every person's funnel, over arrays.

Private kernels; `marketsim.model` validates inputs and calls them. The plain-Python
twin in `marketsim.reference` implements the same equations one person at a time;
tests demand the two agree bit for bit. `docs/model.md` states every equation.
"""

from __future__ import annotations

import numba
import numpy as np

from marketsim.funnel import AWARE, CUSTOMER, INTERESTED, LEAD, UNAWARE
from marketsim.kernels import layout as L
from marketsim.kernels.config import parallel_jit
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
    poisson,
    uniform,
)


@parallel_jit
def _count_talkers(stage, seg_of, seg, indptr, indices, talk):
    """Word-of-mouth input per person: customers among contacts, read before any update."""
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


@parallel_jit
def _advance(
    key,
    setup_key,
    seg_of,
    stage,
    ad_memory,
    first_touch,
    last_touch,
    talk,
    seg,
    exposure,
    bernoulli,
    impact,
    find,
    counts,
):
    """Move every person through exposure, awareness, interest, search and purchase."""
    n = stage.shape[0]
    n_channels = exposure.shape[0]
    wom_code = n_channels
    organic_code = n_channels + 1
    first_col = L.UNITS_LAST_TOUCH + n_channels + 2
    nblocks = (n + L.BLOCK - 1) // L.BLOCK
    for b in numba.prange(nblocks):
        for i in range(b * L.BLOCK, min(n, (b + 1) * L.BLOCK)):
            s = seg_of[i]
            was = stage[i]
            st = was
            memory = seg[s, L.RETENTION] * np.float64(ad_memory[i])
            exposures = 0.0
            touch = -1
            for c in range(n_channels):
                lam = exposure[c, s]
                if lam <= 0.0:
                    continue
                if bernoulli[c]:
                    k = 1 if uniform(key, i, P_EXPOSURE + c) < lam else 0
                else:
                    k = poisson(key, i, P_EXPOSURE + c, lam)
                if k > 0:
                    exposures += impact[c] * k
                    memory += impact[c] * k
                    touch = c
            ad_memory[i] = memory
            if touch >= 0:
                last_touch[i] = touch
                if first_touch[i] < 0:
                    first_touch[i] = touch
            wom = talk[i] * seg[s, L.WORD_OF_MOUTH]
            units = 0
            if st == UNAWARE:
                ad = seg[s, L.ATTENTION] * exposures
                hazard = seg[s, L.INNOVATION_HAZARD] + ad + wom
                if hazard > 0.0:
                    p = 1.0 - np.exp(-hazard)
                    u = uniform(key, i, P_AWARE)
                    if u < p:
                        st = AWARE
                        # The same draw names the source, in proportion to its hazard.
                        share = u / p * hazard
                        if share >= ad:
                            source = wom_code if share < ad + wom else organic_code
                            last_touch[i] = source
                            if first_touch[i] < 0:
                                first_touch[i] = source
            if st == AWARE and uniform(setup_key, i, P_POTENTIAL) < seg[s, L.POTENTIAL]:
                pressure = seg[s, L.PERSUASION] * (1.0 - np.exp(-memory)) + wom
                p = 1.0 - (1.0 - seg[s, L.INTEREST]) * np.exp(-pressure)
                if uniform(key, i, P_INTEREST) < p:
                    st = INTERESTED
            if st == INTERESTED:
                if uniform(key, i, P_BUY) < seg[s, L.PURCHASE]:
                    st = CUSTOMER
                    units = 1
                else:
                    found = -1
                    if uniform(key, i, P_SEARCH) < seg[s, L.SEARCH]:
                        for c in range(n_channels):
                            f = find[c, s]
                            if f > 0.0 and uniform(key, i, P_FIND + c) < f:
                                found = c
                                break
                    if found >= 0:
                        st = LEAD
                        counts[b, s, L.NEW_LEADS] += 1
                        last_touch[i] = found
                        if first_touch[i] < 0:
                            first_touch[i] = found
                    elif was == INTERESTED and uniform(key, i, P_DECAY) < seg[s, L.INTEREST_DECAY]:
                        st = AWARE
            elif st == LEAD and was == LEAD:
                if uniform(key, i, P_BUY) < seg[s, L.LEAD_CONVERSION]:
                    st = CUSTOMER
                    units = 1
                elif uniform(key, i, P_DECAY) < seg[s, L.INTEREST_DECAY]:
                    st = AWARE
            elif st == CUSTOMER and was == CUSTOMER:
                if uniform(key, i, P_CHURN) < seg[s, L.CHURN]:
                    st = AWARE
                elif uniform(key, i, P_REPEAT) < seg[s, L.REPEAT]:
                    units = 1
            stage[i] = st
            counts[b, s, st] += 1
            if st == CUSTOMER and was != CUSTOMER:
                counts[b, s, L.NEW_CUSTOMERS] += 1
            if units > 0:
                counts[b, s, L.UNITS] += units
                lt = last_touch[i] if last_touch[i] >= 0 else organic_code
                ft = first_touch[i] if first_touch[i] >= 0 else organic_code
                counts[b, s, L.UNITS_LAST_TOUCH + lt] += units
                counts[b, s, first_col + ft] += units
