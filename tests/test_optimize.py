"""Budget optimisation: decision variables, risk measures, studies, outputs and bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from marketsim import cli
from marketsim.drivers.optimize import InfeasibleError, Risk, Space, StudyError
from marketsim.drivers.optimize.space import BudgetVar, FlightVar, TeamVar
from marketsim.drivers.simulation import run_replicate
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario, scenario_from_text
from marketsim.scenario import ScenarioError
from marketsim.scenario.paths import with_values
from marketsim.scenario.schema import OptimizeSpec

ROOT = Path(__file__).resolve().parent.parent
TWO = ROOT / "tests" / "contract" / "two-segments.yaml"
TINY = ["segments.young.size=1500", "segments.senior.size=1000"]
TINY_SET = [a for s in TINY for a in ("--set", s)]
FAST = ["--replicates", "1", "--reevaluate", "2", "--candidates", "2", "--curve-points", "2", "-q"]

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args])


def scenario_with_optimize(tmp_path: Path, section: str, name: str = "plan.yaml") -> Path:
    path = tmp_path / name
    path.write_text(TWO.read_text() + "\n" + section, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the split


def space(*bounds: tuple[float, float | None], total: float = 100.0) -> Space:
    budgets = tuple(BudgetVar(f"c{i}", lo, hi) for i, (lo, hi) in enumerate(bounds))
    return Space(total, budgets)


@pytest.mark.parametrize(
    "bounds",
    [
        [(0, None), (0, None), (0, None)],
        [(10, 30), (0, None), (5, 60)],
        [(0, 50), (0, 50), (0, 50)],
        [(20, 20), (0, 90), (0, 100)],
        [(0, None)],
    ],
)
def test_every_split_is_feasible_and_spends_the_total_exactly(bounds):
    sp = space(*bounds)
    rng = np.random.default_rng(1)
    for x in [
        *rng.random((300, len(bounds) - 1)),
        np.zeros(len(bounds) - 1),
        np.ones(len(bounds) - 1),
    ]:
        split = sp.split(100.0, list(x))
        assert math.isclose(sum(split), 100.0, rel_tol=1e-12)
        for value, (lo, hi) in zip(split, bounds, strict=True):
            assert value >= lo - 1e-9
            assert hi is None or value <= hi + 1e-9


def test_the_split_inverts_so_a_plan_can_be_enqueued():
    sp = space((10, 30), (0, None), (5, 60))
    rng = np.random.default_rng(2)
    for x in rng.random((100, 2)):
        split = sp.split(100.0, list(x))
        again = sp.split(100.0, sp.fractions(100.0, split))
        np.testing.assert_allclose(again, split, atol=1e-9)


def test_without_bounds_no_channel_is_favoured_by_its_position():
    sp = space((0, None), (0, None), (0, None), (0, None))
    rng = np.random.default_rng(3)
    shares = np.array([sp.split(1.0, list(x)) for x in rng.random((4000, 3))])
    np.testing.assert_allclose(shares.mean(axis=0), 0.25, atol=0.015)


def test_total_below_the_lower_bounds_is_refused_with_the_numbers():
    with pytest.raises(InfeasibleError, match=r"total budget 100 is below .* 120"):
        space((60, None), (60, None)).check()


def test_upper_bounds_that_cannot_absorb_the_total_are_refused():
    with pytest.raises(InfeasibleError, match="exclude every feasible split"):
        space((0, 30), (0, 40)).check()


def test_headcount_is_paid_from_the_total_and_cut_to_fit():
    sp = Space(
        1000.0,
        (BudgetVar("a", 100, None), BudgetVar("b", 0, None)),
        teams=(TeamVar("inside", 0, 10, 200.0, 2),),
    )
    plan = sp.decode({"headcount.inside": 10, "split.a": 0.5})
    assert plan.decision["headcount.inside"] == 4  # 900 left above a's minimum: 4 reps
    money = plan.values["channels.a.budget"] + plan.values["channels.b.budget"]
    assert math.isclose(money + 4 * 200.0, 1000.0)
    assert plan.values["sales.inside.tenured"] == 2  # the two beyond the scenario's ramp


def test_reps_a_plan_adds_are_new_hires_who_ramp():
    scenario = load_scenario(
        ROOT / "scenarios" / "b2b_saas.yaml",
        ["sales.outside.ramp_steps=10"],
    )
    spec = OptimizeSpec.model_validate({"headcount": {"outside": {"min": 0, "max": 8}}})
    sp = Space.build(scenario, spec)
    params = sp.baseline_params(scenario) | {"headcount.outside": 6}
    plan = sp.decode(params)
    model = MarketModel(with_values(scenario, plan.values))
    model.step()
    reps = model.sales.outside
    tenured = scenario.sales.outside.count
    assert len(reps) == plan.decision["headcount.outside"] > tenured
    assert all(rep.available == rep.capacity for rep in reps[:tenured])
    assert all(rep.available == rep.capacity // 10 for rep in reps[tenured:])


def test_flighting_weights_fill_the_window_and_pulsing_skips_steps():
    sp = Space(100.0, (BudgetVar("a", 0, None),), horizon=8)
    flight = FlightVar("a", 2, True, 2, 6)
    assert sp.schedule(flight, [1.0, 0.5], False) == [0, 0, 1, 1, 0.5, 0.5, 0, 0]
    assert sp.schedule(flight, [1.0, 0.5], True) == [0, 0, 2, 0, 1, 0, 0, 0]
    assert sp.schedule(flight, [0.0, 0.0], False) == [0, 0, 1, 1, 1, 1, 0, 0]


def test_space_from_a_scenario_defaults_to_every_budgeted_channel_at_its_total():
    scenario = load_scenario(TWO, TINY)
    sp = Space.build(scenario, OptimizeSpec())
    assert [b.channel for b in sp.budgets] == ["social", "print"]
    assert sp.total == 120000
    params = sp.baseline_params(scenario)
    plan = sp.decode(params)
    assert plan.decision == {"budget.social": 60000.0, "budget.print": 60000.0}


# --------------------------------------------------------------------------- risk


def test_risk_measures():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert Risk.parse("mean")(values) == 4.0
    assert Risk.parse("cvar:0.2")(values) == 1.0
    assert Risk.parse("cvar:0.4")(values) == 1.5
    assert Risk.parse("quantile:0.25")(values) == 2.0
    for bad in ("cvar", "cvar:0", "cvar:1.5", "quantile:x", "max"):
        with pytest.raises(ValueError, match="expected 'mean'"):
            Risk.parse(bad)


# --------------------------------------------------------------------------- the section


SECTION = """\
optimize:
  objective: profit
  total_budget: 100000
  trials: 5
  bounds:
    social: {min: 10000, max: 90000}
    print: {min: 10000}
"""


def test_optimize_section_loads_and_the_run_ignores_it(tmp_path):
    path = scenario_with_optimize(tmp_path, SECTION)
    scenario = load_scenario(path, TINY)
    assert scenario.optimize.bounds["social"].max == 90000
    assert run_replicate(scenario, 0, 0).ledger.frame()["spend"].sum() == pytest.approx(120000)


def test_unknown_channel_in_bounds_is_located_with_did_you_mean(tmp_path):
    path = scenario_with_optimize(tmp_path, SECTION.replace("    social:", "    socail:"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    (problem,) = e.value.problems
    line = path.read_text().splitlines().index("    socail: {min: 10000, max: 90000}") + 1
    assert (problem.line, problem.col) == (line, 13)
    assert problem.path == "optimize.bounds.socail"
    assert "did you mean 'social'?" in problem.message


def test_section_cross_checks():
    text = TWO.read_text() + (
        "optimize:\n  promotions: [{channel: print, discount: {min: 0.1, max: 0.2}}]\n"
        "  headcount: {inside: {max: 3}}\n  flighting: [{channel: tv}]\n  risk: cvar:2\n"
    )
    with pytest.raises(ScenarioError) as e:
        scenario_from_text(text)
    messages = str(e.value)
    assert "risk: expected 'mean', 'cvar:ALPHA'" in messages
    text = text.replace("  risk: cvar:2\n", "")
    with pytest.raises(ScenarioError) as e:
        scenario_from_text(text)
    messages = [p.message for p in e.value.problems]
    assert any("expected a promotion channel, found 'print'" in m for m in messages)
    assert any("expected a `sales:` section" in m for m in messages)
    assert any("expected a channel id" in m for m in messages)


# --------------------------------------------------------------------------- the command


def test_optimize_writes_every_output_and_best_yaml_runs(tmp_path):
    out = tmp_path / "opt"
    result = invoke("optimize", TWO, *TINY_SET, "--trials", 6, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"best.yaml", "trials.csv", "summary.json", "optimization.html", "study.db"} <= names
    summary = json.loads((out / "summary.json").read_text())
    best = summary["best"]
    assert math.isclose(sum(best["budgets"].values()), 120000, rel_tol=1e-9)
    assert set(best["objective"]) == {"mean", "std", "ci95_low", "ci95_high"}
    assert summary["reevaluation"]["seed"] != summary["search"]["seed"]
    assert summary["trials"]["complete"] == 6
    # the scenario's own plan competes in the re-evaluation: the best is never worse
    assert 0 in [c["trial"] for c in summary["candidates"]]
    assert summary["uplift"]["absolute"]["mean"] >= 0
    for stats in summary["marginal_roi"].values():
        assert stats["mean"] is not None
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 6 and trials["baseline"].iloc[0]
    assert {"objective", "mean", "ci95_low", "ci95_high", "budget.social", "budget.print"} <= set(
        trials.columns
    )
    assert "<html" in (out / "optimization.html").read_text()[:200]
    run = invoke("run", out / "best.yaml", *TINY_SET, "--out", tmp_path / "run", "-q")
    assert run.exit_code == 0, run.output
    spent = json.loads((tmp_path / "run" / "summary.json").read_text())["metrics"]["spend"]["mean"]
    assert spent == pytest.approx(120000)
    # the study is openable as any Optuna study (what optuna-dashboard does)
    study = optuna.load_study(study_name="two-segments", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 6


def test_one_worker_with_a_seed_is_reproducible(tmp_path):
    frames = []
    for name in ("a", "b"):
        out = tmp_path / name
        args = ("--trials", 8, "--sampler", "tpe", "--seed", 11, "--curve-points", 0)
        result = invoke("optimize", TWO, *TINY_SET, *args, "--out", out, *FAST)
        assert result.exit_code == 0, result.output
        frames.append(pd.read_csv(out / "trials.csv").drop(columns="seconds"))
    pd.testing.assert_frame_equal(*frames)


def test_two_workers_share_a_journal_and_every_trial_is_deterministic(tmp_path):
    out = tmp_path / "opt"
    result = invoke("optimize", TWO, *TINY_SET, "--trials", 6, "--workers", 2, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert (out / "study.journal").exists()
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["state"] == "complete").sum() == 6
    scenario = load_scenario(TWO, TINY)
    for _, row in trials.iloc[:3].iterrows():  # the workers' numbers, redone in this process
        changed = {
            "channels.social.budget": row["budget.social"],
            "channels.print.budget": row["budget.print"],
        }
        from marketsim.scenario.paths import with_values

        total = (
            run_replicate(with_values(scenario, changed), scenario.seed, 0)
            .ledger.frame()["revenue"]
            .sum()
        )
        assert total == row["objective"]


def test_pareto_front_against_spend(tmp_path):
    out = tmp_path / "opt"
    args = ("--trials", 8, "--pareto", "spend", "--sampler", "nsga2")
    result = invoke("optimize", TWO, *TINY_SET, *args, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    trials = pd.read_csv(out / "trials.csv")
    front = trials[trials["pareto"]]
    assert len(front) >= 1
    for _, a in front.iterrows():  # nobody on the front is dominated
        better = (trials["objective"] >= a["objective"]) & (
            trials["objective_2"] <= a["objective_2"]
        )
        strictly = (trials["objective"] > a["objective"]) | (
            trials["objective_2"] < a["objective_2"]
        )
        assert not (better & strictly).any()
    assert "Pareto front" in (out / "optimization.html").read_text()


def test_pareto_front_of_mean_against_risk_in_a_sqlite_url_storage(tmp_path):
    out = tmp_path / "opt"
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    args = ("--trials", 4, "--pareto", "risk", "--storage", url, "--study-name", "q1")
    result = invoke("optimize", TWO, *TINY_SET, *args, "--out", out, *FAST, "--replicates", 3)
    assert result.exit_code == 0, result.output
    assert not (out / "study.db").exists()  # the study lives where --storage says
    study = optuna.load_study(study_name="q1", storage=url)
    assert len(study.directions) == 2 and len(study.trials) == 4
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["objective_2"] <= trials["objective"] + 1e-9).all()  # cvar <= mean


@pytest.mark.parametrize("sampler", ["random", "nsga2", "cmaes", "gp"])
def test_every_sampler_runs_a_study(tmp_path, sampler):
    if sampler == "cmaes":
        pytest.importorskip("cmaes")
    if sampler == "gp":
        pytest.importorskip("torch")
    out = tmp_path / "opt"
    args = ("--trials", 3, "--sampler", sampler, "--curve-points", 0)
    result = invoke("optimize", TWO, *TINY_SET, *args, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert (pd.read_csv(out / "trials.csv")["state"] == "complete").sum() == 3


def test_timeout_stops_starting_trials_and_still_reports(tmp_path):
    out = tmp_path / "opt"
    result = invoke(
        "optimize", TWO, *TINY_SET, "--trials", 500, "--timeout", 3, "--out", out, *FAST
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert 1 <= summary["trials"]["complete"] < 500


def test_cvar_objective_is_below_the_mean(tmp_path):
    out = tmp_path / "opt"
    args = ("--trials", 3, "--risk", "cvar:0.3", "--replicates", 3)
    result = invoke("optimize", TWO, *TINY_SET, "--out", out, *FAST, *args)
    assert result.exit_code == 0, result.output
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["objective"] <= trials["mean"] + 1e-9).all()


def test_headcount_flighting_and_promotion_choices(tmp_path):
    text = (ROOT / "tests" / "contract" / "minimal-b2b.yaml").read_text()
    data = yaml.safe_load(text)
    channels = [c["id"] for c in data["channels"]]
    data["channels"].append(
        {"id": "sale", "type": "promotion", "budget": 500, "start": 2, "end": 5}
    )
    data["sales"]["inside"]["cost_per_step"] = data["sales"]["inside"].get("cost_per_step") or 100
    data["optimize"] = {
        "headcount": {"inside": {"min": 0, "max": 4}},
        "flighting": [{"channel": channels[0], "periods": 2, "pulsing": True}],
        "promotions": [
            {"channel": "sale", "discount": {"min": 0.1, "max": 0.3}, "start": {"max": 6}}
        ],
        "trials": 4,
    }
    path = tmp_path / "b2b.yaml"
    path.write_text(yaml.safe_dump(data))
    segment = data["segments"][0]["id"]
    out = tmp_path / "opt"
    result = invoke("optimize", path, "--set", f"segments.{segment}.size=100", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    trials = pd.read_csv(out / "trials.csv")
    for column in (
        "headcount.inside",
        f"weight.{channels[0]}.1",
        f"pulse.{channels[0]}",
        "discount.sale",
        "start.sale",
    ):
        assert column in trials.columns
    summary = json.loads((out / "summary.json").read_text())
    planned = summary["best"]["planned_spend"]
    assert planned == pytest.approx(summary["total_budget"])
    best = load_scenario(out / "best.yaml")
    assert best.sales.inside.count == summary["best"]["decision"]["headcount.inside"]


def test_python_api_answers_the_same_question():
    from marketsim.drivers.optimize import optimize

    scenario = load_scenario(TWO, TINY)
    spec = OptimizeSpec(trials=3, replicates=1, reevaluate=2, curve_points=0, candidates=1)
    outcome = optimize(scenario, spec)
    assert len(outcome.trials) == 3
    assert sum(c.budget for c in outcome.best.channels) == pytest.approx(120000)


# --------------------------------------------------------------------------- bad input


def assert_refused(result, out: Path, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    for needle in needles:
        assert needle in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--trials", 0), "--trials: expected an integer >= 1, found 0"),
        (("--trials", -3), "--trials: expected an integer >= 1, found -3"),
        (
            ("--total-budget", 1000, "--set", "optimize={bounds: {social: {min: 5000}}}"),
            "below the sum",
        ),
        (("--set", "optimize={bounds: {social: {max: 10}, print: {max: 10}}}"), "exclude every"),
        (("--set", "optimize={bounds: {socal: {min: 0}}}"), "did you mean 'social'?"),
        (
            ("--objective", "margin"),
            "--objective: expected 'revenue', 'profit', 'roi' or 'profit+equity'",
        ),
        (("--sampler", "cmaes", "--pareto", "spend"), "CMA-ES optimises one objective"),
        (("--storage", "sqlite:////nonexistent/dir/study.db"), "cannot open the study storage"),
        (("--storage", "postgresql://user:secret@127.0.0.1:9/db"), "cannot open the study storage"),
        (("--resume",), "no study"),
    ],
)
def test_bad_input_exits_2_and_creates_nothing(tmp_path, args, needle):
    out = tmp_path / "opt"
    result = invoke("optimize", TWO, *TINY_SET, *args, "--out", out, *FAST)
    assert_refused(result, out, needle)
    assert "secret" not in result.output


def test_a_study_with_different_variables_is_refused_and_kept(tmp_path):
    journal = tmp_path / "shared.journal"
    first = invoke(
        "optimize",
        TWO,
        *TINY_SET,
        "--trials",
        3,
        "--storage",
        journal,
        "--out",
        tmp_path / "a",
        *FAST,
    )
    assert first.exit_code == 0, first.output
    before = journal.read_bytes()
    again = invoke(
        "optimize",
        TWO,
        *TINY_SET,
        "--trials",
        3,
        "--storage",
        journal,
        "--out",
        tmp_path / "b",
        *FAST,
    )
    assert_refused(again, tmp_path / "b", "already exists", "--resume")
    other = ("--total-budget", 90000, "--resume")
    mixed = invoke(
        "optimize",
        TWO,
        *TINY_SET,
        "--trials",
        5,
        "--storage",
        journal,
        "--out",
        tmp_path / "c",
        *other,
        *FAST,
    )
    assert_refused(mixed, tmp_path / "c", "different variables", "total_budget")
    assert journal.read_bytes() == before
    more = invoke(
        "optimize",
        TWO,
        *TINY_SET,
        "--trials",
        5,
        "--storage",
        journal,
        "--out",
        tmp_path / "d",
        "--resume",
        *FAST,
    )
    assert more.exit_code == 0, more.output
    assert len(pd.read_csv(tmp_path / "d" / "trials.csv")) == 5


def test_a_non_empty_output_directory_needs_resume_or_force(tmp_path):
    out = tmp_path / "opt"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = invoke("optimize", TWO, *TINY_SET, "--trials", 2, "--out", out, *FAST)
    assert result.exit_code == 2 and "--resume" in result.output
    assert (out / "notes.txt").read_text() == "mine"


def test_study_errors_are_exceptions_with_the_storage_named():
    with pytest.raises(StudyError, match="nowhere"):
        from marketsim.drivers.optimize import Storage

        Storage("sqlite:////nowhere/at/all.db").open()
