"""Byte-for-byte regression net: every shipped and contract scenario against recorded output.

Each scenario in `scenarios/` and `tests/contract/` is run through the command line with
two replicates and a fixed seed; `timeseries.csv`, `summary.json` and `agents.csv` must
equal the files recorded in `tests/golden/<scenario file>/`. A refactoring keeps them
green; a model change re-records them on purpose (and says why in its commit):

    MARKETSIM_RECORD_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import CONTRACT, ROOT, SCENARIOS

from marketsim.cli import main

GOLDEN = ROOT / "tests" / "golden"
FILES = ("timeseries.csv", "summary.json", "agents.csv")
SEED = 11
RECORD = os.environ.get("MARKETSIM_RECORD_GOLDEN") == "1"


def _run(scenario: Path, out: Path) -> None:
    args = ["run", str(scenario), "--replicates", "2", "--seed", str(SEED), "--out", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--quiet"])
    assert exit_info.value.code in (0, None)


@pytest.mark.parametrize("scenario", [*SCENARIOS, *CONTRACT], ids=lambda p: p.stem)
def test_output_is_byte_identical_to_the_recording(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(scenario, out)
    recorded = GOLDEN / scenario.stem
    written = sorted(f for f in FILES if (out / f).exists())
    if RECORD:
        recorded.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            (recorded / name).unlink(missing_ok=True)
        for name in written:
            (recorded / name).write_bytes((out / name).read_bytes())
    expected = sorted(f for f in FILES if (recorded / f).exists())
    assert expected, f"nothing recorded for {scenario.name}; record with MARKETSIM_RECORD_GOLDEN=1"
    assert written == expected
    for name in written:
        assert (out / name).read_bytes() == (recorded / name).read_bytes(), (
            f"{scenario.stem}/{name} differs from the recording"
        )
