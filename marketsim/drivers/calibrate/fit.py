"""How well simulated series match observed ones: the distance minimised, and fit metrics.

Every series is scaled by the spread of its own observations in the fitted window
(their range, max - min; their mean absolute value if they never change; 1 if they are
all zero), so revenue in euros and new customers in people weigh as the `match:`
weights say, not as their units do. The distance of a parameter set is

    d = sum_s w_s NRMSE_s / sum_s w_s,   NRMSE_s = RMSE(simulated mean, observed) / scale_s

over the fitted steps, where the simulated mean is the mean over the replicates (on
common random numbers, so two sets are compared on the same luck). Steps with no
observation are left out. The fit metrics MMM users know are reported per series, in
sample and on the held-out steps: NRMSE (with the same in-sample scale, so the two are
comparable), MAPE (over observations that are not 0) and R^2 (1 - SSE / SST, SST about
the window's own mean).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from marketsim.drivers.calibrate.records import FitMetrics


def scale_of(observed: np.ndarray) -> float:
    """The yardstick of a series: the range of its observations, see the module docstring."""
    y = observed[np.isfinite(observed)]
    if y.size == 0:
        return 1.0
    spread = float(y.max() - y.min())
    if spread > 0:
        return spread
    level = float(np.abs(y).mean())
    return level if level > 0 else 1.0


def nrmse(simulated: np.ndarray, observed: np.ndarray, scale: float) -> float:
    """RMSE of `simulated` against `observed` over the observed steps, divided by `scale`."""
    seen = np.isfinite(observed)
    if not seen.any():
        return math.nan
    error = simulated[seen] - observed[seen]
    return float(np.sqrt(np.mean(error**2)) / scale)


def distance(errors: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The weighted mean of the series' NRMSE (the module's `d`)."""
    return sum(w * errors[s] for s, w in weights.items()) / sum(weights.values())


def metrics(simulated: np.ndarray, observed: np.ndarray, scale: float) -> FitMetrics:
    """NRMSE, MAPE and R^2 of one series over one window (None where undefined)."""
    seen = np.isfinite(observed)
    n = int(seen.sum())
    if n == 0:
        return FitMetrics(observations=0)
    sim, obs = simulated[seen], observed[seen]
    nonzero = obs != 0
    mape = float(np.mean(np.abs((sim - obs)[nonzero] / obs[nonzero]))) if nonzero.any() else None
    sst = float(np.sum((obs - obs.mean()) ** 2))
    r2 = 1.0 - float(np.sum((sim - obs) ** 2)) / sst if n >= 2 and sst > 0 else None
    return FitMetrics(observations=n, nrmse=nrmse(sim, obs, scale), mape=mape, r2=r2)
