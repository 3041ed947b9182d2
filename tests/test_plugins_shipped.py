"""Each plugin shipped in plugins/ changes outcomes the way its documentation says.

Comparisons run the same scenario with and without the plugin on the same seed, so
they are paired (common random numbers) and a difference is the plugin's doing.
"""

from __future__ import annotations

import copy
import math
import sys
from typing import Any

import numpy as np
import pytest

from marketsim.drivers.simulation import simulate
from marketsim.engine.model import MarketModel
from marketsim.kernels.rng import stream_key, uniform_py
from marketsim.plugins import load
from marketsim.plugins.rng import key_to_params, uniforms
from marketsim.scenario.schema import Scenario

pytestmark = pytest.mark.filterwarnings("ignore:First-class function type")

CONSUMERS: dict[str, Any] = {
    "name": "consumers",
    "horizon": 26,
    "seed": 4,
    "products": [{"id": "app", "price": 30.0, "unit_cost": 3.0, "repurchase_every": 3}],
    "segments": [
        {
            "id": "town",
            "size": 8000,
            "network": {"type": "small_world", "degree": 8, "rewire": 0.1},
            "initial_awareness": 0.05,
            "potential": 0.8,
            "interest": 0.01,
            "word_of_mouth": 0.05,
            "purchase": 0.2,
        }
    ],
    "channels": [
        {"id": "ads", "type": "advertising", "budget": 4000, "cost_per_contact": 0.02, "end": 8}
    ],
}


def plugin_module(name: str):
    """The module a plugin was loaded from (folder plugins get a private module name)."""
    return sys.modules[load(name).__module__]


def scenario(base: dict[str, Any], *behaviours: dict[str, Any], **changes: Any) -> Scenario:
    data = copy.deepcopy(base) | changes
    data["behaviours"] = list(behaviours)
    return Scenario.model_validate(data)


def totals(sc: Scenario, replicates: int = 1) -> dict[str, float]:
    frame = simulate(sc, replicates=replicates).timeseries
    return {
        "revenue": float(frame["revenue"].sum()),
        "customers": float(frame.groupby("replicate")["customers"].last().sum()),
        "units": frame.groupby("step")["units"].sum().to_numpy(),
    }


# --------------------------------------------------------------------------- bass


def test_bass_adoption_follows_the_bass_curve():
    bass_curve = plugin_module("bass_adoption").bass_curve

    people, potential, p, q, horizon = 10_000, 0.5, 0.01, 0.4, 25
    sc = scenario(
        {
            "name": "bass",
            "horizon": horizon,
            "seed": 3,
            "products": [{"id": "w", "price": 10.0}],
            "segments": [{"id": "c", "size": people, "potential": potential}],
        },
        {"plugin": "bass_adoption", "p": p, "q": q},
    )
    adopters = simulate(sc).timeseries["customers"].to_numpy()
    m = people * potential
    expected = bass_curve(p, q, m, horizon)
    assert np.abs(adopters - expected).max() < 0.02 * m
    assert adopters[-1] > 0.95 * m  # and it saturates at the market potential


def test_bass_awareness_only_leaves_the_funnel_to_decide():
    base = CONSUMERS | {"channels": []}
    bass_buys = totals(scenario(base, {"plugin": "bass_adoption", "q": 0.6}))
    bass_aware = totals(
        scenario(base, {"plugin": "bass_adoption", "q": 0.6, "adoption": "awareness"})
    )
    assert bass_aware["customers"] < bass_buys["customers"]


# -------------------------------------------------------------------- threshold


def naive_threshold(key, i, s, value, indptr, params, degrees):
    """The threshold rule, one person at a time, in plain Python."""
    threshold, spread, pull, below, high, low, purpose = params[:7]
    if value > 0:
        degree = indptr[i + 1] - indptr[i]
        share = value / degree if degree > 0 else (value / degrees[s] if degrees[s] > 0 else 0.0)
        setup = (int(high) << 32) | int(low)
        theta = threshold + spread * (2 * uniform_py(setup, i, int(purpose)) - 1)
        if share >= theta:
            return pull
    return value * below


def test_threshold_kernel_matches_a_naive_reference():
    cls = load("threshold_contagion")
    fn = cls.kernels["word_of_mouth"]
    rng = np.random.default_rng(0)
    n = 200
    degree = rng.integers(0, 9, n)
    indptr = np.concatenate([[0], np.cumsum(degree)]).astype(np.int64)
    indices = rng.integers(0, n, indptr[-1]).astype(np.int32)
    stage = np.zeros(n, dtype=np.int8)
    high, low = key_to_params(stream_key(7, 2, -1))
    params = np.array([0.3, 0.2, 999.0, 0.25, high, low, (1 << 20) + 5, 0.0, 6.0])
    degrees = params[7:]
    for i in range(n):
        for s in (0, 1):
            value = float(rng.integers(0, 9))
            got = fn(np.uint64(stream_key(1, 0, i)), i, s, value, stage, indptr, indices, params)
            assert got == naive_threshold(0, i, s, value, indptr, params, degrees)


def test_threshold_thresholds_are_drawn_once_per_person():
    cls = load("threshold_contagion")
    fn = cls.kernels["word_of_mouth"]
    indptr = np.array([0, 4], dtype=np.int64)
    indices = np.zeros(4, dtype=np.int32)
    stage = np.zeros(1, dtype=np.int8)
    high, low = key_to_params(123456789)
    params = np.array([0.5, 0.5, 100.0, 0.0, high, low, 1 << 20])
    # The same person, the same share of customers: the same answer at every step key.
    for value in (1.0, 2.0, 3.0):
        answers = {
            fn(np.uint64(stream_key(0, 0, t)), 0, 0, value, stage, indptr, indices, params)
            for t in range(20)
        }
        assert len(answers) == 1


def test_threshold_contagion_changes_diffusion_both_ways():
    built_in = totals(scenario(CONSUMERS))["customers"]
    easy = totals(scenario(CONSUMERS, {"plugin": "threshold_contagion", "threshold": 0.1}))
    hard = totals(scenario(CONSUMERS, {"plugin": "threshold_contagion", "threshold": 0.9}))
    assert easy["customers"] > 1.2 * built_in
    assert hard["customers"] < built_in  # below the threshold, friends' word is ignored


def test_threshold_thresholds_helper_matches_the_kernel_draws():
    model = MarketModel(scenario(CONSUMERS, {"plugin": "threshold_contagion"}))
    plugin = model.plugins.plugins[0]
    rows = np.arange(50)
    u = uniforms(model.setup_key, rows, plugin.purpose(0))
    assert np.allclose(plugin.thresholds(model, rows), 0.25 + 0.1 * (2 * u - 1))


# ---------------------------------------------------------------- reference price

PROMO: dict[str, Any] = {
    "name": "promo",
    "horizon": 26,
    "seed": 4,
    "products": [{"id": "w", "price": 10.0, "repurchase_every": 3}],
    "segments": [
        {
            "id": "c",
            "size": 10000,
            "potential": 0.8,
            "initial_awareness": 0.5,
            "interest": 0.05,
            "purchase": 0.2,
        }
    ],
    "channels": [
        {"id": "sale", "type": "promotion", "budget": 1000, "discount": 0.3, "start": 10, "end": 14}
    ],
}


def test_reference_price_lifts_promotions_then_dips():
    plain = totals(scenario(PROMO))["units"]
    adaptive = totals(scenario(PROMO, {"plugin": "reference_price"}))["units"]
    assert np.array_equal(plain[:10], adaptive[:10])  # regular price = reference: no effect
    assert adaptive[10] > 1.2 * plain[10]  # the deal feels like a gain...
    assert adaptive[10:14].sum() > 1.1 * plain[10:14].sum()  # ...less so as it becomes usual
    assert adaptive[14:18].sum() < 0.8 * plain[14:18].sum()  # the post-promotion dip
    assert adaptive[-3:].sum() == pytest.approx(plain[-3:].sum(), rel=0.1)  # and recovery


def test_reference_price_remembers_the_promotion():
    model = MarketModel(scenario(PROMO, {"plugin": "reference_price", "adaptation": 0.5}))
    plugin = model.plugins.plugins[0]
    for _ in range(14):
        model.step()
    assert plugin.reference[0, 0] == pytest.approx(0.7, abs=0.05)  # it learnt the deal price
    model.step()  # the first step back at the regular price
    assert plugin.multiplier[0] < 1.0  # which now looks like a loss


# --------------------------------------------------------------- negative wom


def test_negative_word_of_mouth_slows_diffusion():
    built_in = totals(scenario(CONSUMERS))
    unhappy = totals(
        scenario(CONSUMERS, {"plugin": "negative_wom", "dissatisfied": 0.5, "weight": 2})
    )
    nobody = totals(scenario(CONSUMERS, {"plugin": "negative_wom", "dissatisfied": 0.0}))
    assert unhappy["customers"] < 0.9 * built_in["customers"]
    assert nobody["customers"] == built_in["customers"]


def test_negative_word_of_mouth_reaches_well_mixed_segments():
    mixed = copy.deepcopy(CONSUMERS)
    mixed["segments"][0]["network"] = {"type": "well_mixed", "degree": 8}
    built_in = totals(scenario(mixed))
    unhappy = totals(scenario(mixed, {"plugin": "negative_wom", "dissatisfied": 0.5, "weight": 2}))
    assert unhappy["customers"] < built_in["customers"]


# ----------------------------------------------------------------- competitor


def test_competitor_spend_lowers_revenue():
    revenue = [
        totals(scenario(CONSUMERS, {"plugin": "competitor", "budget": b}))["revenue"]
        for b in (0.0, 4000.0, 40000.0)
    ]
    assert revenue[0] == totals(scenario(CONSUMERS))["revenue"]  # no spend, no rival
    assert revenue[0] > revenue[1] > revenue[2]


def test_competitor_steals_customers_and_keeps_counts():
    model = MarketModel(
        scenario(CONSUMERS, {"plugin": "competitor", "budget": 50000, "switching": 0.3})
    )
    while model.running:
        model.step()
    rival = model.plugins.plugins[0]
    assert rival.switched > 0
    counts = np.zeros_like(model.market.stage_counts)
    np.add.at(counts, (model.population.segment, model.population.stage), 1.0)
    assert np.array_equal(counts, model.market.stage_counts)


def test_competitor_share_of_voice_follows_its_schedule():
    schedule = [0.0] * 13 + [1.0] * 13
    model = MarketModel(
        scenario(CONSUMERS, {"plugin": "competitor", "budget": 1300, "schedule": schedule})
    )
    rival = model.plugins.plugins[0]
    assert rival.share_of_voice(0)[0] == 0.0  # silent, while we advertise
    ours = 4000 / 8
    assert rival.share_of_voice(5)[0] == 0.0
    assert rival.share_of_voice(20)[0] == 1.0  # alone on air once our campaign ended
    assert math.isclose(rival.spend.sum(), 1300)
    assert ours > 0


# -------------------------------------------------------------- lead priority

B2B: dict[str, Any] = {
    "name": "b2b",
    "horizon": 20,
    "seed": 5,
    "products": [{"id": "p", "price": 5000.0}],
    "segments": [
        {
            "id": "firms",
            "kind": "b2b",
            "size": 2000,
            "buying_center": 5,
            "initial_awareness": 0.3,
            "interest": 0.03,
            "search": 0.5,
            "potential": 0.6,
        }
    ],
    "channels": [
        {
            "id": "content",
            "type": "inbound",
            "budget": 20000,
            "cost_per_contact": 2.0,
            "conversion": 0.3,
        }
    ],
    "sales": {
        "routing": {"score_threshold": 0.2, "handoff_delay": 0, "lead_expiry": 3},
        "inside": {"count": 2, "calls_per_step": 8},
        "outside": {"count": 2, "meetings_per_step": 10},
    },
}


def test_lead_priority_raises_deals_per_call():
    def per_call(sc: Scenario) -> tuple[float, float]:
        frame = simulate(sc, replicates=10).timeseries
        calls = frame["calls"].sum()
        return frame["appointments"].sum() / calls, frame["deals_won"].sum() / calls

    # Against the default order, newest first, which already calls the warmest leads
    # first: the engaged share adds less than it did over oldest first (over 1.3x).
    newest = per_call(scenario(B2B))
    ranked = per_call(scenario(B2B, {"plugin": "lead_priority"}))
    assert ranked[0] > 1.1 * newest[0]
    assert ranked[1] > newest[1]


def test_lead_priority_orders_by_engaged_share():
    engaged_share = plugin_module("lead_priority").engaged_share

    model = MarketModel(scenario(B2B, {"plugin": "lead_priority", "min_score": 0.3}))
    plugin = model.plugins.plugins[0]
    book, stage = model.sales.accounts, model.population.stage
    offered = np.arange(6)
    for a, engaged in zip(offered, (0, 3, 1, 5, 3, 2), strict=True):
        stage[book.first[a] : book.first[a] + book.size[a]] = 0
        stage[book.first[a] : book.first[a] + engaged] = 2  # interested
    rep = model.sales.inside[0]
    assert np.allclose(engaged_share(model, offered), [0, 0.6, 0.2, 1.0, 0.6, 0.4])
    assert list(plugin.lead_selection(rep, offered)) == [3, 1, 4, 5]  # ties keep order
    outside = model.sales.outside[0]
    assert list(plugin.lead_selection(outside, offered)) == list(offered)  # inside only
