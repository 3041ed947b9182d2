"""The customer step written the obvious way: one person at a time, in plain Python.

It is the specification the numba kernels are held to (tests compare them bit for bit)
and the slow peer in the speed benchmark. Nothing here is fast, on purpose.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from marketsim.core import layout as L
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, UNAWARE
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
    poisson_py,
    uniform_py,
)

Hook = tuple[Callable[..., float], np.ndarray]
"""A kernel hook as the reference engine takes it: (numba function, its parameters)."""


def talkers(i: int, stage, seg_of, seg, indptr, indices) -> float:
    """Word-of-mouth input of person `i`: how many of their contacts are customers.

    Rounded through float32, the precision the kernel stores it in.
    """
    if stage[i] > AWARE:
        return 0.0
    mean_field = float(seg[seg_of[i], L.MEAN_FIELD_TALKERS])
    if mean_field >= 0.0:
        return float(np.float32(mean_field))
    return float(sum(1 for j in indices[indptr[i] : indptr[i + 1]] if stage[j] == CUSTOMER))


def customer_step(
    key: int,
    setup_key: int,
    seg_of: np.ndarray,
    stage: np.ndarray,
    ad_memory: np.ndarray,
    first_touch: np.ndarray,
    last_touch: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    seg: np.ndarray,
    exposure: np.ndarray,
    bernoulli: np.ndarray,
    impact: np.ndarray,
    find: np.ndarray,
    talk_in: np.ndarray | None = None,
    hooks: dict[str, Hook] | None = None,
) -> np.ndarray:
    """Advance every person one step in place; return counts[segment, column].

    `talk_in` replaces each person's word-of-mouth input; `hooks` maps kernel hook
    names to (numba function, parameters) and is applied where the kernel applies it.
    """
    n = len(stage)
    n_channels = exposure.shape[0]
    wom_code, organic_code = n_channels, n_channels + 1
    counts = np.zeros((seg.shape[0], L.n_count_columns(n_channels)), dtype=np.int64)
    key, setup_key = int(key), int(setup_key)
    hooks = hooks or {}

    def hook(name: str, i: int, s: int, value: float) -> float:
        if name not in hooks:
            return value
        fn, params = hooks[name]
        return float(fn(np.uint64(key), i, s, value, stage, indptr, indices, params))

    talk = [talkers(i, stage, seg_of, seg, indptr, indices) for i in range(n)]
    if talk_in is not None and len(talk_in):
        talk = [float(talk_in[i]) if stage[i] <= AWARE else 0.0 for i in range(n)]
    for i in range(n):
        s = int(seg_of[i])
        p_ = seg[s]
        was = int(stage[i])
        st = was
        exposures = 0.0
        touch = -1
        strongest = 0.0
        for c in range(n_channels):
            lam = float(exposure[c, s])
            if lam <= 0.0:
                continue
            if bernoulli[c]:
                k = 1 if uniform_py(key, i, P_EXPOSURE + c) < lam else 0
            else:
                k = poisson_py(key, i, P_EXPOSURE + c, lam)
            if k > 0:
                weight = float(impact[c]) * k
                exposures += weight
                if weight > strongest:
                    strongest, touch = weight, c
        exposures = hook("exposure", i, s, exposures)
        memory = float(p_[L.RETENTION]) * float(ad_memory[i]) + exposures
        ad_memory[i] = np.float32(memory)
        if touch >= 0 and was != CUSTOMER:
            last_touch[i] = touch
            if first_touch[i] < 0:
                first_touch[i] = touch
        wom = (hook("word_of_mouth", i, s, talk[i]) if was <= AWARE else 0.0) * float(
            p_[L.WORD_OF_MOUTH]
        )
        units = 0
        if st == UNAWARE:
            ad = float(p_[L.ATTENTION]) * exposures
            hazard = float(p_[L.INNOVATION_HAZARD]) + ad + wom
            if hazard > 0.0:
                p = 1.0 - math.exp(-hazard)
                u = uniform_py(key, i, P_AWARE)
                if u < p:
                    st = AWARE
                    share = u / p * hazard
                    if share >= ad:
                        source = wom_code if share < ad + wom else organic_code
                        last_touch[i] = source
                        if first_touch[i] < 0:
                            first_touch[i] = source
        if st == AWARE and uniform_py(setup_key, i, P_POTENTIAL) < p_[L.POTENTIAL]:
            pressure = float(p_[L.PERSUASION]) * (1.0 - math.exp(-memory)) + wom
            pressure = hook("persuasion", i, s, pressure)
            p = 1.0 - (1.0 - float(p_[L.INTEREST])) * math.exp(-pressure)
            if uniform_py(key, i, P_INTEREST) < p:
                st = INTERESTED
        if st == INTERESTED:
            if uniform_py(key, i, P_BUY) < hook("purchase", i, s, float(p_[L.PURCHASE])):
                st, units = CUSTOMER, 1
            else:
                found = -1
                if uniform_py(key, i, P_SEARCH) < p_[L.SEARCH]:
                    for c in range(n_channels):
                        f = float(find[c, s])
                        if f > 0.0 and uniform_py(key, i, P_FIND + c) < f:
                            found = c
                            break
                if found >= 0:
                    st = LEAD
                    counts[s, L.NEW_LEADS] += 1
                    last_touch[i] = found
                    if first_touch[i] < 0:
                        first_touch[i] = found
                elif was == INTERESTED and uniform_py(key, i, P_DECAY) < p_[L.INTEREST_DECAY]:
                    st = AWARE
        elif st == LEAD and was == LEAD:
            if uniform_py(key, i, P_BUY) < hook("purchase", i, s, float(p_[L.LEAD_CONVERSION])):
                st, units = CUSTOMER, 1
            elif uniform_py(key, i, P_DECAY) < p_[L.INTEREST_DECAY]:
                st = AWARE
        elif st == CUSTOMER and was == CUSTOMER:
            if uniform_py(key, i, P_CHURN) < p_[L.CHURN]:
                st = AWARE
            elif uniform_py(key, i, P_REPEAT) < hook("purchase", i, s, float(p_[L.REPEAT])):
                units = 1
        stage[i] = st
        counts[s, st] += 1
        if st == CUSTOMER and was != CUSTOMER:
            counts[s, L.NEW_CUSTOMERS] += 1
        if units:
            lt = int(last_touch[i]) if last_touch[i] >= 0 else organic_code
            ft = int(first_touch[i]) if first_touch[i] >= 0 else organic_code
            counts[s, L.UNITS] += units
            counts[s, L.UNITS_LAST_TOUCH + lt] += units
            counts[s, L.units_first_touch(n_channels) + ft] += units
    return counts
