"""`python -m benchmarks --quick` runs, writes nothing, and shows no gross regression.

Each figure is compared with the one recorded on the 2-core development machine in
benchmarks/quick_floors.json (`python -m benchmarks --quick --record-floors`): a
throughput must stay above a fifth of it, a time below five times it. Only a change
that makes something several times slower fails; load on a shared machine does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / "benchmarks" / "quick_floors.json"
SLACK = 5.0


def _files() -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in (ROOT / "benchmarks").rglob("*") if p.is_file()}


def test_quick_benchmarks_show_no_gross_regression(tmp_path: Path) -> None:
    before = _files()
    out = tmp_path / "figures.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| figure | value | unit |" in done.stdout
    assert {k: v for k, v in _files().items() if "__pycache__" not in k} == {
        k: v for k, v in before.items() if "__pycache__" not in k
    }, "--quick wrote into benchmarks/"
    figures = {f["key"]: f for f in json.loads(out.read_text())}
    floors = json.loads(FLOORS.read_text())
    assert set(floors) == set(figures), "a figure appeared or went missing: re-record the floors"
    slow = []
    for key, floor in floors.items():
        value, better = figures[key]["value"], figures[key]["better"]
        ok = value > floor / SLACK if better == "higher" else value < floor * SLACK
        if not ok:
            slow.append(f"{key}: {value:.3g} against {floor:.3g} recorded ({better} is better)")
    assert not slow, "\n".join(slow)
