"""Same scenario and seed, same bytes: across processes and numba thread counts.

Each run is a fresh interpreter, so the numba thread pool is set before numba loads.
50,000 people in two networked segments span four parallel blocks of the customer
kernel (blocks straddle the segment boundary), several blocks of the parallel network
builders, and two chunks of the parallel CSR fill when two threads are available.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = """\
name: determinism
horizon: 20
seed: 2024
products:
  - {id: kettle, price: 50.0, unit_cost: 20.0, repurchase_every: 8}
segments:
  - id: town
    size: 30000
    network: {type: small_world, degree: 8, rewire: 0.2}
    initial_awareness: 0.05
    word_of_mouth: 0.05
    churn: 0.02
  - id: country
    size: 20000
    network: {type: random, degree: 6}
    initial_awareness: 0.02
    persuasion: 0.2
channels:
  - {id: tv, type: advertising, budget: 30000, cost_per_contact: 0.02}
  - {id: radio, type: advertising, budget: 8000, targets: [country], cost_per_contact: 0.01}
  - {id: search, type: inbound, budget: 10000, cost_per_contact: 0.5}
  - {id: sale, type: promotion, budget: 1000, start: 6, end: 10}
  - {id: press, type: publicity, budget: 40000, cost_per_burst: 2000}
"""

RUN = """\
import hashlib, sys
import numba
from marketsim import load_scenario, simulate
from marketsim.engine.model import MarketModel

scenario = load_scenario(sys.argv[1])
result = simulate(scenario, replicates=2)
csv = result.timeseries.to_csv(index=False).encode()
model = MarketModel(scenario, replicate=1, materialize_customers=False)
while model.running:
    model.step()
pop = model.population
state = hashlib.sha256()
for name in ("stage", "ad_memory", "first_touch", "last_touch", "indptr", "indices"):
    state.update(getattr(pop, name).tobytes())
print(numba.get_num_threads(), hashlib.sha256(csv).hexdigest(), state.hexdigest())
"""


def _start(scenario: Path, threads: int) -> subprocess.Popen[str]:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(scenario)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    threads, csv_hash, state_hash = out.split()
    return int(threads), csv_hash, state_hash


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, str, str]]:
    scenario = tmp_path_factory.mktemp("determinism") / "scenario.yaml"
    scenario.write_text(SCENARIO)
    first = [_start(scenario, threads) for threads in (1, 2)]
    results = [_finish(p) for p in first]
    second = [_start(scenario, threads) for threads in (2, 3)]
    return results + [_finish(p) for p in second]


def test_each_run_used_the_thread_count_it_was_given(runs):
    assert [threads for threads, _, _ in runs] == [1, 2, 2, 3]


def test_timeseries_csv_is_identical_across_thread_counts_and_processes(runs):
    assert len({csv_hash for _, csv_hash, _ in runs}) == 1


def test_population_state_is_identical_across_thread_counts_and_processes(runs):
    assert len({state_hash for _, _, state_hash in runs}) == 1
