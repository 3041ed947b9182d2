"""HTML reports: figure records, self-contained pages, rebuilding from files, bad directories."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.format import interval, number, p_value, signed
from marketsim.drivers.records import ChannelSummary, ComparisonRecord, RunSummary, Stats
from marketsim.report import figures as F
from marketsim.report.page import Section, cards, page, table

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "tests" / "contract"
B2C_SMALL = ["--set", "segments.consumers.size=2000", "--set", "horizon=12"]
B2B_SMALL = ["--set", "segments.midmarket.size=200", "--set", "horizon=12"]

runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(cli.app, [str(a) for a in args])


def figure_count(html: str) -> int:
    return len(re.findall(r'<div id="figure-\d+" class="plotly-graph-div"', html))


def without_plotly_js(html: str) -> str:
    """The page without the inlined plotly.js bundle (which mentions CDNs in its code)."""
    start = html.index('<script type="text/javascript">/**')
    end = html.index("</script>", start)
    rest = html[:start] + html[end:]
    assert "plotly.js v" not in rest  # inlined exactly once
    return rest


# --------------------------------------------------------------------------- records


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_over_time_info_gives_mean_and_replicate_band_per_step():
    ts = frame(replicate=[0, 0, 1, 1, 2, 2], step=[0, 1, 0, 1, 0, 1], revenue=[1.0, 4, 3, 4, 5, 10])
    info = F.over_time_info({"run": ts}, "revenue", "revenue", step_unit="week")
    assert info.replicates == 3 and info.step_unit == "week"
    band = info.series[0]
    assert band.steps == [0, 1]
    assert band.mean == [3.0, 6.0]
    assert band.low == pytest.approx([np.quantile([1, 3, 5], 0.05), 4.0])
    assert band.high == pytest.approx([np.quantile([1, 3, 5], 0.95), np.quantile([4, 4, 10], 0.95)])
    fig = F.plot_over_time(info)
    assert len(fig.data) == 2  # band and mean line
    assert list(fig.data[1].y) == [3.0, 6.0]


def stage_frame(last: dict[str, list[int]]) -> pd.DataFrame:
    """Two replicates, one step, stage counts given per stage."""
    cols = {f"stage_{s}": last.get(s, [0, 0]) for s in F.STAGES}
    return frame(replicate=[0, 1], step=[3, 3], **cols)


def test_funnel_info_counts_people_at_or_beyond_each_stage_and_skips_unused_stages():
    ts = stage_frame(
        {"unaware": [50, 30], "aware": [30, 40], "interested": [10, 20], "customer": [10, 10]}
    )
    info = F.funnel_info({"a": ts})
    assert info.stages == ["market", "aware", "interested", "customer"]  # no leads, qualified...
    s = info.series[0]
    assert s.reached == [100.0, 60.0, 25.0, 10.0]
    assert s.conversion == [None, 0.6, 25 / 60, 0.4]
    fig = F.plot_funnel(info)
    assert fig.data[0].type == "funnel" and list(fig.data[0].x) == s.reached
    assert "40.0% of previous" in fig.data[0].text[-1]


def run_summary(by_channel, unattributed=None) -> RunSummary:
    """A run's summary with these channels and nothing else."""
    return RunSummary(
        scenario="x",
        seed=0,
        replicates=2,
        horizon=1,
        step="week",
        customer_types=["consumers"],
        metrics={},
        by_channel=by_channel,
        unattributed_revenue=unattributed or {},
        by_segment={},
        by_product={},
        revenue_by_closer={},
    )


def channel(spend: float, incremental: float | None = None, **revenue: float) -> ChannelSummary:
    return ChannelSummary(
        type="advertising",
        spend=Stats(mean=spend),
        attributed_revenue=Stats(**revenue),
        first_touch_revenue=Stats(mean=revenue.get("mean", 0.0) / 2),
        incremental_revenue=None if incremental is None else Stats(mean=incremental),
        incremental_profit=None if incremental is None else Stats(mean=incremental - spend),
    )


def test_channel_info_computes_roi_from_attributed_revenue_and_spend():
    tv = channel(100.0, mean=150.0, ci95_low=140.0, ci95_high=160.0)
    summary = run_summary(
        {"tv": tv, "idle": channel(0.0, mean=0.0)},
        {"word_of_mouth": Stats(mean=7.0), "organic": Stats(mean=3.0)},
    )
    info = F.channel_info({"a": summary, "b": run_summary({"radio": tv})})
    assert info.channels == ["tv", "idle", "radio"]
    assert not info.measured
    a, b = info.series
    assert [c.basis for c in a.credits] == ["last_touch", "first_touch"]
    assert a.leading.roi == [0.5, None, None] and a.spend == [100.0, 0.0, None]
    assert a.credits[1].roi == [-0.25, None, None]
    assert a.unattributed == {"word of mouth": 7.0, "organic": 3.0}
    assert b.leading.revenue == [None, None, 150.0]
    money = F.plot_channel_money(info)
    assert len(money.data) == 4  # spend and the leading basis for each strategy
    assert list(money.data[2].error_y.array)[:1] == [10.0]
    assert "attribution" in money.layout.title.text
    roi = F.plot_channel_roi(info)
    assert len(roi.data) == 2 and "not measured" in roi.layout.title.text
    assert "last touch (attribution)" in roi.data[0].name


def test_a_measured_increment_leads_the_channel_roi_and_attribution_stands_beside_it():
    summary = run_summary({"search": channel(100.0, incremental=400.0, mean=103.5)})
    info = F.channel_info({"a": summary})
    assert info.measured
    (series,) = info.series
    assert [c.basis for c in series.credits] == ["incremental", "last_touch", "first_touch"]
    assert series.leading.roi == [3.0]  # (400 - 100) / 100, not last touch's 3.5%
    assert series.credits[1].roi == [pytest.approx(0.035)]
    roi = F.plot_channel_roi(info)
    assert [t.name for t in roi.data] == [
        "incremental (measured)",
        "last touch (attribution)",
        "first touch (attribution)",
    ]
    assert "incremental (measured) beside attribution" in roi.layout.title.text


def test_pipeline_and_utilisation_info_average_over_replicates():
    ts = frame(
        replicate=[0, 0, 1, 1],
        step=[0, 1, 0, 1],
        leads=[5, 5, 2, 2],
        calls=[4, 4, 2, 2],
        appointments=[2, 2, 1, 1],
        opportunities=[1, 1, 1, 1],
        proposals=[1, 1, 0, 1],
        deals_won=[1, 0, 0, 1],
        deals_lost_competitor=[0, 1, 0, 0],
        deals_lost_no_decision=[0, 0, 0, 2],
    )
    info = F.pipeline_info({"a": ts})
    assert info.stages == [
        "leads",
        "calls",
        "appointments",
        "opportunities",
        "proposals",
        "deals won",
    ]
    assert info.totals == [[7.0, 6.0, 3.0, 2.0, 1.5, 1.0]]
    lost = info.lost[0]
    assert lost["lost to a competitor"] == 0.5 and lost["lost to no decision"] == 1.0
    assert lost["leads gone cold"] == 0.0  # a column the frame lacks counts as none
    agents = frame(
        replicate=[0, 0, 1, 1],
        agent=["inside-1", "outside-1"] * 2,
        role=["inside", "outside"] * 2,
        utilisation=[0.5, 1.0, 0.7, 0.8],
        deals=[0, 3, 0, 5],
    )
    util = F.utilisation_info({"a": agents, "nobody": pd.DataFrame()})
    assert util.names == ["a"]  # a strategy without reps or brokers has no bars
    assert util.agents == [["inside-1", "outside-1"]]
    assert util.utilisation[0] == pytest.approx([0.6, 0.9])
    assert util.deals == [[0.0, 4.0]]
    assert len(F.plot_utilisation(util).data) == 1


def strategy(name: str, directory: str = "") -> dict:
    return {"name": name, "scenario": name, "file": f"{name}.yaml", "dir": directory or name}


RECORD_DATA = {
    "baseline": "a",
    "seed": 1,
    "replicates": 2,
    "horizon": 12,
    "step": "week",
    "alpha": 0.05,
    "correction": "holm",
    "family": "2 tests",
    "per_replicate": {},
    "strategies": [strategy("a"), strategy("b")],
    "metrics": {
        "revenue": {
            "a": {"mean": 100.0, "ci95_low": 90.0, "ci95_high": 110.0},
            "b": {"mean": 105.0, "ci95_low": 95.0, "ci95_high": 115.0},
        },
        "units": {
            "a": {"mean": 10.0, "ci95_low": 9.0, "ci95_high": 11.0},
            "b": {"mean": 10.0, "ci95_low": 9.0, "ci95_high": 11.0},
        },
    },
    "differences": [
        {
            "strategy": "b",
            "metric": "revenue",
            "n": 2,
            "mean": 5.0,
            "relative": 0.05,
            "relative_ci95_low": 0.04,
            "relative_ci95_high": 0.06,
            "p_holm": 0.001,
            "significant": True,
            "better": True,
        },
        {
            "strategy": "b",
            "metric": "units",
            "n": 2,
            "mean": 0.0,
            "relative": 0.0,
            "relative_ci95_low": -0.01,
            "relative_ci95_high": 0.01,
            "p_holm": 1.0,
            "significant": False,
            "better": None,
        },
    ],
}


RECORD = ComparisonRecord.model_validate(RECORD_DATA)


def test_comparison_records_hold_means_and_differences():
    means = F.metric_means_info(RECORD)
    assert means.metrics == ["revenue", "units"] and means.names == ["a", "b"]
    assert means.mean == [[100.0, 105.0], [10.0, 10.0]]
    diffs = F.difference_info(RECORD)
    assert diffs.labels == ["revenue", "units"]
    assert diffs.significant == [True, False] and diffs.better == [True, None]
    fig = F.plot_differences(diffs)
    by_name = {trace.name: trace for trace in fig.data}
    assert list(by_name["significantly better"].y) == ["revenue"]
    assert list(by_name["not significant"].y) == ["units"]
    assert len(by_name["significantly worse"].y) == 0
    assert len(F.plot_metric_means(means).data) == 2


def test_numbers_are_formatted_for_people():
    assert number(1234567.8) == "1,234,568"
    assert number(0.125, "ratio") == "12.5%"
    assert number(0.05, "percent") == "+5.0%"
    assert number(0.01234, "slope") == "0.012"
    assert number(None) == "n/a" and number(float("nan")) == "n/a"
    assert interval(1.0, None) == "n/a" and interval(1.0, 2.5) == "1 to 2.50"
    assert signed(3.0) == "+3" and signed(-3.0) == "-3" and signed(None) == "n/a"
    assert p_value(0.0001) == "< 0.001" and p_value(0.0421) == "0.042"


# --------------------------------------------------------------------------- page


def test_page_inlines_plotly_once_and_escapes_text():
    fig = F.plot_over_time(
        F.over_time_info(
            {"x": frame(replicate=[0, 0], step=[0, 1], revenue=[1.0, 2.0])}, "revenue", "r"
        )
    )
    html = page(
        "<b>title</b>",
        [
            Section("one & two", figures=[fig, fig], note="a <note>"),
            Section("t", html=table(["a", "b"], [["<x>", 1]]) + cards([("l", "<v>", "d")])),
        ],
        subtitle="sub",
    )
    assert html.count("Plotly.newPlot") == 2
    rest = without_plotly_js(html)
    assert "<script src" not in rest and "http" not in rest
    assert "&lt;b&gt;title&lt;/b&gt;" in html and "<b>title</b>" not in html
    assert "one &amp; two" in html and "a &lt;note&gt;" in html and "&lt;x&gt;" in html
    assert figure_count(html) == 2
    assert html == page(
        "<b>title</b>",
        [
            Section("one & two", figures=[fig, fig], note="a <note>"),
            Section("t", html=table(["a", "b"], [["<x>", 1]]) + cards([("l", "<v>", "d")])),
        ],
        subtitle="sub",
    )


def test_table_refuses_ragged_rows():
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        table(["a", "b"], [["x"]])


# --------------------------------------------------------------------------- run and rebuild


@pytest.fixture(scope="module")
def b2b_run(tmp_path_factory):
    """A small b2b run with a sales team and brokers, through the command."""
    out = tmp_path_factory.mktemp("report") / "b2b"
    result = invoke("run", CONTRACT / "minimal-b2b.yaml", "--out", out, "-r", "2", *B2B_SMALL)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def b2c_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "b2c"
    result = invoke("run", CONTRACT / "minimal-b2c.yaml", "--out", out, "-r", "3", *B2C_SMALL)
    assert result.exit_code == 0, result.output
    return out


def test_run_writes_a_self_contained_report(b2c_run):
    html = (b2c_run / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    rest = without_plotly_js(html)
    assert "<script src" not in rest and "http" not in rest  # works offline
    for heading in ("Headline", "Over time", "Funnel", "Channels", "Segments", "Scenario"):
        assert f"<h2>{heading}</h2>" in html, heading
    assert "Sales team" not in html  # no reps, no brokers
    assert "cost per consumer won" in html.lower()
    assert "marketing roi" in html.lower() and "total roi" in html.lower()
    assert "customers (accounts)" not in html  # no accounts, no empty account figures
    assert figure_count(html) == 9


def test_a_run_with_a_sales_team_reports_pipeline_and_utilisation(b2b_run):
    html = (b2b_run / "report.html").read_text()
    assert "<h2>Sales team</h2>" in html
    assert "Utilisation of reps and brokers" in html and "inside-1" in html
    assert "Sales pipeline over the horizon" in html
    for text in ("cost per account won", "win rate", "lost to a competitor", "lost to no decision"):
        assert text in html, text


@pytest.mark.parametrize("which", ["b2c_run", "b2b_run"])
def test_report_dir_rebuilds_the_same_page_from_the_files(which, request, tmp_path):
    run = request.getfixturevalue(which)
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    (copy / "report.html").unlink()
    result = invoke("report", copy)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{copy / 'report.html'}\n"
    assert (copy / "report.html").read_bytes() == (run / "report.html").read_bytes()
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in run.iterdir())


def test_report_out_writes_elsewhere(b2c_run, tmp_path):
    result = invoke("report", b2c_run, "--out", tmp_path / "page.html")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "page.html").read_bytes() == (b2c_run / "report.html").read_bytes()


def test_compare_report_is_rebuilt_from_its_files(tmp_path):
    text = (CONTRACT / "minimal-b2c.yaml").read_text()
    text = text.replace("size: 50000", "size: 1500").replace("horizon: 52", "horizon: 6")
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text.replace("budget: 150000", "budget: 50000"))
    out = tmp_path / "cmp"
    result = invoke("compare", tmp_path / "a.yaml", tmp_path / "b.yaml", "-r", "3", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    for heading in ("Verdict", "Differences", "Side by side", "Over time", "Funnel", "Channels"):
        assert f"<h2>{heading}</h2>" in html, heading
    assert figure_count(html) == 9
    before = (out / "report.html").read_bytes()
    (out / "report.html").unlink()
    assert invoke("report", out).exit_code == 0
    assert (out / "report.html").read_bytes() == before


# --------------------------------------------------------------------------- bad directories


def test_report_on_a_folder_that_is_not_a_run_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = invoke("report", tmp_path)
    assert result.exit_code == 2
    assert "not a marketsim output directory" in result.stderr and str(tmp_path) in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    missing = invoke("report", tmp_path / "nope")
    assert missing.exit_code == 2 and "no such directory" in missing.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("summary.json", '{"scenario": "x",\n  "seed": }', "summary.json:2:11: not valid JSON"),
        ("summary.json", '{"scenario": "x"}', "summary.json: seed: missing"),
        ("timeseries.csv", "replicate,step\n0,0\n", "timeseries.csv: missing columns revenue"),
        ("scenario.resolved.yaml", "name: [x\n", "scenario.resolved.yaml:2:1: not valid YAML"),
        ("scenario.resolved.yaml", None, "scenario.resolved.yaml: missing"),
    ],
    ids=["json-syntax", "json-keys", "csv-columns", "yaml-syntax", "yaml-missing"],
)
def test_a_broken_file_is_named_and_the_old_report_kept(b2c_run, tmp_path, name, content, expected):
    copy = tmp_path / "copy"
    shutil.copytree(b2c_run, copy)
    if content is None:
        (copy / name).unlink()
    else:
        (copy / name).write_text(content)
    result = invoke("report", copy)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert (copy / "report.html").read_bytes() == (b2c_run / "report.html").read_bytes()
    assert not [p for p in copy.iterdir() if p.name.startswith(".report")]


def test_a_comparison_pointing_outside_its_directory_is_refused(tmp_path, b2c_run):
    out = tmp_path / "cmp"
    out.mkdir()
    record = {
        **RECORD_DATA,
        "strategies": [strategy("a", str(b2c_run)), strategy("b", "../x")],
    }
    (out / "comparison.json").write_text(json.dumps(record))
    result = invoke("report", out)
    assert result.exit_code == 2
    assert "is outside" in result.stderr
    assert [p.name for p in out.iterdir()] == ["comparison.json"]


def test_the_funnel_is_drawn_per_kind_and_consumers_never_pass_b2b_stages():
    from conftest import make_scenario

    from marketsim.drivers.simulation import simulate
    from marketsim.plugins.prepare import load_scenario

    scenario = make_scenario()
    b2b = load_scenario(CONTRACT / "minimal-b2b.yaml", ["segments.midmarket.size=200"])
    summaries = {
        "b2c": simulate(scenario, replicates=1).summary,
        "b2b": simulate(b2b, replicates=1).summary,
    }
    infos = {info.kind: info for info in F.funnel_infos(summaries)}
    assert set(infos) == {"consumers", "accounts"}
    assert infos["consumers"].stages == ["market", "aware", "interested", "customer"]
    assert [s.name for s in infos["consumers"].series] == ["b2c"]
    assert "opportunity" in infos["accounts"].stages
    consumers = infos["consumers"].series[0]
    assert consumers.reached[0] == scenario.people
    assert consumers.reached == sorted(consumers.reached, reverse=True)
    assert consumers.reached[-1] == summaries["b2c"].metrics["customers_consumers"].mean
