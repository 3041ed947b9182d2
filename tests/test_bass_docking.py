"""Docking against the Bass diffusion model (docs/model.md, "Mapping to the Bass ...").

In the well-mixed limit with potential, interest and purchase 1, neutral trust, the
reference price equal to the price, no channels and no churn, a non-adopter adopts in a
step with probability 1 - (1 - innovation) exp(-word_of_mouth x degree x F), F the
adopter share at the start of the step: Bass with p = -ln(1 - innovation) and
q = word_of_mouth x degree.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from marketsim.drivers.simulation import simulate
from marketsim.engine.model import MarketModel
from marketsim.scenario.schema import Scenario

try:
    from marketsim.plugins.prepare import load_scenario
except ImportError:  # the loader with file positions is optional here
    load_scenario = None

ROOT = Path(__file__).resolve().parent.parent
BASS = ROOT / "scenarios" / "bass_docking.yaml"


def read_data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def build(data: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(data)


def bass_curve(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """Continuous Bass cumulative adoption share F(t) with F(0) = 0."""
    e = np.exp(-(p + q) * t)
    return (1.0 - e) / (1.0 + (q / p) * e)


def adoption(data: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """(cumulative adoption share after steps 1..horizon, new adopters per step, size)."""
    scenario = build(data)
    frame = simulate(scenario, replicates=1).timeseries
    size = scenario.segments[0].size
    new = frame["new_customers"].to_numpy()
    return np.cumsum(new) / size, new, size


def test_the_docking_scenario_is_the_bass_special_case():
    scenario = load_scenario(BASS)
    assert scenario.channels == []
    assert len(scenario.segments) == 1
    seg = scenario.segments[0]
    product = scenario.products[0]
    assert seg.kind == "b2c"
    assert seg.network.type == "well_mixed"
    assert (seg.potential, seg.interest, seg.purchase) == (1.0, 1.0, 1.0)
    assert seg.reputation == 0.5
    assert seg.initial_awareness == 0.0
    assert seg.churn == 0.0
    assert product.repurchase_every == 0
    assert (seg.reference_price or product.price) == product.price
    p, q = bass_rates(read_data(BASS))
    # Small per-step rates: the discrete map stays close to the continuous curve.
    assert p + q < 0.05


CASES: dict[str, dict[str, Any]] = {
    # The file as written: p ~ 0.003, q = 0.003 x 10 = 0.03 per day.
    "as-written": {},
    # Slower, innovation-light diffusion: p ~ 0.001, q = 0.005 x 4 = 0.02 per day.
    "slow": {
        "segment": {
            "innovation": 0.001,
            "word_of_mouth": 0.005,
            "network": {"type": "well_mixed", "degree": 4},
        }
    },
    # Advertising adds to p: lambda = 75,000 / 300 / 0.01 / 50,000 = 0.5 exposures a day,
    # p_ad = 0.5 (1 - e^-0.004) ~ 0.002, on top of innovation 0.001.
    "advertising": {
        "segment": {"innovation": 0.001, "attention": 0.004},
        "channels": [
            {
                "id": "tv",
                "type": "advertising",
                "budget": 75000,
                "cost_per_contact": 0.01,
                "impact": 1.0,
            }
        ],
    },
}


def case_data(name: str) -> dict[str, Any]:
    data = copy.deepcopy(read_data(BASS))
    data["segments"][0].update(CASES[name].get("segment", {}))
    data["channels"] = CASES[name].get("channels", [])
    return data


def bass_rates(data: dict[str, Any]) -> tuple[float, float]:
    """Bass (p, q) of a reduced scenario: innovation plus advertising, and imitation."""
    seg = data["segments"][0]
    p = -math.log1p(-seg["innovation"])
    for channel in data.get("channels", []):
        per_step = channel["budget"] / data["horizon"]
        exposures = per_step / channel["cost_per_contact"] / seg["size"]
        p += exposures * (1.0 - math.exp(-seg["attention"] * channel.get("impact", 1.0)))
    q = seg["word_of_mouth"] * seg["network"]["degree"]
    return p, q


@pytest.mark.parametrize("name", sorted(CASES))
def test_cumulative_adoption_follows_the_bass_curve(name):
    data = case_data(name)
    p, q = bass_rates(data)
    share, _, _ = adoption(data)
    steps = np.arange(1, data["horizon"] + 1)
    assert len(share) == data["horizon"]
    gap = np.abs(share - bass_curve(p, q, steps))
    worst = int(gap.argmax())
    assert gap.max() <= 0.02, (
        f"step {worst + 1}: simulated {share[worst]:.4f}, Bass {bass_curve(p, q, steps)[worst]:.4f}"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_step_adopts_at_the_bass_hazard_of_the_step_start_share(name):
    """One-step check, free of accumulated noise: given the realised share F at the start
    of a step, new adopters are binomial with chance 1 - (1 - innovation) exp(-q F)."""
    data = case_data(name)
    p, q = bass_rates(data)
    share, new, size = adoption(data)
    start = np.concatenate([[0.0], share[:-1]])
    at_risk = size * (1.0 - start)
    chance = 1.0 - np.exp(-(p + q * start))
    expected = at_risk * chance
    sd = np.sqrt(at_risk * chance * (1.0 - chance))
    z = (new - expected) / np.maximum(sd, 1.0)
    # Where the normal approximation holds (25 or more adopters expected), no step is
    # off by 5 sd, and the spread is binomial, neither damped nor inflated.
    big = expected >= 25
    assert big.sum() > 100
    assert np.abs(z[big]).max() < 5.0
    assert 0.8 < z[big].std() < 1.2
    assert abs(z[big].mean()) < 0.3
    # Summed over the run, the errors do not drift: within 4 sd of the total.
    total_sd = math.sqrt(float((sd**2).sum()))
    assert abs(float((new - expected).sum())) < 4.0 * total_sd + 1.0


def test_discrete_recurrence_lags_the_continuous_curve_by_under_a_hundredth():
    """The model's expected path F' = F + (1 - F)(1 - e^{-(p + qF)}) against Bass."""
    data = read_data(BASS)
    p, q = bass_rates(data)
    horizon = data["horizon"]
    f = np.zeros(horizon + 1)
    for t in range(1, horizon + 1):
        f[t] = f[t - 1] + (1.0 - f[t - 1]) * (1.0 - math.exp(-(p + q * f[t - 1])))
    gap = f[1:] - bass_curve(p, q, np.arange(1, horizon + 1))
    assert np.abs(gap).max() < 0.01
    # Word of mouth from the step-start share lags the continuous hazard, and the
    # recurrence is increasing in F, so the discrete path never runs ahead of Bass.
    assert gap.max() <= 1e-12
    # The lag is largest around the peak of adoption, t* = ln(q/p) / (p + q).
    peak = math.log(q / p) / (p + q)
    assert abs(int(gap.argmin()) + 1 - peak) < 0.25 * peak


def test_people_who_differ_only_in_form_dock_bit_for_bit_on_the_per_person_path():
    """Traits given as one-value mixes are drawn per person (the kernel's per-person path,
    not the homogeneous one), yet give exactly the homogeneous output: the Bass docking
    above holds on both paths, and the traits' path adds nothing where nobody differs."""
    plain = build(read_data(BASS))
    data = read_data(BASS)
    seg = data["segments"][0]
    one = {"dist": "mix", "values": [1.0], "weights": [1.0]}
    seg["traits"] = {
        "price_sensitivity": {**one, "values": [seg.get("price_sensitivity", 1.5)]},
        "purchase_rate": one,
        "word_of_mouth": one,
        "attitude": one,
    }
    differing = build(data)
    runs = {
        name: MarketModel(scenario, seed=scenario.seed, replicate=0)
        for name, scenario in (("plain", plain), ("differing", differing))
    }
    assert runs["plain"].population.traits.varied() == ()
    assert set(runs["differing"].population.traits.varied()) == set(seg["traits"])
    for model in runs.values():
        while model.running:
            model.step()
    pd.testing.assert_frame_equal(runs["plain"].ledger.frame(), runs["differing"].ledger.frame())
    for column in ("stage", "purchased_at", "purchases"):
        a, b = (getattr(model.population, column) for model in runs.values())
        np.testing.assert_array_equal(a, b)
