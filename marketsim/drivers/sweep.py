"""Response curves: simulate a scenario at many values of one or more settings.

`marketsim sweep FILE --vary channels.tv.budget=0:200000:11` runs the scenario at each
value (every combination, when several settings vary) with the same seed and replicates,
so neighbouring points are compared on common random numbers, and reports the mean and
95% interval of every headline metric per point. The optimiser draws its per-channel
response curves with the same machinery (`evaluate`, `curve_frame`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from marketsim.core.errors import InputError
from marketsim.drivers.execution import Executor, InProcess, Progress
from marketsim.drivers.metrics import ReplicateMetrics, customer_types, describe_metrics, headline
from marketsim.drivers.posterior import Draws
from marketsim.drivers.records import PosteriorUse
from marketsim.drivers.results import replicate_metrics
from marketsim.drivers.simulation import run_replicate
from marketsim.plugins.prepare import prepare
from marketsim.scenario.paths import with_values
from marketsim.scenario.schema import Scenario

MAX_POINTS = 10_000
"""Most points one sweep may have (every combination of the varied values)."""


@dataclass(frozen=True)
class Axis:
    """One varied setting: a dotted scenario path and the values it takes, in order."""

    path: str
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"an axis needs at least one value, but got {self.values=}")


def parse_vary(text: str) -> Axis:
    """`path=START:STOP:N` (N evenly spaced values, both ends included) or `path=A,B,C`.

    Raises:
        ValueError: with a message naming what was expected and what was found.

    """
    path, equals, spec = text.partition("=")
    if not equals or not path or not spec:
        raise ValueError(f"expected dotted.path=START:STOP:N or dotted.path=A,B,C, found {text!r}")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ValueError(f"{path}: expected START:STOP:N, found {spec!r}")
        start, stop = (_number(p, path) for p in parts[:2])
        try:
            n = int(parts[2])
        except ValueError:
            n = 0
        if not 1 <= n <= MAX_POINTS:
            raise ValueError(
                f"{path}: expected a number of points N from 1 to {MAX_POINTS}, found {parts[2]!r}"
            )
        values = tuple(float(v) for v in np.linspace(start, stop, n))
    else:
        values = tuple(_number(p, path) for p in spec.split(","))
    return Axis(path, tuple(_tidy(v) for v in values))


def _number(text: str, path: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        raise ValueError(f"{path}: expected a finite number, found {text.strip()!r}")
    return value


def _tidy(value: float) -> float:
    """Undo linspace's rounding noise: 0.30000000000000004 becomes 0.3."""
    return float(f"{value:.12g}")


def grid(axes: Sequence[Axis]) -> list[dict[str, float]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    points = [
        dict(zip([a.path for a in axes], combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]
    if len(points) > MAX_POINTS:
        raise ValueError(f"expected at most {MAX_POINTS} points, found {len(points)}")
    return points


def override_text(path: str, value: Any) -> str:
    """The `--set` text giving `path` the value `value` (whole numbers without `.0`)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{path}={value}"


# --------------------------------------------------------------------------- evaluation


def replicate_job(
    job: tuple[Scenario, int, int], progress: Progress, *, posterior: Draws | None = None
) -> ReplicateMetrics:
    """The metrics of one replicate: `job` is (scenario, seed, replicate)."""
    scenario, seed, replicate = job
    return replicate_metrics(run_replicate(scenario, seed, replicate, posterior=posterior))


def evaluate(
    scenarios: Sequence[Scenario],
    *,
    seed: int,
    replicates: int,
    executor: Executor | None = None,
    on_done: Callable[[ReplicateMetrics], None] | None = None,
    posterior: Draws | None = None,
) -> list[list[ReplicateMetrics]]:
    """Per-replicate metrics of every scenario, replicates 0..R-1 of `seed` for each.

    Every scenario's replicate r draws from the same random streams (common random
    numbers), and with a `posterior` runs on its draw r, so differences between
    scenarios are paired replicate by replicate. The draws are checked against every
    scenario before any runs: a value one point sets may refuse a drawn one.
    """
    if replicates < 1:
        raise ValueError(f"`replicates >= 1` must hold, but got {replicates=}")
    ready = [prepare(s) for s in scenarios]
    for scenario in ready if posterior is not None else ():
        posterior.check(scenario, replicates)
    jobs = [(s, seed, r) for s in ready for r in range(replicates)]
    job = partial(replicate_job, posterior=posterior)
    flat = (executor or InProcess()).map(job, jobs, on_done=on_done)
    return [flat[i * replicates : (i + 1) * replicates] for i in range(len(scenarios))]


def curve_frame(
    points: Sequence[Mapping[str, Any]],
    results: Sequence[Sequence[ReplicateMetrics]],
    metrics: Sequence[str],
) -> pd.DataFrame:
    """One row per point: its varied values, then `<metric>_mean/_std/_ci95_low/_ci95_high`."""
    rows = []
    for point, reps in zip(points, results, strict=True):
        row: dict[str, Any] = dict(point)
        for metric, stats in describe_metrics(reps, metrics).items():
            for key, value in stats.to_json().items():
                row[f"{metric}_{key}"] = value
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SweepResult:
    """A sweep's points and statistics, with what it was run with."""

    scenario: Scenario
    axes: tuple[Axis, ...]
    seed: int
    replicates: int
    frame: pd.DataFrame
    posterior: PosteriorUse | None = None


def sweep(
    base: Scenario | Callable[[Mapping[str, float]], Scenario],
    axes: Sequence[Axis],
    *,
    seed: int | None = None,
    replicates: int = 3,
    executor: Executor | None = None,
    on_done: Callable[[ReplicateMetrics], None] | None = None,
    posterior: Draws | None = None,
) -> SweepResult:
    """Simulate every point of the grid of `axes` on common random numbers.

    Args:
        base: the scenario to vary, or a function building the scenario of a point
            (the command line loads the file with `--set` overrides, so bad values are
            reported where they were typed).
        axes: the varied settings.
        seed: the seed of every point (default: the base scenario's).
        replicates: replicates per point.
        executor: where replicates run.
        on_done: called with each replicate's metrics as it completes.
        posterior: replicate r of every point runs on the posterior's draw r; it may
            not set a varied path (`check_axes`).

    """
    points = grid(axes)
    if posterior is not None:
        check_axes(axes, posterior)
    if isinstance(base, Scenario):
        scenario = base
        scenarios = [with_values(base, p) for p in points]
    else:
        scenarios = [base(p) for p in points]
        scenario = scenarios[0]
    seed = scenario.seed if seed is None else seed
    results = evaluate(
        scenarios,
        seed=seed,
        replicates=replicates,
        executor=executor,
        on_done=on_done,
        posterior=posterior,
    )
    frame = curve_frame(points, results, headline(customer_types(scenario)))
    used = None if posterior is None else posterior.use(replicates)
    return SweepResult(scenario, tuple(axes), seed, replicates, frame, used)


def check_axes(axes: Sequence[Axis], posterior: Draws) -> None:
    """Refuse varying a path the posterior sets (its draw would replace the value varied).

    Raises:
        InputError: naming the option and the path.

    """
    taken = [a.path for a in axes if a.path in posterior.posterior.paths]
    if taken:
        raise InputError(
            "\n".join(
                f"--vary {path}: the posterior in {posterior.posterior.dir} sets it in every "
                "replicate, so it cannot be varied too"
                for path in taken
            )
        )
