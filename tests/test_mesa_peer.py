"""The plain-Mesa peer (benchmarks/mesa_peer) runs marketsim's consumer model.

Two checks, at 2,000 customers over 20 steps:

- identical: on marketsim's random streams (`draws="shared"`) every person's stage,
  purchases and ad memory equal marketsim's after every step, on `word_of_mouth.yaml`
  (the four network types, well mixed included) and on `b2c_launch.yaml` with every
  individual trait, frequency threshold, wear-out, adstock, forgetting, quality and
  the churn responses switched on. Any rule that differs breaks this: a peer given a
  word-of-mouth rate 25% off is shown to.
- in distribution: with Mesa's own generator (`draws="mesa"`, the peer the benchmark
  times) 12 replicates of each agree within replicate intervals: for the customers
  summed over the steps and the units sold, the difference of the means is within 3
  standard errors (Welch). The same comparison fails for a peer whose word-of-mouth
  rate is 25% lower or higher.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_mesa_peer import PEER_SCOPE
from benchmarks.mesa_peer import ConsumerMarket, Unsupported
from marketsim.core.stages import CUSTOMER
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario.scale import scaled

ROOT = Path(__file__).resolve().parent.parent
WORD_OF_MOUTH = ROOT / "scenarios" / "word_of_mouth.yaml"
LAUNCH = ROOT / "scenarios" / "b2c_launch.yaml"
PEOPLE, STEPS, REPLICATES = 2_000, 20, 12
SEGMENTS = ("mixed", "random_ties", "local_circles", "hubs")
EVERY_RULE = [
    *PEER_SCOPE,
    "channels.tv.frequency_threshold=2",
    "channels.tv.wear_out=0.2",
    "channels.social.wear_out=0.1",
    "products.capsules.quality=0.8",
    "segments.urban_young.traits.price_sensitivity={dist: lognormal, mean: 1.5, sd: 0.6}",
    "segments.urban_young.traits.purchase_rate={dist: gamma, mean: 1, shape: 1}",
    "segments.urban_young.traits.word_of_mouth={dist: lognormal, mean: 1, sd: 0.5}",
    "segments.families.traits.attitude={dist: mix, values: [0.7, 1.3], weights: [0.5, 0.5]}",
    "segments.families.traits.purchase_rate={dist: beta, mean: 0.5, sd: 0.2}",
    "segments.urban_young.awareness_adstock=0.5",
    "segments.families.awareness_decay=0.02",
    "segments.urban_young.dissatisfied_churn=2",
    "segments.families.dissatisfied_word_of_mouth=silent",
    "segments.seniors.churn_price_response=1",
    "segments.seniors.churn_trust_response=1",
    "segments.seniors.reputation=0.6",
    "segments.seniors.reference_price=5.0",
]
"""`b2c_launch` within the peer's scope (no promotion, publicity or PR), every rule on."""
BUSY = [
    f"segments.{s}.{k}"
    for s in SEGMENTS
    for k in ("initial_awareness=0.05", "potential=0.8", "interest=0.05")
]
"""`word_of_mouth` with more people moving, so 12 replicates resolve a 25% change of rate."""


def _scenario(path: Path, overrides: list[str]):
    return scaled(load_scenario(path, overrides), PEOPLE)


def _word_of_mouth_times(factor: float) -> list[str]:
    return [f"segments.{s}.word_of_mouth={0.08 * factor}" for s in SEGMENTS]


def _differences(marketsim: MarketModel, peer: ConsumerMarket) -> dict[str, int]:
    pop = marketsim.population
    people = peer.consumers
    return {
        "stage": int((np.array([c.stage for c in people]) != pop.stage).sum()),
        "purchases": int((np.array([c.purchases for c in people]) != pop.purchases).sum()),
        "ad memory": int(
            (np.array([c.memory for c in people], np.float32) != pop.ad_memory[:, 0]).sum()
        ),
    }


def _run_both(path: Path, overrides: list[str], peer_overrides: list[str]) -> list[dict[str, int]]:
    marketsim = MarketModel(_scenario(path, overrides), materialize_customers=False)
    peer = ConsumerMarket(_scenario(path, overrides + peer_overrides), draws="shared")
    found = []
    for _ in range(STEPS):
        marketsim.step()
        peer.step()
        found.append(_differences(marketsim, peer))
    assert int((marketsim.population.stage == CUSTOMER).sum()) > 50, "too few customers to judge"
    return found


@pytest.mark.parametrize(
    ("path", "overrides"), [(WORD_OF_MOUTH, []), (LAUNCH, EVERY_RULE)], ids=["networks", "traits"]
)
def test_identical_to_marketsim_on_shared_streams(path: Path, overrides: list[str]) -> None:
    nothing = {"stage": 0, "purchases": 0, "ad memory": 0}
    assert _run_both(path, overrides, []) == [nothing] * STEPS


def test_a_wrong_word_of_mouth_rate_breaks_the_identity() -> None:
    found = _run_both(WORD_OF_MOUTH, [], _word_of_mouth_times(1.25))
    assert found[-1]["stage"] > 20


def _marketsim_outcomes(scenario) -> np.ndarray:
    rows = []
    for r in range(REPLICATES):
        model = MarketModel(scenario, replicate=r, materialize_customers=False)
        customers = 0
        for _ in range(STEPS):
            model.step()
            customers += int((model.population.stage == CUSTOMER).sum())
        rows.append([customers, int(model.population.purchases.sum())])
    return np.array(rows, dtype=np.float64)


def _peer_outcomes(scenario) -> np.ndarray:
    rows = []
    for r in range(REPLICATES):
        peer = ConsumerMarket(scenario, replicate=r, draws="mesa")
        for _ in range(STEPS):
            peer.step()
        collected = peer.datacollector.get_model_vars_dataframe()
        rows.append([collected["customers"].sum(), collected["units"].sum()])
    return np.array(rows, dtype=np.float64)


def _z(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Difference of the means in standard errors, per outcome (Welch)."""
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    return (a.mean(axis=0) - b.mean(axis=0)) / se


@pytest.fixture(scope="module")
def marketsim_busy() -> np.ndarray:
    return _marketsim_outcomes(_scenario(WORD_OF_MOUTH, BUSY))


def test_same_outcomes_in_distribution_with_mesa_random(marketsim_busy: np.ndarray) -> None:
    peer = _peer_outcomes(_scenario(WORD_OF_MOUTH, BUSY))
    assert np.abs(_z(marketsim_busy, peer)).max() < 3.0


@pytest.mark.parametrize("factor", [0.75, 1.25])
def test_a_wrong_word_of_mouth_rate_fails_the_comparison(
    marketsim_busy: np.ndarray, factor: float
) -> None:
    peer = _peer_outcomes(_scenario(WORD_OF_MOUTH, BUSY + _word_of_mouth_times(factor)))
    assert np.abs(_z(marketsim_busy, peer)).max() > 3.0


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (ROOT / "tests" / "contract" / "minimal-b2b.yaml", "is b2b"),
        (LAUNCH, "channel 'launch_discount' is promotion"),
    ],
)
def test_what_the_peer_does_not_model_is_refused_by_name(path: Path, named: str) -> None:
    with pytest.raises(Unsupported, match=named):
        ConsumerMarket(load_scenario(path))
