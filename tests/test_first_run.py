"""The first run after installing: a message while kernels compile, `warm-up` ahead of it.

Each test starts `marketsim` in a fresh process on its own empty numba cache
(`NUMBA_CACHE_DIR`), which is how a fresh install starts: slow (the customer kernel
compiles), so there is one cold `run` and one cold `warm-up`. No timings are asserted;
`benchmarks/bench_first_run.py` measures them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

MINIMAL = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
MESSAGE = "compiling marketsim's kernels for this machine"
SMALL = ["--set", "segments.consumers.size=2000", "--no-contribution"]
"""minimal-b2c at 2,000 people: the same kernels as at 50,000, less simulating."""


def marketsim(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m marketsim ARGS` in a fresh process on numba cache `cache`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "marketsim", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def run(cache: Path, out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    done = marketsim(cache, "run", str(MINIMAL), "--out", str(out), "--force", *SMALL, *flags)
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_a_cold_run_says_once_that_it_compiles_and_a_warm_run_says_nothing(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    cold = run(cache, tmp_path / "cold")
    assert cold.stderr.count(MESSAGE) == 1, cold.stderr
    assert "marketsim warm-up" in cold.stderr
    assert MESSAGE not in cold.stdout
    assert any(cache.rglob("*.nbi")), "the cold run left no numba cache"
    warm = run(cache, tmp_path / "warm")
    assert MESSAGE not in warm.stderr, warm.stderr
    assert (tmp_path / "warm" / "summary.json").read_bytes() == (
        tmp_path / "cold" / "summary.json"
    ).read_bytes()


@pytest.mark.slow
def test_warm_up_leaves_a_cache_a_run_needs_no_compiling_from(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ahead = marketsim(cache, "warm-up", "--used-only", "--quiet", str(MINIMAL))
    assert ahead.returncode == 0, ahead.stderr
    assert ahead.stdout == ""
    assert MESSAGE not in ahead.stderr  # it compiled, but --quiet says nothing
    assert any(cache.rglob("*.nbc")), "warm-up compiled nothing into the cache"
    after = run(cache, tmp_path / "out")
    assert MESSAGE not in after.stderr, after.stderr
    quiet_again = marketsim(cache, "warm-up", "--used-only", str(MINIMAL))
    assert quiet_again.returncode == 0
    assert MESSAGE not in quiet_again.stderr  # all loaded: nothing to announce


def test_warm_up_refuses_a_bad_scenario_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.read_text(encoding="utf-8").replace("horizon: 52", "horizon: -1"))
    done = marketsim(tmp_path / "cache", "warm-up", "--used-only", str(bad))
    assert done.returncode == 2, done.stderr
    assert f"{bad}:" in done.stderr and "horizon" in done.stderr and "-1" in done.stderr
    assert done.stdout == ""


def test_run_imports_neither_the_optimiser_nor_calibration(tmp_path: Path) -> None:
    """`run` draws only the run page: optuna (calibration, optimisation pages) stays out."""
    code = (
        "import sys\n"
        "from marketsim.cli import main\n"
        "try:\n"
        f"    main(['run', {str(MINIMAL)!r}, '--out', {str(tmp_path / 'out')!r}, '-q', "
        "'--set', 'segments.consumers.size=300', '--set', 'horizon=4'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in ('optuna', 'pyabc', 'marketsim.drivers.calibrate', "
        "'marketsim.drivers.optimize') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.splitlines()[-1] == "HEAVY=", done.stdout
    assert (tmp_path / "out" / "report.html").is_file()
