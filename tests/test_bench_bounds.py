"""`benchmarks/bench_bounds.py`: the unaware path does the real step's work.

Its figure is quoted as the floor of the customer step's commonest path, so it must do
what the real step does for a person who stays unaware (the same draws, exposures,
media habits and ad memories), composed from the step's own helpers without the rest
of the step. On a market where nobody leaves unaware, it must leave everyone's ad
memory exactly where the real step leaves it.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import bench_bounds
from benchmarks.bench_b2c import TRAITS_ON
from marketsim.core.stages import UNAWARE
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario, prepare
from marketsim.scenario.scale import scaled


@pytest.mark.parametrize("traits", [False, True], ids=["people alike", "every trait on"])
def test_unaware_path_leaves_ad_memory_where_the_real_step_does(traits: bool) -> None:
    path = bench_bounds.ROOT / "scenarios" / "b2c_launch.yaml"
    overrides = list(TRAITS_ON) if traits else []
    segments = [s.id for s in load_scenario(path, overrides).segments]
    still = overrides + [o for s in segments for o in bench_bounds._nobody_moves(s)]
    model = MarketModel(
        prepare(scaled(load_scenario(path, still), 4000)), seed=3, materialize_customers=False
    )
    for _ in range(3):
        model.step()
    people = model.population
    assert (people.stage == UNAWARE).all()
    before = people.ad_memory.copy()
    step = bench_bounds._step_arrays(model)  # the real step, run
    after = people.ad_memory.copy()
    assert not np.array_equal(after, before)  # exposures reached people
    assert (people.ad_memory.shape[1] > 1) == traits
    people.ad_memory[:] = before
    arguments = bench_bounds.unaware_path_arguments(people, step)
    bench_bounds._unaware(*arguments)
    np.testing.assert_array_equal(people.ad_memory, after)
    counts = arguments[-2].sum(axis=0)
    assert counts[:, UNAWARE].sum() == people.size and counts[:, UNAWARE + 1 :].sum() == 0
