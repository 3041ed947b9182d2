"""What the contact tallies' sync costs a step: a scan of everyone against the change lists.

    .venv/bin/python benchmarks/bench_tallies.py [--customers 1000000] [--steps 30]
        [--rounds 4] [--traits]

On the market `bench_b2c.py` measures (b2c_launch scaled to `--customers`), each round
builds two fresh markets and steps each `--steps` steps after one untimed step: one with
`model.step()` in a loop (the caller may write people between steps, so every sync
scans everyone) and one with `model.run_model()` (each sync visits only the people the
step before changed). Both give the same tallies and results (tests/test_contact_tallies.py).
Printed per round and as medians, in ms a step: the whole step, the customer kernel's
`advance` (the sync included) and the sync alone. The two loops run in one process,
interleaved, so a busy neighbour sways both alike; the sync's own time is the figure to
read, the whole step's is the noisier one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_b2c import TRAITS_ON, load_average, machine, scenario_path  # noqa: E402


def _timed(totals: dict[str, float], key: str, fn: Any) -> Any:
    def wrapper(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            totals[key] += time.perf_counter() - start

    return wrapper


def main(argv: list[str] | None = None) -> int:
    """Time both loops round by round; print the per-step figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--traits", action="store_true")
    args = parser.parse_args(argv)

    import marketsim.engine.model as model_module
    import marketsim.kernels.customer_step as customer_step
    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.scale import scaled

    base = load_scenario(scenario_path(), list(TRAITS_ON) if args.traits else [])
    scenario = scaled(base, args.customers)
    totals = {"advance": 0.0, "sync": 0.0}
    customer_step.update_tallies = _timed(totals, "sync", customer_step.update_tallies)
    model_module.advance = _timed(totals, "advance", model_module.advance)
    MarketModel(scaled(base, 2_000), materialize_customers=False).run_model(2)
    box = machine()
    print(
        f"contact tallies' sync: {scenario.people:,} customers x {args.steps} steps"
        + (", every trait on" if args.traits else "")
        + f"; {box['cpu']}, {box['cores']} cores; load avg {load_average()} before"
    )
    figures: dict[str, list[float]] = {}
    for r in range(args.rounds):
        for loop in ("step()", "run_model()"):
            model = MarketModel(scenario, seed=1, replicate=r, materialize_customers=False)
            model.run_model(1)
            totals.update(advance=0.0, sync=0.0)
            start = time.perf_counter()
            if loop == "step()":
                for _ in range(args.steps):
                    model.step()
            else:
                model.run_model(args.steps)
            wall = time.perf_counter() - start
            row = {"step": wall, "advance": totals["advance"], "sync": totals["sync"]}
            for name, value in row.items():
                figures.setdefault(f"{loop} {name}", []).append(value / args.steps * 1e3)
            print(
                f"round {r + 1} {loop:12s} step {row['step'] / args.steps * 1e3:6.2f} ms  "
                f"advance {row['advance'] / args.steps * 1e3:6.2f} ms  "
                f"sync {row['sync'] / args.steps * 1e3:5.2f} ms"
            )
    for loop in ("step()", "run_model()"):
        step, advance, sync = (
            statistics.median(figures[f"{loop} {name}"]) for name in ("step", "advance", "sync")
        )
        print(
            f"median {loop:12s} step {step:6.2f} ms  advance {advance:6.2f} ms  sync {sync:5.2f} ms"
        )
    print(f"load avg {load_average()} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
