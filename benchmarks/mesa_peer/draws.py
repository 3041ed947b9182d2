"""Where the peer's random numbers come from: marketsim's streams, or Mesa's generator.

`SharedStreams` draws exactly what marketsim draws: each uniform from the counter-based
stream keyed by (seed, replicate, step, person, purpose) (`marketsim.kernels.rng`),
the contact networks from marketsim's network builders and the traits from its trait
sampler, all of which read those streams. The peer then reproduces marketsim's
outcomes bit for bit, which is how the test checks that its rules are the same.

`MesaRandom` is what a Mesa user would write: every draw from the model's `random`
(Python's Mersenne Twister, seeded by Mesa), networks and traits built with it. Its
outcomes agree with marketsim's in distribution only; the speed benchmark uses it.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator

import numpy as np

from benchmarks.mesa_peer.parameters import SegmentRules, TraitDraw
from marketsim.kernels import network
from marketsim.kernels import traits as trait_kernel
from marketsim.kernels.rng import derive_key, stream_key, uniform_py

SETUP = -1
"""The step index of marketsim's set-up stream."""

Tie = tuple[int, int]


class SharedStreams:
    """marketsim's counter-based random numbers, for identical outcomes."""

    def __init__(self, seed: int, replicate: int) -> None:
        self.seed, self.replicate = seed, replicate
        self.setup_key = int(stream_key(seed, replicate, SETUP))
        self.key = self.setup_key

    def begin_step(self, t: int) -> None:
        """Draw from step `t`'s stream from now on."""
        self.key = int(stream_key(self.seed, self.replicate, t))

    def uniform(self, row: int, purpose: int) -> float:
        """Person `row`'s uniform for `purpose` this step."""
        return uniform_py(self.key, row, purpose)

    def setup_uniform(self, row: int, purpose: int) -> float:
        """Person `row`'s set-up uniform for `purpose` (initial awareness, the market)."""
        return uniform_py(self.setup_key, row, purpose)

    def trait(self, segment: SegmentRules, name: str, draw: TraitDraw, row: int) -> float:
        """Person `row`'s value of trait `name`, as marketsim's trait sampler draws it."""
        if draw.family == "fixed":
            return draw.p
        key = derive_key(self.setup_key, zlib.crc32(f"trait:{segment.id}:{name}".encode()))
        code = {
            "gamma": trait_kernel.GAMMA,
            "beta": trait_kernel.BETA,
            "lognormal": trait_kernel.LOGNORMAL,
            "mix": trait_kernel.MIX,
        }[draw.family]
        values = np.asarray(draw.values, dtype=np.float64)
        cumulative = np.cumsum(np.asarray(draw.weights, dtype=np.float64))
        return float(trait_kernel.trait_value(key, row, code, draw.p, draw.q, values, cumulative))

    def ties(self, segment: SegmentRules) -> Iterator[Tie]:
        """The segment's contact network, as marketsim builds it."""
        capacity = network.edge_capacity(segment.network, segment.size, segment.degree)
        src = np.empty(capacity, dtype=np.int32)
        dst = np.empty(capacity, dtype=np.int32)
        key = derive_key(self.setup_key, zlib.crc32(segment.id.encode()))
        n = network.build_edges(
            key,
            segment.network,
            segment.first_row,
            segment.size,
            segment.degree,
            segment.rewire,
            src,
            dst,
            0,
        )
        return zip(src[:n].tolist(), dst[:n].tolist(), strict=True)


class MesaRandom:
    """Every draw from the Mesa model's own `random`, as a Mesa user would write it."""

    def __init__(self, rng: random.Random) -> None:
        self.random = rng

    def begin_step(self, t: int) -> None:
        """Nothing to do: the generator runs on."""

    def uniform(self, row: int, purpose: int) -> float:
        """The next uniform (whoever asks, whatever for)."""
        return self.random.random()

    def setup_uniform(self, row: int, purpose: int) -> float:
        """The next uniform."""
        return self.random.random()

    def trait(self, segment: SegmentRules, name: str, draw: TraitDraw, row: int) -> float:
        """A value of the trait's distribution (docs/model.md section 1.1)."""
        rng = self.random
        if draw.family == "gamma":
            return draw.p * rng.gammavariate(draw.q, 1.0) / draw.q
        if draw.family == "beta":
            return rng.betavariate(draw.p, draw.q)
        if draw.family == "lognormal":
            return rng.lognormvariate(draw.p, draw.q)
        if draw.family == "mix":
            return rng.choices(draw.values, draw.weights)[0]
        return draw.p

    def ties(self, segment: SegmentRules) -> Iterator[Tie]:
        """The segment's contact network, by the rules of docs/model.md section 7."""
        size, degree, first = segment.size, segment.degree, segment.first_row
        if segment.network == "well_mixed" or size < 2 or degree == 0:
            return iter(())
        if segment.network == "random":
            return _random_ties(self.random, first, size, degree)
        if segment.network == "small_world":
            return _small_world(self.random, first, size, degree, segment.rewire)
        return _scale_free(self.random, first, size, degree)


def _random_ties(rng: random.Random, first: int, size: int, degree: int) -> Iterator[Tie]:
    """size x degree / 2 ties between uniformly chosen people (none to oneself)."""
    for _ in range(size * degree // 2):
        u, v = rng.randrange(size), rng.randrange(size)
        if u == v:
            v = (v + 1) % size
        yield first + u, first + v


def _small_world(
    rng: random.Random, first: int, size: int, degree: int, rewire: float
) -> Iterator[Tie]:
    """Watts-Strogatz: a ring of degree / 2 ties per side, each far end rewired by chance."""
    half = max(0, min(degree // 2, (size - 1) // 2))
    for i in range(size):
        for j in range(1, half + 1):
            v = (i + j) % size
            if rng.random() < rewire:
                v = rng.randrange(size - 1)
                v += v >= i
            yield first + i, first + v


def _scale_free(rng: random.Random, first: int, size: int, degree: int) -> Iterator[Tie]:
    """Barabasi-Albert: each newcomer ties to degree / 2 ends of existing ties."""
    m = min(degree // 2, size - 1)
    ties = [(0, i) for i in range(1, m + 1)]
    for i in range(m + 1, size):
        for _ in range(m):
            a, b = ties[rng.randrange(len(ties))]
            ties.append((i, b if rng.random() < 0.5 else a))
    return ((first + a, first + b) for a, b in ties)
