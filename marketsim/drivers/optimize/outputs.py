"""The optimiser's output directory, written all or nothing by `marketsim.io.output.write_run`.

The study's own file (when it lives in the directory) is carried into the new directory,
so the finished directory holds the results and the study that produced them, and
`--resume` with more trials continues from there.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from marketsim.drivers.optimize.runner import Outcome
from marketsim.drivers.optimize.study import Storage
from marketsim.io.output import OutputFile, write_run, write_summary
from marketsim.scenario import dump_resolved


def write_best(outcome: Outcome, path: Path) -> None:
    """best.yaml: the complete scenario with the winning plan; `marketsim run` takes it."""
    best = outcome.summary["best"]
    header = (
        f"# Best plan found by marketsim optimize for {outcome.summary['objective']} "
        f"(trial {best['trial']}, study '{outcome.summary['study']['name']}').\n"
        "# Re-evaluated on fresh seeds: see summary.json. Run it: marketsim run best.yaml\n"
    )
    path.write_text(header + dump_resolved(outcome.best, outcome.seed), encoding="utf-8")


def write_trials(outcome: Outcome, path: Path) -> None:
    """trials.csv: one row per trial (parameters, decision, objective, 95% CI)."""
    outcome.trials.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_curves(outcome: Outcome, path: Path) -> None:
    """curves.csv: each channel's response curve around the winning plan."""
    outcome.curves.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_page(outcome: Outcome, path: Path) -> None:
    """optimization.html: history, importance, Pareto front, curves, marginal returns."""
    from marketsim.report.optimization import optimization_page

    html = optimization_page(outcome.summary, outcome.trials, outcome.curves)
    path.write_text(html, encoding="utf-8")


def _copy_study(source: Path, journal: bool) -> OutputFile:
    def write(outcome: Outcome, path: Path) -> None:
        if journal:
            shutil.copyfile(source, path)
            return
        src, dst = sqlite3.connect(source), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()

    return OutputFile(source.name, write)


def output_files(storage: Storage, out: Path) -> list[OutputFile]:
    """The files of an optimisation, the study file last if it lives in `out`."""
    files = [
        OutputFile("best.yaml", write_best),
        OutputFile("summary.json", write_summary),
        OutputFile("trials.csv", write_trials),
        OutputFile("curves.csv", write_curves, applies=lambda o: not o.curves.empty),
        OutputFile("optimization.html", write_page),
    ]
    study_file = storage.file
    if study_file is not None and study_file.resolve().parent == out.resolve():
        files.append(_copy_study(study_file, storage.journal))
    return files


def write_outcome(
    outcome: Outcome, out: Path, storage: Storage, protect: Sequence[Path] = ()
) -> list[Path]:
    """Write every file into `out`, replacing what is there only once all are complete."""
    return write_run(outcome, out, force=True, files=output_files(storage, out), protect=protect)  # type: ignore[arg-type]
