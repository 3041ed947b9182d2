"""Optimiser overhead and worker scaling on scenarios/b2c_launch.yaml.

    .venv/bin/python benchmarks/bench_optimize.py [--trials 200] [--replicates 3]
        [--scaling-trials 40] [--skip-overhead] [--skip-scaling] [--json FILE]

Overhead. One study of `--trials` trials with one worker (TPE, the default storage:
SQLite in the output directory), then the analysis (re-evaluation of 3 candidates and
the baseline with 4 replicates, marginal returns; no response curves). Every trial
records the seconds spent inside the simulation (`run_replicate` and the replicate's
totals); the rest of the search's wall time is the optimiser's overhead: sampling,
storage writes and reads, building each trial's scenario, Python glue. The analysis is
simulation but for a few milliseconds of bookkeeping, timed apart. Reported: overhead
as a share of the search's wall time, and of the whole command's.

Scaling. The same question with `--scaling-trials` trials, once with one worker and once
with two (spawned processes sharing a JournalStorage file, one numba thread each), timing
the search phase from the moment it is asked for, so the workers' start-up (a fresh
interpreter loading the kernels from numba's cache) is included. One worker runs the
kernels on numba's threads over every core, so it is measured a second time on one
thread: the per-process scaling. Reported: trials per minute and the ratios, and the
rate once running (first to last trial completion), which long studies approach.

The load average before and after is printed: other processes on a shared machine skew
the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "b2c_launch.yaml"


def study_run(
    trials: int,
    replicates: int,
    workers: int,
    analyse_too: bool,
    threads: int | None = None,
    people: int | None = None,
    cluster: str | None = None,
) -> dict:
    """One study (and its analysis if `analyse_too`); `people` resizes the market.

    With `cluster` (a Dask scheduler's address) the trials run on its workers instead.
    """
    from marketsim.drivers.execution import make_executor
    from marketsim.drivers.optimize.runner import analyse, open_study, question_for, search
    from marketsim.drivers.optimize.study import Storage, completed, trial_result
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.scale import scaled
    from marketsim.scenario.schema import OptimizeSpec

    scenario = load_scenario(SCENARIO)
    if people is not None:
        scenario = scaled(scenario, people)
    spec = OptimizeSpec(
        trials=trials,
        replicates=replicates,
        workers=workers,
        curve_points=0,
        reevaluate=4,
        candidates=3,
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "opt"
        out.mkdir()
        started = time.perf_counter()
        question = question_for(scenario, spec, scenario.seed)
        storage = Storage.resolve(None, out, shared=workers > 1 or cluster is not None)
        study = open_study(question, spec, storage, "bench", resume=False)
        executor = make_executor(workers, cluster)
        import numba

        before = numba.get_num_threads()
        if threads is not None and workers == 1:
            numba.set_num_threads(threads)  # the in-process worker's kernels
        try:
            t0 = time.perf_counter()
            search(question, spec, storage, study, executor)
            searching = time.perf_counter() - t0
            done = completed(study)
            ends = sorted(t.datetime_complete.timestamp() for t in done)
            steady = 60 * (len(ends) - 1) / (ends[-1] - ends[0]) if len(ends) > 1 else 0.0
            simulating = sum(trial_result(t).simulating for t in done)
            analysing = 0.0
            if analyse_too:
                t1 = time.perf_counter()
                analyse(question, spec, study, storage=storage, executor=executor)
                analysing = time.perf_counter() - t1
        finally:
            executor.close()
            numba.set_num_threads(before)
        total = time.perf_counter() - started
    return {
        "trials": len(done),
        "people": scenario.people,
        "workers": executor.workers,
        "replicates": replicates,
        "search_seconds": searching,
        "simulating_seconds": simulating,
        "analysis_seconds": analysing,
        "total_seconds": total,
        "trials_per_minute": 60 * len(done) / searching,
        "steady_trials_per_minute": steady,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--scaling-trials", type=int, default=40)
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from marketsim.drivers.simulation import simulate
    from marketsim.plugins.prepare import load_scenario

    simulate(load_scenario(SCENARIO, ["segments.urban_young.size=500"]))  # warm the kernels
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}; load before {os.getloadavg()}"
    )
    report: dict = {}
    if not args.skip_overhead:
        r = study_run(args.trials, args.replicates, 1, analyse_too=True)
        search_overhead = (r["search_seconds"] - r["simulating_seconds"]) / r["search_seconds"]
        whole = r["search_seconds"] + r["analysis_seconds"]
        command_overhead = (r["search_seconds"] - r["simulating_seconds"]) / whole
        r |= {"search_overhead": search_overhead, "command_overhead": command_overhead}
        report["overhead"] = r
        print(
            f"overhead: {r['trials']} trials x {r['replicates']} replicates, one worker: search "
            f"{r['search_seconds']:.1f} s of which simulating {r['simulating_seconds']:.1f} s -> "
            f"overhead {search_overhead:.2%} of the search; "
            f"analysis {r['analysis_seconds']:.1f} s; "
            f"overhead {command_overhead:.2%} of search + analysis"
        )
    if not args.skip_scaling:
        one = study_run(args.scaling_trials, args.replicates, 1, analyse_too=False)
        two = study_run(args.scaling_trials, args.replicates, 2, analyse_too=False)
        lone = study_run(args.scaling_trials, args.replicates, 1, analyse_too=False, threads=1)
        ratio = two["trials_per_minute"] / one["trials_per_minute"]
        per_process = two["trials_per_minute"] / lone["trials_per_minute"]
        steady = two["steady_trials_per_minute"] / one["steady_trials_per_minute"]
        report["scaling"] = {
            "one": one,
            "two": two,
            "one_single_thread": lone,
            "ratio": ratio,
            "ratio_to_single_thread": per_process,
            "steady_ratio": steady,
        }
        print(
            f"scaling: {one['trials_per_minute']:.1f} trials/min with 1 worker (numba threads "
            f"on every core), {two['trials_per_minute']:.1f} with 2 (one thread each, start-up "
            f"included) -> {ratio:.2f}x; 1 worker on one thread "
            f"{lone['trials_per_minute']:.1f} -> 2 workers give {per_process:.2f}x; "
            f"once running (first to last completion, no start-up): "
            f"{one['steady_trials_per_minute']:.1f} and {two['steady_trials_per_minute']:.1f} "
            f"trials/min -> {steady:.2f}x"
        )
    print(f"load after {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
