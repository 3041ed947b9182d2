"""The no-plugin cost of issue 14's snapshot and guards: this tree against a peer tree.

    .venv/bin/python benchmarks/bench_no_plugin_peer.py PEER_DIR [--customers 1000000]
        [--steps 26] [--repeats 3] [--json FILE]

`scenarios/b2c_launch.yaml` scaled to `--customers`, no plugin, stepped `--steps` steps
with the numba engine, in a fresh subprocess per measurement whose `PYTHONPATH` is this
tree or `PEER_DIR` (a checkout of the commit before, e.g. main). Each subprocess warms
numba up at 2,000 people, then times the stepping of the full model. Rounds interleave
the two trees so load on a shared machine hits both alike; medians, their ratio and the
load average before and after are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import sys, time
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario
from marketsim.scenario.scale import scaled

base = load_scenario(sys.argv[1])
steps = min(int(sys.argv[3]), base.horizon)
for people in (2000, int(sys.argv[2])):
    model = MarketModel(scaled(base, people), materialize_customers=False)
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    took = time.perf_counter() - start
print(took / steps)
"""


def step_time(tree: Path, customers: int, steps: int) -> float:
    """Seconds per step of the full model, measured in a fresh process on `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    scenario = str(ROOT / "scenarios" / "b2c_launch.yaml")
    args = [sys.executable, "-c", WORKER, scenario, str(customers), str(steps)]
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True, cwd=tree)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", type=Path)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=26)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    trees = {"this tree": ROOT, "peer": args.peer.resolve()}
    times: dict[str, list[float]] = {name: [] for name in trees}
    load_before = os.getloadavg()
    for _ in range(args.repeats):
        for name, tree in trees.items():
            times[name].append(step_time(tree, args.customers, args.steps))
    load_after = os.getloadavg()
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"{args.customers:,} customers, {args.steps} steps, median of {args.repeats}; "
        f"load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    for name, median in medians.items():
        print(f"{name:10} {1e3 * median:8.1f} ms/step  {[round(1e3 * t, 1) for t in times[name]]}")
    print(f"ratio      {medians['this tree'] / medians['peer']:8.3f}")
    if args.json is not None:
        record = {"step_s": times, "load_before": load_before, "load_after": load_after}
        args.json.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
