"""The customer step of this checkout against an earlier commit's, interleaved round by round.

    .venv/bin/python benchmarks/bench_ab.py --base REV [--scenario PATH]
        [--customers 1000000] [--rounds 4] [--traits] [--set PATH=VALUE ...]

On a machine whose speed drifts by tens of percent within minutes (a shared cloud
guest), two figures taken minutes apart do not compare. This script checks `--base` out
into a temporary git worktree and runs the same market alternately on it and on this
checkout, one fresh process a round each, so a slow spell sways both sides alike. Each
run builds the scenario scaled to `--customers`, steps it through its horizon with
`MarketModel.run_model` after an untimed warm-up, and reports its per-step times: the
customer kernel's (`advance`, the contact tallies' sync included) and the whole step's.
Printed: each round's medians, the median of the rounds' medians on each side and their
change, and whether both sides ended in the same state (a speed change that is meant to
keep results bit for bit must say "same": a digest of every person's stage, purchases,
spending and ad memory).

The base commit must have `MarketModel.run_model` and `marketsim.engine.model.advance`
(from 2026-12-03 on).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    sys.path.append(str(ROOT))  # after PYTHONPATH: a base worktree's marketsim wins

from benchmarks.bench_b2c import TRAITS_ON, load_average, machine  # noqa: E402

HIDE_EDITABLE = (
    "import sys\nsys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]\n"
)
"""A sitecustomize for the base's processes: the venv's editable install of this checkout
would otherwise import this checkout's marketsim whatever PYTHONPATH says."""


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One timed run of the market in this process: per-step times and the end state's digest."""
    import marketsim.engine.model as model_module
    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.scale import scaled

    overrides = [*(TRAITS_ON if args.traits else ()), *args.set]
    scenario = scaled(load_scenario(args.scenario, overrides), args.customers)
    MarketModel(scaled(scenario, 20_000), materialize_customers=False).run_model(3)
    kernel: list[float] = []
    real = model_module.advance

    def timed(*call: Any) -> Any:
        start = time.perf_counter()
        try:
            return real(*call)
        finally:
            kernel.append(time.perf_counter() - start)

    model_module.advance = timed
    model = MarketModel(scenario, materialize_customers=False)
    ticks = [time.perf_counter()]
    model.run_model(progress=lambda _: ticks.append(time.perf_counter()))
    pop = model.population
    digest = hashlib.sha256()
    for column in (pop.stage, pop.purchases, pop.spent, pop.ad_memory):
        digest.update(column.tobytes())
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    return {"kernel": kernel, "step": steps, "digest": digest.hexdigest()}


def _child_command(args: argparse.Namespace) -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    command += ["--scenario", str(Path(args.scenario).resolve())]
    command += ["--customers", str(args.customers)]
    command += ["--traits"] * args.traits
    for override in args.set:
        command += ["--set", override]
    return command


def _run_side(tree: Path, hook: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    """One run in a fresh process importing marketsim from `tree`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (hook, tree) if p is not None)
    done = subprocess.run(
        _child_command(args), env=env, cwd=tree, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"the run in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def main(argv: list[str] | None = None) -> int:
    """Alternate the two checkouts round by round; print the rounds and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="commit to compare against (required)")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "b2c_launch.yaml"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--traits", action="store_true", help="everyone differs: TRAITS_ON")
    parser.add_argument("--set", action="append", default=[], help="PATH=VALUE override")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_once(args)))
        return 0
    if not args.base:
        parser.error("--base REV is required")
    if args.rounds < 1 or args.customers < 1:
        parser.error(f"--rounds and --customers must be positive, got {args.rounds}, "
                     f"{args.customers}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="marketsim-ab-") as scratch:
        base, hook = Path(scratch) / "base", Path(scratch) / "hook"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(base), args.base],
            check=True,
        )
        try:
            hook.mkdir()
            (hook / "sitecustomize.py").write_text(HIDE_EDITABLE)
            return _compare(args, {"base": (base, hook), "this": (ROOT, None)})
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                check=False,
            )


def _compare(args: argparse.Namespace, sides: dict[str, tuple[Path, Path | None]]) -> int:
    before = load_average()
    for tree, hook in sides.values():  # compiles or loads each side's numba cache
        _run_side(tree, hook, argparse.Namespace(**{**vars(args), "customers": 20_000}))
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for r in range(args.rounds):
        for name, (tree, hook) in sides.items():
            run = _run_side(tree, hook, args)
            rounds[name].append(run)
            print(
                f"round {r + 1} {name:<4}  kernel {_median_ms(run['kernel']):7.2f} ms  "
                f"step {_median_ms(run['step']):7.2f} ms  (medians of {len(run['step'])} steps)",
                flush=True,
            )
    box = machine()
    print(
        f"\n{Path(args.scenario).name} at {args.customers:,} customers"
        + (", every trait on" if args.traits else "")
        + f"; {box['cpu']}, {box['cores']} cores; base {args.base}; "
        f"load avg {before} before, {load_average()} after"
    )
    for part in ("kernel", "step"):
        medians = {n: statistics.median(_median_ms(x[part]) for x in rounds[n]) for n in sides}
        change = medians["this"] / medians["base"] - 1.0
        print(
            f"{part:<6}  base {medians['base']:7.2f} ms  this {medians['this']:7.2f} ms  "
            f"change {change:+.1%}  (median of {args.rounds} rounds' medians)"
        )
    digests = {run["digest"] for runs in rounds.values() for run in runs}
    same = len(digests) == 1
    print("results: " + ("same on both sides" if same else "DIFFERENT between the sides"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
