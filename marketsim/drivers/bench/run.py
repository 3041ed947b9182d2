"""Running a benchmark: every (market, strategy, replicate) not yet done, on any executor.

Replicate r of every cell runs with the suite's seed and replicate index r, so the
strategies within a market are paired on common random numbers (markets share the
streams too: they differ by parameters). Jobs are pure, `(scenario, seed, replicate)
-> metrics`, so Dask may run one again after losing a worker; the caller stores each
result as it arrives (`on_result`), so an interrupted benchmark loses only the runs in
flight.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from marketsim.drivers.bench.cells import Cell
from marketsim.drivers.bench.plan import Bench
from marketsim.drivers.execution import Executor, InProcess
from marketsim.drivers.metrics import ReplicateMetrics
from marketsim.drivers.sweep import replicate_job

RunKey = tuple[str, str, int]
"""(market, strategy, replicate): one run of a benchmark."""


def pending(bench: Bench, done: Collection[RunKey]) -> list[tuple[Cell, int]]:
    """The runs still to do, market-major, in suite order."""
    return [
        (cell, r)
        for cell in bench.cells
        for r in range(bench.replicates)
        if (cell.market, cell.strategy, r) not in done
    ]


def run(
    bench: Bench,
    on_result: Callable[[Cell, int, ReplicateMetrics], None],
    *,
    executor: Executor | None = None,
    done: Collection[RunKey] = (),
) -> int:
    """Run every run of `bench` not in `done`; `on_result` as each finishes. Returns how many."""
    todo = pending(bench, done)
    jobs = [(cell.scenario, bench.seed, r) for cell, r in todo]
    for i, result in (executor or InProcess()).each(replicate_job, jobs):
        cell, replicate = todo[i]
        on_result(cell, replicate, result)
    return len(todo)
