"""Where runs happen: one interface for this process, worker processes and a Dask cluster.

Drivers (simulate, compare, sweep, contribution, optimize) hand independent jobs to an
`Executor` and never ask where they run. A job is `fn(item, progress)`: it calls
`progress(event)` as it goes (a step simulated, a trial finished). Here, events reach the
caller's `progress` as they happen; from another process or machine they are replayed
when the job's result comes back. `map` returns results in submission order whatever
ran them, so output never depends on scheduling; `each` yields them as they finish
(with their index), for callers that store every result at once. Every job seeds
itself from its own counters (no shared RNG).

- `InProcess`: this process, one job after another.
- `ProcessPool`: worker processes on this machine, started fresh (spawn) and kept for
  the executor's life. A process that has run marketsim's parallel kernels has numba's
  OpenMP threads running, and a process forked from it is killed by numba's fork guard,
  so workers are spawned; each loads the kernels from numba's cache once, uses its share
  of the cores for numba's threads, and exits as soon as the process that started it
  dies (a `kill -9` of the command leaves no orphan).
- `DaskCluster`: a Dask scheduler's workers (`tcp://host:8786`); every worker must have
  marketsim installed. Jobs are impure tasks, so Dask never merges two that look alike.

Use an executor as a context manager (or call `close`) to release its processes.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any, TypeVar

from marketsim.core.errors import InputError
from marketsim.plugins.discovery import path_folders

T = TypeVar("T")
R = TypeVar("R")

PRELOAD = ("marketsim.drivers.simulation",)
"""Modules a worker process imports when it starts: the simulation and its kernels."""

Progress = Callable[[Any], None]
"""Called with each event a job reports (a step done, a trial's value, ...)."""

Job = Callable[[T, Progress], R]


def _ignore(_: Any) -> None:
    return None


class Executor(ABC):
    """Runs independent jobs and returns their results in submission order.

    Subclasses start a job somewhere (`_submit`) and wait for it (`_result`); the
    events it reported come back with its result and are replayed to `progress`.
    """

    workers: int = 1
    """How many jobs may run at the same time."""

    def map(
        self,
        fn: Job[T, R],
        items: Iterable[T],
        *,
        on_done: Callable[[R], None] | None = None,
        progress: Progress | None = None,
    ) -> list[R]:
        """Run `fn(item, progress)` for every item; `on_done(result)` as each is collected."""
        futures = self._submit(partial(_recorded, fn), list(items))
        results = []
        try:
            for future in futures:
                result, events = self._result(future)
                for event in events:
                    if progress is not None:
                        progress(event)
                if on_done is not None:
                    on_done(result)
                results.append(result)
        except BaseException:
            self._cancel(futures)
            raise
        return results

    def each(
        self, fn: Job[T, R], items: Iterable[T], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, R]]:
        """Run `fn(item, progress)` for every item; yield (index, result) as each finishes.

        Results come in the order jobs finish, so a caller that stores each at once loses
        only the jobs in flight when it is killed. Stopping the iteration cancels what
        has not started.
        """
        futures = self._submit(partial(_recorded, fn), list(items))
        index = {id(future): i for i, future in enumerate(futures)}
        try:
            for future in self._completed(futures):
                result, events = self._result(future)
                for event in events:
                    if progress is not None:
                        progress(event)
                yield index[id(future)], result
        except BaseException:
            self._cancel(futures)
            raise

    def _completed(self, futures: list[Any]) -> Iterable[Any]:
        """The handles in the order their jobs finish."""
        from concurrent.futures import as_completed

        return as_completed(futures)

    @abstractmethod
    def _submit(self, job: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """Start `job` on every item; return one handle per item, in order."""

    def _result(self, future: Any) -> Any:
        """Wait for one handle's (result, events)."""
        return future.result()

    def _cancel(self, futures: list[Any]) -> None:
        """Stop what has not started (after a failure or an interruption)."""
        for future in futures:
            future.cancel()

    def close(self) -> None:
        """Release the executor's processes or connection."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _recorded(fn: Job[T, R], item: T) -> tuple[R, list[Any]]:
    """Run a job elsewhere, keeping the events it reports to replay them at home."""
    events: list[Any] = []
    return fn(item, events.append), events


class InProcess(Executor):
    """This process, one job after another; progress is reported live."""

    def map(
        self,
        fn: Job[T, R],
        items: Iterable[T],
        *,
        on_done: Callable[[R], None] | None = None,
        progress: Progress | None = None,
    ) -> list[R]:
        """Run every job here, in order, reporting its events as they happen."""
        results = []
        for item in items:
            result = fn(item, progress or _ignore)
            if on_done is not None:
                on_done(result)
            results.append(result)
        return results

    def each(
        self, fn: Job[T, R], items: Iterable[T], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, R]]:
        """Run every job here, in order, yielding each result as it is done."""
        for i, item in enumerate(items):
            yield i, fn(item, progress or _ignore)

    def _submit(self, job: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        raise NotImplementedError("InProcess runs every job in `map` or `each`")


class ProcessPool(Executor):
    """`workers` spawned processes on this machine, reused for every job until closed."""

    def __init__(
        self, workers: int, threads: int | None = None, preload: tuple[str, ...] = PRELOAD
    ) -> None:
        if workers < 1:
            raise ValueError(f"`workers >= 1` must hold, but got {workers=}")
        self.workers = workers
        self.threads = threads if threads is not None else cores_per_worker(workers)
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), self.threads, preload),
        )

    def _submit(self, job: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        return [self._pool.submit(job, item) for item in items]

    def close(self) -> None:
        """Stop the workers (waiting for running jobs)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskCluster(Executor):
    """A Dask cluster, given its scheduler's address (e.g. `tcp://10.0.0.5:8786`)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover - depends on the install
            raise InputError(
                f"--cluster {address}: running on a cluster needs dask.distributed: "
                "pip install 'marketsim[cluster]'"
            ) from e
        try:
            self.client = Client(address, timeout="5s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(f"--cluster {address}: cannot reach the Dask scheduler: {e}") from e
        self.address = address
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        folders = path_folders()
        if folders:  # the workers cannot see this machine's --plugin-path folders
            from marketsim.drivers.cluster_plugins import PluginFolders

            self.client.register_plugin(PluginFolders(folders))

    def _submit(self, job: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        return self.client.map(job, items, pure=False)

    def _completed(self, futures: list[Any]) -> Iterable[Any]:
        from distributed import as_completed

        return as_completed(futures, loop=self.client.loop)

    def close(self) -> None:
        """Disconnect from the scheduler."""
        self.client.close()


def make_executor(workers: int = 1, cluster: str | None = None) -> Executor:
    """The executor a command asked for: a cluster address wins over local workers.

    Raises:
        InputError: the cluster cannot be reached (bad input: the address is wrong).

    """
    if cluster:
        return DaskCluster(cluster)
    if workers < 1:
        raise ValueError(f"`workers >= 1` must hold, but got {workers=}")
    return InProcess() if workers == 1 else ProcessPool(workers)


def cores_per_worker(workers: int) -> int:
    """Numba threads for each of `workers` processes on this machine."""
    return max(1, math.floor((os.cpu_count() or 1) / workers))


def _start_worker(parent: int, threads: int, preload: tuple[str, ...]) -> None:
    import numba

    for module in preload:  # import once, before the first job
        importlib.import_module(module)
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
