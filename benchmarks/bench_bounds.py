"""What bounds the customer step: memory traffic, the network's random reads, random draws.

    .venv/bin/python benchmarks/bench_bounds.py [--customers 1000000] [--steps 20]
        [--repeats 5] [--traits]

On the market `bench_b2c.py` measures (b2c_launch scaled to `--customers`; `--traits`
turns every trait on), three stripped kernels over the same arrays, each on numba's
threads like the real one:

- **memory**: every per-person array the step reads is read and the ones it writes are
  written, in the same parallel blocks, nothing computed: the floor set by memory
  bandwidth;
- **network**: each person reads their contacts' stage through the CSR network (the
  word-of-mouth tally's access pattern), nothing else;
- **draws**: each person makes one counter-based random draw per channel that runs plus
  `--stage-draws`, nothing else (more than the step makes: a channel reaching no
  segment of the person's is skipped);
- **unaware path**: everyone takes the commonest path through the real step (at a
  million people 85-97% are unaware throughout): their draw of each channel reaching
  their segment at this step's rates, the Poisson inversion, ad memory kept and
  updated, the word-of-mouth tally read, the awareness hazard and its draw, the stage
  written back and tallied; with `--traits` also each person's media habits scaling
  their rates (and the exp() of their own Poisson rate when it may expose them), their
  per-medium ad memories and their word-of-mouth response. Exposure and ad memory are
  the step's own helpers (`_exposure`, `_remember`), so it does the step's work bit for
  bit (`tests/test_bench_bounds.py`). The floor of the step's own logic, without the
  rarer stages' work and the rest of the loop.

- **real, unaware**: the real step (`model.step()`) on the same market where nobody
  ever leaves unaware (no one aware at the start, ads and innovation moving nobody,
  the awareness draw still made): the shipped code's own commonest path, inside the
  whole step, where the unaware path above runs its helpers alone.

Each is reported as customer-steps per second: the step cannot be faster than any of
them, and if the three were perfectly overlapped it could reach the slowest. The real
step (`model.step()`, median of `--repeats` runs of `--steps` steps) is printed beside.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_b2c import TRAITS_ON, load_average, machine  # noqa: E402
from marketsim.core.layout import BLOCK, SegmentColumn  # noqa: E402
from marketsim.core.purposes import P_AWARE  # noqa: E402
from marketsim.kernels.customer_step import (  # noqa: E402
    _exposure,
    _exposure_weights,
    _no_exposure_chance,
    _reaching,
    _remember,
)
from marketsim.kernels.rng import draw, entity_hash  # noqa: E402


@numba.njit(parallel=True, cache=True)
def _memory(stage, segment, memory, first, last, contacts, product, bought, satisfied,
            detractor, purchases, spent, talk, traits, out):  # fmt: skip
    n = stage.shape[0]
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        acc = 0.0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            acc += (segment[i] + first[i] + last[i] + contacts[i] + product[i] + satisfied[i]
                    + detractor[i] + purchases[i] + talk[i])  # fmt: skip
            for k in range(traits.shape[1]):
                acc += traits[i, k]
            stage[i] = stage[i] ^ np.int8(0)
            for g in range(memory.shape[1]):
                memory[i, g] = memory[i, g] * np.float32(1.0)
            bought[i] = bought[i] | np.int32(0)
            spent[i] = spent[i] + np.float32(0.0)
        out[b] = acc


@numba.njit(parallel=True, cache=True)
def _network(stage, indptr, indices, out):
    n = stage.shape[0]
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        talking = 0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            for k in range(indptr[i], indptr[i + 1]):
                talking += stage[indices[k]] >= 3
        out[b] = talking


@numba.njit(parallel=True, cache=True)
def _draws(n, key, per_person, out):
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        acc = 0.0
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            h = entity_hash(key, i)
            for p in range(per_person):
                acc += draw(h, p)
        out[b] = acc


@numba.njit(parallel=True, cache=True)
def _unaware(key, seg_of, stage, memory, contacts, response, habit, exposure, bernoulli, group,
             habit_of, p0, weights, impact, threshold, wear_out, reaching, retention, seg,
             counts, scratch):  # fmt: skip
    n = stage.shape[0]
    groups = memory.shape[1] > 1
    habits = habit.shape[0] > 0
    for b in numba.prange((n + BLOCK - 1) // BLOCK):
        acc = scratch[b]
        for i in range(b * BLOCK, min(n, (b + 1) * BLOCK)):
            s = seg_of[i]
            h = entity_hash(key, i)
            exposures, _ = _exposure(h, i, s, exposure, bernoulli, impact, threshold, wear_out,
                                     group, habit_of, habit, p0, weights, reaching, acc, groups,
                                     habits)  # fmt: skip
            _, carried = _remember(i, s, exposures, exposures, memory, retention, acc, groups)
            wom = np.float64(contacts[i]) * seg[s, SegmentColumn.WORD_OF_MOUTH]
            if response.shape[0] > 0:
                wom *= np.float64(response[i])
            hazard = (
                seg[s, SegmentColumn.INNOVATION_HAZARD]
                + seg[s, SegmentColumn.ATTENTION]
                * (exposures + seg[s, SegmentColumn.AWARENESS_ADSTOCK] * carried)
                + wom
            )
            st = stage[i]
            aware = draw(h, P_AWARE) < hazard
            stage[i] = st  # written back unchanged: every repeat sees the same market
            counts[b, s, st + aware] += 1


def unaware_path_arguments(people, step) -> tuple:
    """`_unaware`'s arguments for `people` at the step whose kernel arrays are `step`.

    Its tallies are the last two: [block, segment, stage] (aware or not added to the
    stage) and each block's memory-group sums.
    """
    blocks = (people.size + BLOCK - 1) // BLOCK
    return (step.key, people.segment, people.stage, people.ad_memory, people.contacts,
            people.word_of_mouth, people.habit, step.exposure, step.bernoulli, step.group,
            step.habit, _no_exposure_chance(step.exposure),
            _exposure_weights(step.impact, step.threshold, step.wear_out), step.impact,
            step.threshold, step.wear_out, _reaching(step.exposure), step.retention, step.seg,
            np.zeros((blocks, step.seg.shape[0], 8), dtype=np.int64),
            np.zeros((blocks, people.ad_memory.shape[1])))  # fmt: skip


def _trait_columns(people) -> np.ndarray:
    """[person, k] every per-person trait and media habit, read by the memory bound."""
    traits = (
        people.price_sensitivity,
        people.purchase_rate,
        people.word_of_mouth,
        people.attitude,
    )
    columns = [people.habit, *(a[:, None] for a in traits)]
    columns = [c for c in columns if c.shape[0]]
    if not columns:
        return np.zeros((people.size, 0), dtype=np.float32)
    return np.ascontiguousarray(np.hstack(columns), dtype=np.float32)


def _nobody_moves(segment: str) -> list[str]:
    """Overrides keeping a segment's people unaware: nobody aware at the start, no
    awareness from ads or on their own (the draw is still made: the chance is 1e-12)."""
    prefix = f"segments.{segment}."
    return [prefix + "initial_awareness=0", prefix + "innovation=1e-12", prefix + "attention=0"]


def _step_arrays(model):
    """The arrays the customer kernel gets at the model's next step (that step is run)."""
    import marketsim.engine.model as engine

    seen = []
    real = engine.advance

    def spy(people, products, step, hooks):
        seen.append(step)
        return real(people, products, step, hooks)

    engine.advance = spy
    try:
        model.step()
    finally:
        engine.advance = real
    return seen[0]


def _median_rate(fn, n: int, steps: int, repeats: int) -> float:
    fn()
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            fn()
        rates.append(n * steps / (time.perf_counter() - started))
    return statistics.median(rates)


def _real_rate(scenario, steps: int, repeats: int) -> float:
    """The whole step's median rate: a fresh market each repeat, one step untimed first."""
    from marketsim.engine.model import MarketModel

    rates = []
    for r in range(repeats):
        model = MarketModel(scenario, seed=1, replicate=r, materialize_customers=False)
        model.step()
        started = time.perf_counter()
        model.run_model(min(steps, scenario.horizon - 1))
        rates.append(scenario.people * steps / (time.perf_counter() - started))
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> int:
    """Measure the three bounds and the real step; print one line each."""
    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import load_scenario, prepare
    from marketsim.scenario.scale import scaled

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--stage-draws", type=int, default=2)
    parser.add_argument("--traits", action="store_true")
    args = parser.parse_args(argv)

    before = load_average()
    overrides = TRAITS_ON if args.traits else ()
    scenario = prepare(
        scaled(load_scenario(ROOT / "scenarios" / "b2c_launch.yaml", overrides), args.customers)
    )
    model = MarketModel(scenario, seed=1, replicate=0, materialize_customers=False)
    for _ in range(10):
        model.step()
    p = model.population
    n = p.size
    blocks = np.zeros((n + BLOCK - 1) // BLOCK)
    channels = sum(c.enabled for c in scenario.channels)
    per_person = channels + args.stage_draws
    key = np.uint64(12345)
    arrays = (
        p.stage,
        p.segment,
        p.ad_memory,
        p.first_touch,
        p.last_touch,
        p.contacts,
        p.product,
        p.purchased_at,
        p.satisfied,
        p.detractor,
        p.purchases,
        p.spent,
        p.talk,
        _trait_columns(p),
    )
    step = _step_arrays(model)
    unaware = unaware_path_arguments(p, step)
    reaching = (step.exposure > 0).sum(axis=0)[p.segment].mean()
    bounds = {
        "unaware path": lambda: _unaware(*unaware),
        "memory": lambda: _memory(*arrays, blocks),
        "network": lambda: _network(p.stage, p.indptr, p.indices, blocks),
        "draws": lambda: _draws(n, key, per_person, blocks),
    }
    rates = {name: _median_rate(fn, n, args.steps, args.repeats) for name, fn in bounds.items()}
    rates["real step"] = _real_rate(scenario, args.steps, args.repeats)
    still = [*overrides, *(o for s in scenario.segments for o in _nobody_moves(s.id))]
    still_market = prepare(
        scaled(load_scenario(ROOT / "scenarios" / "b2c_launch.yaml", still), args.customers)
    )
    rates["real, unaware"] = _real_rate(still_market, args.steps, args.repeats)
    touched = sum(a.nbytes for a in arrays) / n
    box = machine()
    print(
        f"bounds of the customer step: b2c_launch at {n:,} customers"
        + (", every trait on" if args.traits else "")
        + f", {numba.get_num_threads()} numba threads; {box['cpu']}, {box['cores']} cores"
    )
    detail = {
        "memory": f"{touched:.0f} bytes a person read, the written ones written back",
        "network": f"{p.indices.shape[0] / n:.1f} contacts a person, their stage read",
        "draws": f"{per_person} draws a person ({channels} channels + {args.stage_draws})",
        "real step": "model.step(), channels and ledger included",
        "real, unaware": "the same step where nobody ever leaves unaware (same exposures)",
        "unaware path": f"everyone unaware: {reaching:.1f} channels reach a person, 2 draws more"
        + (", media habits and memories" if args.traits else ""),
    }
    for name, rate in rates.items():
        print(f"{name:<12} {rate / 1e6:8.1f} M customer-steps/s   {detail[name]}")
    print(f"load avg     {before} before, {load_average()} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
