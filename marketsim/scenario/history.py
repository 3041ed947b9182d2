"""A company's history: a tidy CSV of spend per channel and observed outcomes per step.

One row per step (a `step` column: 0, 1, 2, ...) or per date (a `date` column,
YYYY-MM-DD, the first row's date being step 0). Dates map to steps by the scenario's
`step`: `day` and `week` need whole days or weeks after the first date; `month`,
`quarter` and `year` count calendar months, quarters and years (any day within one, so
month ends or month starts both work). Columns:

- `spend_<channel id>`: that channel's spend in the step (a number >= 0, never empty);
  it replaces the scenario's plan for those steps;
- `event_<event id>`: how much that event of the scenario's `demand.events` is on in
  the step (0 to 1: 1 the whole step, a share for part of it, never empty); it replaces
  the event's steps or dates for those steps;
- outcome columns named as in timeseries.csv (`OBSERVABLES`: revenue, units,
  new_customers, customers, leads, deals_won, ...), totals of the market, or one
  segment's as `SERIES.SEGMENT` (`revenue.smb`; the series of `SEGMENT_SERIES` of the
  segment's kind); an empty cell is a step not observed.

Every problem is reported with its place, `FILE:LINE:COL` (line 1 is the header; COL
the character column of the cell), and nothing else is read past a bad file: unknown
columns (with did-you-mean), a segment's series for no segment, for a series not kept
per segment, or for a series the segment's kind does not have, a missing step or date
column, series the `calibrate:`
section matches but the file lacks, dates that map to no step, gaps, duplicate steps,
empty, NaN or negative spend, spend for a channel that cannot take a plan, event values
outside 0 to 1, a first date that is not step 0 of the scenario's calendar, a history
longer than the horizon.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from marketsim.core.errors import Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.scenario.calibration import OBSERVABLES, series_problem
from marketsim.scenario.calibration_checks import segment_kinds
from marketsim.scenario.demand import STEP_DAYS, steps_between
from marketsim.scenario.schema import Scenario

SPEND = "spend_"
EVENT = "event_"


@dataclass(frozen=True)
class History:
    """What a history file says, step by step from step 0.

    Attributes:
        file: where it was read.
        dates: each step's date as written, if the file has dates.
        spend: channel id -> spend per step (only channels with a column).
        observed: series -> value per step, NaN where not observed.
        lines: the file line of each step's row.
        events: event id -> how much the event is on per step, 0 to 1 (only events with
            a column).

    """

    file: str
    dates: tuple[str, ...] | None
    spend: dict[str, np.ndarray]
    observed: dict[str, np.ndarray]
    lines: tuple[int, ...]
    events: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Steps the history covers: 0 .. steps - 1."""
        return len(self.lines)


@dataclass(frozen=True)
class Cell:
    """One cell, with where it was written."""

    text: str
    line: int
    col: int


def read_history(
    path: str | os.PathLike[str], scenario: Scenario, match: Sequence[str] = ()
) -> History:
    """The history in the CSV file at `path`, checked against `scenario`.

    Args:
        path: the CSV file.
        scenario: the scenario the history belongs to (its channels, step and horizon).
        match: series the fit needs; each must be a column.

    Raises:
        ScenarioError: every problem found, each at its place in the file.

    """
    name = os.fspath(path)
    return parse_history(read_text(name, "the history"), name, scenario, match)


def read_text(name: str, what: str) -> str:
    """The text of the file `name` (raises a located `ScenarioError` naming `what`)."""
    try:
        with open(name, encoding="utf-8-sig", newline="") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError([Problem(name, 1, 1, "", f"cannot read {what}: {e}")]) from None


def parse_history(text: str, name: str, scenario: Scenario, match: Sequence[str] = ()) -> History:
    """Like `read_history`, for the CSV `text`; problems are located in a source `name`."""
    rows = csv_cells(text)
    problems: list[Problem] = []

    def problem(cell: Cell, column: str, message: str) -> None:
        problems.append(Problem(name, cell.line, cell.col, column, message))

    if not rows:
        raise ScenarioError([Problem(name, 1, 1, "", "expected a header row, found an empty file")])
    header, body = rows[0], rows[1:]
    columns = [c.text.strip() for c in header]
    channels = {c.id: c for c in scenario.channels}
    events = [e.id for e in scenario.demand.events]
    allowed = [
        "step",
        "date",
        *(SPEND + cid for cid in channels),
        *(EVENT + eid for eid in events),
        *OBSERVABLES,
    ]
    kinds = segment_kinds(scenario)
    first: dict[str, int] = {}
    for j, (cell, column) in enumerate(zip(header, columns, strict=True)):
        if column in first:
            problem(cell, column, f"expected each column once, found {show(column)} again")
        elif "." in column:
            why = series_problem(column, kinds)
            if why:
                problem(cell, column, why)
        elif column not in allowed:
            hint = did_you_mean(column, allowed)
            if column.startswith(SPEND):
                known = (
                    f", expected one of {quoted(SPEND + c for c in channels)}" if not hint else ""
                )
                problem(cell, column, f"no channel {show(column[len(SPEND) :])}{hint}{known}")
            elif column.startswith(EVENT):
                event = column[len(EVENT) :]
                hint = did_you_mean(event, events)
                listed = quoted(EVENT + e for e in events) or "none (demand.events is empty)"
                known = f", expected one of {listed}" if not hint else ""
                problem(cell, column, f"no event {show(event)}{hint}{known}")
            else:
                known = "" if hint else f", expected one of {quoted(allowed)}"
                problem(cell, column, f"unknown column {show(column)}{hint}{known}")
        elif column.startswith(SPEND):
            spec = channels[column[len(SPEND) :]]
            if spec.type == "promotion":
                problem(cell, column, "a promotion's spend follows its window; it takes no plan")
            elif not spec.enabled:
                problem(cell, column, f"channel {spec.id!r} is switched off (enabled: false)")
        first.setdefault(column, j)
    clock = [c for c in ("step", "date") if c in first]
    if len(clock) != 1:
        found = "both" if clock else "neither"
        message = f"expected a 'step' or a 'date' column, found {found}"
        problems.append(
            Problem(name, 1, 1, "", message + did_you_mean_any(columns, ("step", "date")))
        )
    for series in match:
        if series not in first:
            hint = did_you_mean(series, columns)
            message = f"missing column {series!r}, which the scenario's calibrate.match names"
            problems.append(Problem(name, 1, 1, "", message + hint))
    outcomes = [c for c in first if c in OBSERVABLES or ("." in c and not series_problem(c, kinds))]
    if not outcomes:
        message = (
            f"expected at least one outcome column, one of {quoted(OBSERVABLES)} or a "
            "segment's as SERIES.SEGMENT"
        )
        problems.append(Problem(name, 1, 1, "", message))
    if problems:
        raise ScenarioError(problems)

    width = len(header)
    kept = []
    for row in body:
        if len(row) != width:
            message = f"expected {width} cells as in the header, found {len(row)}"
            problems.append(Problem(name, row[0].line, 1, "", message))
        else:
            kept.append(row)
    steps = _steps(kept, first[clock[0]], clock[0], scenario, name, problems)
    spend = {c[len(SPEND) :]: [] for c in columns if c.startswith(SPEND)}
    on = {c[len(EVENT) :]: [] for c in columns if c.startswith(EVENT)}
    observed: dict[str, list[float]] = {c: [] for c in outcomes}
    read: list[tuple[str, list[float], float, str]] = [
        *((SPEND + k, v, math.inf, "the spend as a number >= 0") for k, v in spend.items()),
        *((EVENT + k, v, 1.0, "how much the event is on, 0 to 1") for k, v in on.items()),
        *((k, v, math.nan, "a number, or nothing") for k, v in observed.items()),
    ]
    for row in kept:
        for column, values, most, what in read:
            cell = row[first[column]]
            value = number_in(cell.text)
            if (
                value is None
                or math.isinf(value)
                or (not math.isnan(most) and not 0 <= value <= most)
            ):
                found = show(cell.text.strip()) if cell.text.strip() else "nothing"
                problem(cell, column, f"expected {what}, found {found}")
                value = math.nan
            values.append(value)
    if problems:
        raise ScenarioError(problems)
    order = np.argsort(steps, kind="stable")
    dates = None
    if clock[0] == "date":
        dates = tuple(kept[i][first["date"]].text.strip() for i in order)
        _on_calendar(kept[order[0]][first["date"]], scenario, name)
    return History(
        file=name,
        dates=dates,
        spend={k: np.asarray(v, dtype=np.float64)[order] for k, v in spend.items()},
        observed={k: np.asarray(v, dtype=np.float64)[order] for k, v in observed.items()},
        lines=tuple(kept[i][0].line for i in order),
        events={k: np.asarray(v, dtype=np.float64)[order] for k, v in on.items()},
    )


def did_you_mean_any(columns: Sequence[str], wanted: Sequence[str]) -> str:
    """`, did you mean ...` for the first column that is a near miss of a wanted name."""
    for column in columns:
        hint = did_you_mean(column, wanted)
        if hint and column not in wanted:
            return f" ({show(column)}{hint.removeprefix(',')})"
    return ""


def _steps(
    rows: list[list[Cell]],
    at: int,
    clock: str,
    scenario: Scenario,
    name: str,
    problems: list[Problem],
) -> list[int]:
    """The step of each row; problems for steps that are bad, repeated, missing or too late."""
    if clock == "step":
        steps = [_step(row[at], name, problems) for row in rows]
    else:
        steps = _date_steps([row[at] for row in rows], scenario.step, name, problems)
    if not rows:
        problems.append(Problem(name, 2, 1, "", "expected at least one row of data, found none"))
        return []
    if any(s is None for s in steps):
        return [s or 0 for s in steps]
    seen: dict[int, int] = {}
    for row, step in zip(rows, steps, strict=True):
        cell = row[at]
        assert step is not None
        if step in seen:
            message = f"step {step} again (first on line {seen[step]}): a duplicate row"
            problems.append(Problem(name, cell.line, cell.col, clock, message))
        elif step >= scenario.horizon:
            message = (
                f"step {step} is past the scenario's horizon ({scenario.horizon} steps): the "
                "history must fit in the horizon"
            )
            problems.append(Problem(name, cell.line, cell.col, clock, message))
        seen.setdefault(step, cell.line)
    if clock == "step" and 0 not in seen:
        message = f"expected the history to start at step 0, found {min(seen)} first"
        problems.append(Problem(name, seen[min(seen)], 1, clock, message))
    present = sorted(seen)
    for before, after in itertools.pairwise(present):
        if after > before + 1:
            gap = f"step {before + 1}" if after == before + 2 else f"steps {before + 1}-{after - 1}"
            message = f"{gap} missing: a gap after line {seen[before]}"
            problems.append(Problem(name, seen[after], 1, clock, message))
    return [s or 0 for s in steps]


def _step(cell: Cell, name: str, problems: list[Problem]) -> int | None:
    text = cell.text.strip()
    if text.isdigit():
        return int(text)
    problems.append(
        Problem(name, cell.line, cell.col, "step", f"expected a step >= 0, found {show(text)}")
    )
    return None


def _date_steps(
    cells: list[Cell], unit: str, name: str, problems: list[Problem]
) -> list[int | None]:
    """Each date's step, counted from the earliest date in `unit`s."""
    dates: list[dt.date | None] = []
    for cell in cells:
        try:
            dates.append(dt.date.fromisoformat(cell.text.strip()))
        except ValueError:
            message = f"expected a date as YYYY-MM-DD, found {show(cell.text.strip())}"
            problems.append(Problem(name, cell.line, cell.col, "date", message))
            dates.append(None)
    valid = [d for d in dates if d is not None]
    if not valid:
        return [None] * len(cells)
    start = min(valid)
    steps: list[int | None] = []
    for cell, date in zip(cells, dates, strict=True):
        step, why = (None, "") if date is None else step_of_date(date, start, unit)
        if why:
            problems.append(Problem(name, cell.line, cell.col, "date", why))
        steps.append(step)
    return steps


def step_of_date(date: dt.date, start: dt.date, unit: str) -> tuple[int | None, str]:
    """(the step `date` falls in when `start` is step 0, or None and why it maps to none)."""
    step, days = steps_between(start, date, unit)
    if days:
        return None, (
            f"{date} is {(date - start).days} days after the first date, {start}: it maps "
            f"to no {unit} (steps are whole {unit}s after the first date)"
        )
    return step, ""


def _on_calendar(first: Cell, scenario: Scenario, name: str) -> None:
    """The history's first date must be step 0 of the scenario's calendar, if it has one."""
    calendar = scenario.demand.calendar
    date = dt.date.fromisoformat(first.text.strip())
    if calendar is None or steps_between(calendar.start, date, scenario.step) == (0, 0):
        return
    same = "the same date" if scenario.step in STEP_DAYS else f"a date in the same {scenario.step}"
    message = (
        f"the first date, {date}, is not step 0 of the scenario's calendar "
        f"(demand.calendar.start: {calendar.start}); expected {same}"
    )
    raise ScenarioError([Problem(name, first.line, first.col, "date", message)])


def number_in(text: str) -> float | None:
    """The cell as a number (NaN when empty or 'nan'), None when it is not one."""
    text = text.strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def csv_cells(text: str) -> list[list[Cell]]:
    """The non-blank lines of `text` split into cells, each with its line and column."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = next(csv.reader([line]))
        rows.append(list(_located(cells, line, number)))
    return rows


def _located(cells: list[str], line: str, number: int) -> list[Cell]:
    """Cells with their character column (counted from the raw line where nothing is quoted)."""
    if '"' in line:
        return [Cell(text, number, j + 1) for j, text in enumerate(cells)]
    located, col = [], 1
    for text in cells:
        located.append(Cell(text, number, col))
        col += len(text) + 1
    return located
