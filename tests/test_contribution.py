"""Incremental revenue by switching a channel off on the same random streams."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from marketsim.cli import app
from marketsim.drivers.contribution import (
    channel_contributions,
    with_contributions,
    without_channel,
)
from marketsim.drivers.simulation import simulate
from marketsim.plugins.prepare import load_scenario

SMALL = ["segments.consumers.size=3000"]


@pytest.fixture(scope="module")
def run():
    scenario = load_scenario("tests/contract/minimal-b2c.yaml", SMALL)
    return simulate(scenario, replicates=3)


def test_switching_a_channel_off_keeps_the_other_streams(run):
    off = without_channel(run.scenario, "tv")
    assert [c.enabled for c in off.channels] == [False, True]
    again = simulate(off, replicates=3)
    assert (again.timeseries["spend_tv"] == 0).all()
    # A channel with no budget and one switched off are the same market.
    zero = run.scenario.model_copy(
        update={
            "channels": [
                run.scenario.channels[0].model_copy(update={"budget": 0.0}),
                run.scenario.channels[1],
            ]
        }
    )
    np.testing.assert_array_equal(
        simulate(zero, replicates=3).timeseries["revenue"], again.timeseries["revenue"]
    )


def test_contribution_is_the_paired_difference(run):
    found = channel_contributions(run)
    assert set(found) == {"tv", "search"}
    without_tv = simulate(without_channel(run.scenario, "tv"), replicates=3)
    base = run.timeseries.groupby("replicate")["revenue"].sum()
    off = without_tv.timeseries.groupby("replicate")["revenue"].sum()
    assert found["tv"].incremental_revenue.mean == pytest.approx((base - off).mean())
    assert found["tv"].incremental_revenue.ci95_low > 0
    merged = with_contributions(run, found)
    assert merged.summary.by_channel["tv"].incremental_revenue == found["tv"].incremental_revenue
    assert run.summary.by_channel["tv"].incremental_revenue is None


def test_run_contribution_writes_it_to_the_summary(tmp_path):
    out = tmp_path / "out"
    sets = [f"--set={s}" for s in SMALL]
    result = CliRunner().invoke(
        app,
        [
            "run",
            "tests/contract/minimal-b2c.yaml",
            "--out",
            str(out),
            "-r",
            "2",
            "--contribution",
            *sets,
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    for channel in ("tv", "search"):
        assert set(summary["by_channel"][channel]["incremental_revenue"]) == {
            "mean",
            "std",
            "ci95_low",
            "ci95_high",
        }
    assert "incremental" in result.output
