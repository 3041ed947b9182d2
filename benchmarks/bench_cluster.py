"""Cluster scaling: 2 single-threaded Dask workers against 1, and the cost of a task.

    .venv/bin/python -m benchmarks.bench_cluster [--people 100000] [--replicates 8]
        [--trials 12] [--tasks 200] [--repeats 3]

For 1 and then 2 workers, a local cluster is started as `--cluster` users start one: a
`dask scheduler` and `dask worker --nthreads 1 --nworkers 1` processes on 127.0.0.1
with NUMBA_NUM_THREADS=1 (`marketsim.testing.cluster.local_cluster`). On each:

- replicates: `simulate` of `--replicates` replicates of minimal-b2c at `--people`
  people through `DaskCluster`, what `run --replicates R --cluster` runs; best of
  `--repeats`, after a warm-up that loads the kernels on every worker;
- optimize: a study of `--trials` trials of scenarios/b2c_launch.yaml at 20,000 people
  (`bench_optimize.study_run`, the workers sharing a journal), start-up included.

Speed-up: time on 1 worker / time on 2. Per-task overhead: `--tasks` jobs that do
nothing, through `Executor.map`, per task, for `InProcess`, a warm `ProcessPool` of 2
and each cluster (the cost a job pays beyond its work: pickling, scheduling, the network
round trip). The load average before and after is printed: on a shared machine other
processes skew the speed-up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_b2c import load_average
from benchmarks.bench_optimize import study_run
from marketsim.drivers.execution import DaskCluster, Executor, InProcess, ProcessPool
from marketsim.testing.cluster import SOURCE as ROOT
from marketsim.testing.cluster import local_cluster

SCENARIO = ROOT / "tests" / "contract" / "minimal-b2c.yaml"


def nothing(item: int, progress: Any) -> int:
    """A job with no work: what is left of its time is the executor's."""
    return item


def per_task(executor: Executor, tasks: int) -> float:
    """Seconds per trivial job through `executor.map`, after one warm-up round."""
    executor.map(nothing, range(executor.workers * 2))
    started = time.perf_counter()
    executor.map(nothing, range(tasks))
    return (time.perf_counter() - started) / tasks


def replicates_time(executor: Executor, people: int, replicates: int, repeats: int) -> float:
    """Best wall time of `simulate` with `replicates` replicates on `executor`."""
    from marketsim.drivers.simulation import simulate
    from marketsim.plugins.prepare import load_scenario

    scenario = load_scenario(SCENARIO, [f"segments.consumers.size={people}"])
    small = load_scenario(SCENARIO, ["segments.consumers.size=1000"])
    simulate(small, replicates=executor.workers * 2, executor=executor)  # load the kernels
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        simulate(scenario, replicates=replicates, executor=executor)
        times.append(time.perf_counter() - started)
    return min(times)


def on_cluster(workers: int, args: argparse.Namespace) -> dict[str, float]:
    """The measurements on a fresh local cluster of `workers` workers."""
    with tempfile.TemporaryDirectory() as tmp, local_cluster(Path(tmp), workers) as cluster:
        with DaskCluster(cluster.address) as executor:
            overhead = per_task(executor, args.tasks)
            replicates = replicates_time(executor, args.people, args.replicates, args.repeats)
        study = study_run(args.trials, 1, workers, False, people=20_000, cluster=cluster.address)
    return {
        "task": overhead,
        "replicates": replicates,
        "optimize": study["search_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    with InProcess() as here:
        local = per_task(here, args.tasks)
    with ProcessPool(2, threads=1) as pool:
        pooled = per_task(pool, args.tasks)
    one, two = on_cluster(1, args), on_cluster(2, args)
    print(
        f"run --replicates {args.replicates} at {args.people:,} people: "
        f"{one['replicates']:.2f} s on 1 worker, {two['replicates']:.2f} s on 2 -> "
        f"{one['replicates'] / two['replicates']:.2f}x"
    )
    print(
        f"optimize, {args.trials} trials at 20,000 people (start-up included): "
        f"{one['optimize']:.2f} s on 1 worker, {two['optimize']:.2f} s on 2 -> "
        f"{one['optimize'] / two['optimize']:.2f}x"
    )
    print(
        f"per-task overhead ({args.tasks} empty jobs): InProcess {local * 1e6:.1f} us, "
        f"ProcessPool(2) {pooled * 1e3:.2f} ms, DaskCluster 1 worker "
        f"{one['task'] * 1e3:.2f} ms, 2 workers {two['task'] * 1e3:.2f} ms"
    )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
