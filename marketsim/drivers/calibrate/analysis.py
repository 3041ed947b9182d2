"""From a finished search to estimates, intervals, the fit and what the data leave open.

Near-best sets (`--method optimize`): a completed trial is accepted when its distance
is at most `(1 + accept)` times the best (`accept` 0.1 by default), and at least the
`min_accepted` best trials are (the threshold rises to the distance of the last of them
when fewer are near). Accepted set i weighs `exp(-(d_i - d_best) / (threshold - d_best))`,
1 for the best and 1/e at the threshold. The 90% interval of a parameter is the 5% and
95% weighted quantiles of its accepted values; the estimate is the best set's value.

This is not a posterior: the sets are where the search happened to look, and CMA-ES
looks mostly near its optimum. A parameter whose interval still spans more than
`WIDE` of its range (on the log scale where it is searched so) is reported as not
pinned down by the data; two whose accepted values correlate beyond `STRONG` are
reported as traded off against each other (the data fix a combination of them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd

from marketsim.core import portable
from marketsim.drivers.calibrate.abc import ABC_DB, Particles
from marketsim.drivers.calibrate.fit import metrics
from marketsim.drivers.calibrate.records import (
    Acceptance,
    CalibrationRecord,
    Correlation,
    Generation,
    LiftFit,
    ParameterEstimate,
    SeriesFit,
)
from marketsim.drivers.calibrate.search import SERIES_ATTR
from marketsim.drivers.calibrate.target import Parameter, Target, lift_error, lift_key
from marketsim.drivers.optimize.analysis import fresh_seed
from marketsim.drivers.optimize.study import completed
from marketsim.scenario.calibration import CalibrateSpec
from marketsim.scenario.history import History
from marketsim.scenario.schema import Scenario

WIDE = 0.5
"""A 90% interval wider than this share of the range searched: not pinned down."""

STRONG = 0.8
"""A weighted correlation beyond this (in absolute value): a trade-off between two."""

BAND = (0.05, 0.95)
"""Quantiles of the replicates drawn as the band of fit.csv and the page."""


@dataclass(frozen=True)
class Calibration:
    """Everything written to the output directory."""

    calibrated: Scenario
    """The scenario on the history's spend with the best set: calibrated.yaml."""
    seed: int
    record: CalibrationRecord
    posterior: pd.DataFrame
    fit: pd.DataFrame


@dataclass(frozen=True)
class WeightedSets:
    """Parameter sets with weights: the near-best trials, or ABC's last population."""

    label: str
    """What a set is: `trial` (its number) or `particle` (its row)."""
    labels: list[int]
    distances: np.ndarray
    weights: np.ndarray
    """Summing to 1."""
    values: dict[str, np.ndarray]
    errors: list[dict[str, float]]
    """Each set's series NRMSE and lift misses."""
    best: int
    """The index of the set calibrated.yaml holds."""


@dataclass(frozen=True)
class Search:
    """How the sets were found, as calibration.json records it."""

    sampler: str
    store: str
    trials: dict[str, int]
    acceptance: Acceptance
    generations: list[Generation] | None = None


def analyse(
    target: Target, study: optuna.Study, spec: CalibrateSpec, history: History
) -> Calibration:
    """The near-best trials of an Optuna study summarised (`--method optimize`).

    Raises:
        RuntimeError: the study has no completed trial.

    """
    trials = completed(study)
    if not trials:
        raise RuntimeError(f"the study '{study.study_name}' has no completed trial to report")
    order = sorted(trials, key=lambda t: (t.values[0], t.number))
    d_best = order[0].values[0]
    threshold = d_best * (1.0 + spec.accept)
    kept = min(spec.min_accepted, len(order))
    threshold = max(threshold, order[kept - 1].values[0])
    accepted = [t for t in order if t.values[0] <= threshold]
    d = np.array([t.values[0] for t in accepted])
    spread = threshold - d_best
    weights = portable.exp(-(d - d_best) / spread) if spread > 0 else np.ones_like(d)
    weights /= weights.sum()
    sets = WeightedSets(
        label="trial",
        labels=[t.number for t in accepted],
        distances=d,
        weights=weights,
        values={p.path: np.array([t.params[p.path] for t in accepted]) for p in target.parameters},
        errors=[t.user_attrs.get(SERIES_ATTR, {}) for t in accepted],
        best=0,
    )
    states = {
        s.name.lower(): sum(t.state == s for t in study.trials) for s in optuna.trial.TrialState
    }
    search = Search(
        sampler=spec.sampler,
        store=study.study_name,
        trials={"requested": spec.trials, **{k: v for k, v in states.items() if v}},
        acceptance=Acceptance(
            rule=f"distance <= (1 + {spec.accept:g}) x best, at least the {spec.min_accepted} "
            "best trials; weight exp(-(d - best) / (threshold - best))",
            threshold=threshold,
            accepted=len(accepted),
            effective=_effective(weights),
        ),
    )
    return summarise(target, sets, search, spec, history)


def analyse_abc(
    target: Target, particles: Particles, spec: CalibrateSpec, history: History
) -> Calibration:
    """ABC-SMC's last population summarised (`--method abc`): a posterior sample."""
    last = particles.generations[-1]
    sets = WeightedSets(
        label="particle",
        labels=list(range(len(particles.weights))),
        distances=particles.distances,
        weights=particles.weights,
        values=particles.values,
        errors=particles.errors,
        best=int(np.argmin(particles.distances)),
    )
    search = Search(
        sampler="abc-smc",
        store=ABC_DB,
        trials={"requested": spec.trials, "simulated": particles.simulations},
        acceptance=Acceptance(
            rule=f"ABC-SMC, the last of {len(particles.generations)} generations: sets within "
            f"the tolerance {last.epsilon:.4g}, weighted by prior over proposal density",
            threshold=last.epsilon,
            accepted=len(particles.weights),
            effective=_effective(particles.weights),
        ),
        generations=particles.generations,
    )
    return summarise(target, sets, search, spec, history)


def _effective(weights: np.ndarray) -> float:
    return float(1.0 / np.sum(weights**2))


def summarise(
    target: Target, sets: WeightedSets, search: Search, spec: CalibrateSpec, history: History
) -> Calibration:
    """Estimates, intervals and the fit of the best set, re-simulated on a fresh seed."""
    best = {p.path: float(sets.values[p.path][sets.best]) for p in target.parameters}
    estimates = [
        _estimate(p, best[p.path], sets.values[p.path], sets.weights) for p in target.parameters
    ]
    correlations = _correlations(target.parameters, sets.values, sets.weights)
    traded = {c.first for c in correlations} | {c.second for c in correlations}
    estimates = [
        e.model_copy(update={"note": _note(e, correlations)}) if e.path in traded else e
        for e in estimates
    ]
    fresh = fresh_seed(target.seed)
    reps = spec.band_replicates
    runs = target.simulate(best, steps=target.steps, seed=fresh, replicates=reps)
    fit, frame = _fit(target, runs, history)
    errors = [*(f"nrmse.{s}" for s in target.weights), *(lift_key(t) for t in target.lifts)]
    posterior = pd.DataFrame(
        {
            sets.label: sets.labels,
            "distance": sets.distances,
            "weight": sets.weights,
            **{p.path: sets.values[p.path] for p in target.parameters},
            **{c: [e.get(c.removeprefix("nrmse.")) for e in sets.errors] for c in errors},
        }
    )
    record = CalibrationRecord(
        scenario=target.scenario.name,
        data=history.file,
        method=spec.method,
        seed=target.seed,
        replicates=target.replicates,
        sampler=search.sampler,
        study=search.store,
        trials=search.trials,
        steps=target.steps,
        fitted_steps=target.fitted,
        holdout_steps=target.steps - target.fitted,
        distance="sum_s w_s NRMSE_s / sum_s w_s over the fitted steps and lift tests; NRMSE_s = "
        "RMSE of the replicate mean against the observations / their range in the fitted steps"
        + (
            ", a lift test's error |simulated - measured| / (|measured| + se)"
            if target.lifts
            else ""
        ),
        best_trial=sets.labels[sets.best],
        best_distance=float(sets.distances[sets.best]),
        evaluation_seed=fresh,
        evaluation_replicates=reps,
        acceptance=search.acceptance,
        parameters=estimates,
        fit=fit,
        lift=_lift_fits(target, best, runs, fresh),
        correlations=correlations,
        not_identified=[e.path for e in estimates if not e.identified],
        generations=search.generations,
    )
    calibrated = target.with_values(best)
    return Calibration(calibrated, target.seed, record, posterior, frame)


def _lift_fits(
    target: Target, best: dict[str, float], runs: dict[str, np.ndarray], seed: int
) -> list[LiftFit]:
    """Each lift test against the best set's paired increments on the evaluation seed."""
    if not target.lifts:
        return []
    found = target.increments(best, runs, seed=seed)
    fits = []
    for t in target.lifts:
        sim = found[t.name]
        mean = float(sim.mean())
        low, high = np.quantile(sim, BAND)
        fits.append(
            LiftFit(
                name=t.name,
                channel=t.channel,
                start=t.start,
                end=t.end,
                outcome=t.outcome,
                measured=t.incremental,
                se=t.se,
                weight=t.weight,
                simulated=mean,
                low=float(low),
                high=float(high),
                z=(mean - t.incremental) / t.se,
                error=lift_error(mean, t),
            )
        )
    return fits


def weighted_quantile(x: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The `q` quantile of `x` under `weights` (midpoint rule, interpolated)."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], weights[order]
    cdf = (np.cumsum(ws) - ws / 2) / ws.sum()
    return float(np.interp(q, cdf, xs))


def _scaled(p: Parameter, x: np.ndarray | float) -> np.ndarray:
    """Values on the scale the parameter is searched on (log or linear)."""
    return portable.log(x) if p.log else np.asarray(x, dtype=np.float64)


def _estimate(p: Parameter, best: float, x: np.ndarray, w: np.ndarray) -> ParameterEstimate:
    low, high = weighted_quantile(x, w, 0.05), weighted_quantile(x, w, 0.95)
    width = float(_scaled(p, high) - _scaled(p, low))
    share = width / float(_scaled(p, p.high) - _scaled(p, p.low))
    identified = share <= WIDE
    note = "" if identified else f"not pinned down: the 90% interval spans {share:.0%} of the range"
    return ParameterEstimate(
        path=p.path,
        estimate=float(best),
        low90=low,
        high90=high,
        mean=float(np.sum(w * x)),
        range=(p.low, p.high),
        log=p.log,
        start=p.start,
        interval_share=share,
        identified=identified,
        note=note,
    )


def _correlations(
    parameters: tuple[Parameter, ...], values: dict[str, np.ndarray], w: np.ndarray
) -> list[Correlation]:
    """Pairs whose weighted correlation over the accepted sets is beyond `STRONG`."""
    if len(w) < 5:
        return []
    found = []
    for i, a in enumerate(parameters):
        for b in parameters[i + 1 :]:
            r = _weighted_r(_scaled(a, values[a.path]), _scaled(b, values[b.path]), w)
            if r is not None and abs(r) >= STRONG:
                found.append(Correlation(first=a.path, second=b.path, r=r))
    return found


def _weighted_r(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float | None:
    dx, dy = x - np.sum(w * x), y - np.sum(w * y)
    sxx, syy = float(np.sum(w * dx * dx)), float(np.sum(w * dy * dy))
    if sxx <= 0 or syy <= 0:
        return None
    return float(np.sum(w * dx * dy) / math.sqrt(sxx * syy))


def _note(estimate: ParameterEstimate, correlations: list[Correlation]) -> str:
    partners = [
        f"{c.second if c.first == estimate.path else c.first} (r = {c.r:+.2f})"
        for c in correlations
        if estimate.path in (c.first, c.second)
    ]
    traded = "traded off against " + ", ".join(partners)
    return f"{estimate.note}; {traded}" if estimate.note else traded


def _fit(
    target: Target, runs: dict[str, np.ndarray], history: History
) -> tuple[dict[str, SeriesFit], pd.DataFrame]:
    """Fit metrics per series in and out of sample, and fit.csv's rows."""
    k = target.fitted
    fits, rows = {}, []
    steps = np.arange(target.steps)
    for s, observed in target.observed.items():
        sim = runs[s]
        mean = sim.mean(axis=0)
        low, high = np.quantile(sim, BAND, axis=0)
        scale = target.scales[s]
        holdout = metrics(mean[k:], observed[k:], scale) if k < target.steps else None
        fits[s] = SeriesFit(
            weight=target.weights[s],
            scale=scale,
            in_sample=metrics(mean[:k], observed[:k], scale),
            holdout=holdout,
        )
        rows.append(
            pd.DataFrame(
                {
                    "step": steps,
                    **({"date": list(history.dates)} if history.dates else {}),
                    "series": s,
                    "window": np.where(steps < k, "fit", "holdout"),
                    "observed": observed,
                    "simulated": mean,
                    "low": low,
                    "high": high,
                }
            )
        )
    return fits, pd.concat(rows, ignore_index=True)
