"""Individual traits: each family draws what it says, once per person, reproducibly."""

from __future__ import annotations

import copy

import numba
import numpy as np
import pytest
from conftest import EVERYTHING, diverse_data
from scipy import stats

from marketsim.engine.model import MarketModel
from marketsim.engine.population import Population
from marketsim.kernels import traits as K
from marketsim.kernels.rng import uniform_py
from marketsim.scenario.schema import Scenario
from marketsim.scenario.traits import Beta, Gamma, LogNormal

N = 100_000
NONE = np.zeros(0)


def drawn(family: int, p: float, q: float, values=NONE, weights=NONE, key: int = 9) -> np.ndarray:
    out = np.empty(N, dtype=np.float32)
    K.draw_trait(np.uint64(key), family, p, q, values, weights, out, 0, N)
    return out.astype(np.float64)


@pytest.mark.parametrize(
    ("trait", "reference"),
    [
        (Gamma(dist="gamma", mean=2.0, shape=0.5), stats.gamma(0.5, scale=4.0)),
        (Gamma(dist="gamma", mean=1.0, shape=3.0), stats.gamma(3.0, scale=1 / 3)),
        (Beta(dist="beta", mean=0.3, sd=0.15), None),
        (LogNormal(dist="lognormal", mean=1.5, sd=0.8), None),
    ],
    ids=["gamma-below-1", "gamma", "beta", "lognormal"],
)
def test_each_family_follows_its_distribution(trait, reference):
    if isinstance(trait, Gamma):
        x = drawn(K.GAMMA, trait.mean, trait.shape)
    elif isinstance(trait, Beta):
        x = drawn(K.BETA, trait.a, trait.b)
        reference = stats.beta(trait.a, trait.b)
    else:
        x = drawn(K.LOGNORMAL, trait.mu, trait.sigma)
        reference = stats.lognorm(trait.sigma, scale=np.exp(trait.mu))
    assert stats.kstest(x, reference.cdf).pvalue > 0.001
    assert x.mean() == pytest.approx(trait.mean, rel=0.02)
    if not isinstance(trait, Gamma):
        assert x.std() == pytest.approx(trait.sd, rel=0.03)
    else:
        assert x.std() == pytest.approx(trait.mean / np.sqrt(trait.shape), rel=0.03)


def test_a_mix_gives_each_group_its_share():
    x = drawn(K.MIX, 0.0, 0.0, np.array([0.3, 3.0, 7.0]), np.array([0.5, 0.3, 0.2]))
    shares = [np.mean(x == np.float32(v)) for v in (0.3, 3.0, 7.0)]
    assert shares == pytest.approx([0.5, 0.3, 0.2], abs=0.005)


def test_a_mix_matches_a_plain_python_draw():
    values, weights = np.array([1.0, 2.0]), np.array([0.25, 0.75])
    x = drawn(K.MIX, 0.0, 0.0, values, weights, key=4)
    naive = [1.0 if uniform_py(4, i, 0) < 0.25 else 2.0 for i in range(N)]
    np.testing.assert_array_equal(x, naive)


def test_draws_do_not_depend_on_the_thread_count_or_the_rows_drawn():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = drawn(K.GAMMA, 1.0, 0.7)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = drawn(K.GAMMA, 1.0, 0.7)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, two)
    part = np.zeros(N, dtype=np.float32)
    K.draw_trait(np.uint64(9), K.GAMMA, 1.0, 0.7, NONE, NONE, part, 500, 900)
    np.testing.assert_array_equal(part[500:900], one[500:900])  # person i's draw is its own
    assert (part[:500] == 0).all() and (part[900:] == 0).all()


def test_bad_rows_or_family_are_refused():
    out = np.zeros(10, dtype=np.float32)
    with pytest.raises(ValueError, match="rows"):
        K.draw_trait(np.uint64(1), K.GAMMA, 1.0, 1.0, NONE, NONE, out, 5, 11)
    with pytest.raises(ValueError, match="family"):
        K.draw_trait(np.uint64(1), 9, 1.0, 1.0, NONE, NONE, out, 0, 10)


def test_alike_people_store_no_traits():
    pop = Population.build(Scenario.model_validate(EVERYTHING), 5, 0)
    assert pop.traits.varied() == ()
    assert pop.habit.shape == (0, 0) and pop.ad_memory.shape == (pop.size, 1)


def test_a_segments_traits_do_not_depend_on_other_segments():
    data = diverse_data()
    base = Population.build(Scenario.model_validate(data), 5, 0)
    more = copy.deepcopy(data)
    more["segments"].append({"id": "extra", "size": 300, "traits": {"attitude": 2.0}})
    grown = Population.build(Scenario.model_validate(more), 5, 0)
    young = slice(0, int(base.offsets[1]))
    for name in ("price_sensitivity", "purchase_rate", "word_of_mouth", "attitude"):
        np.testing.assert_array_equal(getattr(base, name)[young], getattr(grown, name)[young])


def test_traits_and_habits_are_drawn_per_segment_as_written():
    scenario = Scenario.model_validate(diverse_data())
    pop = Population.build(scenario, 5, 0)
    young = slice(0, int(pop.offsets[1]))
    families = slice(int(pop.offsets[1]), int(pop.offsets[2]))
    hubs = slice(int(pop.offsets[2]), int(pop.offsets[3]))
    assert set(pop.traits.varied()) == {
        "price_sensitivity",
        "purchase_rate",
        "word_of_mouth",
        "attitude",
    }
    assert pop.price_sensitivity[young].mean() == pytest.approx(1.5, rel=0.1)
    assert pop.price_sensitivity[families].mean() == pytest.approx(2.0, rel=0.1)
    assert (pop.price_sensitivity[hubs] == 1.5).all()  # the segment's own value
    assert set(np.unique(pop.attitude[young])) == {np.float32(0.5), np.float32(1.5)}
    assert (pop.attitude[hubs] == np.float32(1.2)).all()
    assert pop.traits.media == ("tv", "social")
    # Habits are relative to the segment's mean: contacts bought are conserved.
    assert pop.habit[young, 0].astype(float).mean() == pytest.approx(1.0, abs=1e-6)
    assert pop.habit[young, 1].astype(float).mean() == pytest.approx(1.0, abs=1e-6)
    assert (pop.habit[families] == 1).all()  # no habits written: everyone alike
    # tv has a retention of its own in some segment: a memory group of its own.
    assert MarketModel(scenario).media.media == ("tv",)
    assert pop.ad_memory.shape == (pop.size, 2)


def test_customer_agents_show_their_traits():
    model = MarketModel(Scenario.model_validate(diverse_data()))
    first, hub = model.customer(0), model.customer(int(model.population.offsets[2]))
    assert first.traits["price_sensitivity"] == pytest.approx(
        float(model.population.price_sensitivity[0])
    )
    assert set(first.habits) == {"tv", "social"}
    assert hub.traits["attitude"] == pytest.approx(1.2)
    assert first.satisfied is None and first.purchases == 0
