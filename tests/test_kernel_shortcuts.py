"""The customer kernel's shortcuts give exactly what the plain computation gives.

The kernel hashes an entity once for several draws, inverts the Poisson with a rate's
exp(-rate) computed once, keeps a running tally of customers among contacts instead of
recounting the network, and skips exp() where the answer of `u < p` is already known.
Each shortcut is checked here against the plain computation it replaces.
"""

from __future__ import annotations

import copy
import math

import numpy as np
from conftest import EVERYTHING
from hypothesis import given, settings
from hypothesis import strategies as st

from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, UNAWARE
from marketsim.engine.model import MarketModel
from marketsim.kernels import network, reference, rng
from marketsim.kernels.contact_tallies import update_tallies
from marketsim.kernels.customer_step import (
    SLACK,
    WEIGHED,
    _exposure_weights,
    _reaching,
    _weighed,
)
from marketsim.scenario.schema import Scenario


@given(
    seed=st.integers(0, 2**62),
    step=st.integers(-2, 10_000),
    entity=st.integers(0, 2**40),
    purpose=st.integers(0, 2**21),
)
@settings(max_examples=300, deadline=None)
def test_entity_hash_then_draw_is_uniform(seed, step, entity, purpose):
    key = rng.stream_key(seed, 0, step)
    h = np.uint64(rng.entity_hash(key, entity))  # as the kernels hold it
    assert rng.draw(h, purpose) == rng.uniform_py(int(key), entity, purpose)


@given(lam=st.floats(1e-12, 60.0), entity=st.integers(0, 10**9))
@settings(max_examples=300, deadline=None)
def test_poisson_inverse_with_precomputed_exp_is_poisson(lam, entity):
    key = rng.stream_key(3, 1, 4)
    u = rng.uniform(key, entity, 77)
    expected = reference.poisson_py(int(key), entity, 77, lam)
    assert rng.poisson_inverse(u, lam, np.exp(-lam)) == expected


@given(hazard=st.one_of(st.floats(0.0, 2.0), st.floats(0.0, 1e-12)))
@settings(max_examples=1000, deadline=None)
def test_awareness_shortcut_bound_holds(hazard):
    # The kernel skips exp() when u >= hazard + SLACK: then u < p must be False.
    assert 1.0 - math.exp(-hazard) < hazard + SLACK


@given(rate=st.one_of(st.floats(0.0, 60.0), st.floats(0.0, 1e-12)))
@settings(max_examples=1000, deadline=None)
def test_own_exposure_shortcut_bound_holds(rate):
    # With a media habit the kernel skips exp() when u < 1 - rate - SLACK: then the
    # person has no exposure, u < exp(-rate).
    assert 1.0 - rate - SLACK < math.exp(-rate)


@given(reminded=st.one_of(st.floats(0.0, 800.0), st.floats(0.0, 1e-12)))
@settings(max_examples=500, deadline=None)
def test_forgetting_shortcut_bound_holds(reminded):
    # The kernel skips exp() when u >= decay: then u < decay * exp(-reminded) is False.
    assert math.exp(-reminded) <= 1.0


@given(
    impact=st.floats(0.0, 5.0),
    threshold=st.integers(0, 20),
    wear_out=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
)
@settings(max_examples=300, deadline=None)
def test_looked_up_exposure_weights_are_those_the_kernel_computes(impact, threshold, wear_out):
    table = _exposure_weights(np.array([impact]), np.array([threshold]), np.array([wear_out]))
    for k in range(WEIGHED):
        assert table[0, k] == _weighed(k, impact, threshold, wear_out)


@given(
    rates=st.integers(1, 7).flatmap(
        lambda channels: st.lists(
            st.lists(
                st.one_of(st.just(0.0), st.floats(-1.0, 5.0), st.just(float("nan"))),
                min_size=channels,
                max_size=channels,
            ),
            min_size=1,
            max_size=4,
        )
    )
)
@settings(max_examples=300, deadline=None)
def test_reaching_lists_the_channels_the_full_loop_would_draw_for(rates):
    # The kernel loops over `reaching[s]` instead of every channel, skipping rate <= 0.
    exposure = np.array(rates).T  # [channel, segment]
    reaching = _reaching(exposure)
    for s in range(exposure.shape[1]):
        drawn = [c for c in range(exposure.shape[0]) if not exposure[c, s] <= 0.0]
        assert list(reaching[s]) == drawn + [-1] * (exposure.shape[0] - len(drawn))


@given(
    persuasion=st.floats(0.0, 2.0),
    wom=st.floats(0.0, 2.0),
    interest=st.floats(0.0, 1.0),
    memory=st.floats(0.0, 700.0),
)
@settings(max_examples=1000, deadline=None)
def test_interest_shortcut_bound_holds(persuasion, wom, interest, memory):
    # The kernel skips the potential draw and two exp() when u >= this bound.
    pressure = persuasion * (1.0 - math.exp(-memory)) + wom
    p = 1.0 - (1.0 - interest) * math.exp(-pressure)
    assert not p >= interest + persuasion + wom + SLACK


def _recount(stage: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    owner = np.repeat(np.arange(stage.shape[0]), np.diff(indptr))
    talking = (stage[indices] == CUSTOMER).astype(np.float64)
    return np.bincount(owner, weights=talking, minlength=stage.shape[0]).astype(np.int64)


def test_running_contact_tally_matches_a_recount_after_outside_writes(everything):
    model = MarketModel(everything, materialize_customers=False)
    pop = model.population
    rows = np.random.default_rng(0).choice(pop.size, 300, replace=False)
    for step in range(12):
        model.step()
        # Anyone may write stages between steps (sales, plugins, Customer views).
        pop.stage[rows[step * 25 : (step + 1) * 25]] = CUSTOMER if step % 2 else AWARE
        update_tallies(pop, model.segment_parameters.base)
        np.testing.assert_array_equal(
            pop.contacts, _recount(pop.stage, pop.indptr, pop.indices), err_msg=f"{step=}"
        )
        np.testing.assert_array_equal(pop.counted, pop.stage == CUSTOMER)
    assert (pop.contacts > 0).any()


def _extreme() -> Scenario:
    data = copy.deepcopy(EVERYTHING)
    young, families, hubs, crowd = data["segments"]
    young.update(word_of_mouth=0.4, interest=0.9, initial_awareness=0.5)
    families.update(innovation=0.0, persuasion=4.0, attention=3.0)
    hubs.update(innovation=1.0, interest=1.0, purchase=0.0)
    crowd.update(persuasion=0.0, interest=0.0, word_of_mouth=0.0)
    return Scenario.model_validate(data)


def test_engines_agree_at_extreme_rates_and_after_outside_writes():
    scenario = _extreme()
    kernel = MarketModel(scenario, engine="kernel", materialize_customers=False)
    ref = MarketModel(scenario, engine="reference", materialize_customers=False)
    rows = np.random.default_rng(1).choice(kernel.population.size, 200, replace=False)
    for step in range(scenario.horizon):
        kernel.step()
        ref.step()
        for name in ("stage", "ad_memory", "first_touch", "last_touch"):
            np.testing.assert_array_equal(
                getattr(kernel.population, name), getattr(ref.population, name), err_msg=name
            )
        if step in (3, 9):
            for model in (kernel, ref):
                model.population.stage[rows[:100]] = CUSTOMER
                model.population.stage[rows[100:]] = UNAWARE
    frame = kernel.ledger.frame()
    assert frame.equals(ref.ledger.frame())
    stages = kernel.population.stage
    assert (stages == INTERESTED).any() and (stages == CUSTOMER).any()


def test_csr_is_the_same_however_many_chunks_fill_it():
    key = rng.stream_key(9, 0, -1)
    size, degree = 50_000, 6
    cap = 2 * network.edge_capacity("random", size, degree)
    src = np.empty(cap, dtype=np.int32)
    dst = np.empty(cap, dtype=np.int32)
    used = network.build_edges(key, "random", 0, size, degree, 0.0, src, dst, 0)
    used += network.build_edges(key, "scale_free", size, size, degree, 0.0, src, dst, used)
    n = np.int64(2 * size)
    one = network._to_csr(n, src[:used], dst[:used], np.int64(1))
    for chunks in (2, 3, 7):
        many = network._to_csr(n, src[:used], dst[:used], np.int64(chunks))
        np.testing.assert_array_equal(one[0], many[0])
        np.testing.assert_array_equal(one[1], many[1])
