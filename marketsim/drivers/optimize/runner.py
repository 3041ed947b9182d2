"""The whole budget question: search, re-evaluate, measure, and gather the outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from marketsim.core.errors import InputError
from marketsim.drivers.equity import can_have_equity
from marketsim.drivers.execution import Executor
from marketsim.drivers.metrics import ReplicateMetrics
from marketsim.drivers.optimize import analysis
from marketsim.drivers.optimize.constraints import limits, meets, relative_shortfalls
from marketsim.drivers.optimize.objective import Risk
from marketsim.drivers.optimize.space import InfeasibleError, Plan, Space, decided_paths
from marketsim.drivers.optimize.study import (
    BASELINE_ATTR,
    Question,
    Storage,
    WorkerJob,
    WorkerReport,
    completed,
    directions,
    make_sampler,
    prepare_study,
    run_worker,
    sampler_seed,
    shares,
    trial_result,
)
from marketsim.drivers.posterior import Draws
from marketsim.drivers.records import (
    BaselinePlan,
    BestPlan,
    Bound,
    CandidatePlan,
    Explanation,
    OptimizationSummary,
    SeedReplicates,
    StudyInfo,
    Uplift,
)
from marketsim.drivers.stats import describe
from marketsim.scenario.paths import with_values
from marketsim.scenario.schema import OptimizeSpec, Scenario


@dataclass
class Hooks:
    """Callbacks a front end (the CLI's progress bar) may set; all optional.

    `trials(done, wanted, best)` after each completed trial (or each poll, with several
    workers); `phase(name, jobs)` when a phase of simulations starts; `job()` after each
    replicate of that phase.
    """

    trials: Callable[[int, int, float | None], None] = lambda done, wanted, best: None
    phase: Callable[[str, int], None] = lambda name, jobs: None
    job: Callable[[Any], None] = lambda _: None


@dataclass
class Outcome:
    """Everything written to the output directory."""

    scenario: Scenario
    best: Scenario
    seed: int
    summary: OptimizationSummary
    trials: pd.DataFrame
    curves: pd.DataFrame
    timing: dict[str, float] = field(default_factory=dict)


def question_for(
    scenario: Scenario, spec: OptimizeSpec, seed: int, posterior: Draws | None = None
) -> Question:
    """The question a scenario and settings pose (on a calibration's draws, if given).

    Raises:
        InfeasibleError: no plan can meet the bounds and budget floors.
        InputError: the objective needs customer equity, which the scenario cannot have,
            or the posterior sets a path the optimiser decides.

    """
    if spec.objective == "profit+equity" and not can_have_equity(scenario):
        raise InputError(
            f"--objective profit+equity: {scenario.name} cannot have customer equity (it "
            "sells only one-off products to consumers and no contract renews), so it is 0 "
            "whatever the plan; use --objective profit"
        )
    space = Space.build(scenario, spec, vary_total=spec.pareto == "spend")
    if posterior is not None:
        taken = sorted(decided_paths(space) & set(posterior.posterior.paths))
        if taken:
            raise InputError(
                "\n".join(
                    f"--posterior: the posterior in {posterior.posterior.dir} sets {path} in "
                    "every replicate, and the optimiser decides it too; leave it out of the "
                    "calibration or of optimize: (its bounds, teams or promotions)"
                    for path in taken
                )
            )
    return Question(
        scenario=scenario,
        space=space,
        objective=spec.objective,
        risk=Risk.parse(spec.risk),
        pareto=spec.pareto,
        replicates=spec.replicates,
        seed=seed,
        limits=tuple(limits(spec.constraints)),
        posterior=posterior,
    )


def signature(question: Question, spec: OptimizeSpec) -> dict[str, Any]:
    """The record a study keeps of what its trials mean."""
    return {
        **question.space.signature(),
        "objective": question.objective,
        "risk": str(question.risk),
        "pareto": question.pareto,
        "directions": directions(question.pareto),
        "replicates": question.replicates,
        "seed": question.seed,
        **({"constraints": spec.constraints.model_dump()} if spec.constraints.outcomes else {}),
        **({"posterior": _posterior_signature(question.posterior)} if question.posterior else {}),
    }


def _posterior_signature(draws: Draws) -> dict[str, Any]:
    """What a study on a posterior must keep: its sets, weights and seed (not its folder)."""
    p = draws.posterior
    return {
        "paths": list(p.paths),
        "seed": p.seed,
        "sets": p.sets,
        "values": p.values.tolist(),
        "weights": p.weights.tolist(),
    }


def open_study(
    question: Question,
    spec: OptimizeSpec,
    storage: Storage,
    study_name: str,
    *,
    resume: bool,
) -> optuna.Study:
    """Create the study or load it to resume (raises `StudyError`)."""
    make_sampler(spec.sampler, 0, question.pareto is not None)  # refuse a bad sampler first
    backend = storage.open()
    return prepare_study(
        backend, storage.display, study_name, signature(question, spec), resume=resume
    )


def search(
    question: Question,
    spec: OptimizeSpec,
    storage: Storage,
    study: optuna.Study,
    executor: Executor,
    *,
    hooks: Hooks | None = None,
) -> list[WorkerReport]:
    """Run trials until the study has `spec.trials` completed ones (or the timeout).

    One job per worker of `executor`, each running its share of the trials against the
    shared storage. A single worker on an RDB storage samples from an in-memory mirror of
    the study (see `run_worker`) and reports each trial as it finishes; several are
    followed by polling the storage.
    """
    hooks = hooks or Hooks()
    already = len(completed(study))
    wanted = spec.trials
    remaining = max(0, wanted - already)
    hooks.trials(already, wanted, _best(study))
    if remaining == 0:
        return []
    deadline = time.time() + spec.timeout if spec.timeout else None
    seed = question.seed
    baseline = question.space.baseline_params(question.scenario)  # the first trial
    workers = max(1, min(executor.workers, remaining))
    if workers == 1:
        mirror = not storage.journal
        job = WorkerJob(
            storage,
            study.study_name,
            question,
            spec.sampler,
            sampler_seed(seed, len(study.trials), 0),
            remaining,
            deadline,
            mirror=mirror,
            baseline=baseline if mirror else None,
        )
        if not mirror:
            _enqueue(study, baseline)
        count, best = already, _best(study)

        def finished(value: float) -> None:
            nonlocal count, best
            count += 1  # counted here: reading the storage costs
            best = value if best is None else max(best, value)
            hooks.trials(count, wanted, best)

        return executor.map(run_worker, [job], progress=finished)
    _enqueue(study, baseline)
    jobs = [
        WorkerJob(
            storage,
            study.study_name,
            question,
            spec.sampler,
            sampler_seed(seed, len(study.trials), w + 1),
            share,
            deadline,
        )
        for w, share in enumerate(shares(remaining, workers))
    ]
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            try:
                hooks.trials(len(completed(study)), wanted, _best(study))
            except Exception:  # a busy storage: try again at the next poll
                continue

    poller = threading.Thread(target=poll, daemon=True, name="marketsim-trials-poll")
    poller.start()
    try:
        reports = executor.map(run_worker, jobs)
    finally:
        stop.set()
        poller.join()
    hooks.trials(len(completed(study)), wanted, _best(study))
    return reports


def _enqueue(study: optuna.Study, baseline: dict[str, Any] | None) -> None:
    """Make the scenario's own plan the first trial of a new study."""
    if baseline is not None and not study.trials:
        study.enqueue_trial(baseline, user_attrs={BASELINE_ATTR: True})


def _best(study: optuna.Study) -> float | None:
    done = completed(study)
    if not done:
        return None
    return max(t.values[0] for t in done)


def analyse(
    question: Question,
    spec: OptimizeSpec,
    study: optuna.Study,
    *,
    storage: Storage,
    executor: Executor,
    hooks: Hooks | None = None,
) -> Outcome:
    """Re-evaluate the best candidates and the baseline on fresh seeds, measure the winner.

    Raises:
        RuntimeError: the study has no completed trial.

    """
    hooks = hooks or Hooks()
    started = time.perf_counter()
    picks = analysis.candidates(study, spec.candidates)
    if not picks:
        raise RuntimeError(f"the study '{study.study_name}' has no completed trial to report")
    space = question.space
    plans = [_plan(space, t) for t in picks]
    fresh = analysis.fresh_seed(question.seed)
    reps = spec.reevaluate
    scenarios = [question.scenario, *(with_values(question.scenario, p.values) for p in plans)]
    hooks.phase("re-evaluating", len(scenarios) * reps)
    results = analysis.evaluate(
        scenarios,
        seed=fresh,
        replicates=reps,
        executor=executor,
        on_done=hooks.job,
        posterior=question.posterior,
    )
    baseline_totals, candidate_totals = results[0], results[1:]
    score = question.risk
    fresh_scores = [
        score(analysis.objective_values(r, question.objective)) for r in candidate_totals
    ]
    feasible = [i for i, r in enumerate(candidate_totals) if meets(question.limits, r)]
    if not feasible:
        raise_unmet(question, picks, candidate_totals)
    win = max(feasible, key=lambda i: fresh_scores[i])
    best_plan, best_totals = plans[win], candidate_totals[win]
    best_scenario = with_values(question.scenario, best_plan.values)

    n_budgets = len(space.budgets)
    curve_jobs = n_budgets * spec.curve_points * reps
    hooks.phase("marginal ROI and curves", n_budgets * 2 * reps + curve_jobs)
    marginal, margins = analysis.marginal_roi(
        question,
        best_plan,
        best_totals,
        seed=fresh,
        replicates=reps,
        executor=executor,
        on_done=hooks.job,
    )
    curves = analysis.response_curves(
        question,
        best_plan,
        best_totals,
        points=spec.curve_points,
        seed=fresh,
        replicates=reps,
        executor=executor,
        on_done=hooks.job,
    )
    trials = analysis.trials_frame(study)
    all_trials = study.get_trials(deepcopy=False)
    states = {s.name.lower(): sum(t.state == s for t in all_trials) for s in TrialState}
    absolute, relative = analysis.paired_uplift(best_totals, baseline_totals, question.objective)
    summary = OptimizationSummary(
        scenario=question.scenario.name,
        objective=question.objective,
        risk=str(question.risk),
        pareto=question.pareto,
        total_budget=space.total,
        study=StudyInfo(
            name=study.study_name,
            storage=storage.display,
            sampler=spec.sampler,
            seed=question.seed,
            directions=directions(question.pareto),
        ),
        trials={"requested": spec.trials, **{k: v for k, v in states.items() if v}},
        search=SeedReplicates(seed=question.seed, replicates=question.replicates),
        reevaluation=SeedReplicates(seed=fresh, replicates=reps),
        best=BestPlan(
            trial=picks[win].number,
            search_value=picks[win].values[0],
            objective=describe(analysis.objective_values(best_totals, question.objective)),
            risk=fresh_scores[win],
            decision=best_plan.decision,
            budgets={
                b.channel: best_plan.values[f"channels.{b.channel}.budget"] for b in space.budgets
            },
            planned_spend=best_plan.spend,
            metrics=analysis.describe_run(best_totals, question.scenario),
        ),
        baseline=BaselinePlan(
            budgets={b.channel: _budget(question.scenario, b.channel) for b in space.budgets},
            objective=describe(analysis.objective_values(baseline_totals, question.objective)),
            metrics=analysis.describe_run(baseline_totals, question.scenario),
        ),
        uplift=Uplift(objective=question.objective, absolute=absolute, relative=relative),
        bounds={b.channel: Bound(min=b.low, max=b.high) for b in space.budgets},
        candidates=[
            CandidatePlan(
                trial=t.number,
                baseline_plan=bool(t.user_attrs.get(BASELINE_ATTR, False)),
                search_values=list(t.values),
                decision=p.decision,
                objective=describe(analysis.objective_values(r, question.objective)),
                risk=s,
                spend=describe([x.spend for x in r]),
            )
            for t, p, r, s in zip(picks, plans, candidate_totals, fresh_scores, strict=True)
        ],
        marginal_roi=marginal,
        importance=analysis.importances(study),
        explanation=explain(question, best_plan, best_totals, baseline_totals, margins, study),
        posterior=None if question.posterior is None else question.posterior.use(reps),
    )
    timing = {"analysis": time.perf_counter() - started}
    return Outcome(question.scenario, best_scenario, question.seed, summary, trials, curves, timing)


def raise_unmet(
    question: Question, picks: list[FrozenTrial], totals: list[list[ReplicateMetrics]]
) -> NoReturn:
    """Fail saying which constraints the closest candidate missed, and by how much."""
    worst = [max(relative_shortfalls(question.limits, r)) for r in totals]
    closest = min(range(len(picks)), key=worst.__getitem__)
    lines = [
        limit.describe(limit.value(totals[closest]))
        for limit in question.limits
        if limit.shortfall(limit.value(totals[closest])) > 0
    ]
    raise InfeasibleError(
        f"no plan found meets the constraints: the closest, trial {picks[closest].number}, "
        f"on {len(totals[closest])} fresh replicates:\n"
        + "\n".join(f"  {line}" for line in lines)
        + "\nlower the constraint, raise the total budget, or run more trials"
    )


def explain(
    question: Question,
    plan: Plan,
    best: list[ReplicateMetrics],
    base: list[ReplicateMetrics],
    margins: analysis.Margins,
    study: optuna.Study,
) -> Explanation:
    """The optimiser's reasons: ranges, trims, convergence, budget size, side effects."""
    space = question.space
    effects, losses = analysis.side_effects(best, base, question.scenario, question.objective)
    cost: dict[str, float] = {}
    for t in space.teams:
        key = f"headcount.{t.team}"
        cost[key] = float(plan.decision[key]) * t.unit_cost
    for b in space.budgets:
        cost[f"budget.{b.channel}"] = float(plan.values[f"channels.{b.channel}.budget"])
    results = [trial_result(t) for t in completed(study)]
    single = question.pareto is None
    return Explanation(
        ranges=space.ranges(),
        trimmed=sum(1 for r in results if r is not None and r.trimmed),
        constraints=[limit.describe(limit.value(best)) for limit in question.limits],
        convergence=analysis.convergence(question, margins) if single and margins.slope else None,
        sizing=analysis.sizing(margins),
        side_effects=effects,
        losses=losses,
        cost=cost,
    )


def _plan(space: Space, trial: FrozenTrial) -> Plan:
    return space.decode(trial.params)


def _budget(scenario: Scenario, cid: str) -> float:
    return next(c.budget for c in scenario.channels if c.id == cid)


def optimize(
    scenario: Scenario,
    spec: OptimizeSpec | None = None,
    *,
    seed: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    resume: bool = False,
    hooks: Hooks | None = None,
) -> Outcome:
    """The whole question from Python: search, re-evaluate, measure; no files written.

    Args:
        scenario: the scenario; its `optimize:` section is used unless `spec` is given.
        spec: the settings (`OptimizeSpec(trials=50, objective="profit", ...)`).
        seed: the simulations' and sampler's seed (default: the scenario's).
        storage: an Optuna storage URL or journal file path; default: a study file in a
            temporary directory, deleted afterwards.
        study_name: default: the scenario's name.
        resume: continue the study `study_name` in `storage`.
        hooks: progress callbacks.

    Raises:
        InfeasibleError: no plan can spend the total within the bounds.
        StudyError: the storage or study cannot be used as asked.

    """
    import tempfile
    from pathlib import Path

    from marketsim.drivers.execution import make_executor

    spec = spec or scenario.optimize or OptimizeSpec()
    question = question_for(scenario, spec, scenario.seed if seed is None else seed)
    with tempfile.TemporaryDirectory(prefix="marketsim-optimize-") as tmp:
        where = Storage.resolve(storage, Path(tmp), shared=spec.workers > 1)
        name = study_name or spec.study_name or scenario.name
        study = open_study(question, spec, where, name, resume=resume)
        with make_executor(spec.workers) as executor:
            search(question, spec, where, study, executor, hooks=hooks)
            return analyse(question, spec, study, storage=where, executor=executor, hooks=hooks)
