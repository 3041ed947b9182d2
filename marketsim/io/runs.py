"""A run's and a comparison's files as typed records: what reports are drawn from.

A report never looks at a live simulation. `run_data(result)` builds the same record
from a `Result` that `load_run(directory)` reads from summary.json, timeseries.csv,
scenario.resolved.yaml and agents.csv, so `marketsim report DIR` rebuilds exactly the
page `marketsim run` wrote. A comparison adds comparison.json and one run directory per
strategy under `strategies/`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from pydantic import ValidationError

from marketsim.core.errors import InputError
from marketsim.drivers.bench.records import BenchRecord
from marketsim.drivers.records import ComparisonRecord, Record, RunSummary
from marketsim.io.files import AGENTS, BENCH, COMPARISON, RESOLVED, SUMMARY, TIMESERIES

if TYPE_CHECKING:
    from marketsim.drivers.compare import Comparison
    from marketsim.drivers.results import Result


REQUIRED_COLUMNS = ("replicate", "step", "revenue", "units", "spend", "new_customers", "customers")


R = TypeVar("R", bound=Record)


class ReportError(InputError):
    """A directory or file a report cannot be drawn from; the message names the file."""


@dataclass(frozen=True)
class RunData:
    """One run, as its output files hold it.

    Attributes:
        summary: summary.json.
        timeseries: timeseries.csv, one row per replicate and step.
        scenario: scenario.resolved.yaml as plain data.
        agents: agents.csv, or an empty frame when the run has no reps or brokers.

    """

    summary: RunSummary
    timeseries: pd.DataFrame
    scenario: dict[str, Any]
    agents: pd.DataFrame

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.summary.scenario

    @property
    def channel_ids(self) -> list[str]:
        """Channel ids in scenario order."""
        return list(self.summary.by_channel)

    @property
    def has_sales(self) -> bool:
        """Whether the run has a sales organisation or brokers."""
        return bool(self.scenario.get("sales")) or bool(self.scenario.get("brokers"))


@dataclass(frozen=True)
class ComparisonData:
    """A comparison: comparison.json and every strategy's run, baseline first."""

    record: ComparisonRecord
    runs: dict[str, RunData]


# --------------------------------------------------------------------------- from live results


def run_data(result: Result) -> RunData:
    """The record of `result`, exactly as its files would be read back."""
    import yaml

    from marketsim.io.output import timeseries_columns
    from marketsim.scenario import dump_resolved

    summary = _round_trip(result.summary)
    frame = timeseries_columns(result.timeseries, [c.id for c in result.scenario.channels])
    scenario = yaml.safe_load(dump_resolved(result.scenario, result.seed))
    return RunData(summary, _normalise(frame), scenario, _normalise(result.agents))


def comparison_data(comparison: Comparison) -> ComparisonData:
    """The record of a live comparison, as `load_comparison` reads it back."""
    record = _round_trip(comparison.record)
    runs = {
        s.name: run_data(r) for s, r in zip(comparison.strategies, comparison.results, strict=True)
    }
    return ComparisonData(record, runs)


def _round_trip(record: R) -> R:
    """`record` as its JSON file reads back (floats that JSON cannot hold become None)."""
    data = json.loads(json.dumps(record.to_json(), allow_nan=False))
    return type(record).model_validate(data)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as a CSV round trip gives them: integral columns int64, the rest float64."""
    if frame.empty:
        return pd.DataFrame()
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        values = out[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_integer_dtype(values):
            out[column] = values.astype("int64")
        else:
            out[column] = values.astype("float64")
    return out


# --------------------------------------------------------------------------- from files


def kind_of(directory: Path) -> str:
    """What `directory` holds, run or comparison, from its files.

    Raises:
        ReportError: `directory` is missing, not a directory, or holds neither.

    """
    if not directory.exists():
        raise ReportError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise ReportError(f"{directory}: not a directory")
    if (directory / COMPARISON).is_file():
        return "comparison"
    if (directory / BENCH).is_file():
        return "bench"
    if (directory / SUMMARY).is_file():
        return "run"
    raise ReportError(
        f"{directory}: not a marketsim output directory: it has none of {SUMMARY} "
        f"(written by `marketsim run`), {COMPARISON} (by `marketsim compare`) or {BENCH} "
        "(by `marketsim bench`)"
    )


def load_run(directory: Path) -> RunData:
    """A run's record from its output directory.

    Raises:
        ReportError: a file is missing or cannot be read; the message names it.

    """
    kind = kind_of(directory)
    if kind != "run":
        raise ReportError(f"{directory}: a {kind}, not a run")
    for name in (TIMESERIES, RESOLVED):
        if not (directory / name).is_file():
            raise ReportError(f"{directory / name}: missing; {directory} is not a complete run")
    summary = _read_json(directory / SUMMARY, RunSummary)
    timeseries = _read_csv(directory / TIMESERIES, REQUIRED_COLUMNS)
    scenario = _read_yaml(directory / RESOLVED)
    agents_path = directory / AGENTS
    agents = (
        _read_csv(agents_path, ("replicate", "agent", "role")) if agents_path.is_file() else None
    )
    return RunData(
        summary,
        _normalise(timeseries),
        scenario,
        _normalise(agents) if agents is not None else pd.DataFrame(),
    )


def load_comparison(directory: Path) -> ComparisonData:
    """A comparison's record and every strategy's run from its output directory.

    Raises:
        ReportError: a file is missing or cannot be read; the message names it.

    """
    kind = kind_of(directory)
    if kind != "comparison":
        raise ReportError(f"{directory}: a {kind}, not a comparison")
    path = directory / COMPARISON
    record = _read_json(path, ComparisonRecord)
    if record.kind != "comparison":
        raise ReportError(f"{path}: kind: expected 'comparison', found {record.kind!r}")
    if len(record.strategies) < 2:
        raise ReportError(f"{path}: strategies: expected a list of two or more strategies")
    runs = {}
    root = Path(os.path.realpath(directory))
    for i, strategy in enumerate(record.strategies):
        sub = Path(os.path.realpath(directory / strategy.dir))
        if root not in sub.parents:
            raise ReportError(
                f"{path}: strategies[{i}].dir: {strategy.dir!r} is outside {directory}"
            )
        runs[strategy.name] = load_run(directory / strategy.dir)
    return ComparisonData(record, runs)


def load_bench(directory: Path) -> BenchRecord:
    """A benchmark's record from its output directory (its page needs nothing else).

    Raises:
        ReportError: bench.json is missing or cannot be read; the message names it.

    """
    kind = kind_of(directory)
    if kind != "bench":
        raise ReportError(f"{directory}: a {kind}, not a benchmark")
    path = directory / BENCH
    record = _read_json(path, BenchRecord)
    if record.kind != "bench":
        raise ReportError(f"{path}: kind: expected 'bench', found {record.kind!r}")
    return record


def _read_json(path: Path, model: type[R]) -> R:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise ReportError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from e
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ReportError(f"{path}: cannot be read: {e}") from e
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a JSON object, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        what = "missing" if first["type"] == "missing" else first["msg"]
        raise ReportError(f"{path}: {where}: {what}; is it from marketsim?") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in marketsim's JSON")


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as e:
        raise ReportError(f"{path}: not a readable CSV file: {e}") from e
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing columns {', '.join(missing)}; is it from marketsim?")
    if frame.empty:
        raise ReportError(f"{path}: no rows")
    numeric = [c for c in frame.columns if c not in ("agent", "role")]
    bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ReportError(f"{path}: column {bad[0]} has values that are not numbers")
    if not all(math.isfinite(v) for v in frame[["replicate"]].to_numpy().ravel()):
        raise ReportError(f"{path}: column replicate has missing values")
    return frame


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ReportError(f"{where}: not valid YAML: {e.problem}") from e
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ReportError(f"{path}: cannot be read: {e}") from e
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a scenario mapping, found {type(data).__name__}")
    return data
