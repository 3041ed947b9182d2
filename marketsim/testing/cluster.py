"""A local Dask cluster of real processes, for tests and benchmarks of `--cluster`.

with local_cluster(tmp_path, workers=2) as cluster:
subprocess.run(["marketsim", "run", FILE, "--cluster", cluster.address], ...)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marketsim

SOURCE = Path(marketsim.__file__).resolve().parent.parent
"""The folder marketsim is imported from, put first on the workers' path."""


def single_threaded() -> dict[str, str]:
    """The environment of a process running this marketsim on one numba thread."""
    return {**os.environ, "PYTHONPATH": str(SOURCE), "NUMBA_NUM_THREADS": "1"}


@dataclass
class Cluster:
    """A running local cluster: its scheduler's address and its worker processes."""

    address: str
    workers: list[subprocess.Popen[bytes]]


@contextlib.contextmanager
def local_cluster(folder: Path, workers: int) -> Iterator[Cluster]:
    """A Dask scheduler and `workers` single-threaded workers, each a process on 127.0.0.1.

    Real processes (`dask scheduler`, `dask worker --nthreads 1 --nworkers 1`), as a
    user would start them, so jobs cross a network connection and pickling; no nanny,
    so killing a worker's process loses that worker. Every process is killed on exit.
    """
    from distributed import Client

    scheduler_file = folder / "scheduler.json"
    quiet: dict[str, Any] = {
        "env": single_threaded(),
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    where = ["--host", "127.0.0.1", "--scheduler-file", str(scheduler_file), "--no-dashboard"]
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0", *where], **quiet
    )
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", *where, "--no-nanny"]
    worker += ["--nthreads", "1", "--nworkers", "1"]
    started: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the Dask scheduler did not start within a minute")
            time.sleep(0.1)
        started.extend(subprocess.Popen(worker, **quiet) for _ in range(workers))
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)
            address = client.scheduler.address
        yield Cluster(address, started)
    finally:
        for p in [*started, scheduler]:
            if p.poll() is None:
                p.kill()
            p.wait()
