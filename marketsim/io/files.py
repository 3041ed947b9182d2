"""The files each command writes, in the order it writes them: the one list of each.

`run`: summary.json, timeseries.csv, scenario.resolved.yaml, agents.csv (with reps or
brokers), plan.csv, plan.xlsx, report.html. `compare`: comparison.json,
comparison.csv, each strategy's run files (without its own report) under
`strategies/<n>-<name>/`, report.html. `optimize`: best.yaml, summary.json,
trials.csv, curves.csv (when drawn), plan.csv and plan.xlsx (of the best plan),
optimization.html and the study file when it lives in the output directory.
`calibrate`: calibrated.yaml, calibration.json, posterior.csv, fit.csv,
calibration.html and the study file likewise. `sweep`: sweep.csv, sweep.html.
`bench`: bench.json, leaderboard.csv, results.csv, report.html and results.db (the
database its runs were stored in as they finished, carried into the new directory).

Pages are drawn by the report layer above this one, which hands its drawing functions
in as `Pages`; everything else is written here, through `marketsim.io.output`.
"""

from __future__ import annotations

import datetime
import io
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from marketsim.io.output import OutputFile, timeseries_columns, write_csv, write_json
from marketsim.scenario import dump_resolved

if TYPE_CHECKING:
    import pandas as pd

    from marketsim.drivers.bench.records import BenchRecord
    from marketsim.drivers.calibrate import Calibration
    from marketsim.drivers.calibrate.records import CalibrationRecord
    from marketsim.drivers.compare import Comparison
    from marketsim.drivers.optimize.runner import Outcome
    from marketsim.drivers.optimize.study import Storage
    from marketsim.drivers.plan import HandoverPlan
    from marketsim.drivers.records import ComparisonRecord
    from marketsim.drivers.results import Result
    from marketsim.drivers.sweep import SweepResult
    from marketsim.io.results_db import ResultStore
    from marketsim.scenario.schema import Scenario

SUMMARY = "summary.json"
TIMESERIES = "timeseries.csv"
RESOLVED = "scenario.resolved.yaml"
AGENTS = "agents.csv"
REPORT = "report.html"
COMPARISON = "comparison.json"
COMPARISON_CSV = "comparison.csv"
BEST = "best.yaml"
TRIALS = "trials.csv"
CURVES = "curves.csv"
OPTIMIZATION_PAGE = "optimization.html"
SWEEP_CSV = "sweep.csv"
SWEEP_PAGE = "sweep.html"
BENCH = "bench.json"
LEADERBOARD = "leaderboard.csv"
RESULTS = "results.csv"
RESULTS_DB = "results.db"
PLAN_CSV = "plan.csv"
PLAN_XLSX = "plan.xlsx"
CALIBRATED = "calibrated.yaml"
CALIBRATION = "calibration.json"
POSTERIOR = "posterior.csv"
FIT = "fit.csv"
CALIBRATION_PAGE = "calibration.html"


@dataclass(frozen=True)
class Pages:
    """The report layer's drawing functions: each returns a complete HTML page."""

    run: Callable[[Result], str]
    comparison: Callable[[Comparison], str]
    optimization: Callable[[Outcome], str]
    sweep: Callable[[SweepResult], str]
    bench: Callable[[BenchRecord], str]
    calibration: Callable[[Calibration], str]


def _page(draw: Callable[[Any], str]) -> Callable[[Any, Path], None]:
    def write(payload: Any, path: Path) -> None:
        path.write_text(draw(payload), encoding="utf-8")

    return write


# --------------------------------------------------------------------------- plan


def write_plan_xlsx(plan: HandoverPlan, path: Path) -> None:
    """plan.xlsx: a sheet per table of plan.csv, headers bold, money as whole units.

    Its timestamps are fixed, so the same plan always gives the same bytes.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    for k, (name, frame) in enumerate(((f"{plan.step}s", plan.steps), ("months", plan.months))):
        sheet = book.active if k == 0 else book.create_sheet()
        sheet.title = name
        sheet.append(list(frame.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False):
            sheet.append([v.item() if hasattr(v, "item") else v for v in row])
        for j, column in enumerate(frame.columns, 1):
            letter = sheet.cell(row=1, column=j).column_letter
            sheet.column_dimensions[letter].width = max(10, len(column) + 2)
            if column.startswith("budget_") or column == "marketing_total":
                for cell in sheet[letter][1:]:
                    cell.number_format = "#,##0"
    fixed = datetime.datetime(2000, 1, 1)  # the same plan gives the same file, byte for byte
    book.properties.created = fixed
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            entry = zipfile.ZipInfo(item.filename, date_time=fixed.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the save time
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data
                )
            dst.writestr(entry, data)


def plan_files(scenario_of: Callable[[Any], Scenario]) -> list[OutputFile[Any]]:
    """plan.csv and plan.xlsx of the scenario `scenario_of(payload)` (`drivers.plan`)."""

    def plan(payload: Any) -> HandoverPlan:
        from marketsim.drivers.plan import handover_plan

        return handover_plan(scenario_of(payload))

    return [
        OutputFile(PLAN_CSV, lambda p, path: write_csv(plan(p).frame(), path)),
        OutputFile(PLAN_XLSX, lambda p, path: write_plan_xlsx(plan(p), path)),
    ]


# --------------------------------------------------------------------------- run


def _run_data_files() -> list[OutputFile[Result]]:
    def timeseries(result: Result, path: Path) -> None:
        write_csv(
            timeseries_columns(result.timeseries, [c.id for c in result.scenario.channels]), path
        )

    def resolved(result: Result, path: Path) -> None:
        path.write_text(dump_resolved(result.scenario, result.seed), encoding="utf-8")

    return [
        OutputFile(SUMMARY, lambda result, path: write_json(result.summary.to_json(), path)),
        OutputFile(TIMESERIES, timeseries),
        OutputFile(RESOLVED, resolved),
        OutputFile(
            AGENTS,
            lambda result, path: write_csv(result.agents, path),
            applies=lambda result: not result.agents.empty,
        ),
    ]


def run_files(pages: Pages) -> list[OutputFile[Result]]:
    """What `marketsim run` writes."""
    plan = plan_files(lambda result: result.scenario)
    return [*_run_data_files(), *plan, OutputFile(REPORT, _page(pages.run))]


# --------------------------------------------------------------------------- compare


def comparison_rows(record: ComparisonRecord) -> pd.DataFrame:
    """comparison.csv: one row per strategy and metric, the baseline's rows first."""
    import pandas as pd

    rows = []
    for strategy in record.strategies:
        name = strategy.name
        for metric, by_strategy in record.metrics.items():
            stats = by_strategy[name]
            diff = record.difference(name, metric)
            rows.append(
                {
                    "strategy": name,
                    "baseline": name == record.baseline,
                    "metric": metric,
                    "mean": stats.mean,
                    "ci95_low": stats.ci95_low,
                    "ci95_high": stats.ci95_high,
                    "diff_mean": diff.mean if diff else None,
                    "diff_ci95_low": diff.ci95_low if diff else None,
                    "diff_ci95_high": diff.ci95_high if diff else None,
                    "diff_relative": diff.relative if diff else None,
                    "p_value": diff.p_value if diff else None,
                    "p_holm": diff.p_holm if diff else None,
                    "significant": diff.significant if diff else None,
                    "n_pairs": diff.n if diff else None,
                }
            )
    return pd.DataFrame(rows)


def comparison_files(comparison: Comparison, pages: Pages) -> list[OutputFile[Comparison]]:
    """What `marketsim compare` writes for `comparison`."""
    files: list[OutputFile[Comparison]] = [
        OutputFile(COMPARISON, lambda c, path: write_json(c.record.to_json(), path)),
        OutputFile(COMPARISON_CSV, lambda c, path: write_csv(comparison_rows(c.record), path)),
    ]
    for i, strategy in enumerate(comparison.record.strategies):
        for run_file in _run_data_files():
            files.append(
                OutputFile(
                    f"{strategy.dir}/{run_file.name}",
                    lambda c, path, f=run_file, i=i: f.write(c.results[i], path),
                    applies=lambda c, f=run_file, i=i: f.applies(c.results[i]),
                )
            )
    files.append(OutputFile(REPORT, _page(pages.comparison)))
    return files


# --------------------------------------------------------------------------- optimize


def _best(outcome: Outcome, path: Path) -> None:
    best = outcome.summary.best
    header = (
        f"# Best plan found by marketsim optimize for {outcome.summary.objective} "
        f"(trial {best.trial}, study '{outcome.summary.study.name}').\n"
        "# Re-evaluated on fresh seeds: see summary.json. Run it: marketsim run best.yaml\n"
    )
    path.write_text(header + dump_resolved(outcome.best, outcome.seed), encoding="utf-8")


def _carried(source: Path) -> OutputFile[Any]:
    """A file of the search (a study, an ABC database) carried into the written directory.

    SQLite databases are copied by SQLite's backup (consistent while open), others as bytes.
    """

    def write(_: Any, path: Path) -> None:
        if source.suffix != ".db":
            shutil.copyfile(source, path)
            return
        src, dst = sqlite3.connect(source), sqlite3.connect(path)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()

    return OutputFile(source.name, write)


def _study_in(storage: Storage, out: Path) -> list[Path]:
    """The study's file, if it lives in `out`."""
    study_file = storage.file
    if study_file is not None and study_file.resolve().parent == out.resolve():
        return [study_file]
    return []


def optimization_files(storage: Storage, out: Path, pages: Pages) -> list[OutputFile[Outcome]]:
    """What `marketsim optimize` writes; the study's file last, if it lives in `out`.

    The study is carried into the new directory, so the finished directory holds the
    results and the study that produced them, and `--resume` continues from there.
    """
    return [
        OutputFile(BEST, _best),
        OutputFile(SUMMARY, lambda o, path: write_json(o.summary.to_json(), path)),
        OutputFile(TRIALS, lambda o, path: write_csv(o.trials, path)),
        OutputFile(
            CURVES, lambda o, path: write_csv(o.curves, path), applies=lambda o: not o.curves.empty
        ),
        *plan_files(lambda outcome: outcome.best),
        OutputFile(OPTIMIZATION_PAGE, _page(pages.optimization)),
        *(_carried(f) for f in _study_in(storage, out)),
    ]


# --------------------------------------------------------------------------- calibrate


def _calibrated(calibration: Calibration, path: Path) -> None:
    record = calibration.record
    header = (
        f"# Calibrated by marketsim calibrate to {record.data} ({_searched(record)}): the "
        "history's "
        f"spend over its {record.steps} steps, then the plan as written.\n"
        "# Estimates, intervals and the fit: calibration.json. Run it: marketsim run "
        "calibrated.yaml\n"
    )
    path.write_text(header + dump_resolved(calibration.calibrated, calibration.seed), "utf-8")


def _searched(record: CalibrationRecord) -> str:
    """How the calibrated set was found, for calibrated.yaml's header."""
    if record.method == "abc":
        return (
            f"ABC-SMC, {record.trials.get('simulated', 0)} sets simulated, the best particle "
            f"of the posterior in {record.study}"
        )
    return f"best of {record.trials.get('complete', 0)} trials, study '{record.study}'"


def calibration_files(
    storage: Storage | None, out: Path, pages: Pages, carried: Sequence[Path] = ()
) -> list[OutputFile[Calibration]]:
    """What `marketsim calibrate` writes; the search's files last.

    They are the study's file if it lives in `out`, and the `carried` files (an ABC
    run's database and record).
    """
    carried = [*(_study_in(storage, out) if storage is not None else ()), *carried]
    return [
        OutputFile(CALIBRATED, _calibrated),
        OutputFile(CALIBRATION, lambda c, path: write_json(c.record.to_json(), path)),
        OutputFile(POSTERIOR, lambda c, path: write_csv(c.posterior, path)),
        OutputFile(FIT, lambda c, path: write_csv(c.fit, path)),
        OutputFile(CALIBRATION_PAGE, _page(pages.calibration)),
        *(_carried(f) for f in carried),
    ]


# --------------------------------------------------------------------------- sweep


def sweep_files(pages: Pages) -> list[OutputFile[SweepResult]]:
    """What `marketsim sweep` writes."""
    return [
        OutputFile(SWEEP_CSV, lambda result, path: write_csv(result.frame, path)),
        OutputFile(SWEEP_PAGE, _page(pages.sweep)),
    ]


# --------------------------------------------------------------------------- bench


def _interval_columns(name: str, value: Any) -> dict[str, Any]:
    return {
        name: value.value,
        f"{name}_ci95_low": value.ci95_low,
        f"{name}_ci95_high": value.ci95_high,
    }


def leaderboard_rows(record: BenchRecord) -> pd.DataFrame:
    """leaderboard.csv: one row per strategy, by mean rank, each statistic with its interval."""
    import pandas as pd

    rows = []
    for s in record.leaderboard:
        row: dict[str, Any] = {"strategy": s.strategy}
        for name in ("mean_rank", "win_rate", "mean", "worst"):
            row.update(_interval_columns(name, getattr(s, name)))
        row["worst_market"] = s.worst_market
        for name in ("regret_mean", "regret_max", "regret_p90", "versus_baseline"):
            row.update(_interval_columns(name, getattr(s, name)))
        row["better_markets"] = s.better_markets
        row["picked_by"] = " ".join(
            c.criterion for c in record.criteria if c.strategy == s.strategy
        )
        rows.append(row)
    return pd.DataFrame(rows)


def results_rows(record: BenchRecord) -> pd.DataFrame:
    """results.csv: one row per (market, strategy), market-major in suite order.

    Its market's origin and parameters, the rank and regret on the objective, the paired
    difference from the baseline, then each metric's mean and 95% interval.
    """
    import pandas as pd

    markets = {m.name: m for m in record.markets}
    parameters = list(dict.fromkeys(p for m in record.markets for p in m.features))
    rows = []
    for cell in record.cells:
        market = markets[cell.market]
        row: dict[str, Any] = {
            "market": cell.market,
            "family": market.family,
            "kind": market.kind,
            "strategy": cell.strategy,
            "replicates": cell.replicates,
            "rank": cell.rank,
            "regret": cell.regret,
        }
        diff = cell.versus_baseline
        row["diff_mean"] = diff.mean if diff else None
        row["diff_ci95_low"] = diff.ci95_low if diff else None
        row["diff_ci95_high"] = diff.ci95_high if diff else None
        for metric, stats in cell.metrics.items():
            row[f"{metric}_mean"] = stats.mean
            row[f"{metric}_ci95_low"] = stats.ci95_low
            row[f"{metric}_ci95_high"] = stats.ci95_high
        for path in parameters:
            row[path] = market.features.get(path)
        rows.append(row)
    return pd.DataFrame(rows)


def bench_files(pages: Pages, store: ResultStore) -> list[OutputFile[BenchRecord]]:
    """What `marketsim bench` writes; the results database, copied from `store`, last."""
    return [
        OutputFile(BENCH, lambda record, path: write_json(record.to_json(), path)),
        OutputFile(LEADERBOARD, lambda record, path: write_csv(leaderboard_rows(record), path)),
        OutputFile(RESULTS, lambda record, path: write_csv(results_rows(record), path)),
        OutputFile(REPORT, _page(pages.bench)),
        OutputFile(RESULTS_DB, lambda record, path: store.backup(path)),
    ]
