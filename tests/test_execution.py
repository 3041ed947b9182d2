"""Executors: where replicates run never changes what they produce."""

from __future__ import annotations

import pandas as pd
import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

from marketsim.cli import app
from marketsim.drivers.execution import DaskCluster, InProcess, ProcessPool, make_executor
from marketsim.drivers.simulation import simulate
from marketsim.plugins.prepare import load_scenario

SMALL = ["segments.consumers.size=3000"]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("tests/contract/minimal-b2c.yaml", SMALL)


@pytest.fixture(scope="module")
def in_process(scenario):
    return simulate(scenario, replicates=3)


def test_worker_processes_match_in_process(scenario, in_process):
    with ProcessPool(2) as pool:
        done = []
        pooled = simulate(scenario, replicates=3, executor=pool, progress=done.append)
    pd.testing.assert_frame_equal(pooled.timeseries, in_process.timeseries)
    assert sum(done) == 3 * scenario.horizon  # every step reported, from the workers
    assert pooled.summary == in_process.summary


def test_dask_cluster_matches_in_process(scenario, in_process):
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        executor = DaskCluster(cluster.scheduler_address)
        try:
            done = []
            remote = simulate(scenario, replicates=3, executor=executor, progress=done.append)
        finally:
            executor.close()
    pd.testing.assert_frame_equal(remote.timeseries, in_process.timeseries)
    assert remote.summary == in_process.summary
    assert sum(done) == 3 * scenario.horizon


def test_make_executor_prefers_the_cluster_address():
    assert isinstance(make_executor(1), InProcess)
    with make_executor(2) as pool:
        assert isinstance(pool, ProcessPool) and pool.workers == 2
    with pytest.raises(ValueError, match="workers=0"):
        make_executor(0)


def test_unreachable_cluster_is_bad_input(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "run",
            "tests/contract/minimal-b2c.yaml",
            "--out",
            str(tmp_path / "out"),
            "--cluster",
            "tcp://127.0.0.1:9",
            *[f"--set={s}" for s in SMALL],
        ],
    )
    assert result.exit_code == 2
    assert "--cluster tcp://127.0.0.1:9" in result.output
    assert not (tmp_path / "out").exists()
