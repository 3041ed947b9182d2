from __future__ import annotations

import contextlib
import copy
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from marketsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = sorted((ROOT / "tests" / "contract").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

EVERYTHING: dict[str, Any] = {
    "name": "everything",
    "horizon": 20,
    "seed": 5,
    "products": [
        {"id": "widget", "price": 40.0, "unit_cost": 15.0, "repurchase_every": 6},
        {"id": "gizmo", "price": 90.0, "unit_cost": 50.0},
    ],
    "segments": [
        {
            "id": "young",
            "size": 900,
            "network": {"type": "small_world", "degree": 6, "rewire": 0.2},
            "initial_awareness": 0.1,
            "churn": 0.02,
            "potential": 0.8,
        },
        {
            "id": "families",
            "size": 700,
            "network": {"type": "random", "degree": 5},
            "products": ["gizmo"],
            "reference_price": 100.0,
        },
        {"id": "hubs", "size": 600, "network": {"type": "scale_free", "degree": 4}},
        {"id": "crowd", "size": 500, "network": {"type": "well_mixed", "degree": 8}},
    ],
    "channels": [
        {"id": "tv", "type": "advertising", "budget": 4000, "cost_per_contact": 0.05},
        {
            "id": "social",
            "type": "advertising",
            "budget": 1500,
            "targets": ["young", "hubs"],
            "cost_per_contact": 0.02,
            "schedule": [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 0, 0],
        },
        {"id": "search", "type": "inbound", "budget": 2000, "cost_per_contact": 0.5},
        {"id": "sale", "type": "promotion", "budget": 300, "start": 5, "end": 9},
        {"id": "press", "type": "publicity", "budget": 40000, "cost_per_burst": 2000},
        {"id": "pr", "type": "public_relations", "budget": 30000, "cost_scale": 5000},
    ],
}


def make_scenario(**changes: Any) -> Scenario:
    """The all-features test scenario, with top-level keys replaced."""
    data = copy.deepcopy(EVERYTHING)
    data.update(changes)
    return Scenario.model_validate(data)


@pytest.fixture
def everything() -> Scenario:
    return make_scenario()


def diverse_data() -> dict[str, Any]:
    """The all-features scenario with people who differ in every way the model allows.

    Every trait family, media habits and media with their own retention, a frequency
    threshold and wear-out, stocking up, imperfect quality, dissatisfied customers who
    churn more, keep quiet or speak against, churn that hears price and trust, adstock on
    awareness and forgetting.
    """
    data = copy.deepcopy(EVERYTHING)
    young, families, hubs, crowd = data["segments"]
    young |= {
        "traits": {
            "price_sensitivity": {"dist": "lognormal", "mean": 1.5, "sd": 0.8},
            "purchase_rate": {"dist": "gamma", "mean": 1.0, "shape": 0.8},
            "word_of_mouth": {"dist": "beta", "mean": 0.5, "sd": 0.2},
            "attitude": {"dist": "mix", "values": [0.5, 1.5], "weights": [0.4, 0.6]},
        },
        "media": {
            "tv": {"habit": {"dist": "gamma", "mean": 1.0, "shape": 1.5}, "retention": 0.8},
            "social": {"habit": {"dist": "beta", "mean": 0.4, "sd": 0.25}},
        },
        "awareness_adstock": 0.5,
        "awareness_decay": 0.05,
        "dissatisfied_churn": 3.0,
        "dissatisfied_word_of_mouth": "against",
        "churn_price_response": 1.0,
        "churn_trust_response": 1.0,
    }
    families |= {
        "traits": {"price_sensitivity": {"dist": "gamma", "mean": 2.0, "shape": 2.0}},
        "media": {"tv": {"retention": 0.4}},
        "dissatisfied_word_of_mouth": "silent",
        "churn": 0.03,
    }
    hubs |= {"traits": {"attitude": 1.2}, "awareness_decay": 0.02}
    crowd |= {"dissatisfied_word_of_mouth": "silent", "churn": 0.02}
    tv, social = data["channels"][0], data["channels"][1]
    tv |= {"medium": "tv", "frequency_threshold": 2, "wear_out": 0.3}
    social |= {"medium": "social", "wear_out": 0.1}
    data["channels"][4] |= {"medium": "press"}
    data["products"][0] |= {"stockpile": 3.0, "quality": 0.8}
    data["products"][1] |= {"quality": 0.7}
    return data


@pytest.fixture
def diverse() -> Scenario:
    return Scenario.model_validate(diverse_data())


# --------------------------------------------------------------------------- Dask clusters


def single_threaded() -> dict[str, str]:
    """The environment of a process running this worktree's marketsim on one numba thread."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1"}


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
