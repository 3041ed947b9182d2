"""Contact-network kernels: edge lists per segment, then one symmetric CSR graph.

Each builder draws from the counter-based RNG with the edge's index as the entity, so a
network depends only on (seed, replicate, segment), never on build order.
"""

from __future__ import annotations

import numpy as np

from marketsim.kernels.config import jit
from marketsim.kernels.rng import P_NETWORK, uniform


@jit
def _random_edges(key, offset, size, degree, out_src, out_dst, start):
    """Erdos-Renyi style: size*degree/2 ties between uniformly chosen people."""
    m = size * degree // 2
    for e in range(m):
        u = offset + np.int64(uniform(key, start + e, P_NETWORK) * size)
        v = offset + np.int64(uniform(key, start + e, P_NETWORK + 1) * size)
        if u == v:
            v = offset + (v - offset + 1) % size
        out_src[start + e] = u
        out_dst[start + e] = v
    return m


@jit
def _small_world_edges(key, offset, size, degree, rewire, out_src, out_dst, start):
    """Watts-Strogatz: a ring lattice of degree/2 ties per side, each rewired with `rewire`."""
    half = min(degree // 2, (size - 1) // 2)
    e = start
    for i in range(size):
        for j in range(1, half + 1):
            v = (i + j) % size
            if uniform(key, e, P_NETWORK) < rewire:
                v = np.int64(uniform(key, e, P_NETWORK + 1) * (size - 1))
                if v >= i:
                    v += 1
            out_src[e] = offset + i
            out_dst[e] = offset + v
            e += 1
    return e - start


@jit
def _scale_free_edges(key, offset, size, degree, out_src, out_dst, start):
    """Barabasi-Albert: each newcomer ties to degree/2 people chosen by degree."""
    m = min(degree // 2, size - 1)
    if m <= 0:
        return 0
    e = start
    for i in range(1, m + 1):  # a star seeds the process
        out_src[e] = offset
        out_dst[e] = offset + i
        e += 1
    for i in range(m + 1, size):
        for _ in range(m):
            # Picking a uniform endpoint of an existing tie is picking a person by degree.
            pick = start + np.int64(uniform(key, e, P_NETWORK) * (e - start))
            target = out_dst[pick] if uniform(key, e, P_NETWORK + 1) < 0.5 else out_src[pick]
            out_src[e] = offset + i
            out_dst[e] = target
            e += 1
    return e - start


@jit
def _to_csr(n, src, dst):
    """Symmetric CSR adjacency from an undirected edge list, in a fixed order."""
    counts = np.zeros(n + 1, dtype=np.int64)
    for e in range(src.shape[0]):
        counts[src[e] + 1] += 1
        counts[dst[e] + 1] += 1
    indptr = np.cumsum(counts)
    fill = indptr[:-1].copy()
    indices = np.empty(indptr[n], dtype=np.int32)
    for e in range(src.shape[0]):
        u = src[e]
        v = dst[e]
        indices[fill[u]] = v
        fill[u] += 1
        indices[fill[v]] = u
        fill[v] += 1
    return indptr, indices


KINDS = {"well_mixed": 0, "random": 1, "small_world": 2, "scale_free": 3}


def edge_capacity(kind: str, size: int, degree: int) -> int:
    """Upper bound on the ties a segment's builder writes."""
    if kind == "well_mixed" or size < 2:
        return 0
    return size * (degree // 2 + 1)


def build_edges(
    key: np.uint64,
    kind: str,
    offset: int,
    size: int,
    degree: int,
    rewire: float,
    src: np.ndarray,
    dst: np.ndarray,
    start: int,
) -> int:
    """Write one segment's ties into `src`/`dst` from `start`; return how many."""
    if kind == "well_mixed" or size < 2 or degree == 0:
        return 0
    if kind == "random":
        return _random_edges(key, offset, size, degree, src, dst, start)
    if kind == "small_world":
        return _small_world_edges(key, offset, size, degree, rewire, src, dst, start)
    return _scale_free_edges(key, offset, size, degree, src, dst, start)


def to_csr(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR (indptr, indices) over `n` people."""
    return _to_csr(np.int64(n), src, dst)
