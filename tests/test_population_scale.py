"""A segment that stands for a larger market (`represents`): counts and money scale up.

The exact check: simulating a market of 8n people with n agents is, figure for figure,
8 times the market of n people with an eighth of every budget, because every channel
buys contacts per real person. The statistical check: a one-in-ten sample of the launch
region agrees with the full population within their intervals, and its intervals are
wider by about the square root of the sampling factor.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import yaml

from marketsim.drivers.metrics import of_run, values
from marketsim.drivers.simulation import simulate
from marketsim.scenario.schema import Scenario
from tests.conftest import EVERYTHING, ROOT

FACTOR = 8
MONEY = {"budget", "cost_scale", "cost_per_burst"}


def _money_times(channel: dict[str, object], factor: int) -> dict[str, object]:
    return {k: v * factor if k in MONEY else v for k, v in channel.items()}


def test_a_represented_market_is_the_small_one_scaled_exactly() -> None:
    small = Scenario.model_validate(EVERYTHING)
    data = copy.deepcopy(EVERYTHING)
    for segment in data["segments"]:
        segment["represents"] = segment["size"] * FACTOR
    data["channels"] = [_money_times(c, FACTOR) for c in data["channels"]]
    represented = Scenario.model_validate(data)
    base = simulate(small, replicates=2).timeseries
    scaled = simulate(represented, replicates=2).timeseries
    assert list(base.columns) == list(scaled.columns)
    assert base["customers"].iloc[-1] > 0 and base["revenue"].sum() > 0
    for column in base.columns.drop(["replicate", "step"]):
        np.testing.assert_allclose(
            scaled[column], base[column] * FACTOR, rtol=1e-12, err_msg=column
        )


def _launch(sample: int) -> Scenario:
    """b2c_launch with one agent per `sample` people of the region."""
    data = yaml.safe_load((ROOT / "scenarios" / "b2c_launch.yaml").read_text())
    for segment in data["segments"]:
        if sample > 1:
            segment["represents"] = segment["size"]
            segment["size"] //= sample
    return Scenario.model_validate(data)


def test_a_sample_agrees_with_the_full_market_within_intervals() -> None:
    replicates = 16
    full = of_run(simulate(_launch(1), replicates=replicates).timeseries)
    tenth = of_run(simulate(_launch(10), replicates=replicates).timeseries)
    for metric in ("revenue", "customers", "units"):
        a = pd.Series(values(full, metric))
        b = pd.Series(values(tenth, metric))
        se = np.hypot(a.std() / np.sqrt(replicates), b.std() / np.sqrt(replicates))
        assert abs(a.mean() - b.mean()) < 4 * se, (metric, a.mean(), b.mean(), se)
        assert abs(b.mean() / a.mean() - 1) < 0.05, (metric, a.mean(), b.mean())
        # Sampling noise, scaled up by 10, is about sqrt(10) times the full market's.
        assert 1.8 < b.std() / a.std() < 5.5, (metric, a.std(), b.std())
