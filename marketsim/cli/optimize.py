"""`marketsim optimize`: the budget split that maximises revenue, profit, ROI or profit+equity."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from marketsim.cli import common
from marketsim.cli.app import command, failing_as
from marketsim.cli.common import option
from marketsim.core.errors import InputError, MarketsimError
from marketsim.core.format import number, signed

if TYPE_CHECKING:
    from marketsim.drivers.optimize.runner import Outcome
    from marketsim.scenario.schema import OptimizeSpec, Scenario


@command()
def optimize(
    file: common.FileArg,
    trials: Annotated[
        int | None, option("Completed trials wanted in the study (default 100).", "N")
    ] = None,
    objective: Annotated[
        str | None,
        option(
            "What to maximise: revenue, profit, roi or profit+equity (default revenue).", "NAME"
        ),
    ] = None,
    total_budget: Annotated[
        float | None,
        option(
            "Money split over the optimised channels, spent exactly (default: as written).", "B"
        ),
    ] = None,
    replicates: Annotated[
        int | None,
        option(
            "Replicates per trial on common random numbers (default 3).", "R", "--replicates", "-r"
        ),
    ] = None,
    sampler: Annotated[
        str | None,
        option("Optuna sampler: tpe, cmaes, gp, random or nsga2 (default tpe).", "NAME"),
    ] = None,
    workers: Annotated[
        int | None,
        option("Worker processes running trials (default 1).", "W", "--workers", "-w"),
    ] = None,
    storage: Annotated[
        str | None,
        option("Optuna storage URL or journal file (default: a study file in DIR).", "URL"),
    ] = None,
    study_name: Annotated[
        str | None, option("Study name (default: the scenario name).", "NAME")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the study, keeping its trials.")
    ] = False,
    timeout: Annotated[float | None, option("Stop starting trials after S seconds.", "S")] = None,
    seed: common.SeedOpt = None,
    out: common.OutOpt = None,
    risk: Annotated[
        str | None,
        option("Risk measure over replicates: mean, cvar:ALPHA or quantile:Q.", "MEASURE"),
    ] = None,
    pareto: Annotated[
        str | None,
        option(
            "Multi-objective: trade the objective against 'spend' or against its 'risk'.", "WHAT"
        ),
    ] = None,
    reevaluate: Annotated[
        int | None,
        option("Replicates re-evaluating the best candidates on fresh seeds (default 10).", "R"),
    ] = None,
    candidates: Annotated[int | None, option("Best trials re-evaluated (default 3).", "K")] = None,
    curve_points: Annotated[
        int | None,
        option("Points of each channel's response curve (default 7; 0 for none).", "P"),
    ] = None,
    overrides: common.SetOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", "-f", help="Start afresh in a non-empty DIR (its study is deleted)."
        ),
    ] = False,
    quiet: common.QuietOpt = False,
    cluster: common.ClusterOpt = None,
    plugin_path: common.PluginPath = None,
    posterior: common.PosteriorOpt = None,
) -> None:
    """Find the split of a total budget that maximises revenue, profit, ROI or profit+equity.

    Writes best.yaml, summary.json, trials.csv, curves.csv, plan.csv, plan.xlsx,
    optimization.html and the study into DIR. Exits 0 on success, 1 if the run fails,
    2 on bad input.
    """
    from marketsim.drivers.optimize.runner import Hooks, analyse, open_study, question_for, search
    from marketsim.drivers.optimize.space import InfeasibleError
    from marketsim.drivers.optimize.study import DB_FILE, JOURNAL_FILE, Storage, make_sampler
    from marketsim.io.output import default_out_dir
    from marketsim.plugins.prepare import load_scenario

    cli = {
        "trials": trials,
        "objective": objective,
        "total_budget": total_budget,
        "replicates": replicates,
        "sampler": sampler,
        "workers": workers,
        "study_name": study_name,
        "timeout": timeout,
        "risk": risk,
        "pareto": pareto,
        "reevaluate": reevaluate,
        "candidates": candidates,
        "curve_points": curve_points,
    }
    common.use_plugin_paths(plugin_path)
    common.check_options(seed=seed, replicates=1, workers=1)
    scenario = load_scenario(file, overrides or ())
    common.warn(scenario)
    spec = merge_settings(scenario, cli)
    draws = common.read_draws(posterior, [scenario], max(spec.replicates, spec.reevaluate))
    question = question_for(scenario, spec, scenario.seed if seed is None else seed, draws)
    make_sampler(spec.sampler, 0, spec.pareto is not None)
    out = out if out is not None else default_out_dir(f"{scenario.name}-optimize")
    where = Storage.resolve(storage, out, shared=spec.workers > 1 or cluster is not None)
    in_out = where.file is not None and where.file.parent.resolve() == out.resolve()
    common.check_out(
        out,
        where.file if in_out else None,
        "study",
        resume=resume,
        force=force,
        protect=[Path(file)],
    )
    created = in_out and not out.exists()
    if created:
        out.mkdir(parents=True)
    try:
        if force and not resume and in_out:
            for stale in (DB_FILE, JOURNAL_FILE, f"{JOURNAL_FILE}.lock"):
                (out / stale).unlink(missing_ok=True)
        study = open_study(question, spec, where, spec.study_name or scenario.name, resume=resume)
    except MarketsimError:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise

    from marketsim.io.files import optimization_files
    from marketsim.report.pages import PAGES

    console = Console(stderr=True)
    if not quiet:
        for note in (r.note for r in question.space.ranges() if r.note):
            console.print(f"note: {note}", highlight=False, soft_wrap=True)
    bar = common.PhasedProgress(console, enabled=not quiet and console.is_terminal)
    hooks = Hooks(trials=bar.trials, phase=bar.phase, job=bar.job)
    kept = (
        f"completed trials are kept in {where.display}; continue with the same command and --resume"
    )
    with common.session(spec.workers, cluster, interrupted=kept, quiet=quiet) as executor, bar:
        try:
            with failing_as("the optimisation"):
                search(question, spec, where, study, executor, hooks=hooks)
                outcome = analyse(
                    question, spec, study, storage=where, executor=executor, hooks=hooks
                )
        except InfeasibleError:  # constraints no plan met: nothing written
            if created:
                shutil.rmtree(out, ignore_errors=True)
            raise
        # The study file moves into the new directory: replacing `out` is always allowed.
        written = common.write_output(
            outcome,
            out,
            optimization_files(where, out, PAGES),
            force=True,
            protect=[Path(file), *([posterior] if posterior else [])],
        )
    terminal = Console()
    common.finish(
        terminal,
        out,
        written,
        outcome_table(terminal, outcome),
        *explanation(outcome),
        *common.posterior_note(outcome.summary.posterior),
        quiet=quiet,
    )


def merge_settings(scenario: Scenario, cli: dict[str, Any]) -> OptimizeSpec:
    """The scenario's `optimize:` settings with the command line's given values on top.

    Raises:
        InputError: an option value the settings' rules refuse, named by its option.

    """
    from pydantic import ValidationError

    from marketsim.scenario.schema import OptimizeSpec

    data = scenario.optimize.model_dump() if scenario.optimize is not None else {}
    data.update({k: v for k, v in cli.items() if v is not None})
    try:
        return OptimizeSpec.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            field = str(err["loc"][0]) if err["loc"] else ""
            option = (
                f"--{field.replace('_', '-')}"
                if field in cli and cli[field] is not None
                else f"optimize.{field}"
            )
            problems.append(f"{option}: {common.explain(err)}")
        raise InputError("\n".join(problems)) from None


def outcome_table(console: Console, outcome: Outcome) -> Table:
    """Baseline against best plan: budgets, headcounts and objective with 95% intervals.

    Budgets are money, headcounts counts, other decisions shares; the uplift of a ratio
    objective (ROI) is in percentage points.
    """
    from marketsim.cli.tables import Column, fitted
    from marketsim.drivers.metrics import change_kind, kind_of

    s = outcome.summary
    kind = kind_of(s.objective)
    re = s.reevaluation
    title = (
        f"{s.scenario}: best of {s.trials.get('complete', 0)} trials for {s.objective}, "
        f"re-evaluated with {re.replicates} replicates on seed {re.seed}"
    )
    rows = []
    for cid, value in s.best.budgets.items():
        rows.append([f"budget {cid}", number(s.baseline.budgets.get(cid)), number(value)])
    teams = outcome.scenario.sales
    for key, value in s.best.decision.items():
        if key.startswith("headcount."):
            team = key.split(".", 1)[1]
            now = getattr(teams, team).count if teams is not None else None
            rows.append([key, number(now, "count"), number(float(value), "count")])
        elif not key.startswith("budget."):
            shown = value if isinstance(value, str) else f"{float(value):.3g}"
            rows.append([key, "", str(shown)])
    for label, part in (("mean", "mean"), ("95% CI low", "ci95_low"), ("95% CI high", "ci95_high")):
        rows.append(
            [
                f"{s.objective} {label}",
                number(getattr(s.baseline.objective, part), kind),
                number(getattr(s.best.objective, part), kind),
            ]
        )
    up = s.uplift
    change = change_kind(s.objective)
    rel = (
        f" ({number(up.relative, 'percent')})"
        if up.relative is not None and change != "points"
        else ""
    )
    rows.append(["uplift", "", f"{signed(up.absolute.mean, change)}{rel}"])
    columns = [Column("", "left"), Column("baseline"), Column("best")]
    return fitted(console, title, columns, rows)


def explanation(outcome: Outcome) -> list[str]:
    """The optimiser's reasons as terminal lines: convergence, budget size, what is lost."""
    e = outcome.summary.explanation
    if e is None:
        return []
    lines = []
    if e.trimmed:
        lines.append(
            f"{e.trimmed} trials asked for more reps than the money the other team left; "
            "each was cut to fit (trials.csv says which)"
        )
    lines += [f"constraint {c}" for c in e.constraints]
    if e.convergence is not None:
        lines.append(e.convergence.message)
    if e.sizing is not None:
        lines.append(e.sizing.message)
    lines += [f"against the baseline: {loss}" for loss in e.losses]
    return [f"[dim]- {escape(line)}[/dim]" for line in lines]
