"""Where runs happen: one interface for in-process, multi-process and cluster runs.

Drivers (simulate, compare, sweep, optimize) hand independent jobs to an `Executor`;
results come back in submission order whatever ran them, so output never depends on
scheduling.
"""

from __future__ import annotations

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
    """This machine: in this process (workers=1) or in a pool of worker processes."""

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
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(fn, item) for item in items]
            return [_notify(future.result(), on_done) for future in futures]


def _notify(result: R, on_done: Callable[[R], None] | None) -> R:
    if on_done is not None:
        on_done(result)
    return result
