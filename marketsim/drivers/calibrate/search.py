"""The search for the best-fitting parameters: an Optuna study minimising the distance.

The study is stored and resumed as `marketsim optimize`'s is (`drivers.optimize.study`:
a `study.db` or `study.journal` in the output directory, a record of what its trials
mean, refused on resume if the question changed, stale trials of dead workers failed).
Its first trial is the scenario's own values. One worker on an RDB storage samples
from an in-memory copy and writes each completed trial in one transaction, so one
worker and one seed repeat a study exactly; several workers share a journal.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from marketsim.drivers.calibrate.fit import distance
from marketsim.drivers.calibrate.target import Target
from marketsim.drivers.execution import Executor
from marketsim.drivers.optimize.study import (
    BASELINE_ATTR,
    WORKER_ATTR,
    Storage,
    completed,
    make_sampler,
    prepare_study,
    sampler_seed,
    shares,
)

SERIES_ATTR = "series_nrmse"
"""Trial user attribute: each matched series' in-sample NRMSE and each lift test's miss."""


@dataclass(frozen=True)
class WorkerJob:
    """One worker's share of the search."""

    storage: Storage
    study_name: str
    target: Target
    sampler: str
    sampler_seed: int
    trials: int
    mirror: bool
    start: dict[str, float] | None
    """The first trial to enqueue (the scenario's own values), if the study is new."""


STARTUP = 10
"""Trials spread over the whole space (scrambled Sobol points) before CMA-ES takes over,
so near-best sets also show how far a parameter can move without hurting the fit."""


def make_calibration_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The sampler `name`; CMA-ES starts from `STARTUP` quasi-random trials."""
    if name != "cmaes":
        return make_sampler(name, seed, False)
    make_sampler(name, seed, False)  # refuse CMA-ES without its package, as the optimiser does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        start = optuna.samplers.QMCSampler(
            seed=seed, scramble=True, warn_independent_sampling=False
        )
    return optuna.samplers.CmaEsSampler(
        seed=seed,
        n_startup_trials=STARTUP,
        independent_sampler=start,
        warn_independent_sampling=False,
    )


def signature(target: Target, sampler: str) -> dict[str, Any]:
    """The record a study keeps of what its trials mean."""
    digest = hashlib.sha256()
    for series in target.weights:
        digest.update(series.encode())
        digest.update(target.observed[series][: target.fitted].tobytes())
    digest.update(target.scenario.model_dump_json().encode())
    return {
        "command": "calibrate",
        "parameters": {
            p.path: [p.low, p.high, "log" if p.log else "linear"] for p in target.parameters
        },
        "weights": target.all_weights,
        "lift": [[t.channel, t.start, t.end, t.outcome, t.incremental, t.se] for t in target.lifts],
        "fitted_steps": target.fitted,
        "replicates": target.replicates,
        "seed": target.seed,
        "sampler": sampler,
        "data": digest.hexdigest()[:16],
        "directions": ["minimize"],
    }


def open_study(
    target: Target, sampler: str, storage: Storage, name: str, *, resume: bool
) -> optuna.Study:
    """Create the study or load it to resume (raises `StudyError`)."""
    make_sampler(sampler, 0, False)  # refuse a bad sampler before touching the storage
    return prepare_study(
        storage.open(), storage.display, name, signature(target, sampler), resume=resume
    )


def best_distance(study: optuna.Study) -> float | None:
    """The smallest distance of the study's completed trials."""
    done = completed(study)
    return min(t.values[0] for t in done) if done else None


def search(
    target: Target,
    sampler: str,
    trials: int,
    storage: Storage,
    study: optuna.Study,
    executor: Executor,
    progress: Callable[[int, int, float | None], None] = lambda done, wanted, best: None,
) -> None:
    """Run trials until the study has `trials` completed ones.

    `progress(done, wanted, best)` after each trial with one worker, every half second
    with several.
    """
    already = len(completed(study))
    progress(already, trials, best_distance(study))
    remaining = trials - already
    if remaining <= 0:
        return
    start = {p.path: p.start for p in target.parameters}
    fresh = not study.trials
    workers = max(1, min(executor.workers, remaining))
    if workers == 1:
        mirror = not storage.journal
        if fresh and not mirror:
            study.enqueue_trial(start, user_attrs={BASELINE_ATTR: True})
        job = WorkerJob(
            storage,
            study.study_name,
            target,
            sampler,
            sampler_seed(target.seed, len(study.trials), 0),
            remaining,
            mirror,
            start if fresh and mirror else None,
        )
        count, best = already, best_distance(study)

        def finished(value: float) -> None:
            nonlocal count, best
            count += 1
            best = value if best is None else min(best, value)
            progress(count, trials, best)

        executor.map(run_worker, [job], progress=finished)
        return
    if fresh:
        study.enqueue_trial(start, user_attrs={BASELINE_ATTR: True})
    seed = sampler_seed(target.seed, len(study.trials), 1)
    jobs = [
        WorkerJob(storage, study.study_name, target, sampler, seed + w, share, False, None)
        for w, share in enumerate(shares(remaining, workers))
    ]
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(0.5):
            try:
                progress(len(completed(study)), trials, best_distance(study))
            except Exception:  # a busy storage: try again at the next poll
                continue

    poller = threading.Thread(target=poll, daemon=True, name="marketsim-calibrate-poll")
    poller.start()
    try:
        executor.map(run_worker, jobs)
    finally:
        stop.set()
        poller.join()
    progress(len(completed(study)), trials, best_distance(study))


def run_worker(job: WorkerJob, progress: Callable[[float], None] | None = None) -> int:
    """Run `job.trials` trials against the study's storage; the number completed."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = make_calibration_sampler(job.sampler, job.sampler_seed)
    study = optuna.load_study(
        study_name=job.study_name, storage=job.storage.open(), sampler=sampler
    )
    asking = study
    if job.mirror:
        asking = optuna.create_study(direction="minimize", sampler=sampler)
        asking.add_trials(completed(study))
        if job.start is not None:
            asking.enqueue_trial(job.start, user_attrs={BASELINE_ATTR: True})
    space = {p.path: p.distribution() for p in job.target.parameters}
    owner = f"{socket.gethostname()}:{os.getpid()}"
    for _ in range(job.trials):
        trial = asking.ask(space)
        if not job.mirror:
            trial.set_user_attr(WORKER_ATTR, owner)
        try:
            errors = job.target.errors(trial.params)
        except BaseException:
            asking.tell(trial, state=TrialState.FAIL)
            raise
        value = distance(errors, job.target.all_weights)
        trial.set_user_attr(SERIES_ATTR, errors)
        asking.tell(trial, value)
        if job.mirror:
            done = asking.trials[-1]
            study.add_trial(
                optuna.trial.create_trial(
                    params=done.params,
                    distributions=done.distributions,
                    value=value,
                    user_attrs=done.user_attrs,
                )
            )
        if progress is not None:
            progress(value)
    return job.trials
