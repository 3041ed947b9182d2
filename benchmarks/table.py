"""One table of marketsim's speed and scale: `python -m benchmarks` (or `make bench`).

    .venv/bin/python -m benchmarks [--quick] [--national] [--json FILE] [--record-floors]

Every figure reuses a benchmark script's own measurement:

- the plain-Mesa peer ratio at 10,000 and 100,000 customers (`bench_mesa_peer.compare`);
- customer-steps per second of `b2c_launch` at 100k, 1M and 10M customers (100M with
  `--national`: about 12 GB), on 1 and 2 numba threads, three ways: as shipped (word of
  mouth over the contact networks, everyone alike), without word of mouth (rate 0,
  well-mixed segments: no network) and with word of mouth and every trait
  (`bench_b2c.TRAITS_ON`); and the peak memory per customer of each run
  (`bench_b2c.measure`, a fresh process per run);
- B2B with the full sales organisation at 100k people: 20,000 accounts of 5, 20 inside
  and 30 outside reps, 5 resellers, 52 steps (`bench_b2b.run_once`);
- cold and warm start: `marketsim run tests/contract/minimal-b2c.yaml` end to end in a
  fresh process, first with an empty numba cache (NUMBA_CACHE_DIR), then again on it
  (`bench_first_run.measure`, medians);
- trials per minute of `optimize` (`bench_optimize.study_run`, one worker) and
  evaluations per minute of `calibrate` (`scenarios/history/company.yaml`, the whole
  calibration, analysis included).

The full run also writes `benchmarks/throughput.html`, a plotly chart of throughput
against population for marketsim and the Mesa peer. `--quick` measures small sizes in
this process (no subprocess per run; a warm start only) in under a minute and writes
nothing unless asked (and no memory figures: a peak is only a fresh process's):
`--json FILE` writes the figures, `--record-floors` records them
in `benchmarks/quick_floors.json` for `tests/test_benchmarks_quick.py`, which fails
only on gross regressions (5x).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from benchmarks import bench_b2b, bench_b2c, bench_first_run, bench_mesa_peer, bench_optimize

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / "benchmarks" / "quick_floors.json"
CHART = ROOT / "benchmarks" / "throughput.html"
COMPANY = ROOT / "scenarios" / "history" / "company.yaml"
HISTORY = ROOT / "scenarios" / "history" / "history.csv"
SEGMENTS = ("urban_young", "families", "seniors")
NO_WORD_OF_MOUTH = [
    change
    for s in SEGMENTS
    for change in (
        f"segments.{s}.word_of_mouth=0",
        f"segments.{s}.network={{type: well_mixed, degree: 8}}",
    )
]
"""`b2c_launch` without word of mouth: no talk, and no contact network to walk."""
VARIANTS = {"word of mouth": (), "no word of mouth": tuple(NO_WORD_OF_MOUTH), "+ traits": None}
"""Ways of running the customer step; None stands for `bench_b2c --traits`."""
NATIONAL = 100_000_000


@dataclass(frozen=True)
class Plan:
    """How big and how often each measurement is."""

    peer_sizes: tuple[int, ...]
    peer_steps: int
    sizes: tuple[int, ...]
    steps: int
    repeats: int
    b2b_accounts: int
    b2b_steps: int
    trials: int
    optimize_people: int | None
    """People in the optimised market (None: b2c_launch's 100,000)."""
    calibrate_changes: dict[str, int]
    """Changes to company.yaml's `calibrate:` section besides the trials."""
    fresh_process: bool
    cold: bool


FULL = Plan(
    peer_sizes=(10_000, 100_000),
    peer_steps=26,
    sizes=(100_000, 1_000_000, 10_000_000),
    steps=52,
    repeats=3,
    b2b_accounts=20_000,
    b2b_steps=52,
    trials=40,
    optimize_people=None,
    calibrate_changes={},
    fresh_process=True,
    cold=True,
)
QUICK = Plan(
    peer_sizes=(5_000,),
    peer_steps=5,
    sizes=(20_000,),
    steps=10,
    repeats=1,
    b2b_accounts=400,
    b2b_steps=10,
    trials=4,
    optimize_people=10_000,
    calibrate_changes={"replicates": 1, "band_replicates": 2, "min_accepted": 2},
    fresh_process=False,
    cold=False,
)


@dataclass(frozen=True)
class Figure:
    """One row of the table; `key` names it in the floors file."""

    key: str
    what: str
    value: float
    unit: str
    better: Literal["higher", "lower"] = "higher"


def peer_figures(plan: Plan) -> tuple[list[Figure], list[bench_mesa_peer.PeerComparison]]:
    """The Mesa peer ratio at each of the plan's peer sizes."""
    runs = [bench_mesa_peer.compare(n, plan.peer_steps, plan.repeats) for n in plan.peer_sizes]
    figures = []
    for r in runs:
        figures += [
            Figure(
                f"peer/{r.customers}/ratio", f"marketsim / Mesa peer, {r.customers:,}", r.ratio, "x"
            ),
            Figure(
                f"peer/{r.customers}/mesa",
                f"Mesa peer, {r.customers:,} customers, 1 core",
                r.peer_speed,
                "customer-steps/s",
            ),
        ]
    return figures, runs


def throughput_figures(plan: Plan, national: bool) -> list[Figure]:
    """Customer-steps/s and peak bytes per customer: every size, thread count and variant."""
    figures = []
    runs = [(n, v) for n in plan.sizes for v in VARIANTS]
    if national:
        runs.append((NATIONAL, "word of mouth"))
    for customers, variant in runs:
        changes = VARIANTS[variant]
        for threads in (1, 2):
            args = bench_b2c.parse_args(
                [
                    f"--customers={customers}",
                    f"--steps={plan.steps}",
                    f"--repeats={1 if customers >= NATIONAL else plan.repeats}",
                    f"--threads={threads}",
                    "--peer-customers=200",
                    "--peer-steps=1",
                    *(["--traits"] if changes is None else [f"--set={c}" for c in changes]),
                ]
            )
            res = bench_b2c.measure(args, fresh_process=plan.fresh_process)
            if res is None:
                raise SystemExit(f"bench_b2c failed at {customers:,} customers, {variant}")
            key = f"{customers}/{threads}/{variant.replace(' ', '-')}"
            label = f"{customers:,} customers, {threads} thread{'s' * (threads > 1)}, {variant}"
            figures.append(Figure(f"speed/{key}", label, res["speed_median"], "customer-steps/s"))
            if threads == 2 and plan.fresh_process:  # a peak is only a clean process's
                figures.append(
                    Figure(
                        f"memory/{key}",
                        f"peak memory, {customers:,} customers, {variant}",
                        res["bytes_per_customer"],
                        "bytes/customer",
                        "lower",
                    )
                )
    return figures


def b2b_figures(plan: Plan) -> list[Figure]:
    """The B2B run with the full sales organisation (after one warm-up run)."""
    scenario = bench_b2b.b2b_scenario(plan.b2b_accounts, 5, 20, 30, plan.b2b_steps)
    bench_b2b.run_once(scenario, replicate=99)
    seconds = sorted(bench_b2b.run_once(scenario, r)[0] for r in range(plan.repeats))
    median = seconds[len(seconds) // 2]
    people = plan.b2b_accounts * 5
    return [
        Figure(
            "b2b/people-steps",
            f"B2B, {people:,} people in {plan.b2b_accounts:,} accounts, 50 reps, 5 resellers",
            people * plan.b2b_steps / median,
            "people-steps/s (build included)",
        )
    ]


def start_figures(plan: Plan) -> list[Figure]:
    """`marketsim run` of minimal-b2c end to end: cold (empty numba cache) and warm."""
    first = bench_first_run.measure(plan.repeats, cold=plan.cold)
    times = {"cold": first.cold, "warm": first.warm}
    return [
        Figure(f"start/{kind}", f"{kind} start: marketsim run minimal-b2c", took, "s", "lower")
        for kind, took in times.items()
        if took is not None
    ]


def search_figures(plan: Plan) -> list[Figure]:
    """Trials per minute of optimize and evaluations per minute of calibrate."""
    from marketsim.drivers.calibrate import calibrate
    from marketsim.plugins.prepare import load_scenario
    from marketsim.scenario.history import read_history

    optimize = bench_optimize.study_run(
        plan.trials, 1, 1, analyse_too=False, people=plan.optimize_people
    )
    company = load_scenario(COMPANY)
    history = read_history(HISTORY, company, list(company.calibrate.match))
    spec = company.calibrate.model_copy(update={"trials": plan.trials, **plan.calibrate_changes})
    start = time.perf_counter()
    calibrate(company, history, spec)
    took = time.perf_counter() - start
    return [
        Figure(
            "optimize/trials",
            f"optimize b2c_launch at {optimize['people']:,} people, 1 replicate a trial, 1 worker",
            optimize["trials_per_minute"],
            "trials/min",
        ),
        Figure(
            "calibrate/evaluations",
            f"calibrate company.yaml, {spec.replicates} replicate(s) an evaluation, "
            "analysis included",
            60 * plan.trials / took,
            "evaluations/min",
        ),
    ]


def render(figures: list[Figure]) -> str:
    """The table, as Markdown."""
    lines = ["| figure | value | unit |", "|---|---:|---|"]
    for f in figures:
        value = f"{f.value:,.0f}" if f.value >= 100 else f"{f.value:.2f}"
        lines.append(f"| {f.what} | {value} | {f.unit} |")
    return "\n".join(lines)


def chart(figures: list[Figure], peers: list[bench_mesa_peer.PeerComparison], path: Path) -> None:
    """Throughput against population: marketsim on 1 and 2 threads, and the Mesa peer."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for threads in (1, 2):
        points = sorted(
            (int(f.key.split("/")[1]), f.value)
            for f in figures
            if f.key.startswith("speed/") and f.key.endswith(f"/{threads}/word-of-mouth")
        )
        fig.add_scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            name=f"marketsim, {threads} thread{'s' * (threads > 1)}",
            mode="lines+markers",
        )
    fig.add_scatter(
        x=[p.customers for p in peers],
        y=[p.marketsim_speed for p in peers],
        name="marketsim beside the peer (2 threads)",
        mode="markers",
    )
    fig.add_scatter(
        x=[p.customers for p in peers],
        y=[p.peer_speed for p in peers],
        name="plain Mesa peer (1 core)",
        mode="lines+markers",
    )
    fig.update_xaxes(type="log", title="customers")
    fig.update_yaxes(type="log", title="customer-steps per second")
    fig.update_layout(title="Throughput against population: b2c_launch (word of mouth)")
    fig.write_html(path, include_plotlyjs="cdn")


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table; write the chart (full run) and what was asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--national", action="store_true", help="also 100M customers (~12 GB)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--record-floors", action="store_true", help=f"write {FLOORS.name}")
    args = parser.parse_args(argv)
    if args.record_floors and not args.quick:
        parser.error("--record-floors records --quick figures: add --quick")
    plan = QUICK if args.quick else FULL
    start = time.perf_counter()
    box = bench_b2c.machine()
    load = bench_b2c.load_average()
    peers, comparisons = peer_figures(plan)
    figures = [
        *peers,
        *throughput_figures(plan, args.national and not args.quick),
        *b2b_figures(plan),
        *start_figures(plan),
        *search_figures(plan),
    ]
    print(
        f"marketsim benchmarks{' (--quick)' if args.quick else ''}: {box['cpu']}, "
        f"{box['cores']} cores, {box['ram_gib']:.1f} GiB; Python {box['python']}, numba "
        f"{box['numba']}, numpy {box['numpy']}; {time.strftime('%Y-%m-%d')}; load avg {load} "
        f"before, {bench_b2c.load_average()} after; took {time.perf_counter() - start:.0f} s"
    )
    print(render(figures))
    if not args.quick:
        chart(figures, comparisons, CHART)
        print(f"chart: {CHART.relative_to(ROOT)}")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")
    if args.record_floors:
        FLOORS.write_text(json.dumps({f.key: f.value for f in figures}, indent=2) + "\n")
    return 0
