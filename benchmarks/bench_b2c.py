"""Speed and memory of the customer step at a million customers, against the reference.

    .venv/bin/python benchmarks/bench_b2c.py [--customers 1000000] [--steps 52]
        [--repeats 5] [--threads N] [--peer-customers 20000] [--peer-steps 5]
        [--cold] [--traits] [--set PATH=VALUE ...] [--json FILE] [--check]

What it runs. `scenarios/b2c_launch.yaml` (or, if that file is missing,
`tests/contract/minimal-b2c.yaml`) with every segment's size scaled by the same factor
so the population totals `--customers` people, stepped `--steps` steps (at most the
scenario's horizon) with the numba kernel engine. `--traits` turns on every individual
trait, media habit, per-medium memory, frequency threshold, wear-out, awareness adstock
and forgetting, stocking up, satisfaction and its churn and word-of-mouth responses
(`TRAITS_ON`): the most per-person work the customer step can do. `--set` changes the
scenario further, as `marketsim run --set` does.

How it measures. Everything runs in one fresh worker subprocess, started with
NUMBA_NUM_THREADS=`--threads` when given, so the numba thread pool is set before numba
loads. The worker

1. imports marketsim and warms numba up: it builds and steps the same scenario at
   2,000 people, which compiles the kernels (or loads them from numba's cache). That
   time is reported; with `--cold` the worker gets an empty NUMBA_CACHE_DIR, so it is
   the first-run compile time.
2. reads its resident set size (RSS, `VmRSS` in /proc/self/status) as the baseline,
   then resets the kernel's peak-RSS mark (writes 5 to /proc/self/clear_refs).
3. builds and steps the full-size model once, not timed for speed, and reads the peak
   RSS (`VmHWM`) reached while doing so. Memory per customer is
   (peak RSS - baseline RSS) / customers: everything the run added on top of an
   interpreter with marketsim imported and numba warm - the population arrays, the
   contact network, its construction scratch, the ledger - at its highest point.
4. repeats `--repeats` times: build the model (population build time, which is
   dominated by the contact network) and step it (stepping time). Throughput is
   customers x steps / stepping time, in customer-steps per second; the stepping time
   is the whole step (`MarketModel.run_model`, as the commands run it), channels and
   ledger included, not the kernel alone. Each step's own time is kept too: their
   median and lower quartile are less swayed by a neighbour on a shared machine
   than whole runs are.
5. measures the peer, the plain-Python reference engine
   (`MarketModel(..., engine="reference")`), on `--peer-customers` people for
   `--peer-steps` steps, once (it is slow), and reports the speed-up of the kernel
   engine's median over it.

The machine is described in the output. On a shared machine other processes skew the
numbers, so the output says how much of the CPUs other processes used while the timed
runs stepped (from /proc/stat, minus the worker's own CPU time), and the load average.
"""

from __future__ import annotations

import argparse
import gc
import itertools
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
SCENARIO = ROOT / "scenarios" / "b2c_launch.yaml"
FALLBACK = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
WARM_PEOPLE = 2_000
FLOOR_SPEED = 20e6  # customer-steps per second on the 2-core reference machine
FLOOR_BYTES = 400  # bytes per customer


def _everyone_differs(segment: str) -> list[str]:
    prefix = f"segments.{segment}."
    return [
        prefix + "traits.price_sensitivity={dist: lognormal, mean: 1.5, sd: 0.6}",
        prefix + "traits.purchase_rate={dist: gamma, mean: 1, shape: 1}",
        prefix + "traits.word_of_mouth={dist: lognormal, mean: 1, sd: 0.5}",
        prefix + "traits.attitude={dist: mix, values: [0.7, 1.3], weights: [0.5, 0.5]}",
        prefix + "media={tv: {habit: {dist: gamma, mean: 1, shape: 1.5}, retention: 0.7}, "
        "social: {habit: {dist: beta, mean: 0.5, sd: 0.2}, retention: 0.4}, "
        "press: {habit: {dist: gamma, mean: 1, shape: 2}}}",
        prefix + "awareness_adstock=0.5",
        prefix + "awareness_decay=0.02",
        prefix + "dissatisfied_churn=2",
        prefix + "dissatisfied_word_of_mouth=against",
        prefix + "churn_price_response=1",
        prefix + "churn_trust_response=1",
    ]


TRAITS_ON = [
    *(o for s in ("urban_young", "families", "seniors") for o in _everyone_differs(s)),
    "channels.tv.medium=tv",
    "channels.tv.frequency_threshold=2",
    "channels.tv.wear_out=0.2",
    "channels.social.medium=social",
    "channels.social.wear_out=0.1",
    "channels.press.medium=press",
    "products.capsules.stockpile=2",
    "products.capsules.quality=0.9",
]
"""Overrides of `scenarios/b2c_launch.yaml` that make everyone differ (`--traits`)."""


def scenario_path() -> Path:
    """The benchmark scenario: the B2C launch if present, else the contract file."""
    return SCENARIO if SCENARIO.exists() else FALLBACK


def _status(field: str) -> int:
    """A field of /proc/self/status, in bytes (the kernel reports kB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _busy() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def time_steps(
    model: Any, steps: int, step_times: list[float] | None = None
) -> tuple[float, float]:
    """Step `model` as its users do; return the wall time and others' share of the CPUs.

    marketsim's drivers run a model with `run_model`; a Mesa user calls `step()`. Each
    step's own wall time is appended to `step_times`, if given.
    """
    from marketsim.engine.model import MarketModel

    busy, own = _busy(), sum(os.times()[:2])
    start = time.perf_counter()
    stamps = [start]
    if isinstance(model, MarketModel):
        model.run_model(steps, progress=lambda _: stamps.append(time.perf_counter()))
    else:
        for _ in range(steps):
            model.step()
            stamps.append(time.perf_counter())
    wall = time.perf_counter() - start
    if step_times is not None:
        step_times.extend(b - a for a, b in itertools.pairwise(stamps))
    others = (_busy() - busy) - (sum(os.times()[:2]) - own)
    return wall, max(0.0, others / (wall * (os.cpu_count() or 1)))


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Steps 1-5 of the module docstring; returns the measurements."""
    start = time.perf_counter()
    import numba

    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.scale import scaled

    imported = time.perf_counter() - start
    path = scenario_path()
    base = load_scenario(path, [*(TRAITS_ON if args.traits else ()), *args.set])
    if args.steps > base.horizon:
        raise SystemExit(f"--steps must be at most the horizon ({base.horizon}) of {path}")

    def build(people: int, engine: str = "kernel") -> tuple[Any, float]:
        scenario = scaled(base, people)
        t = time.perf_counter()
        model = MarketModel(scenario, engine=engine, materialize_customers=False)
        return model, time.perf_counter() - t

    t = time.perf_counter()
    model, _ = build(WARM_PEOPLE)
    time_steps(model, min(3, args.steps))
    warm_up = time.perf_counter() - t
    del model
    gc.collect()

    baseline = _status("VmRSS")
    peak_reset = _reset_peak()
    model, first_build = build(args.customers)
    first_step, _ = time_steps(model, args.steps)
    peak = _status("VmHWM")
    customers = model.population.size
    del model
    gc.collect()

    builds, stepping, others, each_step = [], [], [], []
    for _ in range(args.repeats):
        model, took = build(args.customers)
        builds.append(took)
        wall, other = time_steps(model, args.steps, each_step)
        stepping.append(wall)
        others.append(other)
        del model
        gc.collect()

    peer, _ = build(args.peer_customers, engine="reference")
    peer_customers = peer.population.size
    peer_time, _ = time_steps(peer, args.peer_steps)
    return {
        "scenario": str(path.relative_to(ROOT)),
        "customers": customers,
        "steps": args.steps,
        "repeats": args.repeats,
        "threads": numba.get_num_threads(),
        "traits": args.traits,
        "import_s": imported,
        "warm_up_s": warm_up,
        "cold_cache": args.cold,
        "baseline_rss": baseline,
        "peak_rss": peak,
        "peak_reset": peak_reset,
        "first_build_s": first_build,
        "first_step_s": first_step,
        "build_s": builds,
        "step_s": stepping,
        "others_share": others,
        "each_step_s": each_step,
        "peer_customers": peer_customers,
        "peer_steps": args.peer_steps,
        "peer_step_s": peer_time,
    }


def machine() -> dict[str, Any]:
    """CPU, cores, memory and library versions of this machine."""
    import numba
    import numpy

    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) * 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": mem / 2**30,
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": numpy.__version__,
    }


def summarize(raw: dict[str, Any], box: dict[str, Any]) -> dict[str, Any]:
    """Derived figures: throughput, memory per customer, speed-up."""
    work = raw["customers"] * raw["steps"]
    speeds = [work / t for t in raw["step_s"]]
    peer_speed = raw["peer_customers"] * raw["peer_steps"] / raw["peer_step_s"]
    median = statistics.median(speeds)
    each = sorted(raw["each_step_s"])
    return {
        "step_median_s": statistics.median(each),
        "step_lower_quartile_s": each[len(each) // 4],
        "speed_median": median,
        "speed_min": min(speeds),
        "speed_max": max(speeds),
        "build_median_s": statistics.median(raw["build_s"]),
        "bytes_per_customer": (raw["peak_rss"] - raw["baseline_rss"]) / raw["customers"],
        "peer_speed": peer_speed,
        "speed_up": median / peer_speed,
        "machine": box,
        "raw": raw,
    }


def report(res: dict[str, Any]) -> str:
    """The compact result block."""
    raw, box = res["raw"], res["machine"]
    mb = 2**20
    ok_speed = "ok" if res["speed_median"] >= FLOOR_SPEED else "BELOW FLOOR"
    ok_mem = "ok" if res["bytes_per_customer"] < FLOOR_BYTES else "ABOVE FLOOR"
    cache = "empty numba cache: compiling" if raw["cold_cache"] else "compiles or loads the cache"
    lines = [
        f"marketsim b2c benchmark: {raw['scenario']} scaled to {raw['customers']:,} "
        f"customers x {raw['steps']} steps"
        + (", every trait on (--traits)" if raw["traits"] else ""),
        f"machine     {box['cpu']}, {box['cores']} cores, {box['ram_gib']:.1f} GiB; "
        f"Python {box['python']}, numba {box['numba']}, numpy {box['numpy']}; "
        f"{raw['threads']} numba threads",
        f"stepping    {res['speed_median'] / 1e6:.1f} M customer-steps/s "
        f"(median of {raw['repeats']}; min {res['speed_min'] / 1e6:.1f}, "
        f"max {res['speed_max'] / 1e6:.1f})  [floor {FLOOR_SPEED / 1e6:.0f} M: {ok_speed}]",
        f"per step    {res['step_median_s'] * 1e3:.2f} ms median, "
        f"{res['step_lower_quartile_s'] * 1e3:.2f} ms lower quartile of the "
        f"{raw['repeats']} x {raw['steps']} steps "
        f"({raw['customers'] / res['step_lower_quartile_s'] / 1e6:.1f} M customer-steps/s at "
        "the quartile: steps a busy machine slowed fall above it)",
        f"build       {res['build_median_s']:.2f} s population and network (median)",
        f"memory      {res['bytes_per_customer']:.0f} bytes/customer (peak RSS "
        f"{raw['peak_rss'] / mb:.0f} MiB - {raw['baseline_rss'] / mb:.0f} MiB after warm-up)"
        f"  [floor {FLOOR_BYTES}: {ok_mem}]",
        f"peer        {res['peer_speed']:,.0f} customer-steps/s, reference engine "
        f"({raw['peer_customers']:,} customers x {raw['peer_steps']} steps)",
        f"speed-up    {res['speed_up']:,.0f}x",
        f"warm-up     {raw['warm_up_s']:.1f} s ({cache}); imports {raw['import_s']:.1f} s",
        f"other load  {100 * statistics.median(raw['others_share']):.0f}% of the CPUs used by "
        f"other processes during the timed runs (median; max "
        f"{100 * max(raw['others_share']):.0f}%); load avg {res['load_before']} before",
    ]
    if not raw["peak_reset"]:
        lines.append("note        could not reset the peak-RSS mark; memory is an upper bound")
    return "\n".join(lines)


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes, as /proc/loadavg gives it."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options of the module docstring, checked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="NUMBA_NUM_THREADS")
    parser.add_argument("--peer-customers", type=int, default=20_000)
    parser.add_argument("--peer-steps", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="empty numba cache: compile")
    parser.add_argument("--traits", action="store_true", help="everyone differs: TRAITS_ON")
    parser.add_argument("--set", action="append", default=[], help="PATH=VALUE override")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--check", action="store_true", help="exit 1 below a floor")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("customers", "steps", "repeats", "peer_customers", "peer_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def measure(args: argparse.Namespace, *, fresh_process: bool = True) -> dict[str, Any] | None:
    """Run the worker and summarize its measurements; None if the worker failed.

    In a fresh subprocess (the default) the thread count is set before numba loads and
    memory is that of a clean interpreter. `fresh_process=False` runs the worker here,
    with `numba.set_num_threads`, to save the start-up (`python -m benchmarks --quick`).
    """
    load_before = load_average()
    if not fresh_process:
        import numba

        before = numba.get_num_threads()
        numba.set_num_threads(args.threads or before)
        try:
            raw = worker(args)
        finally:
            numba.set_num_threads(before)
    else:
        env = dict(os.environ)
        if args.threads is not None:
            env["NUMBA_NUM_THREADS"] = str(args.threads)
        with tempfile.TemporaryDirectory(prefix="marketsim-bench-") as tmp:
            if args.cold:
                env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba-cache")
            out = Path(tmp) / "result.json"
            forwarded = [
                f"--customers={args.customers}",
                f"--steps={args.steps}",
                f"--repeats={args.repeats}",
                f"--peer-customers={args.peer_customers}",
                f"--peer-steps={args.peer_steps}",
                *(["--cold"] if args.cold else []),
                *(["--traits"] if args.traits else []),
                *(f"--set={change}" for change in args.set),
                f"--worker={out}",
            ]
            done = subprocess.run([sys.executable, __file__, *forwarded], env=env, check=False)
            if done.returncode != 0:
                return None
            raw = json.loads(out.read_text())
    res = summarize(raw, machine())
    res["load_before"] = load_before
    return res


def main(argv: list[str] | None = None) -> int:
    """Parse options; run the worker in a subprocess (or be the worker)."""
    args = parse_args(argv)
    if args.worker is not None:
        args.worker.write_text(json.dumps(worker(args)))
        return 0
    res = measure(args)
    if res is None:
        return 1
    print(report(res))
    if args.json is not None:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    below = res["speed_median"] < FLOOR_SPEED or res["bytes_per_customer"] >= FLOOR_BYTES
    return 1 if args.check and below else 0


if __name__ == "__main__":
    sys.exit(main())
