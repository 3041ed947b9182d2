"""ABC-SMC (`--method abc`): a posterior of the free parameters, by pyabc.

Approximate Bayesian computation needs no likelihood, only the simulator and a
distance: it draws parameter sets from the prior, keeps those whose distance (the one
the optimiser minimises, `fit.distance`) is within a tolerance, and refines the kept
population generation by generation (sequential Monte Carlo) with a smaller tolerance
each time (the median distance of the last population, pyabc's default), perturbing
particles with a multivariate normal fitted to the last population. The last
population, weighted, is the posterior sample (posterior.csv).

Each parameter is given to pyabc on the scale it is searched on: a range with
`log: true` as a uniform on log values, a range otherwise as a uniform, a prior as
that distribution. A draw the scenario refuses (a gamma prior's tail past a
probability's 1) is a set of zero prior density: its distance is infinite.

Every particle of a generation is simulated as its own job on the executor, seeded from
one stream drawn in this process, so the posterior is the same for one worker, several
or a cluster, given the seed. The run is stored in `DIR/abc.db` (pyabc's database,
SQLite) with a record of what it fits (`DIR/abc.json`); `--resume` continues it with
more generations, up to the same budgets counted over the whole run.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from marketsim.core.errors import InputError
from marketsim.drivers.calibrate.fit import distance
from marketsim.drivers.calibrate.records import Generation
from marketsim.drivers.calibrate.target import Parameter, Target
from marketsim.drivers.execution import Executor
from marketsim.drivers.optimize.study import StudyError, differences
from marketsim.scenario.calibration import CalibrateSpec
from marketsim.scenario.traits import Beta, Gamma

ABC_DB = "abc.db"
ABC_RECORD = "abc.json"
DISTANCE = "distance"
"""The summary statistic pyabc compares: the distance itself (observed: 0)."""
ERROR = "sumstat_error."
"""How pyabc's table of a population names the statistic `error.NAME`."""


@dataclass(frozen=True)
class Particles:
    """The last population: the posterior sample and how the run got there."""

    values: dict[str, np.ndarray]
    """Parameter path -> each particle's value, as the scenario takes it."""
    weights: np.ndarray
    """Importance weights, summing to 1."""
    distances: np.ndarray
    errors: list[dict[str, float]]
    """Each particle's series NRMSE and lift misses."""
    generations: list[Generation]
    simulations: int


def _need_pyabc() -> Any:
    try:
        import pyabc
    except ImportError:
        raise InputError(
            "--method abc needs the pyabc package: pip install 'marketsim[abc]' "
            "(or pip install pyabc)"
        ) from None
    for name in ("ABC", "Sampler", "Epsilon", "Distance", "Acceptor", "Adaptation"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return pyabc


def _key(i: int) -> str:
    return f"p{i}"


def _prior_of(p: Parameter, pyabc: Any) -> Any:
    """The random variable (pyabc's) of one parameter, on the scale it is searched on."""
    prior = p.prior
    if prior is None:
        low, high = (math.log(p.low), math.log(p.high)) if p.log else (p.low, p.high)
        return pyabc.RV("uniform", low, high - low)
    if isinstance(prior, Beta):
        return pyabc.RV("beta", prior.a, prior.b)
    if isinstance(prior, Gamma):
        return pyabc.RV("gamma", prior.shape, scale=prior.mean / prior.shape)
    return pyabc.RV("lognorm", prior.sigma, scale=math.exp(prior.mu))


def scenario_value(p: Parameter, drawn: float) -> float:
    """A drawn value as the scenario takes it (back from the log scale, whole if integer)."""
    value = math.exp(drawn) if p.prior is None and p.log else float(drawn)
    return float(round(value)) if p.integer else value


@dataclass(frozen=True)
class _Model:
    """pyabc's model: a drawn set's distance, with every error kept as a statistic."""

    target: Target

    def values(self, drawn: Any) -> dict[str, float]:
        return {
            p.path: scenario_value(p, drawn[_key(i)]) for i, p in enumerate(self.target.parameters)
        }

    def __call__(self, drawn: Any) -> dict[str, float]:
        from marketsim.core.errors import ScenarioError

        try:
            errors = self.target.errors(self.values(drawn))
        except ScenarioError:
            return {DISTANCE: math.inf}
        return {DISTANCE: distance(errors, self.target.all_weights)} | {
            f"error.{k}": v for k, v in errors.items()
        }


def _compare(simulated: dict[str, float], observed: dict[str, float]) -> float:
    return float(simulated[DISTANCE])


def signature(target: Target, spec: CalibrateSpec) -> dict[str, Any]:
    """What an ABC run fits, kept beside its database and checked on `--resume`."""
    from marketsim.drivers.calibrate.search import signature as study_signature

    return study_signature(target, "abc-smc") | {
        "priors": [None if p.prior is None else p.prior.model_dump() for p in target.parameters],
        "population": spec.population,
        "directions": None,
    }


def open_run(target: Target, spec: CalibrateSpec, out: Path, *, resume: bool) -> None:
    """Check `out` can hold (or continue) this run; write its record if it is new.

    Raises:
        StudyError: `--resume` without a run in `out`, or a run there fitting something else.

    """
    _need_pyabc()
    db, record = out / ABC_DB, out / ABC_RECORD
    wanted = signature(target, spec)
    if not resume:
        record.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
        return
    if not db.exists() or not record.exists():
        raise StudyError(f"--resume: no ABC run in {out} to resume ({ABC_DB} missing)")
    changed = differences(json.loads(record.read_text(encoding="utf-8")), wanted)
    if changed:
        raise StudyError(
            f"--resume: the ABC run in {out} was made with different parameters or settings; "
            "refusing to mix its particles with these:\n" + "\n".join(f"  {d}" for d in changed)
        )


def abc_search(
    target: Target,
    spec: CalibrateSpec,
    out: Path,
    executor: Executor,
    *,
    resume: bool,
    progress: Callable[[int, int, float | None], None] = lambda done, wanted, best: None,
) -> Particles:
    """Run (or continue) ABC-SMC in `out` until a budget is spent; the last population.

    Budgets, over the whole run: `spec.trials` simulated sets (checked after each
    generation), `spec.generations` generations, a tolerance of `spec.min_epsilon`.
    `progress(simulated, budget, smallest distance)` as sets finish.
    """
    pyabc = _need_pyabc()
    db = f"sqlite:///{out / ABC_DB}"
    prior = pyabc.Distribution(
        **{_key(i): _prior_of(p, pyabc) for i, p in enumerate(target.parameters)}
    )
    state = np.random.get_state()
    np.random.seed(target.seed % 2**32)
    try:
        sampler = _seeded_sampler(executor)
        abc = pyabc.ABCSMC(
            _Model(target),
            prior,
            _compare,
            population_size=spec.population,
            sampler=sampler,
        )
        history = abc.load(db, 1) if resume else abc.new(db, {DISTANCE: 0.0})
        done = int(history.total_nr_simulations) if resume else 0
        best = _smallest(history) if resume else None

        def finished(d: float) -> None:
            nonlocal done, best
            done += 1
            best = d if best is None or not math.isfinite(best) else min(best, d)
            progress(done, spec.trials, best)

        sampler.progress = finished
        progress(done, spec.trials, best)
        generations = history.n_populations if resume else 0
        if generations < spec.generations and done < spec.trials:
            history = abc.run(
                minimum_epsilon=spec.min_epsilon,
                max_nr_populations=spec.generations - generations,
                max_total_nr_simulations=spec.trials,
            )
    finally:
        np.random.set_state(state)
    return _particles(target, history)


def _smallest(history: Any) -> float | None:
    if history.max_t < 0:
        return None
    return float(history.get_weighted_distances()[DISTANCE].min())


def _particles(target: Target, history: Any) -> Particles:
    frame = history.get_population_extended(m=0, t=history.max_t).sort_index()
    errors = [c for c in frame.columns if c.startswith(ERROR)]
    values = {
        p.path: np.array([scenario_value(p, x) for x in frame[f"par_{_key(i)}"]])
        for i, p in enumerate(target.parameters)
    }
    generations = [
        Generation(
            generation=int(row.t),
            epsilon=float(row.epsilon),
            simulations=int(row.samples),
            acceptance_rate=float(row.particles) / float(row.samples) if row.samples else 0.0,
        )
        for row in history.get_all_populations().itertuples()
        if row.t >= 0
    ]
    w = frame["w"].to_numpy(dtype=np.float64)
    return Particles(
        values=values,
        weights=w / w.sum(),
        distances=frame["distance"].to_numpy(dtype=np.float64),
        errors=[
            {c.removeprefix(ERROR): float(row[c]) for c in errors} for _, row in frame.iterrows()
        ],
        generations=generations,
        simulations=int(history.total_nr_simulations),
    )


def _sample_one(item: tuple[bytes, Any, int], progress: Callable[[Any], None]) -> tuple[Any, int]:
    """One particle: simulate drawn sets until one is accepted (a job on the executor)."""
    import random

    import cloudpickle

    simulate_one, factory, seed = item
    simulate = cloudpickle.loads(simulate_one)
    saved = np.random.get_state(), random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        sample = factory()
        tried = 0
        while True:
            particle = simulate()
            tried += 1
            sample.append(particle)
            progress(float(particle.distance))
            if particle.accepted:
                return sample, tried
    finally:  # in this process, the stream the next seeds come from is left as it was
        np.random.set_state(saved[0])
        random.setstate(saved[1])


def _seeded_sampler(executor: Executor) -> Any:
    """A sampler for pyabc over marketsim's executors, every particle seeded in advance.

    The seeds come from this process's stream in particle order and results are
    gathered in that order, so the population does not depend on where or how fast the
    particles were simulated.
    """
    import cloudpickle

    base = _need_pyabc().sampler.Sampler

    class SeededSampler(base):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.progress: Callable[[float], None] = lambda d: None

        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Callable[[], Any],
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            payload = cloudpickle.dumps(simulate_one)
            seeds = np.random.randint(0, 2**31 - 1, size=n)
            items = [(payload, self.sample_factory, int(s)) for s in seeds]
            found = executor.map(_sample_one, items, progress=self.progress)
            sample = self._create_empty_sample()
            for part, _ in found:
                sample += part
            self.nr_evaluations_ = sum(tried for _, tried in found)
            return sample

    return SeededSampler()
