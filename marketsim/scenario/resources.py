"""Refuse a scenario whose population cannot fit in memory, before allocating any of it.

A typo in `size` (an extra three zeros) should be a clear error pointing at that `size`,
not a machine that swaps to a halt or a process killed by the kernel an hour later.
"""

from __future__ import annotations

import os

from marketsim.core.errors import ScenarioError
from marketsim.scenario.references import Locate
from marketsim.scenario.schema import Scenario, Segment

MEMORY_LIMIT_ENV = "MARKETSIM_MEMORY_LIMIT"
"""Environment variable that, when set, replaces the available memory (bytes)."""

BASE_BYTES = 50_000_000
"""Interpreter, libraries and per-run bookkeeping, whatever the population."""

BYTES_PER_PERSON = 64
"""Customer state arrays: one row per person (37 bytes without varying traits or
several memory groups; docs/architecture.md, "Memory per person", lists them)."""

BYTES_PER_CONTACT = 12
"""Contact network (CSR arrays), per contact."""


def segment_bytes(segment: Segment) -> int:
    """Estimated memory for one segment's people and their contact network."""
    network = segment.network
    degree = 0 if network.type == "well_mixed" else network.degree
    return segment.people * (BYTES_PER_PERSON + BYTES_PER_CONTACT * degree)


def estimate_population_bytes(scenario: Scenario) -> int:
    """Estimated memory a run of `scenario` needs, in bytes."""
    return BASE_BYTES + sum(map(segment_bytes, scenario.segments))


def available_memory() -> int | None:
    """Bytes that can be allocated without swapping, or None if it cannot be told."""
    limit = os.environ.get(MEMORY_LIMIT_ENV)
    if limit is not None:
        try:
            return int(limit)
        except ValueError:
            raise ValueError(
                f"{MEMORY_LIMIT_ENV} must be a whole number of bytes, but got {limit!r}"
            ) from None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def check_fits_in_memory(scenario: Scenario, locate: Locate) -> None:
    """Raise a `ScenarioError` at the largest segment's `size` if the run cannot fit."""
    needed, available = estimate_population_bytes(scenario), available_memory()
    if available is None or needed <= available:
        return
    largest = max(range(len(scenario.segments)), key=lambda i: segment_bytes(scenario.segments[i]))
    message = (
        f"expected a population that fits in memory, found {scenario.people:,} people: "
        f"needs about {human_bytes(needed)}, {human_bytes(available)} available"
    )
    raise ScenarioError([locate(("segments", largest, "size"), message)])


def human_bytes(n: float) -> str:
    """`612.4 GB`: a byte count in decimal units, as people read memory sizes."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            break
        n /= 1000
    return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
