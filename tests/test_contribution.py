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


def run_cli(out, *args):
    sets = [f"--set={s}" for s in SMALL]
    return CliRunner().invoke(
        app, ["run", "tests/contract/minimal-b2c.yaml", "--out", str(out), *sets, *args]
    )


def test_run_measures_contributions_by_default_when_cheap(tmp_path, monkeypatch):
    from marketsim.drivers import contribution

    scenario = load_scenario("tests/contract/minimal-b2c.yaml", SMALL)
    cost = contribution.contribution_cost(scenario, 2)
    assert cost == 2 * 2 * 3000 * scenario.horizon  # channels x replicates x people-steps
    assert contribution.measured_by_default(scenario, 2)
    result = run_cli(tmp_path / "cheap", "-r", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "cheap" / "summary.json").read_text())
    assert "incremental_revenue" in summary["by_channel"]["tv"]
    assert "note:" not in result.stderr

    # One people-step over the rule: not measured, and the run says so and how to ask.
    monkeypatch.setattr(contribution, "CHEAP_PEOPLE_STEPS", cost - 1)
    result = run_cli(tmp_path / "dear", "-r", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "dear" / "summary.json").read_text())
    assert "incremental_revenue" not in summary["by_channel"]["tv"]
    assert "not measured" in result.stderr and "--contribution" in result.stderr
    assert "attribution only" in result.stdout

    result = run_cli(tmp_path / "asked", "-r", "2", "--contribution")
    summary = json.loads((tmp_path / "asked" / "summary.json").read_text())
    assert "incremental_revenue" in summary["by_channel"]["tv"]


def test_no_contribution_switches_it_off(tmp_path):
    result = run_cli(tmp_path / "off", "-r", "2", "--no-contribution")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "off" / "summary.json").read_text())
    assert "incremental_revenue" not in summary["by_channel"]["tv"]
    assert result.stderr == ""
