"""A strategy benchmark at scale: 20 markets x 5 strategies x 5 replicates at 50,000 customers.

    .venv/bin/python benchmarks/bench_suite.py [--people 50000] [--replicates 5]
        [--workers 2] [--repeats 3] [--json FILE]

Runs `marketsim bench scenarios/suites/launch_robustness.yaml` (5 listed markets and 15
sampled by Latin hypercube, 5 strategies) as a user would, as a subprocess, with the
b2c launch scaled to `--people` customers (40% urban young, 40% families, 20% seniors,
52 weekly steps) through `--set`: 500 runs with the defaults. Each timed run is the
wall time of the whole command, from start to the written report: Python start-up,
loading and checking the suite (100 scenarios), spawning the workers (which load the
kernels from numba's cache), every run stored in SQLite as it finishes, statistics and
the report. An untimed run at 5,000 customers first fills numba's cache.

Reported: each run's wall time, their median, the runs per second, and the share of the
machine's CPUs that other processes used meanwhile (from /proc/stat, minus the
command's own CPU time), with the load average before and after: on a shared machine
other processes slow the figures down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "scenarios" / "suites" / "launch_robustness.yaml"
SHARES = {"urban_young": 0.4, "families": 0.4, "seniors": 0.2}
MARKETS, STRATEGIES = 20, 5


def sizes(people: int) -> list[str]:
    """`--set` options giving the launch's segments `people` customers in all."""
    counts = {seg: round(people * share) for seg, share in SHARES.items()}
    counts["urban_young"] += people - sum(counts.values())
    return [a for seg, n in counts.items() for a in ("--set", f"segments.{seg}.size={n}")]


def _busy() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _children() -> float:
    t = os.times()
    return t.children_user + t.children_system


def run_once(people: int, replicates: int, workers: int, out: Path) -> tuple[float, float]:
    """One benchmark; its wall time and the share of the CPUs others used meanwhile."""
    command = [
        sys.executable,
        "-m",
        "marketsim",
        "bench",
        str(SUITE),
        *sizes(people),
        "-r",
        str(replicates),
        "--workers",
        str(workers),
        "--out",
        str(out),
        "--force",
        "-q",
    ]
    busy, own = _busy(), _children()
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
    wall = time.perf_counter() - start
    others = (_busy() - busy) - (_children() - own)
    return wall, max(0.0, others / (wall * (os.cpu_count() or 1)))


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> dict[str, Any]:
    """CPU, cores and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    runs = MARKETS * STRATEGIES * args.replicates
    with tempfile.TemporaryDirectory() as tmp:
        run_once(5_000, 2, args.workers, Path(tmp) / "warm")
        load_before = _load()
        walls, others = [], []
        for i in range(args.repeats):
            wall, other = run_once(args.people, args.replicates, args.workers, Path(tmp) / "b")
            walls.append(wall)
            others.append(other)
            print(f"run {i + 1}: {wall:.1f} s, other processes {100 * other:.0f}% of the CPUs")
        load_after = _load()
    median = statistics.median(walls)
    result = {
        "machine": machine(),
        "people": args.people,
        "runs": runs,
        "workers": args.workers,
        "walls": walls,
        "median": median,
        "runs_per_second": runs / median,
        "others_share": others,
        "load_before": load_before,
        "load_after": load_after,
    }
    print(
        f"{MARKETS} markets x {STRATEGIES} strategies x {args.replicates} replicates = {runs} "
        f"runs at {args.people:,} customers, {args.workers} workers: median {median:.1f} s "
        f"({runs / median:.1f} runs/s); load avg {load_before} before, {load_after} after"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
