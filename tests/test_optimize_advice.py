"""The optimiser explains itself and honours constraints: ranges, convergence, budget size,
side effects, profit+equity, and constraints no plan can meet refused with the shortfall."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from marketsim import cli
from marketsim.drivers.optimize import InfeasibleError, Space
from marketsim.drivers.optimize.analysis import Margins, convergence, sizing
from marketsim.drivers.optimize.runner import question_for
from marketsim.drivers.optimize.space import BudgetVar
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario.schema import OptimizeSpec

ROOT = Path(__file__).resolve().parent.parent
B2B = ROOT / "tests" / "contract" / "minimal-b2b.yaml"
B2C = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
runner = CliRunner()

SMALL_B2B = ["segments.midmarket.size=300", "horizon=13", "segments.midmarket.contract_length=4"]
SMALL_B2C = ["segments.consumers.size=3000", "horizon=10"]


def _spec(**data) -> OptimizeSpec:
    return OptimizeSpec.model_validate(data)


def _write(tmp_path: Path, source: Path, optimize: dict, sets: list[str]) -> Path:
    data = yaml.safe_load(source.read_text())
    for item in sets:
        path, value = item.split("=")
        *head, last = path.split(".")
        node = data
        for key in head:
            node = next(x for x in node if x["id"] == key) if isinstance(node, list) else node[key]
        node[last] = yaml.safe_load(value)
    data["optimize"] = optimize
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --------------------------------------------------------------------------- ranges up front


def test_headcount_is_capped_at_what_the_total_affords_and_said_up_front():
    scenario = load_scenario(B2B)
    spec = _spec(
        total_budget=400000,
        bounds={"webinars": {"min": 20000}},
        headcount={"outside": {"min": 1, "max": 12}},
        constraints={"min_share": {"trade_press": 0.1}},
    )
    space = Space.build(scenario, spec)
    (team,) = space.teams
    assert team.unit_cost == 3000 * 26
    # 400,000 - 20,000 - 40,000 (10% share) leaves 340,000: 4 reps of 78,000
    assert team.high == 4 and team.asked == 12
    assert space.distributions()["headcount.outside"].high == 4
    (note,) = [r.note for r in space.ranges() if r.note]
    assert note.startswith("at most 4 outside reps fit after the channel minimums")
    plan = space.decode({"headcount.outside": 4, "split.webinars": 0.9})
    assert plan.trimmed == ()
    assert plan.decision["headcount.outside"] == 4
    press = plan.values["channels.trade_press.budget"]
    assert press >= 40000 - 1e-6  # the minimum share is a floor
    money = plan.values["channels.webinars.budget"] + press
    assert money + 4 * team.unit_cost == pytest.approx(400000)
    assert money % 100 == pytest.approx(0)  # rounded to the currency step


def test_a_minimum_share_above_an_upper_bound_names_both_and_the_excess():
    scenario = load_scenario(B2B)
    spec = _spec(
        total_budget=100000,
        bounds={"trade_press": {"max": 20000}},
        constraints={"min_share": {"trade_press": 0.3}},
    )
    with pytest.raises(InfeasibleError) as e:
        Space.build(scenario, spec)
    message = str(e.value)
    assert "optimize.constraints.min_share.trade_press" in message
    assert "30,000" in message and "20,000" in message and "by 10,000" in message


def test_profit_and_equity_needs_a_scenario_that_can_have_equity():
    with pytest.raises(Exception, match="cannot have customer equity"):
        question_for(load_scenario(B2C), _spec(objective="profit+equity"), 1)
    question = question_for(load_scenario(B2B), _spec(objective="profit+equity"), 1)
    assert question.objective == "profit+equity"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("constraints", "expected"),
    [
        ({"min_customers": {"accounts": 5000}}, "expected at most 2,000"),
        ({"min_share": {"webinars": 0.7, "trade_press": 0.5}}, "20.0 percentage points too many"),
        ({"min_customers": {"midmarkt": 3}}, "did you mean 'midmarket'"),
        ({"max_cost_per_acquisition": {"consumers": 10}}, "expected a kind of customer"),
    ],
)
def test_constraints_no_plan_can_meet_are_located_errors(tmp_path, constraints, expected):
    path = _write(tmp_path, B2B, {"constraints": constraints}, [])
    out = tmp_path / "out"
    result = runner.invoke(cli.app, ["optimize", str(path), "--trials", "2", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{path}:" in result.output and "optimize.constraints." in result.output
    assert expected in result.output
    assert not out.exists()


def test_an_outcome_constraint_no_trial_met_fails_with_the_shortfall_and_writes_nothing(
    tmp_path,
):
    optimize = {"constraints": {"min_customers": {"consumers": 2900}}, "curve_points": 0}
    path = _write(tmp_path, B2C, optimize, ["segments.consumers.size=3000", "horizon=6"])
    out = tmp_path / "out"
    args = ["optimize", str(path), "--trials", "3", "--reevaluate", "2", "-o", str(out)]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 2, result.output
    assert "no plan found meets the constraints" in result.output
    assert "optimize.constraints.min_customers.consumers" in result.output
    assert "short by" in result.output
    assert not out.exists()


# --------------------------------------------------------------------------- explanations


def test_convergence_and_budget_size_from_the_margins():
    space = Space(300.0, (BudgetVar("a", 0, None), BudgetVar("b", 0, None), BudgetVar("c", 0, 100)))

    class Q:  # the parts of a question the checks read
        pass

    q = Q()
    q.space = space
    budgets = {"a": 100.0, "b": 100.0, "c": 100.0}  # c sits at its upper bound
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, 10)
    unequal = Margins(
        budgets,
        10.0,
        slope={"a": 0.8 + noise, "b": 0.2 + noise, "c": 5.0 + noise},
        profit={"a": 0.8 + noise, "b": 0.2 + noise, "c": 5.0 + noise},
        curvature={"a": np.full(10, -0.01), "b": np.full(10, -0.002), "c": np.full(10, -0.1)},
    )
    found = convergence(q, unequal)
    assert found.free == ["a", "b"]  # c's bound binds: its higher return is no sign
    assert found.converged is False and (found.highest, found.lowest) == ("a", "b")
    assert found.message.startswith("not converged: run more trials")
    size = sizing(unequal)
    assert size.too_small
    assert size.extra == pytest.approx(0.8 / 0.01 + 0.2 / 0.002 + 5.0 / 0.1, rel=0.02)
    assert "about" in size.message

    equal = Margins(
        budgets,
        10.0,
        slope={k: 0.5 + rng.normal(0, 0.3, 10) for k in budgets},
        profit={k: -0.5 + rng.normal(0, 0.01, 10) for k in budgets},
        curvature={k: np.full(10, math.nan) for k in budgets},
    )
    assert convergence(q, equal).converged is True
    size = sizing(equal)
    assert not size.too_small and "less profit than cost" in size.message


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A small optimisation of field reps and two channels for profit+equity."""
    tmp = tmp_path_factory.mktemp("advice")
    optimize = {
        "objective": "profit+equity",
        "total_budget": 300000,
        "headcount": {"outside": {"min": 1, "max": 10}},
        "constraints": {"min_share": {"trade_press": 0.05}},
        "curve_points": 3,
        "reevaluate": 4,
    }
    path = _write(tmp, B2B, optimize, SMALL_B2B)
    out = tmp / "out"
    result = runner.invoke(cli.app, ["optimize", str(path), "--trials", "8", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_summary_explains_ranges_convergence_size_and_side_effects(finished):
    out, output = finished
    summary = json.loads((out / "summary.json").read_text())
    e = summary["explanation"]
    ranges = {r["decision"]: r for r in e["ranges"]}
    unit = 3000 * 13
    assert ranges["headcount.outside"]["most"] == math.floor((300000 - 15000) / unit)
    assert "outside reps fit" in ranges["headcount.outside"]["note"]
    assert "at most 7 outside reps fit" in output
    assert e["trimmed"] == 0
    assert e["convergence"]["message"].split(":")[0] in (
        "converged",
        "not converged",
        "convergence not checked",
    )
    assert e["sizing"]["message"]
    labels = {x["label"] for x in e["side_effects"]}
    assert {"customers (accounts)", "customer equity", "customers in midmarket"} <= labels
    assert "profit" in labels  # profit+equity's parts are side effects too
    best = summary["best"]["decision"]
    assert e["cost"]["headcount.outside"] == best["headcount.outside"] * unit


def test_best_yaml_and_plan_files_hold_the_rounded_budgets(finished):
    out, _ = finished
    best = yaml.safe_load((out / "best.yaml").read_text())
    budgets = {c["id"]: c["budget"] for c in best["channels"]}
    assert all(b % 100 == 0 for b in budgets.values()), budgets
    reps = best["sales"]["outside"]["count"]
    assert sum(budgets.values()) + reps * 3000 * 13 == pytest.approx(300000)
    plan = pd.read_csv(out / "plan.csv")
    months = plan[plan["table"] == "months"]
    for cid, budget in budgets.items():
        assert abs(months[f"budget_{cid}"].sum() - budget) <= 0.5
    assert (plan["headcount_outside"] == reps).all()
    assert (out / "plan.xlsx").stat().st_size > 4000


def test_response_curves_are_paired_differences_from_the_chosen_point(finished):
    out, _ = finished
    curves = pd.read_csv(out / "curves.csv")
    metric = "profit+equity"
    chosen = curves[curves["chosen"]]
    assert (chosen[f"{metric}_diff_mean"] == 0).all()
    others = curves[~curves["chosen"]]
    assert others[f"{metric}_diff_ci95_low"].notna().all()
    # paired: the band of a difference is narrower than the spread of the level
    spread = (others["profit_ci95_high"] - others["profit_ci95_low"]).mean()
    band = (others[f"{metric}_diff_ci95_high"] - others[f"{metric}_diff_ci95_low"]).mean()
    assert band < spread
    page = (out / "optimization.html").read_text()
    for title in ("What fits the budget", "Is the answer settled?", "Side effects against"):
        assert title in page
    assert "current plan" in page
