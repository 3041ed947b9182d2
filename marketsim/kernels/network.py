"""Contact-network kernels: edge lists per segment, then one symmetric CSR graph.

Each builder draws from the counter-based RNG with the edge's index within its segment
as the entity and the segment's own key, so a network depends only on (seed,
replicate, segment id), never on build order or on other segments.
"""

from __future__ import annotations

import numba
import numpy as np

from marketsim.core.layout import BLOCK
from marketsim.core.purposes import P_NETWORK
from marketsim.kernels.config import jit, parallel_jit
from marketsim.kernels.rng import draw, entity_hash

CSR_CHUNKS = 4  # most edge-list chunks `_to_csr` fills in parallel (memory: 8 bytes/person each)


@parallel_jit
def _random_edges(key, offset, size, degree, out_src, out_dst, start):
    """Erdos-Renyi style: size*degree/2 ties between uniformly chosen people."""
    m = size * degree // 2
    for b in numba.prange((m + BLOCK - 1) // BLOCK):
        for e in range(b * BLOCK, min(m, (b + 1) * BLOCK)):
            h = entity_hash(key, e)
            u = offset + np.int64(draw(h, P_NETWORK) * size)
            v = offset + np.int64(draw(h, P_NETWORK + 1) * size)
            if u == v:
                v = offset + (v - offset + 1) % size
            out_src[start + e] = u
            out_dst[start + e] = v
    return m


@parallel_jit
def _small_world_edges(key, offset, size, degree, rewire, out_src, out_dst, start):
    """Watts-Strogatz: a ring lattice of degree/2 ties per side, each rewired with `rewire`.

    Person i's ties are edges start + i*half ... start + i*half + half - 1.
    """
    half = max(0, min(degree // 2, (size - 1) // 2))
    for b in numba.prange((size + BLOCK - 1) // BLOCK):
        for i in range(b * BLOCK, min(size, (b + 1) * BLOCK)):
            e = start + i * half
            for j in range(1, half + 1):
                v = (i + j) % size
                h = entity_hash(key, e - start)
                if draw(h, P_NETWORK) < rewire:
                    v = np.int64(draw(h, P_NETWORK + 1) * (size - 1))
                    if v >= i:
                        v += 1
                out_src[e] = offset + i
                out_dst[e] = offset + v
                e += 1
    return size * half


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
            h = entity_hash(key, e - start)
            pick = start + np.int64(draw(h, P_NETWORK) * (e - start))
            target = out_dst[pick] if draw(h, P_NETWORK + 1) < 0.5 else out_src[pick]
            out_src[e] = offset + i
            out_dst[e] = target
            e += 1
    return e - start


@parallel_jit
def _to_csr(n, src, dst, chunks):
    """Symmetric CSR adjacency from an undirected edge list, in a fixed order.

    Row u lists u's ties in edge order. The edge list is cut into chunks that are
    counted and placed in parallel; chunk k's entries of a row follow chunk k-1's,
    so the order, and the result, do not depend on the number of chunks.
    """
    m = src.shape[0]
    per = (m + chunks - 1) // chunks
    # fill[k, u]: where chunk k writes its next entry of row u (first: a count).
    fill = np.zeros((chunks, n), dtype=np.int64)
    for k in numba.prange(chunks):
        for e in range(k * per, min(m, (k + 1) * per)):
            fill[k, src[e]] += 1
            fill[k, dst[e]] += 1
    indptr = np.empty(n + 1, dtype=np.int64)
    indptr[0] = 0
    for u in range(n):
        at = indptr[u]
        for k in range(chunks):
            c = fill[k, u]
            fill[k, u] = at
            at += c
        indptr[u + 1] = at
    indices = np.empty(indptr[n], dtype=np.int32)
    for k in numba.prange(chunks):
        for e in range(k * per, min(m, (k + 1) * per)):
            u = src[e]
            v = dst[e]
            indices[fill[k, u]] = v
            fill[k, u] += 1
            indices[fill[k, v]] = u
            fill[k, v] += 1
    return indptr, indices


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
    chunks = max(1, min(CSR_CHUNKS, numba.get_num_threads(), src.shape[0] // 65536))
    return _to_csr(np.int64(n), src, dst, np.int64(chunks))
