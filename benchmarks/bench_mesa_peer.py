"""marketsim against the plain-Mesa peer (benchmarks/mesa_peer), measured in the same run.

    .venv/bin/python -m benchmarks.bench_mesa_peer [--sizes 10000 100000] [--steps 26]
        [--repeats 3] [--threads N] [--json FILE]

What it runs. `scenarios/b2c_launch.yaml` within the peer's scope (`PEER_SCOPE`: its
promotion, publicity and public relations switched off, so both models run exactly the
same consumer market), scaled to each of `--sizes` customers, `--steps` steps.

How it measures. In this one process, after warming numba up at 2,000 customers:
for each size, `--repeats` rounds, each building and stepping marketsim (numba kernels,
`--threads` numba threads, all cores by default) and then the peer (`ConsumerMarket`
with Mesa's own random numbers: one `mesa.Agent` per customer, `shuffle_do`, pure
Python on one core). Both step the same steps, so the work per customer-step is the
same. Throughput is customers x steps / stepping seconds (building not included); the
ratio is marketsim's median over the peer's. The share of the CPUs other processes used
while each stepped is printed with the load average: on a shared machine the figures
move with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.bench_b2c import load_average, machine, time_steps

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "b2c_launch.yaml"
PEER_SCOPE = [
    "channels.launch_discount.enabled=false",
    "channels.press.enabled=false",
    "channels.pr.enabled=false",
]
"""`b2c_launch` without the channels the Mesa peer does not model."""
WARM_PEOPLE = 2_000


@dataclass(frozen=True)
class PeerComparison:
    """Both models on one size: stepping throughput of every round, and the ratio."""

    customers: int
    steps: int
    threads: int
    marketsim: list[float]
    """customer-steps per second, one per round."""
    peer: list[float]
    others: list[float]
    """share of the CPUs other processes used, per timed stepping."""

    @property
    def marketsim_speed(self) -> float:
        """Median customer-steps per second of marketsim."""
        return statistics.median(self.marketsim)

    @property
    def peer_speed(self) -> float:
        """Median customer-steps per second of the Mesa peer."""
        return statistics.median(self.peer)

    @property
    def ratio(self) -> float:
        """How many times faster marketsim steps than the peer."""
        return self.marketsim_speed / self.peer_speed


def compare(customers: int, steps: int, repeats: int, threads: int | None = None) -> PeerComparison:
    """Measure both models at `customers` (see the module docstring)."""
    import numba

    from benchmarks.mesa_peer import ConsumerMarket
    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.scale import scaled

    base = load_scenario(SCENARIO, PEER_SCOPE)
    if steps > base.horizon:
        raise SystemExit(f"--steps must be at most the horizon ({base.horizon}) of {SCENARIO}")
    before = numba.get_num_threads()
    numba.set_num_threads(threads or before)
    try:
        time_steps(MarketModel(scaled(base, WARM_PEOPLE), materialize_customers=False), 2)
        scenario = scaled(base, customers)
        ours, theirs, others = [], [], []
        for _ in range(repeats):
            for build, speeds in (
                (lambda: MarketModel(scenario, materialize_customers=False), ours),
                (lambda: ConsumerMarket(scenario, draws="mesa"), theirs),
            ):
                wall, other = time_steps(build(), steps)
                speeds.append(customers * steps / wall)
                others.append(other)
        return PeerComparison(customers, steps, numba.get_num_threads(), ours, theirs, others)
    finally:
        numba.set_num_threads(before)


def report(results: list[PeerComparison]) -> str:
    """One line per size, and the machine."""
    box = machine()
    lines = [
        f"marketsim against the plain-Mesa peer: {SCENARIO.name} without promotion, publicity "
        f"and PR; {box['cpu']}, {box['cores']} cores, Python {box['python']}, "
        f"numba {box['numba']}; load avg {load_average()}"
    ]
    for r in results:
        lines.append(
            f"{r.customers:>9,} customers x {r.steps} steps: marketsim "
            f"{r.marketsim_speed / 1e6:.2f} M customer-steps/s ({r.threads} threads), Mesa peer "
            f"{r.peer_speed / 1e3:.1f} k/s (1 core) -> {r.ratio:,.0f}x  (medians of "
            f"{len(r.peer)}; other processes used {100 * max(r.others):.0f}% of the CPUs at most)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse options, measure, print (and write JSON if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--steps", type=int, default=26)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="numba threads of marketsim")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.steps < 1 or args.repeats < 1:
        parser.error("--sizes, --steps and --repeats must be at least 1")
    if args.threads is not None and not 1 <= args.threads <= (os.cpu_count() or 1):
        parser.error(f"--threads must be between 1 and {os.cpu_count()}")
    start = time.perf_counter()
    results = [compare(n, args.steps, args.repeats, args.threads) for n in args.sizes]
    print(report(results))
    print(f"took {time.perf_counter() - start:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
