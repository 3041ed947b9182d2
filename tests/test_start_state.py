"""An established business at step 0: a segment's `start:` and a scenario's `burn_in:`."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, OPPORTUNITY, QUALIFIED
from marketsim.drivers.calibrate import calibrate
from marketsim.drivers.simulation import simulate
from marketsim.engine.model import MarketModel
from marketsim.kernels import reference
from marketsim.kernels import sales as K
from marketsim.plugins.prepare import scenario_from_text
from marketsim.scenario.calibration import CalibrateSpec
from marketsim.scenario.history import parse_history

B2C = """name: shop
horizon: 12
seed: 5
products:
  - {id: caps, price: 5.0, unit_cost: 2.0, repurchase_every: 4}
segments:
  - id: people
    size: 20000
    potential: 0.5
    churn: 0.01
    network: {type: random, degree: 6}
START
channels:
  - {id: tv, type: advertising, budget: 12000, cost_per_contact: 0.02}
"""

ESTABLISHED = """    start:
      aware: 0.3
      interested: 0.05
      leads: 0.02
      customers: 0.2
      last_purchase: {dist: gamma, mean: 3, shape: 2}
"""


def b2c(start: str = ESTABLISHED, **replace: str):
    text = B2C.replace("START\n", start)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return scenario_from_text(text, "s.yaml")


def frame(scenario, replicates: int = 1):
    return simulate(scenario, replicates=replicates).timeseries


# --------------------------------------------------------------------------- step 0


def test_the_step_0_funnel_matches_the_shares_within_sampling_error():
    model = MarketModel(b2c(), materialize_customers=False)
    n = model.population.size
    for stage, share in ((AWARE, 0.3), (INTERESTED, 0.05), (LEAD, 0.02), (CUSTOMER, 0.2)):
        got = int((model.population.stage == stage).sum())
        assert abs(got - share * n) < 4 * math.sqrt(n * share * (1 - share)), (stage, got)


def test_start_stages_are_the_reference_draws():
    model = MarketModel(b2c(), materialize_customers=False)
    shares = [0.2, 0.02, 0.05, 0.3]  # customers, leads, interested, aware
    codes = [CUSTOMER, LEAD, INTERESTED, AWARE]
    key = int(model.setup_key)
    expected = [reference.start_stage(key, i, shares, codes) for i in range(2000)]
    assert model.population.stage[:2000].tolist() == [0 if e is None else e for e in expected]


def test_existing_customers_are_dated_before_step_0_and_credited_to_no_channel():
    pop = MarketModel(b2c(), materialize_customers=False).population
    held = pop.stage == CUSTOMER
    assert (pop.product[held] == 0).all() and (pop.product[~held] == -1).all()
    since = -pop.purchased_at[held]
    assert since.min() >= 1 and 2.5 < since.mean() < 3.5  # gamma, mean 3, rounded
    assert (pop.first_touch[held] == -1).all() and (pop.last_touch[held] == -1).all()


def test_existing_customers_are_not_new_and_only_buy_again():
    quiet = "\n    ".join(
        ["innovation: 0.0", "interest: 0.0", "persuasion: 0.0", "word_of_mouth: 0.0", "churn: 0.01"]
    )
    df = frame(b2c("    start: {aware: 0.3, customers: 0.2}\n", **{"churn: 0.01": quiet}))
    assert (df["new_customers"] == 0).all()  # nobody can become a customer here
    first = df.iloc[0]
    assert 0.2 * 20000 * 0.95 < first["customers"] < 0.2 * 20000 * 1.02
    assert first["revenue"] == pytest.approx(5.0 * first["units"]) and first["units"] > 500
    balance = df["revenue"] - df["cost_of_goods"] - df["spend"] - df["commissions"]
    assert np.allclose(df["profit"], balance)


def test_an_established_business_sells_more_early_than_a_launch():
    established = frame(b2c(ESTABLISHED.replace("customers: 0.2", "customers: 0.3")))
    launch = frame(b2c(""))
    early = slice(0, 6)
    assert established["revenue"][early].sum() > 5 * launch["revenue"][early].sum()
    assert established["customers"].iloc[0] > 5000 > launch["customers"].iloc[-1]


def test_contribution_is_not_credited_with_the_existing_base():
    from marketsim.drivers.contribution import increments

    result = simulate(b2c(), replicates=2)
    tv = np.mean(increments(result)["tv"]["revenue"])
    revenue = result.timeseries["revenue"].sum() / 2
    assert 0 < tv < 0.3 * revenue  # the base's repeat purchases are not tv's


# --------------------------------------------------------------------------- burn-in

FLAT = """name: flat
horizon: HORIZON
seed: 9
products:
  - {id: caps, price: 5.0, unit_cost: 2.0, repurchase_every: 4}
segments:
  - id: people
    size: 20000
    initial_awareness: 0.05
    churn: 0.02
    network: {type: small_world, degree: 6}
channels:
  - {id: tv, type: advertising, budget: BUDGET, cost_per_contact: 0.02}
  - {id: search, type: inbound, budget: SEARCH, cost_per_contact: 0.5}
"""


def flat(horizon: int, burn_in: str = "") -> object:
    text = FLAT.replace("HORIZON", str(horizon)).replace("BUDGET", str(1000 * horizon))
    return scenario_from_text(text.replace("SEARCH", str(200 * horizon)) + burn_in, "f.yaml")


BURN_IN = "burn_in:\n  steps: 20\n  plan: {tv: 1000, search: 200}\n"


def test_a_burn_in_is_exactly_the_first_steps_of_a_longer_run():
    """Step t of a run after a 20-step burn-in is step 20 + t of the same market without.

    Exact, not within intervals: burn-in step k draws from the stream of step k, and step
    t after it from that of step 20 + t, and every state the model keeps is relative.
    """
    long = frame(flat(30)).drop(columns="step")
    after = frame(flat(10, BURN_IN))
    assert after["step"].tolist() == list(range(10))
    pd_long = long.iloc[20:].reset_index(drop=True)
    assert after.drop(columns="step").equals(pd_long)


def test_burn_in_costs_and_sales_stay_out_of_the_outputs():
    result = simulate(flat(10, BURN_IN.replace("tv: 1000", "tv: 50000")), replicates=1)
    df = result.timeseries
    assert df["spend_tv"].sum() == pytest.approx(10_000)  # the run's budget, not the past's
    assert df["customers"].iloc[0] > 5 * df["new_customers"].iloc[0] > 0
    model = MarketModel(flat(10, BURN_IN), materialize_customers=False)
    assert model.ledger.rows == [] and model.population.purchases.sum() == 0
    held = model.population.stage == CUSTOMER
    assert held.sum() > 100 and (model.population.last_touch[held] == -1).all()


def test_a_longer_burn_in_leaves_more_customers():
    short = frame(flat(4, BURN_IN.replace("20", "5")))
    long = frame(flat(4, BURN_IN))
    assert long["customers"].iloc[0] > 1.5 * short["customers"].iloc[0]


# --------------------------------------------------------------------------- b2b

B2B = """name: saas
horizon: 8
seed: 4
products:
  - {id: platform, price: 1000.0}
segments:
  - id: firms
    kind: b2b
    size: 2000
    buying_center: 3
    contract_length: 6
    renewal: RENEWAL
    start:
      contracts: 0.4
      REMAINING
      pipeline: {leads: 0.05, appointments: 0.03, opportunities: 0.02, proposals: 0.05}
sales:
  inside: {count: 2, calls_per_step: 20}
  outside: {count: 2, meetings_per_step: 10}
  cycle: {proposal_steps: 3}
"""


def b2b(renewal: float = 0.8, remaining: str = ""):
    text = B2B.replace("RENEWAL", str(renewal)).replace("REMAINING", remaining)
    return scenario_from_text(text, "b.yaml")


def test_accounts_start_under_contract_and_in_the_pipeline():
    model = MarketModel(b2b(), materialize_customers=False)
    acc, stage = model.sales.accounts, model.population.stage
    for code, share in ((CUSTOMER, 0.4), (LEAD, 0.05), (QUALIFIED, 0.03), (K.PROPOSAL, 0.05)):
        got = int((acc.stage == code).sum())
        assert abs(got - share * 2000) < 4 * math.sqrt(2000 * share), (code, got)
    for a in np.flatnonzero(acc.stage == K.PROPOSAL):
        members = stage[acc.first[a] : acc.first[a] + acc.size[a]]
        assert (members == OPPORTUNITY).all() and acc.owner[a] in (0, 1) and 0 <= acc.due[a] < 3
    held = acc.stage == CUSTOMER
    assert (acc.renew_at[held] >= 0).all() and (acc.renew_at[held] < 6).all()
    assert (acc.value[held] == 1000.0).all()


def test_running_contracts_renew_or_churn_at_their_terms():
    held = 0.4 * 2000
    kept = frame(b2b(1.0, "remaining: 2"))  # renewal x trust (1 at neutral reputation)
    assert kept["renewals"].tolist()[:3] == [0, 0, kept["renewals"].iloc[2]]
    assert abs(kept["renewals"].iloc[2] - held) < 4 * math.sqrt(held)
    assert kept["revenue"].iloc[2] >= 1000.0 * kept["renewals"].iloc[2]
    assert kept["new_customers"].iloc[0] <= kept["deals_won"].iloc[0]
    lost = frame(b2b(0.0, "remaining: 2"))
    assert lost["contracts_churned"].iloc[2] == kept["renewals"].iloc[2]
    assert lost["customers_accounts"].iloc[2] < lost["customers_accounts"].iloc[1] - held / 2
    spread = frame(b2b(1.0))  # by default due evenly over one contract length
    first = spread["renewals"].iloc[:6]
    assert first.sum() == kept["renewals"].iloc[2]
    assert first.min() > held / 6 * 0.6


def test_open_proposals_are_decided_within_the_proposal_steps():
    df = frame(b2b())
    decided = df["deals_won"].iloc[:3].sum() + df["deals_lost"].iloc[:3].sum()
    assert decided >= 0.05 * 2000 * 0.7


# --------------------------------------------------------------------------- determinism

RUN = """\
import hashlib, sys
import numba
from marketsim import simulate
from marketsim.plugins.prepare import load_scenario
result = simulate(load_scenario(sys.argv[1]), replicates=2)
csv = result.timeseries.to_csv(index=False).encode()
print(numba.get_num_threads(), hashlib.sha256(csv).hexdigest())
"""


def test_start_and_burn_in_are_identical_on_one_and_two_threads(tmp_path):
    text = (
        B2C.replace("START\n", ESTABLISHED).replace("size: 20000", "size: 40000")
        + "burn_in:\n  steps: 6\n  plan: {tv: 500}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text)
    out = []
    for threads in (1, 2):
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        done = subprocess.run(
            [sys.executable, "-c", RUN, str(path)], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        out.append(done.stdout.split())
    assert [o[0] for o in out] == ["1", "2"]
    assert out[0][1] == out[1][1]


# --------------------------------------------------------------------------- calibration


def test_calibration_recovers_a_starting_customer_share():
    truth = 0.25
    text = B2C.replace("START\n", "    start: {customers: CUSTOMERS}\n").replace(
        "size: 20000", "size: 3000"
    )
    known = scenario_from_text(text.replace("CUSTOMERS", str(truth)), "s.yaml")
    observed = simulate(known, replicates=4).timeseries.groupby("step").mean()
    rows = ["step,spend_tv,revenue,customers"]
    rows += [
        f"{t},1000,{observed['revenue'][t]:.2f},{observed['customers'][t]:.1f}" for t in range(12)
    ]
    guess = scenario_from_text(text.replace("CUSTOMERS", "0.1"), "s.yaml")
    history = parse_history("\n".join(rows) + "\n", "h.csv", guess)
    spec = CalibrateSpec.model_validate(
        {
            "parameters": [{"path": "segments.people.start.customers", "low": 0.02, "high": 0.6}],
            "trials": 16,
            "replicates": 1,
            "band_replicates": 2,
            "min_accepted": 3,
        }
    )
    record = calibrate(guess, history, spec, seed=11).record
    (found,) = record.parameters
    assert abs(found.estimate - truth) < 0.03, found
    assert found.low90 <= truth <= found.high90, found


# --------------------------------------------------------------------------- bad input

runner = CliRunner()
TWO = "    start: {aware: 0.2}\n    initial_awareness: 0.1\n"
B2B_CUSTOMERS = B2B.replace("contracts: 0.4", "customers: 0.4")


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            B2C.replace("START\n", ESTABLISHED.replace("aware: 0.3", "aware: 0.9")),
            "s.yaml:13:7: segments.people.start: ",
            ["summing to at most 1", "found 1.17"],
        ),
        (
            B2C.replace("START\n", ESTABLISHED.replace("customers: 0.2", "customers: -0.2")),
            "s.yaml:16:18: segments.people.start.customers: ",
            [">= 0", "-0.2"],
        ),
        (
            B2C.replace("START\n", TWO),
            "s.yaml:13:5: segments.people.initial_awareness: ",
            ["either", "start.aware", "0.1"],
        ),
        (
            B2C.replace("START\n", "") + "burn_in: {steps: -3}\n",
            "s.yaml:14:18: burn_in.steps: ",
            [">= 0", "-3"],
        ),
        (
            B2C.replace("START\n", "") + "burn_in:\n  steps: 3\n  plan: {tvv: 10}\n",
            "s.yaml:16:10: burn_in.plan.tvv: ",
            ["expected a channel id", "did you mean 'tv'"],
        ),
        (
            B2B_CUSTOMERS.replace("RENEWAL", "0.8").replace("REMAINING", ""),
            "s.yaml:14:7: segments.firms.start.customers: ",
            ["b2c segments only", "accounts under contract"],
        ),
        (
            B2B.replace("RENEWAL", "0.8")
            .replace("REMAINING", "")
            .replace("count: 2, m", "count: 0, m"),
            "s.yaml:16:",
            ["outside reps", "opportunities"],
        ),
    ],
    ids=[
        "shares-above-one",
        "negative",
        "both-awareness",
        "negative-steps",
        "unknown-channel",
        "customers-on-b2b",
        "no-outside-reps",
    ],
)
def test_bad_start_and_burn_in_are_located(text, where, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(text)
    done = runner.invoke(cli.app, ["validate", "s.yaml"])
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if line.startswith(where)]
    assert lines, done.output
    for word in words:
        assert word in lines[0], lines[0]
