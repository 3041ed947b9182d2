"""What a behaviour plugin on the word-of-mouth hook costs, at a million customers.

    .venv/bin/python benchmarks/bench_plugins.py [--customers 1000000] [--steps 26]
        [--repeats 3] [--threads N] [--json FILE] [--check]

What it runs. `scenarios/b2c_launch.yaml` with every segment scaled by one factor so
the population totals `--customers`, stepped `--steps` steps with the numba engine, in
these variants:

* built-in: no plugin;
* kernel no-op: a kernel plugin on the word-of-mouth hook that returns its input (the
  cost of calling a kernel hook for every person, of the start-of-step copies hooks
  read and of checking what they return; results identical to built-in);
* two kernel no-ops composed: the same plugin twice on the one hook point, a chain;
* the same two by pointer: the hooks called through the shared kernel's function
  pointers, as markets under `INLINE_FROM` people run them (at this size they are
  compiled into the kernel);
* kernel threshold_contagion: the shipped Granovetter plugin (a kernel plugin drawing
  a personal threshold per person);
* Python no-op: a Python per-batch word-of-mouth hook that does nothing (the cost of
  handing the word-of-mouth input to Python as an array; results identical);
* Python negative_wom: the shipped per-batch plugin (numpy over the population).

How it measures. One process (NUMBA_NUM_THREADS=`--threads` if given, set before numba
loads). Every variant is first built and stepped at 2,000 people so compilation is
done. Then for each of `--repeats` rounds, each variant in turn is built (not timed)
and stepped `--steps` steps (timed: the whole `model.step()`); rounds interleave the
variants so load on a shared machine hits them alike. The median over rounds is
reported with its ratio to the built-in median. The no-op variants must reproduce the
built-in timeseries exactly; that is checked too.

Limits (issue 14's): a kernel plugin on the word-of-mouth hook at most 1.15x the
built-in stepping time, two composed at most 1.3x, a Python per-batch plugin at most
1.5x. `--check` exits 1 when a limit is exceeded.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "b2c_launch.yaml"
WARM_PEOPLE = 2_000

NOOP_PLUGINS = """
from typing import ClassVar

import numba

from marketsim.plugins import Plugin


@numba.njit(cache=True)
def same(key, i, s, value, stage, indptr, indices, params):
    return value


class KernelNoop(Plugin):
    name = "bench_kernel_noop"
    description = "word of mouth unchanged, from a kernel hook"
    kernels: ClassVar[dict] = {"word_of_mouth": same}


class PythonNoop(Plugin):
    name = "bench_python_noop"
    description = "word of mouth unchanged, from a Python per-batch hook"

    def word_of_mouth(self, ctx):
        pass
"""

NOOP = {"plugin": "bench_kernel_noop"}
VARIANTS: dict[str, tuple[list[dict[str, Any]], str | None, str]] = {
    "built-in": ([], None, "auto"),
    "kernel no-op": ([NOOP], "kernel", "auto"),
    "two kernel no-ops composed": ([NOOP, NOOP], "composed", "auto"),
    "kernel threshold_contagion": ([{"plugin": "threshold_contagion"}], "kernel", "auto"),
    "kernel no-op, by pointer": ([NOOP], None, "pointers"),
    "two no-ops, by pointer": ([NOOP, NOOP], None, "pointers"),
    "Python no-op": ([{"plugin": "bench_python_noop"}], "python", "auto"),
    "Python negative_wom": ([{"plugin": "negative_wom"}], "python", "auto"),
}
"""Each variant's behaviours, the limit it is held to, and how its kernel hooks are
called (`MARKETSIM_PLUGIN_KERNELS`: auto inlines them at this size, pointers as small
markets do)."""
LIMITS = {"kernel": 1.15, "composed": 1.3, "python": 1.5}
IDENTICAL = (
    "kernel no-op",
    "two kernel no-ops composed",
    "kernel no-op, by pointer",
    "two no-ops, by pointer",
    "Python no-op",
)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import numba

    from marketsim.core.hooks import INLINE_FROM, MODE_VARIABLE
    from marketsim.engine.model import MarketModel
    from marketsim.plugins import add_plugin_paths
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.scale import scaled

    folder = Path(tempfile.mkdtemp(prefix="bench-plugins-"))
    (folder / "bench_noop.py").write_text(NOOP_PLUGINS)
    add_plugin_paths([folder])
    base = load_scenario(SCENARIO)
    steps = min(args.steps, base.horizon)

    def build(variant: str, people: int) -> Any:
        behaviours, _, mode = VARIANTS[variant]
        if mode == "auto":  # what auto picks for the timed market, also when warming up
            mode = "inline" if args.customers >= INLINE_FROM else "pointers"
        os.environ[MODE_VARIABLE] = mode
        scenario = scaled(base, people).model_copy(update={"behaviours": behaviours})
        return MarketModel(scenario, materialize_customers=False)

    def run(model: Any) -> float:
        start = time.perf_counter()
        model.run_model(steps)
        return time.perf_counter() - start

    for variant in VARIANTS:  # compile everything first
        run(build(variant, WARM_PEOPLE))
    timings: dict[str, list[float]] = {v: [] for v in VARIANTS}
    frames: dict[str, Any] = {}
    customers = 0
    load_before = os.getloadavg()
    for _ in range(args.repeats):
        for variant in VARIANTS:
            model = build(variant, args.customers)
            customers = model.population.size
            timings[variant].append(run(model))
            frames.setdefault(variant, model.ledger.frame())
            del model
            gc.collect()
    identical = {v: bool(frames[v].equals(frames["built-in"])) for v in IDENTICAL}
    return {
        "scenario": str(SCENARIO.relative_to(ROOT)),
        "customers": customers,
        "steps": steps,
        "repeats": args.repeats,
        "threads": numba.get_num_threads(),
        "step_s": timings,
        "identical_to_built_in": identical,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "machine": {
            "cpu": _cpu(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numba": numba.__version__,
        },
    }


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def report(result: dict[str, Any]) -> bool:
    """Print the table; return whether every limit holds."""
    steps, customers = result["steps"], result["customers"]
    medians = {v: statistics.median(t) for v, t in result["step_s"].items()}
    base = medians["built-in"]
    m = result["machine"]
    print(
        f"{result['scenario']} at {customers:,} customers, {steps} steps, median of "
        f"{result['repeats']}; {result['threads']} threads, {m['cpu']}, Python {m['python']}, "
        f"numba {m['numba']}; load {result['load_before'][0]:.1f} -> {result['load_after'][0]:.1f}"
    )
    print(f"{'variant':28} {'ms/step':>9} {'M cust-steps/s':>15} {'x built-in':>11} {'limit':>6}")
    ok = True
    for variant, median in medians.items():
        kind = VARIANTS[variant][1]
        ratio = median / base
        limit = LIMITS.get(kind) if kind else None
        passed = limit is None or ratio <= limit
        ok &= passed
        mark = "" if limit is None else f"{limit:.2f}x " + ("ok" if passed else "OVER")
        speed = customers * steps / median / 1e6
        print(f"{variant:28} {1e3 * median / steps:9.1f} {speed:15.1f} {ratio:11.2f} {mark:>6}")
    for variant, same in result["identical_to_built_in"].items():
        print(f"{variant}: timeseries {'identical to' if same else 'DIFFERS from'} built-in")
        ok &= same
    return ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=26)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.threads is not None:
        os.environ["NUMBA_NUM_THREADS"] = str(args.threads)  # before numba loads
    result = measure(args)
    ok = report(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
