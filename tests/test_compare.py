"""Strategy comparison: paired statistics, their error rates on simulated outcomes, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from marketsim import cli, load_scenario, simulate
from marketsim.drivers import metrics
from marketsim.drivers.compare import (
    Strategy,
    check_alignment,
    compare,
    compare_values,
    holm,
    paired_difference,
    strategy_names,
)
from marketsim.drivers.metrics import SUMMED

ROOT = Path(__file__).resolve().parent.parent
B2C = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
# A tiny, busy market: 1000 people, most aware at the start, 8 weeks; ~5 ms a replicate.
FAST = [
    "segments.consumers.size=1000",
    "horizon=8",
    "segments.consumers.initial_awareness=0.8",
    "segments.consumers.purchase=0.2",
    "segments.consumers.interest=0.5",
]

runner = CliRunner()


@pytest.fixture
def one_thread():
    """Numba on one thread: tiny populations gain nothing from more, and CI shares cores."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def fast(*more: str):
    return load_scenario(B2C, [*FAST, *more])


# --------------------------------------------------------------------------- statistics


def test_paired_difference_matches_scipy_and_the_t_interval():
    rng = np.random.default_rng(0)
    x = rng.normal(100, 10, 12)
    y = x + rng.normal(3, 2, 12)
    got = paired_difference(x, y)
    d = y - x
    half = stats.t.ppf(0.975, 11) * d.std(ddof=1) / np.sqrt(12)
    assert got.n == 12
    assert got.mean == pytest.approx(d.mean())
    assert got.ci95_low == pytest.approx(d.mean() - half)
    assert got.ci95_high == pytest.approx(d.mean() + half)
    assert got.p_value == pytest.approx(stats.ttest_rel(y, x).pvalue)
    assert got.relative == pytest.approx(d.mean() / x.mean())


def test_identical_samples_differ_by_exactly_zero_with_p_one():
    got = paired_difference([3.0, 5.0, 8.0], [3.0, 5.0, 8.0])
    assert (got.mean, got.ci95_low, got.ci95_high, got.p_value) == (0, 0, 0, 1.0)


def test_a_constant_shift_is_certain():
    got = paired_difference([3.0, 5.0, 8.0], [4.0, 6.0, 9.0])
    assert (got.mean, got.ci95_low, got.ci95_high, got.p_value) == (1, 1, 1, 0.0)


def test_undefined_pairs_are_left_out():
    got = paired_difference([1.0, np.nan, 3.0, 4.0], [2.0, 5.0, np.nan, 6.0])
    assert got.n == 2
    assert got.mean == pytest.approx(1.5)
    empty = paired_difference([np.nan], [1.0])
    assert empty.n == 0 and empty.p_value is None


def test_holm_step_down_keeps_order_and_skips_undefined_tests():
    assert holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])
    assert holm([0.5, 0.6]) == [1.0, 1.0]
    assert holm([]) == []


def test_roi_and_acquisition_costs_follow_their_definitions():
    frame = pd.DataFrame(
        {
            "replicate": [0, 0, 1, 1],
            "step": [0, 1, 0, 1],
            "revenue": [10.0, 30.0, 0.0, 0.0],
            "profit": [-5.0, 15.0, -10.0, -10.0],
            "spend": [10.0, 10.0, 10.0, 10.0],
            "units": [1, 3, 0, 0],
            "customers": [1, 3, 0, 0],
            "customers_consumers": [1, 2, 0, 0],
            "customers_accounts": [0, 1, 0, 0],
            **{column: [0.0] * 4 for column in SUMMED},
        }
    )
    frame["marketing_spend"] = [6.0, 6.0, 10.0, 10.0]
    frame["commissions"] = [1.0, 3.0, 0.0, 0.0]
    frame["cost_of_goods"] = [2.0, 2.0, 0.0, 0.0]
    frame["new_consumers"] = [1, 1, 0, 0]
    frame["new_accounts"] = [0, 1, 0, 0]
    frame["acquisition_cost_consumers"] = [5.0, 5.0, 8.0, 8.0]
    frame["acquisition_cost_accounts"] = [6.0, 8.0, 2.0, 2.0]
    frame["deals_won"] = [0, 1, 0, 0]
    frame["deals_lost"] = [1, 2, 0, 0]
    first, second = metrics.of_run(frame)
    # Customer equity needs the replicate's state at the horizon, not in a timeseries.
    assert np.isnan(first.customer_equity)
    compared = [m for m in metrics.compared(("consumers", "accounts")) if m != "customer_equity"]
    assert {m: first.value(m) for m in compared} == {
        "revenue": 40.0,
        "profit": 10.0,
        "roi": 10.0 / (20.0 + 4.0 + 4.0),  # profit over everything put in
        "marketing_roi": (40.0 - 4.0 - 12.0) / 12.0,  # gross margin less marketing
        "units": 4.0,
        "customers_consumers": 2.0,
        "customers_accounts": 1.0,
        "revenue_consumers": 0.0,
        "revenue_accounts": 0.0,
        "cost_per_consumer": 10.0 / 2,
        "cost_per_account": 14.0 / 1,
        "win_rate": 1 / 4,
    }
    # Nobody won and nothing was decided: undefined, not infinite.
    assert np.isnan(second.cost_per_consumer) and np.isnan(second.cost_per_account)
    assert np.isnan(second.win_rate)


def test_a_comparison_never_pools_consumers_and_accounts():
    assert "customers" not in metrics.compared(("consumers", "accounts"))
    assert metrics.compared(("consumers",)) == (
        "revenue",
        "profit",
        "roi",
        "marketing_roi",
        "units",
        "customers_consumers",
        "cost_per_consumer",
        "customer_equity",
    )
    assert "win_rate" in metrics.compared(("accounts",))


def test_compare_values_refuses_unpaired_replicates():
    reps = metrics.of_run(simulate(fast(), replicates=3).timeseries)
    with pytest.raises(ValueError, match="paired"):
        compare_values(["a", "b"], [reps, reps[:2]], ["revenue"])


def test_aa_false_positive_rate_on_simulated_replicates(one_thread):
    """200 independent A/A experiments of 5 replicates a side, outcomes simulated.

    Under common random numbers a scenario compared with itself differs by exactly zero,
    so the A/A experiments pair replicates on independent streams: experiment e takes
    replicates 10e..10e+4 as A and 10e+5..10e+9 as B of one simulation (every replicate
    index is its own stream).
    """
    experiments, r = 200, 5
    result = simulate(fast(), seed=1, replicates=2 * r * experiments)
    values = metrics.of_run(result.timeseries)
    revenue_hits = family_hits = 0
    for e in range(experiments):
        a = values[2 * r * e : 2 * r * e + r]
        b = values[2 * r * e + r : 2 * r * (e + 1)]
        found = compare_values(["A", "A'"], [a, b], metrics.compared(("consumers",)))
        revenue = next(d for d in found.differences if d.metric == "revenue")
        revenue_hits += revenue.p_value < 0.05
        family_hits += any(d.significant for d in found.differences)
    assert 0.02 <= revenue_hits / experiments <= 0.09
    assert family_hits / experiments <= 0.09  # Holm keeps the whole table's error near 5%


def test_a_five_percent_price_rise_with_inelastic_demand_is_detected_with_30_replicates(
    one_thread,
):
    base = fast("segments.consumers.price_sensitivity=0")
    dearer = fast("segments.consumers.price_sensitivity=0", "products.widget.price=42")
    comparison = compare(
        [Strategy("base", "base.yaml", base), Strategy("dearer", "dearer.yaml", dearer)],
        replicates=30,
    )
    diffs = {d.metric: d for d in comparison.record.differences}
    revenue = diffs["revenue"]
    assert revenue.significant and revenue.better
    assert revenue.relative_ci95_low <= 0.05 <= revenue.relative_ci95_high
    assert revenue.relative == pytest.approx(0.05, abs=0.005)
    assert not diffs["units"].significant  # demand did not move
    assert comparison.record.replicates == 30


def test_a_scenario_compared_with_itself_shows_no_difference(one_thread):
    scenario = fast()
    comparison = compare(
        [Strategy("a", "a.yaml", scenario), Strategy("b", "a.yaml", scenario)], replicates=4
    )
    for diff in comparison.record.differences:
        assert diff.mean in (0, None), diff
        assert not diff.significant
        assert diff.p_holm in (1.0, None)


def test_every_strategy_runs_on_the_same_seed_and_replicates(one_thread):
    comparison = compare(
        [Strategy("a", "a", fast()), Strategy("b", "b", fast("channels.tv.budget=0"))],
        seed=9,
        replicates=3,
    )
    assert [r.seed for r in comparison.results] == [9, 9]
    assert [sorted(set(r.timeseries["replicate"])) for r in comparison.results] == [[0, 1, 2]] * 2
    assert comparison.record.seed == 9
    with pytest.raises(ValueError, match="replicates >= 2"):
        compare([Strategy("a", "a", fast()), Strategy("b", "b", fast())], replicates=1)


def test_different_horizons_or_steps_are_refused_naming_the_file():
    problems = check_alignment([fast(), fast("horizon=9"), fast("step=month")], ["a", "b", "c"])
    assert len(problems) == 2
    assert problems[0].startswith("b: horizon 9 weeks") and "a has horizon 8 weeks" in problems[0]
    assert problems[1].startswith("c: horizon 8 months")


def test_strategy_names_are_unique():
    assert strategy_names(["x", "y"], ["a.yaml", "b.yaml"]) == ["x", "y"]
    assert strategy_names(["x", "x"], ["d/a.yaml", "d/b.yaml"]) == ["a", "b"]
    assert strategy_names(["x", "x"], ["a.yaml", "a.yaml"]) == ["a", "a (2)"]


# --------------------------------------------------------------------------- the command


def small_file(tmp_path: Path, name: str, **changes: str) -> Path:
    """The minimal-b2c contract file, shrunk (2000 people, 12 weeks), with text changes."""
    text = (
        B2C.read_text().replace("size: 50000", "size: 2000").replace("horizon: 52", "horizon: 12")
    )
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def invoke(*args: str | Path):
    return runner.invoke(cli.app, [str(a) for a in args])


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One comparison through the command: baseline, a price rise, the baseline again."""
    tmp = tmp_path_factory.mktemp("compare")
    base = small_file(tmp, "base")
    dearer = small_file(tmp, "dearer", **{"price: 40.0": "price: 42.0"})
    out = tmp / "out"
    result = invoke("compare", base, dearer, base, "-r", "4", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result, (base, dearer)


def test_compare_writes_the_comparison_files(compared):
    out, _, _ = compared
    top = {p.name for p in out.iterdir()}
    assert top == {"comparison.json", "comparison.csv", "report.html", "strategies"}
    dirs = sorted(p.name for p in (out / "strategies").iterdir())
    assert dirs == ["1-base", "2-dearer", "3-base-2"]
    for d in (out / "strategies").iterdir():
        assert {p.name for p in d.iterdir()} == {
            "summary.json",
            "timeseries.csv",
            "scenario.resolved.yaml",
        }
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.tmp")]


def test_comparison_json_and_csv_agree(compared):
    out, _, _ = compared
    record = json.loads((out / "comparison.json").read_text())
    assert record["baseline"] == "base"
    assert [s["name"] for s in record["strategies"]] == ["base", "dearer", "base (2)"]
    assert record["replicates"] == 4 and record["horizon"] == 12
    compared = metrics.compared(("consumers",))
    assert f"2 strategies x {len(compared)} metrics" in record["family"]
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 3 * len(compared)
    row = table[(table.strategy == "dearer") & (table.metric == "revenue")].iloc[0]
    diff = next(
        d for d in record["differences"] if (d["strategy"], d["metric"]) == ("dearer", "revenue")
    )
    assert row.diff_mean == pytest.approx(diff["mean"])
    assert row.p_holm == pytest.approx(diff["p_holm"])
    assert bool(row.significant) and row.diff_relative == pytest.approx(0.05)
    again = table[table.strategy == "base (2)"]
    assert (again.diff_mean == 0).all() and not again.significant.any()


def test_compare_prints_a_table_marking_real_differences(compared):
    _, result, _ = compared
    for word in ("revenue", "cost per", "base", "dearer", "(baseline)", "▲", "n.s.", "Holm"):
        assert word in result.stdout, word
    assert "▼ p" not in result.stdout  # nothing got significantly worse


def test_two_workers_give_identical_files(compared, tmp_path):
    out, _, (base, dearer) = compared
    two = tmp_path / "two"
    result = invoke("compare", base, dearer, base, "-r", "4", "--out", two, "-w", "2", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{two}\n"
    for path in sorted(out.rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (two / path.relative_to(out)).read_bytes(), path


@pytest.fixture
def no_simulation(monkeypatch):
    monkeypatch.setattr(
        "marketsim.drivers.compare.simulate", lambda *a, **k: pytest.fail("simulated anyway")
    )


def test_a_bad_file_among_many_is_named_and_nothing_runs(tmp_path, monkeypatch, no_simulation):
    monkeypatch.chdir(tmp_path)
    good = small_file(tmp_path, "good")
    bad = small_file(tmp_path, "bad", **{"budget: 150000": "budget: -5"})
    result = invoke("compare", good, bad, tmp_path / "missing.yaml", good)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{bad}:") and "channels.tv.budget" in line for line in lines)
    assert any(line.startswith(f"{tmp_path / 'missing.yaml'}:1:1:") for line in lines)
    assert "2 of 4 scenario files are invalid; nothing was run" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "good.yaml"]


def test_different_horizons_exit_2(tmp_path, no_simulation):
    a = small_file(tmp_path, "a")
    b = small_file(tmp_path, "b", **{"horizon: 12": "horizon: 10"})
    result = invoke("compare", a, b, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"{b}: horizon 10 weeks" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--replicates", "1"], "--replicates: expected an integer >= 2"),
        (["--seed", "-1"], "--seed"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_options_exit_2(tmp_path, no_simulation, args, expected):
    a = small_file(tmp_path, "a")
    result = invoke("compare", a, a, "--out", tmp_path / "out", *args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert not (tmp_path / "out").exists()


def test_one_file_is_not_a_comparison(tmp_path, no_simulation):
    a = small_file(tmp_path, "a")
    result = invoke("compare", a, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "two or more scenario files" in result.stderr


def test_a_non_empty_output_directory_needs_force(tmp_path, no_simulation):
    a = small_file(tmp_path, "a")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    result = invoke("compare", a, a, "--out", out)
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_default_output_directory_names_the_strategies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = small_file(tmp_path, "a", **{"horizon: 12": "horizon: 3"})
    b = small_file(
        tmp_path, "b", **{"horizon: 12": "horizon: 3", "name: minimal-b2c": "name: tv-heavy"}
    )
    result = invoke("compare", a, b, "-q", "-r", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "runs/compare-minimal-b2c-vs-tv-heavy"
    assert (tmp_path / "runs" / "compare-minimal-b2c-vs-tv-heavy" / "report.html").is_file()


def test_progress_counts_every_step_of_every_strategy(one_thread):
    steps = []
    compare(
        [Strategy("a", "a", fast()), Strategy("b", "b", fast()), Strategy("c", "c", fast())],
        replicates=2,
        progress=steps.append,
    )
    assert sum(steps) == 3 * 2 * 8


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def broken(frame, path):
        path.write_text("strategy,metr")
        raise OSError(28, "No space left on device")

    from marketsim.io import files

    monkeypatch.setattr(files, "write_csv", broken)
    a = small_file(tmp_path, "a", **{"horizon: 12": "horizon: 3"})
    result = invoke("compare", a, a, "-r", "2", "--out", tmp_path / "runs" / "out")
    assert result.exit_code == 1
    assert "No space left" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml"]
