"""Kernels against their plain-Python references."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import EVERYTHING, diverse_data, make_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from marketsim.core.layout import (
    AGAINST,
    BLOCK,
    MIN_BLOCK,
    PRAISE,
    SPREAD_BLOCKS,
    SegmentColumn,
    customer_blocks,
)
from marketsim.core.stages import CUSTOMER
from marketsim.drivers.simulation import simulate
from marketsim.engine.channels import StepInputs
from marketsim.engine.model import MarketModel
from marketsim.engine.population import Population
from marketsim.kernels import reference, rng
from marketsim.kernels.contact_tallies import update_tallies
from marketsim.kernels.customer_step import REPEAT_TABLE
from marketsim.kernels.reference import speaks, talkers
from marketsim.scenario.schema import Scenario


@given(
    seed=st.integers(0, 2**62),
    replicate=st.integers(0, 1000),
    step=st.integers(-2, 10_000),
    entity=st.integers(0, 2**40),
    purpose=st.integers(0, 2**21),
)
@settings(max_examples=300, deadline=None)
def test_uniform_kernel_matches_reference(seed, replicate, step, entity, purpose):
    key = rng.stream_key(seed, replicate, step)
    u = rng.uniform(key, entity, purpose)
    assert u == rng.uniform_py(int(key), entity, purpose)
    assert 0.0 <= u < 1.0


@given(lam=st.floats(0.0, 60.0), entity=st.integers(0, 10**9))
@settings(max_examples=300, deadline=None)
def test_poisson_kernel_matches_reference(lam, entity):
    key = rng.stream_key(3, 1, 4)
    assert rng.poisson(key, entity, 77, lam) == reference.poisson_py(int(key), entity, 77, lam)


def test_uniform_and_poisson_have_the_right_moments():
    key = rng.stream_key(11, 0, 0)
    u = np.array([rng.uniform(key, i, 5) for i in range(200_000)])
    assert abs(u.mean() - 0.5) < 0.003
    assert abs(u.var() - 1 / 12) < 0.001
    k = np.array([rng.poisson(key, i, 6, 2.5) for i in range(200_000)])
    assert abs(k.mean() - 2.5) < 0.02
    assert abs(k.var() - 2.5) < 0.04


def test_streams_differ_by_every_part_of_the_key():
    base = rng.uniform(rng.stream_key(1, 0, 0), 0, 0)
    others = [
        rng.uniform(rng.stream_key(2, 0, 0), 0, 0),
        rng.uniform(rng.stream_key(1, 1, 0), 0, 0),
        rng.uniform(rng.stream_key(1, 0, 1), 0, 0),
        rng.uniform(rng.stream_key(1, 0, 0), 1, 0),
        rng.uniform(rng.stream_key(1, 0, 0), 0, 1),
    ]
    assert len({base, *others}) == 6


PERSON_STATE = (
    "stage",
    "ad_memory",
    "first_touch",
    "last_touch",
    "product",
    "purchased_at",
    "satisfied",
    "detractor",
    "purchases",
    "spent",
)


@pytest.fixture
def subscribing() -> Scenario:
    """The diverse scenario with a popular subscription too, whose buyers churn at bills."""
    data = diverse_data()
    plan = {"id": "plan", "price": 12.0, "unit_cost": 3.0, "appeal": 3.0, "quality": 0.6}
    plan |= {"purchase": "subscription", "billing_period": 2, "term": 4, "renewal": 1.0}
    data["products"].append(plan)
    for segment in data["segments"]:
        segment["churn"] = 0.08
    return Scenario.model_validate(data)


def _long_standing(data: dict) -> Scenario:
    """The scenario whose young customers last bought widgets long before step 0.

    Their steps since the purchase run past `REPEAT_TABLE`, where the kernel works the
    chance of buying again out itself instead of reading `ProductArrays.repeat`. With
    a shape of 1 the chance stays far from 1 that long after, so a wrong one shows.
    """
    data["products"][0]["repurchase_shape"] = 1.0
    young = data["segments"][0]
    young.pop("initial_awareness")
    young["start"] = {
        "customers": 0.5,
        "last_purchase": {"dist": "gamma", "mean": REPEAT_TABLE, "shape": 4},
    }
    return Scenario.model_validate(data)


@pytest.fixture
def long_standing() -> Scenario:
    return _long_standing(copy.deepcopy(EVERYTHING))


@pytest.fixture
def long_standing_diverse() -> Scenario:
    return _long_standing(diverse_data())


@pytest.mark.parametrize(
    "name", ["everything", "diverse", "subscribing", "long_standing", "long_standing_diverse"]
)
def test_kernel_engine_matches_reference_engine_bit_for_bit(name, request):
    scenario = request.getfixturevalue(name)
    kernel = MarketModel(scenario, engine="kernel", replicate=1)
    ref = MarketModel(scenario, engine="reference", replicate=1)
    before = kernel.population.purchased_at.copy()
    for _ in range(scenario.horizon):
        kernel.step()
        ref.step()
        for column in PERSON_STATE:
            np.testing.assert_array_equal(
                getattr(kernel.population, column), getattr(ref.population, column), column
            )
    pd.testing.assert_frame_equal(kernel.ledger.frame(), ref.ledger.frame())
    # The comparison must have exercised the whole funnel.
    frame = kernel.ledger.frame()
    for column in ("units", "new_leads", "new_customers", "lapsed"):
        assert frame[column].sum() > 0, column
    if name == "diverse":  # and every heterogeneous path
        pop = kernel.population
        assert pop.ad_memory.shape[1] == 2 and len(pop.traits.media) == 2
        assert frame["forgot"].sum() > 0
        assert (pop.satisfied == 0).any() and pop.detractor.any()
        assert (pop.purchased_at > scenario.horizon).any() or (pop.purchases > 1).any()
    if name.startswith("long_standing"):  # repeat purchases read from the table and past it
        bought = kernel.population.purchases > 0
        assert (bought & (before <= -REPEAT_TABLE)).sum() > 20
        assert (bought & (before < 0) & (before > -REPEAT_TABLE + scenario.horizon)).sum() > 20
    if name == "subscribing":  # billed, and (renewing always) many gone at a bill
        plan = kernel.population.product == 2
        assert (kernel.population.purchases[plan] > 1).sum() > 100
        assert (plan & (kernel.population.stage != CUSTOMER)).sum() > 20


def test_running_tally_of_customer_contacts_matches_a_recount(everything):
    model = MarketModel(everything)
    for _ in range(8):
        model.step()
    pop = model.population
    seg = model.segment_parameters.base
    update_tallies(pop, seg)
    recount = [
        sum(speaks(int(j), pop, seg) for j in pop.indices[pop.indptr[i] : pop.indptr[i + 1]])
        for i in range(pop.size)
    ]
    np.testing.assert_array_equal(pop.contacts, np.array(recount))
    assert (pop.stage == CUSTOMER).any() and pop.contacts.any()


def test_let_down_customers_do_not_speak_for_us_where_the_segment_says_so(diverse):
    model = MarketModel(diverse)
    for _ in range(12):
        model.step()
    pop = model.population
    seg = model.segment_parameters.base
    customers = np.flatnonzero(pop.stage == CUSTOMER)
    let_down = customers[pop.satisfied[customers] == 0]
    mode = seg[pop.segment[let_down], SegmentColumn.DISSATISFIED_WORD]
    assert (mode != PRAISE).any()
    assert [speaks(int(i), pop, seg) for i in let_down] == list(mode == PRAISE)
    against = let_down[mode == AGAINST]
    assert against.size and pop.detractor[against].all()  # and warn their contacts


def test_talkers_reads_the_mean_field_or_the_network(everything):
    model = MarketModel(everything)
    for _ in range(8):
        model.step()
    pop = model.population
    seg = model.segment_parameters.for_step(8, model.market, StepInputs.empty(6, 4, 2)).seg
    crowd = int(pop.offsets[3])  # the well-mixed segment
    assert pop.stage[crowd] <= 1 and talkers(crowd, pop, seg) == float(
        np.float32(seg[3, SegmentColumn.MEAN_FIELD_TALKERS])
    )
    for i in range(int(pop.offsets[3])):
        if pop.stage[i] <= 1:
            expected = sum(pop.stage[pop.indices[pop.indptr[i] : pop.indptr[i + 1]]] == CUSTOMER)
            assert talkers(i, pop, seg) == expected


def test_initial_awareness_matches_reference(everything):
    pop = Population.build(everything, 5, 2)
    key = int(rng.stream_key(5, 2, -1))
    shares = [s.initial_awareness for s in everything.segments]
    expected = [
        reference.initial_awareness(key, i, shares[pop.segment[i]]) for i in range(pop.size)
    ]
    np.testing.assert_array_equal(pop.stage == 1, np.array(expected))
    assert 50 < (pop.stage == 1).sum() < 130  # 10% of 900


@pytest.mark.parametrize("replicates", [1, 3])
def test_simulate_engines_agree(everything, replicates):
    a = simulate(everything, replicates=replicates, engine="kernel")
    b = simulate(everything, replicates=replicates, engine="reference")
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert a.summary == b.summary


def test_a_segments_network_does_not_depend_on_other_segments(everything):
    def ties_of_last_segment(scenario):
        pop = Population.build(scenario, 5, 0)
        start = int(pop.offsets[-2])
        rows = range(start, pop.size)
        return [
            sorted((pop.indices[pop.indptr[i] : pop.indptr[i + 1]] - start).tolist()) for i in rows
        ]

    segments = [s.model_dump() for s in everything.segments]
    bigger_first = [{**segments[0], "size": 1500}, *segments[1:]]
    assert ties_of_last_segment(everything) != []
    assert ties_of_last_segment(everything) == ties_of_last_segment(
        make_scenario(segments=bigger_first)
    )


@given(st.integers(1, 10**9))
def test_customer_blocks_cover_the_market_and_give_every_thread_work(people):
    blocks = customer_blocks(people)
    size = -(-people // blocks)  # as the kernel splits them
    assert blocks * size >= people and (blocks - 1) * size < people  # none left out or empty
    assert size <= BLOCK
    assert blocks <= -(-people // MIN_BLOCK)  # no more than blocks of MIN_BLOCK need
    if people >= SPREAD_BLOCKS * MIN_BLOCK:
        assert blocks >= SPREAD_BLOCKS


def test_a_small_market_is_split_for_both_threads():
    assert customer_blocks(10_000) == 10  # was one block: one thread idle
    assert customer_blocks(100_000) == 64  # was 7 blocks: a thread idle an eighth of it
    assert customer_blocks(500) == 1
