"""The first run after installing: `marketsim run minimal-b2c` cold, warm, and its imports.

    .venv/bin/python -m benchmarks.bench_first_run [--repeats 3]

What it runs. `marketsim run tests/contract/minimal-b2c.yaml --quiet --force`, end to
end in a fresh process each time, as a user types it:

- cold: with an empty numba cache (a fresh `NUMBA_CACHE_DIR` each run), so every kernel
  the run uses compiles, as on a fresh install before `marketsim warm-up`;
- warm: on the cache the cold runs left, so every kernel loads;
- warmed up: a fresh cache filled by `marketsim warm-up --used-only minimal-b2c.yaml`
  first (not timed), which must time like warm.

And the imports, each in a fresh process on a warm cache: `import marketsim.cli` (what
`--help` pays) and the modules `run` imports before simulating.

How it measures. Wall time of each subprocess; the median of `--repeats` runs of each
kind. The load average is printed too: on a shared machine the figures say little
without it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "tests" / "contract" / "minimal-b2c.yaml"
RUN_IMPORTS = (
    "marketsim.plugins.prepare",
    "marketsim.drivers.contribution",
    "marketsim.drivers.simulation",
    "marketsim.io.files",
    "marketsim.report.pages",
)
"""What `marketsim run` imports before it simulates."""


@dataclass(frozen=True)
class FirstRun:
    """Median seconds of each way of starting; None where not measured."""

    cold: float | None
    warm: float
    warmed_up: float | None
    import_cli: float
    import_run: float


def _env(cache: Path | None) -> dict[str, str]:
    """This environment with numba's cache at `cache` (None: numba's own, `__pycache__`)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    return env


def _marketsim(args: list[str], cache: Path | None) -> float:
    """Seconds `python -m marketsim ARGS` takes in a fresh process on numba cache `cache`."""
    env = _env(cache)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "marketsim", *args],
        env=env,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - start


def start_seconds(cache: Path | None, out: Path) -> float:
    """Seconds of one `marketsim run minimal-b2c` end to end on numba cache `cache`."""
    return _marketsim(["run", str(MINIMAL), "--out", str(out), "--quiet", "--force"], cache)


def import_seconds(modules: tuple[str, ...], cache: Path | None) -> float:
    """Seconds a fresh process takes to import `modules` (timed inside it)."""
    code = (
        "import time\nstart = time.perf_counter()\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(time.perf_counter() - start)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(cache), check=True, capture_output=True, text=True
    )
    return float(done.stdout.split()[-1])


def measure(repeats: int, *, cold: bool = True) -> FirstRun:
    """Median cold, warm and warmed-up starts and imports.

    Unless `cold`, only warm figures, on numba's own cache (warm from earlier runs).
    """
    with tempfile.TemporaryDirectory(prefix="marketsim-first-run-") as tmp:
        root = Path(tmp)
        colds = [start_seconds(root / f"cold-{i}", root / "out") for i in range(repeats * cold)]
        shared = root / "cold-0" if cold else None
        warms = [start_seconds(shared, root / "out") for _ in range(repeats)]
        warmed_up = None
        if cold:
            ahead = root / "ahead"
            _marketsim(["warm-up", "--used-only", "--quiet", str(MINIMAL)], ahead)
            warmed_up = statistics.median(
                start_seconds(ahead, root / "out") for _ in range(repeats)
            )
        return FirstRun(
            cold=statistics.median(colds) if cold else None,
            warm=statistics.median(warms),
            warmed_up=warmed_up,
            import_cli=statistics.median(
                import_seconds(("marketsim.cli",), shared) for _ in range(repeats)
            ),
            import_run=statistics.median(
                import_seconds(RUN_IMPORTS, shared) for _ in range(repeats)
            ),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    first = measure(args.repeats)
    print(f"cold start (fresh numba cache):   {first.cold:6.2f} s  (median of {args.repeats})")
    print(f"warm start (cache filled by run): {first.warm:6.2f} s")
    print(f"after `marketsim warm-up`:        {first.warmed_up:6.2f} s")
    print(f"import marketsim.cli:             {first.import_cli:6.2f} s")
    print(f"imports of `run`:                 {first.import_run:6.2f} s")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
