"""Summary statistics shared by every report: mean, spread and a 95% interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats


def describe(values: Sequence[float] | np.ndarray) -> dict[str, float | None]:
    """Mean, sample std and a Student-t 95% confidence interval of the mean.

    With one replicate the spread is unknown, so std and the interval are None rather
    than a misleading zero. Non-finite values (e.g. ROI with no spend) give None too.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0 or not np.all(np.isfinite(x)):
        return {"mean": None, "std": None, "ci95_low": None, "ci95_high": None}
    mean = float(x.mean())
    if x.size < 2:
        return {"mean": mean, "std": None, "ci95_low": None, "ci95_high": None}
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.975, x.size - 1)) * std / math.sqrt(x.size)
    return {"mean": mean, "std": std, "ci95_low": mean - half, "ci95_high": mean + half}
