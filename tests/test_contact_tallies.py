"""The contact tallies caught up from the customer step's change lists equal a recount.

`MarketModel.run_model` lets each step's sync look only at the people the previous step
changed (`TallyChanges`); these tests recount everyone's talking and detractor contacts
from scratch after every step of every shipped scenario and demand the same integers.
"""

from __future__ import annotations

import numpy as np
import pytest

from marketsim.core.layout import PRAISE, SegmentColumn
from marketsim.core.stages import AWARE, CUSTOMER
from marketsim.engine.model import MarketModel
from marketsim.engine.population import Population
from marketsim.kernels.contact_tallies import TallyChanges, update_tallies
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario.scale import scaled
from marketsim.scenario.schema import Scenario
from tests.conftest import CONTRACT, SCENARIOS, diverse_data

STEPS = 16


def _per_owner(pop: Population, flag: np.ndarray) -> np.ndarray:
    """Each person's count of contacts with `flag` set, from the network itself."""
    owner = np.repeat(np.arange(pop.size), np.diff(pop.indptr))
    return np.bincount(owner, weights=flag[pop.indices], minlength=pop.size).astype(np.int64)


def _run_checking(
    model: MarketModel, steps: int, buyers: list[int] | None = None
) -> list[int | None]:
    """Run `steps` steps with `run_model`, recounting after each.

    Returns, for each step, how many people its lists named (None: no lists kept), and
    appends to `buyers` how many people bought in each step.

    Where the customer step alone writes people, the tallies a step read (synced at its
    start from the lists) must equal the recount after the step before; elsewhere the
    tallies are synced (scanning everyone) and recounted after each step.
    """
    pop = model.population
    seg = model.segment_parameters.base
    kept: list[int | None] = []
    before: list[tuple[np.ndarray, np.ndarray]] = []
    purchases = [pop.purchases.copy()]

    def after_step(_: int) -> None:
        kept.append(int(pop.changes.count.sum()) if pop.changes.known else None)
        if buyers is not None:
            buyers.append(int((pop.purchases != purchases[-1]).sum()))
            purchases.append(pop.purchases.copy())
        where = f"step {model.steps - 1}"
        if not pop.changes.known:
            update_tallies(pop, seg)
        elif before:
            contacts, heard = before[-1]
            np.testing.assert_array_equal(pop.contacts, contacts, err_msg=where)
            if heard.shape[0]:
                np.testing.assert_array_equal(pop.heard[: heard.shape[0]], heard, where)
        before.append(_recount(pop, seg))
        if not pop.changes.known:
            np.testing.assert_array_equal(pop.contacts, before[-1][0], err_msg=where)

    model.run_model(steps, progress=after_step)
    return kept


def _recount(pop: Population, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(talking contacts, detractor contacts or empty) of everyone, from the network."""
    silent = seg[pop.segment, SegmentColumn.DISSATISFIED_WORD] != PRAISE
    talking = (pop.stage == CUSTOMER) & (~silent | (pop.satisfied != 0))
    heard = _per_owner(pop, pop.detractor != 0) if pop.heard.shape[0] else np.zeros(0)
    return _per_owner(pop, talking), heard


@pytest.mark.parametrize("path", [*SCENARIOS, *CONTRACT], ids=lambda p: p.stem)
def test_tallies_from_change_lists_equal_a_recount_on_every_shipped_scenario(path):
    scenario = load_scenario(path)
    if scenario.people > 60_000:
        scenario = scaled(scenario, 60_000)
    model = MarketModel(scenario, materialize_customers=False)
    kept = _run_checking(model, STEPS)
    assert len(kept) == min(STEPS, scenario.horizon)
    # The lists are kept exactly where nothing but the customer step writes people.
    alone = not model.plugins.any_python_hooks and not model.sales.writes_people
    assert [n is not None for n in kept] == [alone] * len(kept)
    if alone:
        assert sum(kept) > 0  # the lists named people, and the recount checked them


def test_repeat_buyers_whose_word_is_unchanged_are_not_listed():
    # Networked repeat buyers who speak against us or keep quiet when let down, of
    # imperfect quality: a repeat purchase may turn a buyer's word or leave it as it was.
    data = diverse_data()
    data["segments"][2]["dissatisfied_word_of_mouth"] = "silent"  # hubs: scale-free
    scenario = Scenario.model_validate(data)
    model = MarketModel(scenario, materialize_customers=False)
    buyers: list[int] = []
    kept = _run_checking(model, scenario.horizon, buyers)
    assert None not in kept and sum(kept) > 0
    assert sum(kept) < sum(buyers)  # unchanged repeat buyers were left off the lists
    pop = model.population
    hubs = pop.segment == 2
    assert ((pop.purchases > 1) & (pop.satisfied == 0) & hubs).any() and pop.detractor.any()


def test_a_block_listing_more_than_its_room_falls_back_to_a_scan(everything):
    model = MarketModel(everything, materialize_customers=False)
    pop = model.population
    pop.changes = TallyChanges.for_people(pop.size, room=2)
    overflowed = []
    seg = model.segment_parameters.base

    def after_step(_: int) -> None:
        overflowed.append(bool(pop.changes.count.max() > 2))
        update_tallies(pop, seg)
        np.testing.assert_array_equal(pop.contacts, _recount(pop, seg)[0])

    model.run_model(10, progress=after_step)
    assert any(overflowed) and (pop.contacts > 0).any()


def test_running_the_model_or_stepping_it_gives_the_same_ledger():
    scenario = load_scenario(next(p for p in SCENARIOS if p.stem == "word_of_mouth"))
    run = MarketModel(scenario, materialize_customers=False)
    run.run_model()
    stepped = MarketModel(scenario, materialize_customers=False)
    while stepped.running:
        stepped.step()
    assert run.ledger.rows == stepped.ledger.rows
    assert run.steps == stepped.steps == scenario.horizon
    np.testing.assert_array_equal(run.population.contacts, stepped.population.contacts)


def test_writes_between_steps_are_tallied_after_a_run_stops(everything):
    model = MarketModel(everything, materialize_customers=False)
    model.run_model(5)
    pop = model.population
    pop.stage[: pop.size // 3] = CUSTOMER  # nobody listed these
    pop.stage[pop.size // 3 : pop.size // 2] = AWARE
    model.run_model(1)
    seg = model.segment_parameters.base
    update_tallies(pop, seg)
    np.testing.assert_array_equal(pop.contacts, _recount(pop, seg)[0])
