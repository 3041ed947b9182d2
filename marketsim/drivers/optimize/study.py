"""Optuna studies: where they are stored, how they resume, and the workers that run trials.

Storage: a study lives in an Optuna storage, so an interrupted study loses at most the
trials in flight. By default it is a file in the output directory: `study.db` (SQLite,
openable with `optuna-dashboard sqlite:///DIR/study.db`) for one worker, or
`study.journal` (Optuna's JournalStorage, safe for several processes appending at once,
openable with `optuna-dashboard DIR/study.journal`) for several; `--storage` takes any
Optuna RDB URL (PostgreSQL for many machines) or a journal file path.

Every study records what its trials mean (variables, ranges, objective, risk measure,
replicates, seed) in a user attribute; a study of the same name with a different record
is refused rather than mixed. Each trial records the worker (`host:pid`) that runs it, so
a resumed study marks as failed only the trials left running by dead processes of this
machine, never those of another machine still working on the same storage.

Workers: each worker process (see `marketsim.drivers.execution`) opens the storage itself and runs
`study.optimize` for its share of the trials. Each trial's simulation is deterministic
whatever the thread count, so overlapping runs neither crash nor change results.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from marketsim.core.errors import InputError
from marketsim.drivers.optimize.constraints import Limit, relative_shortfalls
from marketsim.drivers.optimize.objective import Risk, metric_value
from marketsim.drivers.optimize.space import Space
from marketsim.drivers.posterior import Draws
from marketsim.drivers.records import TrialResult
from marketsim.scenario.schema import Scenario

SIGNATURE_ATTR = "marketsim"
"""Study user attribute recording what the trials mean."""

RESULT_ATTR = "result"
WORKER_ATTR = "worker"
BASELINE_ATTR = "baseline"

DB_FILE = "study.db"
JOURNAL_FILE = "study.journal"
SAMPLERS = ("tpe", "cmaes", "gp", "random", "nsga2")


class StudyError(InputError):
    """A study cannot be used as asked (bad storage, name clash, different variables)."""


@dataclass(frozen=True)
class Storage:
    """Where a study is kept: an RDB URL, or a journal file when `journal` is true."""

    url: str
    journal: bool = False

    @classmethod
    def resolve(cls, given: str | None, out: Path, *, shared: bool) -> Storage:
        """The storage of `--storage`, else the study file already in `out`, else a new one.

        A new one is a journal when `shared` (several processes will write trials: more
        than one worker, or any Dask cluster, whose worker count is known only once
        connected), SQLite otherwise.
        """
        if given:
            if "://" in given:
                return cls(given)
            return cls(str(Path(given).absolute()), journal=True)
        db, journal = out / DB_FILE, out / JOURNAL_FILE
        if journal.exists():
            return cls(str(journal.absolute()), journal=True)
        if db.exists() or not shared:
            return cls(f"sqlite:///{db.absolute()}")
        return cls(str(journal.absolute()), journal=True)

    @property
    def file(self) -> Path | None:
        """The local file holding the study, if it is one."""
        if self.journal:
            return Path(self.url)
        if self.url.startswith("sqlite:///"):
            return Path(self.url.removeprefix("sqlite:///"))
        return None

    def open(self) -> BaseStorage:
        """Connect (creating the study tables or file if needed).

        Raises:
            StudyError: the storage cannot be reached or used.

        """
        try:
            if self.journal:
                from optuna.storages import JournalStorage
                from optuna.storages.journal import JournalFileBackend

                path = Path(self.url)
                if not path.parent.is_dir():
                    raise FileNotFoundError(f"no directory {path.parent}")
                return JournalStorage(JournalFileBackend(str(path)))
            kwargs: dict[str, Any] = {}
            if self.url.startswith("sqlite"):
                kwargs = {"connect_args": {"timeout": 60}}  # several writers wait their turn
            return optuna.storages.RDBStorage(self.url, engine_kwargs=kwargs)
        except Exception as e:
            raise StudyError(
                f"--storage {self.display}: cannot open the study storage: "
                f"{type(e).__name__}: {_first_line(e)}"
            ) from None

    @property
    def display(self) -> str:
        """The URL with any password hidden."""
        if "://" in self.url and "@" in self.url:
            scheme, rest = self.url.split("://", 1)
            creds, host = rest.rsplit("@", 1)
            user = creds.split(":", 1)[0]
            return f"{scheme}://{user}:***@{host}"
        return self.url


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else ""


def make_sampler(name: str, seed: int | None, multi: bool) -> optuna.samplers.BaseSampler:
    """The Optuna sampler `name`, seeded.

    TPE, NSGA-II and GP read the constraints a trial sets (`Trial.set_constraint`); CMA-ES
    and random sampling do not, and then only the choice of candidates honours them.

    Raises:
        StudyError: an unknown sampler, one that cannot handle the study, or one whose
            optional dependency is missing.

    """
    samplers = optuna.samplers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            return samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
        if name == "random":
            return samplers.RandomSampler(seed=seed)
        if name == "nsga2":
            return samplers.NSGAIISampler(seed=seed)
        if name == "cmaes":
            if multi:
                raise StudyError(
                    "--sampler cmaes: CMA-ES optimises one objective; "
                    "use tpe or nsga2 with --pareto"
                )
            _need("cmaes", "cmaes", "cmaes")
            return samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        if name == "gp":
            _need("gp", "torch", "torch")
            return samplers.GPSampler(seed=seed)
    raise StudyError(f"--sampler: expected one of {', '.join(SAMPLERS)}, found {name!r}")


def _need(sampler: str, module: str, package: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise StudyError(
            f"--sampler {sampler}: needs the Python package '{package}', which is not "
            f"installed: pip install {package} (or choose --sampler tpe)"
        )


def sampler_seed(seed: int, completed: int, worker: int) -> int:
    """The sampler seed of a worker: the study seed for a fresh one-worker study.

    A resumed study or a second worker gets another seed, so it does not propose the
    points the first run already tried.
    """
    return (seed + 1_000_003 * completed + 7_919 * worker) % 2**32


# --------------------------------------------------------------------------- studies


def directions(pareto: str | None) -> list[str]:
    """Optuna directions: the objective; with `--pareto`, spend or the risk measure too."""
    if pareto == "spend":
        return ["maximize", "minimize"]
    if pareto == "risk":
        return ["maximize", "maximize"]
    return ["maximize"]


def prepare_study(
    storage: BaseStorage,
    display: str,
    name: str,
    signature: dict[str, Any],
    *,
    resume: bool,
) -> optuna.Study:
    """Create the study, or load it to resume.

    Raises:
        StudyError: the name exists without `resume`, is missing with it, or exists with
            different variables or settings.

    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = set(optuna.get_all_study_names(storage))
    dirs = signature["directions"]
    if name in names and not resume:
        raise StudyError(
            f"--study-name: a study '{name}' already exists in {display}; continue it with "
            "--resume, or choose another --study-name or --out"
        )
    if name not in names and resume:
        raise StudyError(f"--resume: no study '{name}' in {display} to resume")
    if name in names:
        study = optuna.load_study(study_name=name, storage=storage)
        recorded = study.user_attrs.get(SIGNATURE_ATTR)
        changed = differences(recorded, signature)
        if changed:
            raise StudyError(
                f"--study-name: the study '{name}' in {display} was made with different "
                "variables or settings; refusing to mix its trials with these:\n"
                + "\n".join(f"  {d}" for d in changed)
                + "\nchoose another --study-name (or --out) for the new question"
            )
        fail_stale_trials(study)
        return study
    study = optuna.create_study(storage=storage, study_name=name, directions=dirs)
    study.set_user_attr(SIGNATURE_ATTR, signature)
    return study


def differences(recorded: Any, wanted: dict[str, Any]) -> list[str]:
    """What a stored record of a question says that `wanted` does not (one line each)."""
    if not isinstance(recorded, dict):
        return [f"its record is not a question marketsim wrote (found {type(recorded).__name__})"]
    out = []
    for key in sorted(set(recorded) | set(wanted)):
        if _canon(recorded.get(key)) != _canon(wanted.get(key)):
            out.append(f"{key}: study has {recorded.get(key)!r}, now {wanted.get(key)!r}")
    return out


def _canon(value: Any) -> Any:
    """JSON-like value with tuples as lists (the storage round-trips through JSON)."""
    import json

    return json.loads(json.dumps(value))


def fail_stale_trials(study: optuna.Study) -> list[int]:
    """Mark failed the running trials whose worker on this machine has died."""
    host = socket.gethostname()
    stale = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = str(trial.user_attrs.get(WORKER_ATTR, ""))
        where, _, pid = owner.rpartition(":")
        if (owner and where == host and pid.isdigit() and not _alive(int(pid))) or not owner:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            stale.append(trial.number)
    return stale


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie is dead
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def completed(study: optuna.Study) -> list[FrozenTrial]:
    """The study's completed trials, in trial order."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


# --------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class Question:
    """What every trial evaluates: the scenario, the variables and how values are scored."""

    scenario: Scenario
    space: Space
    objective: str
    risk: Risk
    pareto: str | None
    replicates: int
    seed: int
    limits: tuple[Limit, ...] = ()
    posterior: Draws | None = None
    """Replicate r of every trial (and of the re-evaluation) runs on its draw r."""


@dataclass(frozen=True)
class WorkerJob:
    """One worker's share of a study."""

    storage: Storage
    study_name: str
    question: Question
    sampler: str
    sampler_seed: int
    trials: int
    deadline: float | None = None
    mirror: bool = False
    baseline: dict[str, Any] | None = None


@dataclass(frozen=True)
class WorkerReport:
    """What a worker did: trials finished and seconds spent simulating."""

    trials: int
    simulating: float
    seconds: float


def trial_result(trial: FrozenTrial) -> TrialResult | None:
    """What a finished trial recorded of its plan, or None (a failed or running trial)."""
    data = trial.user_attrs.get(RESULT_ATTR)
    return None if data is None else TrialResult.model_validate(data)


def evaluate_plan(question: Question, trial: optuna.Trial) -> tuple[list[float], TrialResult]:
    """Simulate a trial's plan on common random numbers; return its objective values."""
    from marketsim.drivers.results import replicate_metrics
    from marketsim.drivers.simulation import run_replicate
    from marketsim.drivers.stats import describe
    from marketsim.plugins.prepare import prepare
    from marketsim.scenario.paths import with_values

    begun = time.perf_counter()
    plan = question.space.suggest(trial)
    scenario = prepare(with_values(question.scenario, plan.values))
    started = time.perf_counter()
    totals = [
        replicate_metrics(run_replicate(scenario, question.seed, r, posterior=question.posterior))
        for r in range(question.replicates)
    ]
    simulating = time.perf_counter() - started
    values = [metric_value(t, question.objective) for t in totals]
    spend = float(sum(t.spend for t in totals) / len(totals))
    stats = describe(values)
    shortfalls = relative_shortfalls(question.limits, totals)
    for limit, miss in zip(question.limits, shortfalls, strict=True):
        trial.set_constraint(limit.path, miss)
    risk = question.risk(values)
    if question.pareto == "spend":
        objectives = [risk, spend]
    elif question.pareto == "risk":
        tail = question.risk if question.risk.kind != "mean" else Risk("cvar", 0.1)
        risk = tail(values)
        objectives = [float(stats.mean or 0.0), risk]
    else:
        objectives = [risk]
    result = TrialResult(
        decision=plan.decision,
        planned_spend=plan.spend,
        values=values,
        **dict(stats),
        risk=risk,
        spend=spend,
        simulating=simulating,
        seconds=time.perf_counter() - begun,
        shortfalls={limit.path: x for limit, x in zip(question.limits, shortfalls, strict=True)}
        or None,
        trimmed=list(plan.trimmed) or None,
    )
    return objectives, result


def run_worker(job: WorkerJob, progress: Callable[[float], None] | None = None) -> WorkerReport:
    """Run `job.trials` trials of the study against its storage (in this process).

    With `job.mirror` (one worker on an RDB storage) the sampler works on an in-memory
    copy of the study and each completed trial is written to the storage in one
    transaction: an RDB round trip per parameter and per read would cost more than the
    sampling itself. A trial in flight is then not in the storage at all, which is what
    a kill loses anyway.
    """
    started = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = job.storage.open()
    multi = job.question.pareto is not None
    sampler = make_sampler(job.sampler, job.sampler_seed, multi)
    study = optuna.load_study(study_name=job.study_name, storage=storage, sampler=sampler)
    timeout = None
    if job.deadline is not None:
        timeout = job.deadline - time.time()
        if timeout <= 0:
            return WorkerReport(0, 0.0, time.perf_counter() - started)
    if job.trials <= 0:
        return WorkerReport(0, 0.0, time.perf_counter() - started)
    if job.mirror:
        return _run_mirrored(job, study, sampler, timeout, progress, started)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    simulating = 0.0
    done = 0

    def objective(trial: optuna.Trial) -> float | list[float]:
        nonlocal simulating, done
        trial.set_user_attr(WORKER_ATTR, owner)
        values, result = evaluate_plan(job.question, trial)
        simulating += result.simulating
        trial.set_user_attr(RESULT_ATTR, result.to_json())
        done += 1
        return values if multi else values[0]

    def finished(_: optuna.Study, trial: FrozenTrial) -> None:
        if progress is not None and trial.state == TrialState.COMPLETE:
            progress(trial.values[0])

    study.optimize(
        objective, n_trials=job.trials, timeout=timeout, callbacks=[finished], gc_after_trial=False
    )
    return WorkerReport(done, simulating, time.perf_counter() - started)


def _run_mirrored(
    job: WorkerJob,
    study: optuna.Study,
    sampler: optuna.samplers.BaseSampler,
    timeout: float | None,
    progress: Callable[[float], None] | None,
    started: float,
) -> WorkerReport:
    memory = optuna.create_study(directions=study.directions, sampler=sampler)
    memory.add_trials(completed(study))
    if job.baseline is not None and not study.trials:
        memory.enqueue_trial(job.baseline, user_attrs={BASELINE_ATTR: True})
    simulating = 0.0
    done = 0
    clock = time.perf_counter()
    while done < job.trials and (timeout is None or time.perf_counter() - clock < timeout):
        trial = memory.ask()
        try:
            values, result = evaluate_plan(job.question, trial)
        except BaseException:
            memory.tell(trial, state=TrialState.FAIL)
            raise
        trial.set_user_attr(RESULT_ATTR, result.to_json())
        memory.tell(trial, values)
        finished = memory.trials[-1]
        study.add_trial(
            optuna.trial.create_trial(
                params=finished.params,
                distributions=finished.distributions,
                values=finished.values,
                user_attrs=finished.user_attrs,
                system_attrs=finished.system_attrs,  # constraints, for the sampler
            )
        )
        simulating += result.simulating
        done += 1
        if progress is not None:
            progress(finished.values[0])
    return WorkerReport(done, simulating, time.perf_counter() - started)


def shares(total: int, workers: int) -> list[int]:
    """`total` trials split as evenly as possible over `workers`."""
    base, extra = divmod(max(total, 0), workers)
    return [base + (i < extra) for i in range(workers)]
