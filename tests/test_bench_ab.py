"""`benchmarks/bench_ab.py`: both sides run the same market in fresh processes and agree.

The worktree of `--base` is left out here (a new tree would compile every kernel); both
sides are this checkout, so they must report the same results, and a side whose
results differ must be reported as such.
"""

from __future__ import annotations

import argparse
import json

import pytest

from benchmarks import bench_ab

ROOT = bench_ab.ROOT


def _args(**changes: object) -> argparse.Namespace:
    args = {"scenario": str(ROOT / "scenarios" / "b2c_launch.yaml"), "customers": 3000}
    args |= {"rounds": 1, "traits": False, "set": [], "base": "HEAD", "child": False}
    return argparse.Namespace(**(args | changes))


def test_two_runs_of_one_checkout_compare_as_the_same(capsys: pytest.CaptureFixture) -> None:
    assert bench_ab._compare(_args(), {"base": (ROOT, None), "this": (ROOT, None)}) == 0
    out = capsys.readouterr().out
    assert out.count("round 1 ") == 2 and "results: same on both sides" in out
    assert "kernel  base" in out and "step    base" in out


def test_a_side_with_other_results_is_reported(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bench_ab._run_side
    runs = iter(range(10))

    def other_markets(tree, hook, args):  # every timed run ends in its own state
        run = real(tree, hook, args)
        return run | {"digest": str(next(runs))} if args.customers == 3000 else run

    monkeypatch.setattr(bench_ab, "_run_side", other_markets)
    bench_ab._compare(_args(), {"base": (ROOT, None), "this": (ROOT, None)})
    assert "results: DIFFERENT between the sides" in capsys.readouterr().out


def test_a_run_reports_every_step_of_the_horizon() -> None:
    run = bench_ab.run_once(_args(customers=2000))
    assert len(run["kernel"]) == len(run["step"]) == 52
    assert min(run["step"]) > 0 and len(json.dumps(run)) > 0
    assert run["digest"] == bench_ab.run_once(_args(customers=2000))["digest"]
