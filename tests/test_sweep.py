"""`marketsim sweep`: response curves with 95% intervals, as CSV and HTML."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.errors import ScenarioError
from marketsim.drivers.sweep import Axis, grid, parse_vary, sweep
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario.paths import with_values

ROOT = Path(__file__).resolve().parent.parent
TWO = ROOT / "tests" / "contract" / "two-segments.yaml"
TINY = ["segments.young.size=1500", "segments.senior.size=1000"]
TINY_SET = [a for s in TINY for a in ("--set", s)]

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args])


def test_parse_vary_ranges_and_lists():
    axis = parse_vary("channels.tv.budget=0:200000:11")
    assert axis.path == "channels.tv.budget"
    assert axis.values == tuple(float(v) for v in range(0, 200001, 20000))
    assert parse_vary("channels.sale.discount=0.1:0.3:3").values == (0.1, 0.2, 0.3)
    assert parse_vary("sales.inside.count=1,2,5").values == (1.0, 2.0, 5.0)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("channels.tv.budget", "expected dotted.path=START:STOP:N"),
        ("channels.tv.budget=0:10", "expected START:STOP:N"),
        ("channels.tv.budget=0:10:0", "number of points N from 1"),
        ("channels.tv.budget=a,b", "expected a finite number, found 'a'"),
        ("channels.tv.budget=0:inf:3", "finite number"),
    ],
)
def test_parse_vary_refuses_bad_text(text, needle):
    with pytest.raises(ValueError, match=needle):
        parse_vary(text)


def test_grid_is_every_combination():
    points = grid([Axis("a", (1.0, 2.0)), Axis("b", (3.0, 4.0, 5.0))])
    assert len(points) == 6 and points[1] == {"a": 1.0, "b": 4.0}


def test_with_values_sets_list_items_by_id_and_validates():
    scenario = load_scenario(TWO, TINY)
    changed = with_values(scenario, {"channels.social.budget": 1234.0})
    assert changed.channels[0].budget == 1234.0 and scenario.channels[0].budget == 60000
    message = r"<values>:1:1: channels.tv: expected the id of an item, one of 'social', 'print'"
    with pytest.raises(ScenarioError, match=message):
        with_values(scenario, {"channels.tv.budget": 1.0})
    with pytest.raises(ScenarioError, match=r"channels.social.budget: expected a number >= 0"):
        with_values(scenario, {"channels.social.budget": -1})


def test_sweep_points_share_random_streams():
    scenario = load_scenario(TWO, TINY)
    result = sweep(scenario, [Axis("channels.social.budget", (60000.0, 60000.0))], replicates=2)
    first, second = result.frame.iloc[0], result.frame.iloc[1]
    assert first["revenue_mean"] == second["revenue_mean"]  # same streams, same plan


def test_sweep_command_writes_csv_and_html(tmp_path):
    out = tmp_path / "sweep"
    result = invoke(
        "sweep", TWO, *TINY_SET, "--vary", "channels.social.budget=0:60000:3", "-r", 2, "--out", out
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"sweep.csv", "sweep.html"}
    frame = pd.read_csv(out / "sweep.csv")
    assert frame["channels.social.budget"].tolist() == [0, 30000, 60000]
    for metric in ("revenue", "profit", "spend", "roi"):
        for stat in ("mean", "std", "ci95_low", "ci95_high"):
            assert f"{metric}_{stat}" in frame
    assert frame["spend_mean"].tolist() == pytest.approx([60000, 90000, 120000])
    assert (frame["revenue_ci95_low"] <= frame["revenue_mean"]).all()
    assert "Response" in (out / "sweep.html").read_text()


def test_sweep_over_two_settings(tmp_path):
    out = tmp_path / "sweep"
    result = invoke(
        "sweep",
        TWO,
        *TINY_SET,
        "--vary",
        "channels.social.budget=0,60000",
        "--vary",
        "channels.print.budget=0,60000",
        "-r",
        1,
        "--out",
        out,
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out / "sweep.csv")) == 4


@pytest.mark.parametrize(
    ("vary", "needle"),
    [
        (
            "channels.social.budget=-10,5",
            "--vary channels.social.budget=-10: channels.social.budget",
        ),
        ("channels.socal.budget=1,2", "--vary: channels.socal: expected the id of an item"),
        ("channels.socal.budget=1,2", "did you mean 'social'?"),
        ("channels.social.budget", "expected dotted.path"),
    ],
)
def test_bad_sweeps_exit_2_and_write_nothing(tmp_path, vary, needle):
    out = tmp_path / "sweep"
    result = invoke("sweep", TWO, *TINY_SET, "--vary", vary, "--out", out)
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert not out.exists()
