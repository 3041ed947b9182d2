"""Summary statistics shared by every report: mean, spread and a 95% interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from marketsim.drivers.records import Stats


def describe(values: Sequence[float] | np.ndarray) -> Stats:
    """Mean, sample std and a Student-t 95% confidence interval of the mean.

    With one replicate the spread is unknown, so std and the interval are None rather
    than a misleading zero. Non-finite values (e.g. ROI with no spend) give None too.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0 or not np.all(np.isfinite(x)):
        return Stats()
    mean = float(x.mean())
    if x.size < 2:
        return Stats(mean=mean)
    std = float(x.std(ddof=1))
    half = t_quantile(x.size - 1) * std / math.sqrt(x.size)
    return Stats(mean=mean, std=std, ci95_low=mean - half, ci95_high=mean + half)


def t_quantile(dof: int, level: float = 0.975) -> float:
    """Student-t quantile: 1.96-ish for many replicates, larger for few."""
    from scipy import stats

    return float(stats.t.ppf(level, dof))
