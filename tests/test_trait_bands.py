"""Outcomes by trait band: bands add up to their segments and read the way traits act."""

from __future__ import annotations

import json
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.stages import CUSTOMER
from marketsim.drivers.simulation import simulate
from marketsim.engine.trait_bands import QUANTILES, _bits, _quantile_bands, _rows
from marketsim.kernels.bands import band_totals, keys_at_ranks, order_keys
from marketsim.scenario.schema import Scenario
from tests.conftest import ROOT, diverse_data

VARIES_IN = {
    "price_sensitivity": ("young", "families"),
    "purchase_rate": ("young",),
    "word_of_mouth": ("young",),
    "attitude": ("young",),
    "habit:tv": ("young",),
    "habit:social": ("young",),
}
"""Where each trait of the diverse scenario varies (hubs' attitude is fixed at 1.2)."""


@pytest.fixture(scope="module")
def diverse_run():
    scenario = Scenario.model_validate(diverse_data())
    return scenario, simulate(scenario, replicates=4).summary


def test_each_trait_has_bands_over_the_segments_where_it_varies(diverse_run):
    scenario, summary = diverse_run
    assert summary.by_trait is not None
    assert list(summary.by_trait) == list(VARIES_IN)
    size = {s.id: s.size for s in scenario.segments}
    for trait, segments in VARIES_IN.items():
        bands = summary.by_trait[trait]
        people = sum(b.people.mean for b in bands)
        assert people == sum(size[s] for s in segments), trait
        revenue = sum(b.revenue.mean for b in bands)
        expected = sum(summary.by_segment[s].revenue.mean for s in segments)
        assert revenue == pytest.approx(expected, rel=1e-5), trait
        units = sum(b.units.mean for b in bands)
        assert units == pytest.approx(sum(summary.by_segment[s].units.mean for s in segments))
        assert all(b.low <= b.high for b in bands)
        assert all(a.high <= b.low for a, b in pairwise(bands)), trait


def test_a_discrete_mix_is_banded_by_value_and_the_rest_by_quintile(diverse_run):
    _, summary = diverse_run
    attitude = summary.by_trait["attitude"]
    assert [(b.low, b.high) for b in attitude] == [(0.5, 0.5), (1.5, 1.5)]
    assert attitude[0].people.mean == pytest.approx(0.4 * 900, rel=0.15)
    for trait in ("purchase_rate", "price_sensitivity", "habit:tv"):
        bands = summary.by_trait[trait]
        assert len(bands) == 5
        people = [b.people.mean for b in bands]
        assert max(people) - min(people) <= 1, (trait, people)


def test_bands_show_what_the_trait_does(diverse_run):
    _, summary = diverse_run
    rate = summary.by_trait["purchase_rate"]
    heavy, light = rate[-1].revenue_per_person.mean, rate[0].revenue_per_person.mean
    assert heavy > 4 * light, (heavy, light)
    attitude = summary.by_trait["attitude"]
    assert attitude[1].customer_share.mean > 3 * attitude[0].customer_share.mean


def test_a_sampled_segment_counts_its_bands_in_real_people():
    data = diverse_data()
    data["segments"][0]["represents"] = 4 * data["segments"][0]["size"]
    summary = simulate(Scenario.model_validate(data), replicates=1).summary
    assert sum(b.people.mean for b in summary.by_trait["purchase_rate"]) == 4 * 900
    revenue = sum(b.revenue.mean for b in summary.by_trait["purchase_rate"])
    assert revenue == pytest.approx(summary.by_segment["young"].revenue.mean, rel=1e-5)
    mixed = summary.by_trait["price_sensitivity"]  # young's agents weigh 4, families' 1
    assert sum(b.people.mean for b in mixed) == 4 * 900 + 700
    shares = [b.people.mean / (4 * 900 + 700) for b in mixed]
    assert max(shares) - min(shares) < 0.01, shares
    revenue = sum(b.revenue.mean for b in mixed)
    expected = sum(summary.by_segment[s].revenue.mean for s in ("young", "families"))
    assert revenue == pytest.approx(expected, rel=1e-5)


def test_alike_people_have_no_bands_in_summary_or_report(tmp_path):
    runner = CliRunner()
    scenario = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
    args = ["--set", "segments.consumers.size=1000", "--set", "horizon=8"]
    alike = runner.invoke(cli.app, ["run", str(scenario), "-o", str(tmp_path / "a"), *args])
    assert alike.exit_code == 0, alike.output
    assert "by_trait" not in json.loads((tmp_path / "a" / "summary.json").read_text())
    assert "By trait" not in (tmp_path / "a" / "report.html").read_text()
    mix = (
        "segments.consumers.traits.price_sensitivity="
        "{dist: mix, values: [0.5, 3], weights: [0.5, 0.5]}"
    )
    differ = runner.invoke(
        cli.app, ["run", str(scenario), "-o", str(tmp_path / "b"), *args, "--set", mix]
    )
    assert differ.exit_code == 0, differ.output
    bands = json.loads((tmp_path / "b" / "summary.json").read_text())["by_trait"]
    assert [b["low"] for b in bands["price_sensitivity"]] == [0.5, 3.0]
    assert "By trait" in (tmp_path / "b" / "report.html").read_text()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(width=32, allow_nan=False),
            st.sampled_from([0.0, -0.0, 0.7, 1.3]),  # ties, and zeros of both signs
        ),
        max_size=300,
    )
)
def test_the_fast_stable_order_is_numpys_stable_argsort(values):
    values = np.array(values, dtype=np.float32)
    keys = np.sort(order_keys(_bits(values)))
    np.testing.assert_array_equal(_rows(keys), np.argsort(values, kind="stable"))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 40), min_size=1, max_size=4))
def test_band_totals_are_the_weighted_bincounts_to_the_last_bit(seed, sizes):
    rng = np.random.default_rng(seed)
    n = sum(sizes) + 10
    stage = rng.integers(0, CUSTOMER + 1, n).astype(np.int8)
    purchases = rng.integers(0, 9, n).astype(np.int32)
    spent = (rng.random(n) * 100).astype(np.float32)
    starts = np.cumsum([3, *sizes[:-1]])
    stops = starts + np.array(sizes)
    weights = rng.random(len(sizes)) * 50
    rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
    band = rng.integers(0, 5, rows.size).astype(np.int8)
    w = np.repeat(weights, sizes)
    expected = [
        np.bincount(band, weights=x * w, minlength=5)
        for x in (np.ones(rows.size), stage[rows] == CUSTOMER, purchases[rows], spent[rows])
    ]
    totals = band_totals(band, starts, stops, weights, stage, purchases, spent, 5)
    np.testing.assert_array_equal(totals, np.array(expected))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(width=32, allow_nan=False, allow_infinity=False),
            st.sampled_from([0.0, -0.0, 0.7, 1.3]),
        ),
        min_size=1,
        max_size=300,
    )
)
def test_quintiles_found_by_key_are_those_of_the_ranking(values):
    values = np.array(values, dtype=np.float32)
    m = values.size
    order = np.argsort(values, kind="stable")
    ranked = (np.arange(m) * 2 + 1) * QUANTILES // (2 * m)
    expected = np.empty(m, dtype=np.int8)
    expected[order] = ranked
    start = np.searchsorted(ranked, np.arange(QUANTILES), side="left")
    stop = np.searchsorted(ranked, np.arange(QUANTILES), side="right")
    band, low, high = _quantile_bands(values, None)
    np.testing.assert_array_equal(band, expected)
    np.testing.assert_array_equal(low, values[order[np.minimum(start, m - 1)]])
    np.testing.assert_array_equal(high, values[order[np.maximum(stop - 1, 0)]])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(width=32, allow_nan=False),
            st.sampled_from([0.0, -0.0, 0.7, 0.70001, 1.3]),  # ties and one bucket's keys
        ),
        min_size=1,
        max_size=2000,
    ),
    st.data(),
)
def test_the_select_finds_the_keys_a_sort_puts_at_each_rank(values, data):
    keys = order_keys(_bits(np.array(values, dtype=np.float32)))
    ranks = np.array(
        data.draw(st.lists(st.integers(0, keys.size - 1), min_size=1, max_size=12)),
        dtype=np.int64,
    )
    np.testing.assert_array_equal(keys_at_ranks(keys, ranks), np.sort(keys)[ranks])
