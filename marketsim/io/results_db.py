"""A benchmark's runs in SQLite: one row per (market, strategy, replicate), saved as it ends.

The database (`results.db` in the output directory, `marketsim.io.files.RESULTS_DB`; WAL
journal) is written by the
process that runs the benchmark, one committed row per finished run, so a benchmark
killed at any moment keeps every run that had finished, and `--resume` runs only the
rest. Each (market, strategy) is recorded with the signature of what its rows mean
(its scenario, the seed, marketsim's version); resuming with a suite that changed
what a stored cell means is refused, while new markets, strategies or more replicates
simply add rows.

Tables, for SQL (`sqlite3 results.db 'SELECT strategy, avg(profit) FROM runs GROUP BY
strategy'`):

- `runs(market, strategy, replicate, seed, <every metric>)`: NULL where undefined;
- `cells(market, strategy, signature)`;
- `markets(market, family, kind, scenario)` and `parameters(market, path, value)`:
  each market's origin and the values of the settings markets vary.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from marketsim.core.errors import InputError, quoted
from marketsim.drivers import metrics
from marketsim.drivers.metrics import ReplicateMetrics

if TYPE_CHECKING:
    from marketsim.drivers.bench.cells import Cell
    from marketsim.drivers.bench.markets import Market

COLUMNS: tuple[str, ...] = metrics.ALL
"""The metric columns of `runs`, in order."""

SHOWN = 4
"""Changed cells named in the refusal to resume."""


class ResultStore:
    """An open results database; close it (or use it as a context manager) when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        metric_columns = ", ".join(f"{c} REAL" for c in COLUMNS)
        self._db.executescript(
            f"""
            CREATE TABLE IF NOT EXISTS cells (
                market TEXT NOT NULL, strategy TEXT NOT NULL, signature TEXT NOT NULL,
                PRIMARY KEY (market, strategy));
            CREATE TABLE IF NOT EXISTS runs (
                market TEXT NOT NULL, strategy TEXT NOT NULL, replicate INTEGER NOT NULL,
                seed INTEGER NOT NULL, {metric_columns},
                PRIMARY KEY (market, strategy, replicate));
            CREATE TABLE IF NOT EXISTS markets (
                market TEXT PRIMARY KEY, family TEXT NOT NULL, kind TEXT NOT NULL,
                scenario TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS parameters (
                market TEXT NOT NULL, path TEXT NOT NULL, value REAL,
                PRIMARY KEY (market, path));
            """
        )

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the database keeps every committed row)."""
        self._db.close()

    def claim(self, cells: Sequence[Cell], markets: Sequence[Market]) -> None:
        """Record the suite's cells and markets; refuse cells stored with other meanings.

        Raises:
            InputError: a stored cell's rows were made from a different scenario or seed.

        """
        stored = dict(
            ((m, s), sig) for m, s, sig in self._db.execute("SELECT * FROM cells").fetchall()
        )
        changed = [
            f"{c.market}/{c.strategy}"
            for c in cells
            if stored.get((c.market, c.strategy), c.signature) != c.signature
        ]
        if changed:
            more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
            raise InputError(
                f"--resume: {self.path} holds runs of {quoted(changed[:SHOWN])}{more} "
                "(market/strategy) made from a different scenario or seed: the suite, a "
                "scenario file or --set changed what they mean; start afresh with --force, "
                "or choose another --out"
            )
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO cells VALUES (?, ?, ?)",
                [(c.market, c.strategy, c.signature) for c in cells],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO markets VALUES (?, ?, ?, ?)",
                [(m.name, m.family, m.kind, str(m.file)) for m in markets],
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO parameters VALUES (?, ?, ?)",
                [(m.name, p, v) for m in markets for p, v in m.features.items()],
            )

    def done(self) -> set[tuple[str, str, int]]:
        """Every (market, strategy, replicate) stored."""
        rows = self._db.execute("SELECT market, strategy, replicate FROM runs").fetchall()
        return {(m, s, int(r)) for m, s, r in rows}

    def save(
        self, market: str, strategy: str, replicate: int, seed: int, m: ReplicateMetrics
    ) -> None:
        """Store one run's metrics, committed at once."""
        row = [market, strategy, replicate, seed, *(_sql(m.value(c)) for c in COLUMNS)]
        marks = ", ".join("?" * len(row))
        self._db.execute(f"INSERT OR REPLACE INTO runs VALUES ({marks})", row)

    def load(
        self, keys: Iterable[tuple[str, str]], replicates: int
    ) -> dict[tuple[str, str], list[ReplicateMetrics]]:
        """Replicates 0..R-1 of every (market, strategy) in `keys`, replicate 0 first."""
        names = ", ".join(COLUMNS)
        found: dict[tuple[str, str], list[ReplicateMetrics]] = {}
        for market, strategy in keys:
            rows = self._db.execute(
                f"SELECT {names} FROM runs WHERE market = ? AND strategy = ? AND replicate < ? "
                "ORDER BY replicate",
                (market, strategy, replicates),
            ).fetchall()
            found[(market, strategy)] = [_metrics(row) for row in rows]
        return found

    def backup(self, path: Path) -> None:
        """A complete copy of the database at `path` (a consistent snapshot)."""
        copy = sqlite3.connect(path)
        try:
            self._db.backup(copy)
        finally:
            copy.close()


def _sql(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _metrics(row: Sequence[float | None]) -> ReplicateMetrics:
    by_name = {c: math.nan if v is None else float(v) for c, v in zip(COLUMNS, row, strict=True)}
    return ReplicateMetrics(
        **{f: by_name[f] for f in metrics.FIELDS},
        sums={c: by_name[c] for c in metrics.SUMMED},
    )
