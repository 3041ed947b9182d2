"""`marketsim optimize` (budget optimisation with Optuna) and `marketsim sweep`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from marketsim.cli import common
from marketsim.cli.app import BadInput, app, fail
from marketsim.io.output import OutputError, check_destination, default_out_dir
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario import ScenarioError

if TYPE_CHECKING:
    from marketsim.drivers.optimize.runner import Outcome
    from marketsim.scenario.schema import OptimizeSpec, Scenario


def _opt(help: str, metavar: str = "", *names: str) -> Any:
    return typer.Option(*names, metavar=metavar or None, help=help, show_default=False)


@app.command()
def optimize(
    file: common.FileArg,
    trials: Annotated[
        int | None, _opt("Completed trials wanted in the study (default 100).", "N")
    ] = None,
    objective: Annotated[
        str | None, _opt("What to maximise: revenue, profit or roi (default revenue).", "NAME")
    ] = None,
    total_budget: Annotated[
        float | None,
        _opt("Money split over the optimised channels, spent exactly (default: as written).", "B"),
    ] = None,
    replicates: Annotated[
        int | None,
        _opt(
            "Replicates per trial on common random numbers (default 3).", "R", "--replicates", "-r"
        ),
    ] = None,
    sampler: Annotated[
        str | None, _opt("Optuna sampler: tpe, cmaes, gp, random or nsga2 (default tpe).", "NAME")
    ] = None,
    workers: Annotated[
        int | None, _opt("Worker processes running trials (default 1).", "W", "--workers", "-w")
    ] = None,
    storage: Annotated[
        str | None,
        _opt("Optuna storage URL or journal file (default: a study file in DIR).", "URL"),
    ] = None,
    study_name: Annotated[
        str | None, _opt("Study name (default: the scenario name).", "NAME")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the study, keeping its trials.")
    ] = False,
    timeout: Annotated[float | None, _opt("Stop starting trials after S seconds.", "S")] = None,
    seed: common.SeedOpt = None,
    out: common.OutOpt = None,
    risk: Annotated[
        str | None, _opt("Risk measure over replicates: mean, cvar:ALPHA or quantile:Q.", "MEASURE")
    ] = None,
    pareto: Annotated[
        str | None,
        _opt("Multi-objective: trade the objective against 'spend' or against its 'risk'.", "WHAT"),
    ] = None,
    reevaluate: Annotated[
        int | None,
        _opt("Replicates re-evaluating the best candidates on fresh seeds (default 10).", "R"),
    ] = None,
    candidates: Annotated[int | None, _opt("Best trials re-evaluated (default 3).", "K")] = None,
    curve_points: Annotated[
        int | None, _opt("Points of each channel's response curve (default 7; 0 for none).", "P")
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
) -> None:
    """Find the split of a total budget that maximises revenue, profit or ROI.

    Writes best.yaml, summary.json, trials.csv, curves.csv, optimization.html and the
    study into DIR. Exits 0 on success, 1 if the run fails, 2 on bad input.
    """
    from marketsim.drivers.optimize import InfeasibleError, StudyError
    from marketsim.drivers.optimize.runner import Hooks, analyse, open_study, question_for, search
    from marketsim.drivers.optimize.study import DB_FILE, JOURNAL_FILE, Storage, make_sampler

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
    created = False
    common.use_plugin_paths(plugin_path)
    try:
        common.check_options(seed=seed, replicates=1, workers=1)
        scenario = load_scenario(file, overrides or ())
        spec = merge_settings(scenario, cli)
        run_seed = scenario.seed if seed is None else seed
        question = question_for(scenario, spec, run_seed)
        make_sampler(spec.sampler, 0, spec.pareto is not None)
        out = out if out is not None else default_out_dir(f"{scenario.name}-optimize")
        where = Storage.resolve(storage, out, spec.workers)
        _check_out(out, where, resume=resume, force=force, protect=Path(file))
        name = spec.study_name or scenario.name
        in_out = where.file is not None and where.file.parent.resolve() == out.resolve()
        if in_out and not out.exists():
            out.mkdir(parents=True)
            created = True
        if force and not resume and in_out:
            for stale in (DB_FILE, JOURNAL_FILE, f"{JOURNAL_FILE}.lock"):
                (out / stale).unlink(missing_ok=True)
        study = open_study(question, spec, where, name, resume=resume)
    except (BadInput, ScenarioError, OutputError, InfeasibleError, StudyError, ValueError) as e:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        fail(_error(e), 2)

    console = Console(stderr=True)
    show = not quiet and console.is_terminal
    bar = _Bar(console, enabled=show)
    hooks = Hooks(trials=bar.trials, phase=bar.phase, job=bar.job)
    from marketsim.drivers.optimize.pool import close, make_pool

    try:
        executor = make_pool(spec.workers, cluster)
    except (OSError, TimeoutError, RuntimeError) as e:
        fail(f"--cluster {cluster}: cannot reach the Dask scheduler: {e}", 2)
    try:
        with common.interrupt_on_sigterm(), bar:
            try:
                search(question, spec, where, study, executor, hooks=hooks)
                outcome = analyse(
                    question, spec, study, storage=where, executor=executor, hooks=hooks
                )
            except KeyboardInterrupt:
                raise
            except Exception as e:
                fail(f"error: the optimisation failed: {type(e).__name__}: {e}", 1)
            finally:
                close(executor)
            from marketsim.drivers.optimize.outputs import write_outcome

            try:
                written = write_outcome(outcome, out, where, protect=[Path(file)])
            except OutputError as e:
                fail(str(e), 2)
            except Exception as e:
                fail(f"error: cannot write the output to {out}: {type(e).__name__}: {e}", 1)
    except KeyboardInterrupt:
        print(
            f"interrupted: completed trials are kept in {where.display}; "
            "continue with the same command and --resume",
            file=sys.stderr,
        )
        raise typer.Exit(130) from None

    if quiet:
        print(out)
        return
    stdout = Console()
    stdout.print(outcome_table(outcome))
    names = ", ".join(p.name for p in written)
    stdout.print(f"Wrote [bold]{out}[/bold]: {names}", highlight=False, soft_wrap=True)


def merge_settings(scenario: Scenario, cli: dict[str, Any]) -> OptimizeSpec:
    """The scenario's `optimize:` settings with the command line's given values on top.

    Raises:
        BadInput: an option value the settings' rules refuse, named by its option.

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
            problems.append(f"error: {option}: {_explain(err)}")
        raise BadInput("\n".join(problems)) from None


def _explain(err: Any) -> str:
    ctx = err.get("ctx") or {}
    found = err.get("input")
    for key, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in ctx:
            noun = "an integer" if isinstance(found, int) else "a number"
            return f"expected {noun} {symbol} {ctx[key]}, found {found}"
    if err["type"] == "literal_error":
        return f"expected {ctx.get('expected', 'one of the choices')}, found {found!r}"
    return str(err["msg"]).removeprefix("Value error, ")


def _check_out(out: Path, storage: Any, *, resume: bool, force: bool, protect: Path) -> None:
    """Refuse an output directory the optimisation may not use; touch nothing."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    nonempty = out.is_dir() and any(out.iterdir())
    in_out = storage.file is not None and storage.file.parent.resolve() == out.resolve()
    if resume and in_out and not storage.file.exists():
        raise OutputError(f"--resume: no study in {out} to resume (expected {storage.file})")
    if nonempty and not resume and not force:
        raise OutputError(
            f"output directory {out} exists and is not empty; continue its study with --resume, "
            "start afresh with --force, or choose another --out"
        )
    check_destination(out, force=True, protect=[protect])


def _error(e: BaseException) -> str:
    text = str(e)
    if isinstance(e, ScenarioError | BadInput | OutputError) or text.startswith("error:"):
        return text
    return f"error: {text}"


class _Bar:
    """Trials done, best so far and time left; then each analysis phase."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.search: Any = None
        self.current: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()

    def trials(self, done: int, wanted: int, best: float | None) -> None:
        if not self.enabled:
            return
        note = "" if best is None else f"best {_fmt(best)}"
        if self.search is None:
            self.search = self.progress.add_task("trials", total=wanted, completed=done, note=note)
        self.progress.update(self.search, completed=min(done, wanted), note=note)

    def phase(self, name: str, jobs: int) -> None:
        if self.enabled:
            self.current = self.progress.add_task(name, total=jobs, note="replicates")

    def job(self, _: object) -> None:
        if self.enabled and self.current is not None:
            self.progress.advance(self.current)


def outcome_table(outcome: Outcome) -> Table:
    """Baseline against best plan, budgets and objective with 95% intervals."""
    s = outcome.summary
    kind = "ratio" if s["objective"] == "roi" else "amount"
    re = s["reevaluation"]
    table = Table(
        title=(
            f"{s['scenario']}: best of {s['trials'].get('complete', 0)} trials "
            f"for {s['objective']}, "
            f"re-evaluated with {re['replicates']} replicates on seed {re['seed']}"
        ),
        title_justify="left",
    )
    table.add_column("")
    table.add_column("baseline", justify="right")
    table.add_column("best", justify="right")
    for cid, value in s["best"]["budgets"].items():
        table.add_row(f"budget {cid}", _fmt(s["baseline"]["budgets"].get(cid)), _fmt(value))
    for key, value in s["best"]["decision"].items():
        if not key.startswith("budget."):
            table.add_row(key, "", str(value if isinstance(value, str | int) else f"{value:.3g}"))
    for label, part in (("mean", "mean"), ("95% CI low", "ci95_low"), ("95% CI high", "ci95_high")):
        table.add_row(
            f"{s['objective']} {label}",
            _fmt(s["baseline"]["objective"][part], kind),
            _fmt(s["best"]["objective"][part], kind),
        )
    up = s["uplift"]
    rel = f" ({up['relative']:+.1%})" if up.get("relative") is not None else ""
    table.add_row("uplift", "", f"{_fmt(up['absolute']['mean'], kind)}{rel}")
    return table


def _fmt(x: float | None, kind: str = "amount") -> str:
    if x is None:
        return "n/a"
    if kind == "ratio":
        return f"{x:,.1%}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


# --------------------------------------------------------------------------- sweep


@app.command()
def sweep(
    file: common.FileArg,
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            metavar="dotted.path=START:STOP:N",
            help="A setting and its values: START:STOP:N evenly spaced, or A,B,C (repeatable: "
            "every combination).",
            show_default=False,
        ),
    ],
    replicates: Annotated[
        int,
        typer.Option("--replicates", "-r", metavar="R", help="Replicates per point, at least 1."),
    ] = 3,
    seed: common.SeedOpt = None,
    out: common.OutOpt = None,
    overrides: common.SetOpt = None,
    force: common.ForceOpt = False,
    workers: common.WorkersOpt = 1,
    quiet: common.QuietOpt = False,
    cluster: common.ClusterOpt = None,
    plugin_path: common.PluginPath = None,
) -> None:
    """Simulate a scenario over a range of values: a response curve with 95% intervals.

    Writes sweep.csv (one row per point: the values, then each metric's mean, std and
    95% interval) and sweep.html. Exits 0 on success, 1 if the run fails, 2 on bad input.
    """
    from marketsim.drivers.sweep import grid, override_text, parse_vary

    common.use_plugin_paths(plugin_path)
    try:
        common.check_options(seed=seed, replicates=replicates, workers=workers)
        problems = []
        axes = []
        for text in vary:
            try:
                axes.append(parse_vary(text))
            except ValueError as e:
                problems.append(f"error: --vary: {e}")
        if len({a.path for a in axes}) < len(axes):
            problems.append("error: --vary: each setting may be varied once")
        if problems:
            raise BadInput("\n".join(problems))
        try:
            points = grid(axes)
        except ValueError as e:
            raise BadInput(f"error: --vary: {e}") from None
        sets = list(overrides or ())
        scenarios = []
        errors: dict[str, None] = {}
        for point in points:
            texts = [override_text(p, v) for p, v in point.items()]
            try:
                scenarios.append(load_scenario(file, [*sets, *texts]))
            except ScenarioError as e:
                where = ", ".join(texts)
                for problem in e.problems:
                    if problem.file != "--set" or problem.line <= len(sets):
                        errors[str(problem)] = None
                    elif problem.path in point:  # this value is refused
                        errors[f"--vary {where}: {problem.path}: {problem.message}"] = None
                    else:  # the path itself is wrong, whatever the value
                        errors[f"--vary: {problem.path}: {problem.message}"] = None
        if errors:
            raise BadInput("\n".join(errors))
        scenario = scenarios[0]
        out = out if out is not None else default_out_dir(f"{scenario.name}-sweep")
        check_destination(out, force=force, protect=[Path(file)])
    except (BadInput, ScenarioError, OutputError) as e:
        fail(str(e), 2)

    from marketsim.drivers.optimize.pool import close, make_pool
    from marketsim.drivers.sweep import SweepResult, curve_frame, evaluate

    try:
        executor = make_pool(workers, cluster)
    except (OSError, TimeoutError, RuntimeError) as e:
        fail(f"--cluster {cluster}: cannot reach the Dask scheduler: {e}", 2)
    console = Console(stderr=True)
    run_seed = scenario.seed if seed is None else seed
    bar = _Bar(console, enabled=not quiet and console.is_terminal)
    try:
        with common.interrupt_on_sigterm(), bar:
            bar.phase("sweep", len(scenarios) * replicates)
            try:
                results = evaluate(
                    scenarios,
                    seed=run_seed,
                    replicates=replicates,
                    executor=executor,
                    on_done=bar.job,
                )
            except Exception as e:
                fail(f"error: the sweep failed: {type(e).__name__}: {e}", 1)
            finally:
                close(executor)
            result = SweepResult(
                scenario, tuple(axes), run_seed, replicates, curve_frame(points, results)
            )
            written = common.write_output(
                result, out, force=force, files=sweep_files(), protect=[Path(file)]
            )
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        raise
    if quiet:
        print(out)
        return
    stdout = Console()
    stdout.print(sweep_table(result))
    stdout.print(f"Wrote [bold]{out}[/bold]: {', '.join(p.name for p in written)}", highlight=False)


def sweep_files() -> list[Any]:
    """sweep.csv and sweep.html."""
    from marketsim.drivers.sweep import write_sweep_csv
    from marketsim.io.output import OutputFile

    def write_html(result: Any, path: Path) -> None:
        from marketsim.report.optimization import sweep_page

        axes = [a.path for a in result.axes]
        subtitle = f"seed {result.seed}, {result.replicates} replicates a point"
        html = sweep_page(
            result.frame, axes, title=f"Sweep: {result.scenario.name}", subtitle=subtitle
        )
        path.write_text(html, encoding="utf-8")

    return [OutputFile("sweep.csv", write_sweep_csv), OutputFile("sweep.html", write_html)]


def sweep_table(result: Any) -> Table:
    """Each point's revenue and profit with 95% intervals."""
    axes = [a.path for a in result.axes]
    table = Table(
        title=f"{result.scenario.name}: {result.replicates} replicates a point",
        title_justify="left",
    )
    for a in axes:
        table.add_column(a, justify="right")
    for m in ("revenue", "profit"):
        table.add_column(f"{m} mean", justify="right")
        table.add_column("95% CI", justify="right")
    for _, r in result.frame.iterrows():
        cells = [f"{r[a]:g}" for a in axes]
        for m in ("revenue", "profit"):
            low, high = r[f"{m}_ci95_low"], r[f"{m}_ci95_high"]
            ci = "n/a" if low != low else f"{_fmt(low)} to {_fmt(high)}"  # NaN with one replicate
            cells += [_fmt(r[f"{m}_mean"]), ci]
        table.add_row(*cells)
    return table
