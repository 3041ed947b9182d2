"""Where runs happen: one interface for in-process, multi-process and cluster runs.

Drivers (simulate, compare, sweep, optimize) hand independent jobs to an `Executor`;
results come back in submission order whatever ran them, so output never depends on
scheduling, and every job seeds itself from its own counters (no shared RNG).
"""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(ABC):
    """Runs independent jobs and returns their results in submission order."""

    in_process: bool = False

    @abstractmethod
    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        on_done: Callable[[R], None] | None = None,
    ) -> list[R]:
        """Apply `fn` to every item; call `on_done` with each result as it is collected."""


class LocalExecutor(Executor):
    """This machine: in this process (workers=1) or in a pool of worker processes.

    Workers are forked from a fork server that has already imported marketsim, so they
    start in milliseconds and never inherit a parent's numba threads.
    """

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"`workers >= 1` must hold, but got {workers=}")
        self.workers = workers
        self.in_process = workers == 1

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        on_done: Callable[[R], None] | None = None,
    ) -> list[R]:
        """Run here, or spread the jobs over worker processes."""
        items = list(items)
        if self.in_process:
            return [_notify(fn(item), on_done) for item in items]
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["marketsim.drivers.simulation"])
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            futures = [pool.submit(fn, item) for item in items]
            return [_notify(future.result(), on_done) for future in futures]


class DaskExecutor(Executor):
    """A Dask cluster, given its scheduler's address (e.g. `tcp://10.0.0.5:8786`).

    Every worker must have marketsim installed. Jobs are submitted as impure tasks so
    Dask never merges two replicates that happen to look alike.
    """

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as e:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "running on a cluster needs dask.distributed: pip install 'marketsim[cluster]'"
            ) from e
        self.address = address
        self.client = Client(address, timeout="5s", set_as_default=False)

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        on_done: Callable[[R], None] | None = None,
    ) -> list[R]:
        """Submit every job to the cluster and gather the results in order."""
        futures = self.client.map(fn, list(items), pure=False)
        return [_notify(future.result(), on_done) for future in futures]

    def close(self) -> None:
        """Disconnect from the scheduler."""
        self.client.close()


def make_executor(workers: int = 1, cluster: str | None = None) -> Executor:
    """The executor a command asked for: a cluster address wins over local workers."""
    return DaskExecutor(cluster) if cluster else LocalExecutor(workers)


def _notify(result: R, on_done: Callable[[R], None] | None) -> R:
    if on_done is not None:
        on_done(result)
    return result
