"""Stylised facts of marketing that must emerge from people who differ, not from curves.

Each fact runs on a documented scenario (`tests/facts/*.yaml`, and the shipped
`scenarios/discount_targeting.yaml`) whose comments say what it isolates. Where two
settings are compared they run on common random numbers, replicate r of each drawing
from the same streams, so differences are paired.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from marketsim.drivers import metrics
from marketsim.drivers.compare import Strategy, compare
from marketsim.drivers.simulation import simulate
from marketsim.drivers.sweep import evaluate
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "tests" / "facts"


def final_model(path: Path, sets: list[str] | None = None, replicate: int = 0) -> MarketModel:
    """The model of `path` (with `--set` changes) stepped to its horizon."""
    scenario = load_scenario(path, sets or [])
    model = MarketModel(
        scenario, seed=scenario.seed, replicate=replicate, materialize_customers=False
    )
    while model.running:
        model.step()
    return model


# --------------------------------------------------------------------------- repeat buying


def nbd_chi_square(counts: np.ndarray) -> tuple[float, float]:
    """(p-value, k) of a chi-square test of `counts` against the NBD fitted by moments.

    k = mean^2 / (variance - mean); bins are merged from the left until each expects at
    least 5 people, the last bin takes the tail, and two fitted parameters cost two
    degrees of freedom.
    """
    mean, var = counts.mean(), counts.var(ddof=1)
    k = mean**2 / (var - mean)
    p = k / (k + mean)
    top = int(counts.max())
    expected = stats.nbinom.pmf(np.arange(top + 1), k, p) * counts.size
    expected[-1] += stats.nbinom.sf(top, k, p) * counts.size
    observed = np.bincount(counts, minlength=top + 1).astype(float)
    obs, exp, run_o, run_e = [], [], 0.0, 0.0
    for o, e in zip(observed, expected, strict=True):
        run_o, run_e = run_o + o, run_e + e
        if run_e >= 5.0:
            obs.append(run_o)
            exp.append(run_e)
            run_o = run_e = 0.0
    obs[-1] += run_o
    exp[-1] += run_e
    return float(stats.chisquare(obs, exp, ddof=2).pvalue), float(k)


def test_purchases_per_person_follow_a_negative_binomial_when_buying_rates_are_gamma():
    path = FACTS / "repeat_buying.yaml"
    heavy_and_light = final_model(path).population.purchases.astype(np.int64)
    alike = final_model(path, ["segments.buyers.traits.purchase_rate=1"])
    alike_counts = alike.population.purchases.astype(np.int64)
    # Both buy about 12 boxes a year on average (365 days at one box per 30).
    for counts in (heavy_and_light, alike_counts):
        assert 11.0 < counts.mean() < 13.0
    # Gamma rates of shape 2 spread purchases: variance / mean = 1 + mean / 2, about 7;
    # alike people buy nearly Poisson (a day's purchase is a Bernoulli draw, a little
    # under Poisson spread).
    spread = heavy_and_light.var(ddof=1) / heavy_and_light.mean()
    assert 5.5 < spread < 8.0
    assert 0.9 < alike_counts.var(ddof=1) / alike_counts.mean() < 1.05
    # The NBD fitted by moments is not rejected at 1%, and its k is the gamma's shape.
    p_value, k = nbd_chi_square(heavy_and_light)
    assert p_value > 0.01, f"chi-square rejects the NBD: p = {p_value:.4f}"
    assert 1.7 < k < 2.4


# --------------------------------------------------------------------------- frequency


def test_a_frequency_threshold_makes_the_budget_response_convex_then_concave():
    path = FACTS / "frequency_threshold.yaml"
    budgets = np.arange(0, 1401, 100)  # mean exposures budget / 200: 0 to 7 by 0.5
    scenarios = [load_scenario(path, [f"channels.tv.budget={b}"]) for b in budgets]
    runs = evaluate(scenarios, seed=scenarios[0].seed, replicates=5)
    customers = np.array([metrics.values(reps, "customers") for reps in runs])
    assert (np.diff(customers, axis=0) >= 0).all()  # more money never reaches fewer
    # Second differences per replicate, paired on common random numbers.
    second = customers[2:] - 2.0 * customers[1:-1] + customers[:-2]
    centre = budgets[1:-1] / 200.0
    mean = second.mean(axis=1)
    half = stats.t.ppf(0.995, second.shape[1] - 1) * second.std(axis=1, ddof=1)
    half /= np.sqrt(second.shape[1])
    # The inflection of P(Poisson(m) >= 3) is at m = 2. Tolerance: away from it (m <= 1
    # and m >= 3) every second difference's 99% interval lies on its side of zero.
    convex, concave = centre <= 1.0, centre >= 3.0
    assert (mean[convex] - half[convex] > 0).all(), (centre, mean, half)
    assert (mean[concave] + half[concave] < 0).all(), (centre, mean, half)
    # And the curve is the threshold's: P(Poisson(m) >= 3) of 20,000, times the chance
    # that three or more exposures make a person aware (at least 1 - e^-3).
    m = budgets / 200.0
    upper = 20000 * stats.poisson.sf(2, m)
    assert (customers.mean(axis=1) <= upper * 1.02 + 5).all()
    assert (customers.mean(axis=1) >= upper * (1 - np.exp(-3.0)) * 0.98 - 5).all()


# --------------------------------------------------------------------------- stockpiling


def units_by_step(sets: list[str], replicates: int = 3) -> np.ndarray:
    """[step, replicate] units of the stockpiling scenario with `sets`."""
    run = simulate(load_scenario(FACTS / "stockpiling.yaml", sets), replicates=replicates)
    return run.timeseries.pivot(index="step", columns="replicate", values="units").to_numpy()


def test_the_post_promotion_dip_is_the_stock_bought_in_the_promotion():
    base = units_by_step(["channels.promo.enabled=false"])
    assert base[25:30].mean() == pytest.approx(20000 / 4.5, rel=0.05)  # steady buying
    pulled, dips = {}, {}
    for depth in (0.2, 0.4):
        extra = units_by_step([f"channels.promo.discount={depth}"]) - base
        assert (extra[:30] == 0).all()  # the same streams until the promotion starts
        pulled[depth] = extra[30:32].sum(axis=0).mean()  # boxes bought in the window
        dips[depth] = -extra[32:].sum(axis=0).mean()  # boxes not bought afterwards
        # Each buyer in the window takes stockpile x depth extra boxes on average.
        assert pulled[depth] == pytest.approx(2 * depth * base[30:32].sum(0).mean(), rel=0.15)
        # Tolerance +-25%: every extra box lasts 4 weeks, and a gap between purchases
        # averages 4.5, so a box stocked displaces about 4 / 4.5 = 0.89 later purchases.
        assert dips[depth] == pytest.approx(pulled[depth], rel=0.25)
        assert dips[depth] / pulled[depth] == pytest.approx(4 / 4.5, abs=0.05)
    # Twice the discount, twice the stock, twice the dip: proportional, not fixed.
    assert dips[0.4] / dips[0.2] == pytest.approx(pulled[0.4] / pulled[0.2], rel=0.1)
    assert dips[0.4] / dips[0.2] == pytest.approx(2.0, rel=0.25)


# --------------------------------------------------------------------------- media habits


def test_two_channels_with_equal_budgets_reach_different_people_by_their_habits():
    model = final_model(FACTS / "media_habits.yaml")
    people, groups = model.population, model.media.media
    heavy = {m: people.traits.habit[:, people.traits.media.index(m)] > 1.0 for m in groups}
    reached = {m: people.ad_memory[:, 1 + groups.index(m)] > 0 for m in groups}
    assert abs(reached["tv"].mean() - reached["social"].mean()) < 0.02  # the same reach
    for medium, other in (("tv", "social"), ("social", "tv")):
        # A channel reaches a heavy user of its medium as a Poisson(1.8 x 0.5) would,
        # a light one as Poisson(0.2 x 0.5): 59% against 10%.
        assert reached[medium][heavy[medium]].mean() == pytest.approx(1 - np.exp(-0.9), abs=0.02)
        assert reached[medium][~heavy[medium]].mean() == pytest.approx(1 - np.exp(-0.1), abs=0.02)
        # So 86% of the people it reaches are heavy users of its medium, and half are
        # heavy users of the other: the two channels reach different people.
        assert heavy[medium][reached[medium]].mean() == pytest.approx(0.862, abs=0.02)
        assert heavy[medium][reached[other]].mean() == pytest.approx(0.5, abs=0.03)


# --------------------------------------------------------------------------- targeting


def test_a_discount_pays_with_deal_seekers_and_wastes_margin_on_the_loyal():
    path = ROOT / "scenarios" / "discount_targeting.yaml"
    off = "channels.{}.enabled=false"
    strategies = [
        Strategy(name, str(path), load_scenario(path, sets))
        for name, sets in (
            ("no coupon", [off.format("app_coupon"), off.format("store_coupon")]),
            ("app coupon", [off.format("store_coupon")]),
            ("store coupon", [off.format("app_coupon")]),
        )
    ]
    comparison = compare(strategies, replicates=10)
    profit = {d.strategy: d for d in comparison.record.differences if d.metric == "profit"}
    app, store = profit["app coupon"], profit["store coupon"]
    coupons = ("app_coupon", "store_coupon")
    given = {  # the margin each coupon gives away on the cartons it discounts
        channel: result.summary.by_channel[channel].discount_cost.mean
        for channel, result in zip(coupons, comparison.results[1:], strict=True)
    }
    # Where 80% are deal-seekers the coupon raises profit; where 80% are loyal it lowers
    # it: both paired 95% intervals exclude zero.
    assert app.ci95_low > 0, app
    assert store.ci95_high < 0, store
    # Rough size: the app coupon earns back its 500 of fixed costs and a fifth or more of
    # the discount it gives away; the store coupon loses more than half of what it gives
    # away (most of the cartons it discounts would have sold at full price), but no more
    # than that and its fixed costs.
    assert app.mean > 0.2 * given["app_coupon"]
    assert 0.5 * given["store_coupon"] < -store.mean < given["store_coupon"] + 500
