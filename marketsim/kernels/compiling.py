"""Knowing when numba compiles marketsim's kernels, and compiling them before a run needs them.

Numba compiles a kernel the first time it is called with new argument types and keeps
the machine code in its cache (`__pycache__` next to the modules, or `NUMBA_CACHE_DIR`);
later processes load it in milliseconds. Only a cache miss compiles, and numba announces
each one as a `numba:compile` event, so listening for it costs nothing on a warm cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from numba.core import event


class _FirstCompile(event.Listener):
    """Calls `notify` when the first of marketsim's kernels starts compiling."""

    def __init__(self, notify: Callable[[], None]) -> None:
        self._notify: Callable[[], None] | None = notify

    def on_start(self, ev: event.Event) -> None:
        module = ev.data["dispatcher"].py_func.__module__
        if self._notify is not None and module.startswith("marketsim."):
            notify, self._notify = self._notify, None
            notify()

    def on_end(self, ev: event.Event) -> None:
        return None


@contextmanager
def on_first_compile(notify: Callable[[], None]) -> Iterator[None]:
    """Call `notify` once, before numba compiles the first marketsim kernel inside.

    Numba's own helpers compiled on the way (inside a marketsim kernel's compilation) do
    not count; nothing is called when every kernel comes from the cache.
    """
    with event.install_listener("numba:compile", _FirstCompile(notify)):
        yield
