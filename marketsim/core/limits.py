"""Bounds shared by the schema, the command line and the drivers."""

from __future__ import annotations

MAX_SEED = 2**63 - 1
"""Largest seed: seeds are non-negative 63-bit integers, so `seed + 1` still fits."""
