"""Each person's traits and media habits, drawn once when the population is built.

A trait that is the same for everyone is not stored: its column is empty and the kernel
uses the segment's value. Media habits are stored only for media that a channel is
bought in and some segment's people use unevenly; each segment's habits are divided by
their mean there, so a channel's contacts are spread over the same total.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from pydantic import TypeAdapter

from marketsim.kernels import traits as K
from marketsim.kernels.rng import derive_key
from marketsim.plugins.base import Plugin
from marketsim.scenario.schema import Scenario, Segment
from marketsim.scenario.traits import (
    Beta,
    Distribution,
    Fixed,
    Gamma,
    LogNormal,
    Mix,
    Trait,
    varies,
)

TRAITS = ("price_sensitivity", "purchase_rate", "word_of_mouth", "attitude")
"""The individual traits a segment may vary, in the order of `TraitColumns`."""


@dataclass(frozen=True)
class TraitColumns:
    """Per-person traits (float32; an empty array where nobody differs).

    Attributes:
        price_sensitivity: each person's price elasticity.
        purchase_rate / word_of_mouth / attitude: multipliers (1 = the segment's behaviour).
        habit: [person, medium] reach relative to the segment's mean, for `media`.
        media: the media with a habit column, in column order.

    """

    price_sensitivity: np.ndarray
    purchase_rate: np.ndarray
    word_of_mouth: np.ndarray
    attitude: np.ndarray
    habit: np.ndarray
    media: tuple[str, ...]

    def varied(self) -> tuple[str, ...]:
        """The traits that differ from person to person."""
        return tuple(name for name in TRAITS if getattr(self, name).shape[0] > 0)


def draw_traits(scenario: Scenario, key: np.uint64, offsets: np.ndarray) -> TraitColumns:
    """Every person's traits, from the set-up key."""
    n = int(offsets[-1])
    segments = scenario.segments
    columns = {}
    for name in TRAITS:
        specs = [_trait(seg, name) for seg in segments]
        if not any(varies(t) for t in specs):
            columns[name] = np.zeros(0, dtype=np.float32)
            continue
        out = np.empty(n, dtype=np.float32)
        for s, (seg, trait) in enumerate(zip(segments, specs, strict=True)):
            fill_trait(trait, _key(key, seg, name), out, int(offsets[s]), int(offsets[s + 1]))
        columns[name] = out
    bought = {getattr(c, "medium", None) for c in scenario.channels if c.enabled}
    media = tuple(
        m
        for m in dict.fromkeys(m for seg in segments for m in seg.media)
        if m in bought and any(m in seg.media and varies(seg.media[m].habit) for seg in segments)
    )
    habit = np.ones((n, len(media)), dtype=np.float32) if media else np.ones((0, 0), np.float32)
    column = np.empty(n, dtype=np.float32)
    for j, medium in enumerate(media):
        for s, seg in enumerate(segments):
            if medium not in seg.media:
                continue
            lo, hi = int(offsets[s]), int(offsets[s + 1])
            fill_trait(seg.media[medium].habit, _key(key, seg, f"habit:{medium}"), column, lo, hi)
            mean = float(column[lo:hi].mean(dtype=np.float64))
            habit[lo:hi, j] = column[lo:hi] / mean if mean > 0 else 0.0
    return TraitColumns(habit=np.ascontiguousarray(habit), media=media, **columns)


def _trait(segment: Segment, name: str) -> Trait:
    value = getattr(segment.traits, name)
    return segment.price_sensitivity if value is None else value


def _key(key: np.uint64, segment: Segment, name: str) -> np.uint64:
    """Each (segment, trait) has its own stream, named: adding a trait changes no other."""
    return derive_key(key, zlib.crc32(f"trait:{segment.id}:{name}".encode()))


def fill_trait(trait: Trait, key: np.uint64, out: np.ndarray, start: int, stop: int) -> None:
    """Fill `out[start:stop]` with draws of `trait` (a number: that number for everyone)."""
    none = np.zeros(0)
    if isinstance(trait, int | float):
        out[start:stop] = trait
    elif isinstance(trait, Fixed):
        out[start:stop] = trait.value
    elif isinstance(trait, Gamma):
        K.draw_trait(key, K.GAMMA, trait.mean, trait.shape, none, none, out, start, stop)
    elif isinstance(trait, Beta):
        K.draw_trait(key, K.BETA, trait.a, trait.b, none, none, out, start, stop)
    elif isinstance(trait, LogNormal):
        K.draw_trait(key, K.LOGNORMAL, trait.mu, trait.sigma, none, none, out, start, stop)
    elif isinstance(trait, Mix):
        values, weights = np.array(trait.values), np.array(trait.weights)
        K.draw_trait(key, K.MIX, 0.0, 0.0, values, weights, out, start, stop)
    else:
        raise TypeError(f"unknown trait {trait!r}")


def draw_state(plugin: Plugin, key: np.uint64, size: int) -> np.ndarray:
    """float64 [column, person]: a plugin's `state` columns at their initial values.

    A distribution is drawn like a trait (float32, then the column's dtype), from a
    stream named by the plugin, its position in the scenario and the column.
    """
    columns = np.zeros((len(plugin.state), size))
    scratch = np.zeros(size, dtype=np.float32)
    for k, column in enumerate(plugin.state):
        initial = column.initial
        if isinstance(initial, bool | int | float):
            columns[k] = np.asarray(initial).astype(column.dtype)
            continue
        name = f"state:{plugin.name}:{plugin.index}:{column.name}"
        fill_trait(
            _DISTRIBUTION.validate_python(initial),
            derive_key(key, zlib.crc32(name.encode())),
            scratch,
            0,
            size,
        )
        columns[k] = scratch.astype(column.dtype)
    return columns


_DISTRIBUTION = TypeAdapter(Distribution)
