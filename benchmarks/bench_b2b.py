"""Speed of the B2B sales machinery: accounts, reps and brokers at scale.

    .venv/bin/python benchmarks/bench_b2b.py [--accounts 20000] [--buying-center 5]
        [--inside 20] [--outside 30] [--steps 52] [--repeats 5]

What it runs. `tests/contract/minimal-b2b.yaml` with `--accounts` accounts of
`--buying-center` decision makers, `--inside` + `--outside` reps (50 by default) and
its five resellers, for `--steps` weekly steps. The target (issue 10): under 1 s warm.

How it measures. One warm-up run (compiles or loads the numba kernels), then
`--repeats` runs of build + step, each timed whole (`MarketModel(...)` to the last
step); the median, min and max are printed, plus the share of the median spent in the
sales phase (`SalesOrganisation.step`) to show rep and broker logic does not dominate.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "contract" / "minimal-b2b.yaml"
TARGET_SECONDS = 1.0


def run_once(scenario, replicate: int) -> tuple[float, float, int]:
    """(total seconds, seconds in the sales phase, deals won) of one full run."""
    from marketsim.engine.model import MarketModel

    start = time.perf_counter()
    model = MarketModel(scenario, replicate=replicate)
    in_sales = 0.0
    step = model.sales.step

    def timed(*args, **kwargs):
        nonlocal in_sales
        t = time.perf_counter()
        out = step(*args, **kwargs)
        in_sales += time.perf_counter() - t
        return out

    model.sales.step = timed
    while model.running:
        model.step()
    total = time.perf_counter() - start
    return total, in_sales, sum(int(row["deals_won"]) for row in model.ledger.rows)


def b2b_scenario(accounts: int, buying_center: int, inside: int, outside: int, steps: int):
    """`minimal-b2b` with this many accounts, buying-centre members, reps and steps."""
    from marketsim.plugins.prepare import load_scenario

    return load_scenario(
        SCENARIO,
        [
            f"horizon={steps}",
            f"segments.midmarket.size={accounts}",
            f"segments.midmarket.buying_center={buying_center}",
            f"sales.inside.count={inside}",
            f"sales.outside.count={outside}",
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--buying-center", type=int, default=5)
    parser.add_argument("--inside", type=int, default=20)
    parser.add_argument("--outside", type=int, default=30)
    parser.add_argument("--steps", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    scenario = b2b_scenario(
        args.accounts, args.buying_center, args.inside, args.outside, args.steps
    )
    run_once(scenario, replicate=99)  # warm-up: compile or load the kernels
    runs = [run_once(scenario, replicate=r) for r in range(args.repeats)]
    totals = [r[0] for r in runs]
    median = statistics.median(totals)
    sales_share = statistics.median(r[1] / r[0] for r in runs)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(
        f"b2b: {args.accounts:,} accounts x {args.buying_center} people, "
        f"{args.inside + args.outside} reps, 5 resellers, {args.steps} steps"
    )
    print(
        f"wall time per run (build + steps): median {median:.2f} s "
        f"(min {min(totals):.2f}, max {max(totals):.2f}) over {args.repeats} runs; "
        f"target < {TARGET_SECONDS:.1f} s: {'met' if median < TARGET_SECONDS else 'NOT met'}"
    )
    print(f"share of the run in the sales phase: {sales_share:.0%}; deals won: {runs[0][2]:,}")


if __name__ == "__main__":
    main()
