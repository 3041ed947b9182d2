"""Worker processes for optimisation and sweeps, started fresh (spawn), reused throughout.

A process that has loaded marketsim's parallel kernels has numba's OpenMP threads
running, and a process forked from it is killed by numba's fork guard ("fork() called
from a process already using GNU OpenMP"). Workers are therefore spawned: each starts a
new interpreter, loads the kernels from numba's cache once, and serves every job of the
command (the search's workers first, then the re-evaluation's replicates), so the start
cost is paid once per worker. Each worker uses its share of the cores for numba's
threads, and exits as soon as the process that started it dies (a `kill -9` of the
command leaves no orphan adding trials to the study).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from marketsim.drivers.execution import Executor, LocalExecutor, make_executor

T = TypeVar("T")
R = TypeVar("R")


class SpawnExecutor(Executor):
    """`workers` spawned processes; results in submission order. Close it when done."""

    def __init__(self, workers: int, threads: int | None = None) -> None:
        if workers < 1:
            raise ValueError(f"`workers >= 1` must hold, but got {workers=}")
        self.workers = workers
        self.threads = threads if threads is not None else cores_per_worker(workers)
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(), self.threads),
        )

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        on_done: Callable[[R], None] | None = None,
    ) -> list[R]:
        """Run every job on the workers; call `on_done` with each result in order."""
        futures = [self._pool.submit(fn, item) for item in items]
        try:
            results = []
            for future in futures:
                result = future.result()
                if on_done is not None:
                    on_done(result)
                results.append(result)
            return results
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def close(self) -> None:
        """Stop the workers (waiting for running jobs)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def make_pool(workers: int, cluster: str | None = None) -> Executor:
    """In this process for one worker, spawned workers for several, or a Dask cluster."""
    if cluster:
        return make_executor(workers, cluster)
    if workers == 1:
        return LocalExecutor(1)
    return SpawnExecutor(workers)


def close(executor: Executor) -> None:
    """Release an executor's processes or connection, if it holds any."""
    closer = getattr(executor, "close", None)
    if closer is not None:
        closer()


def cores_per_worker(workers: int) -> int:
    """Numba threads for each of `workers` processes on this machine."""
    return max(1, math.floor((os.cpu_count() or 1) / workers))


def _start_worker(parent: int, threads: int) -> None:
    import numba

    import marketsim.drivers.simulation  # noqa: F401  (load the kernels once, before the first job)

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    watch_parent(parent)


def watch_parent(parent: int) -> None:
    """Exit this process at once when `parent` is gone."""

    def watch() -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="marketsim-parent-watch").start()
