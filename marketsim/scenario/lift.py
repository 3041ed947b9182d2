"""Lift tests: what an experiment measured a channel adding, as a calibration target.

A lift test (a geo holdout, a conversion-lift study, a switched-off week) says how much
of an outcome a channel added over a window, with a standard error. A CSV, one test a
row:

    name,channel,start,end,outcome,incremental,se,weight
    tv-spring,tv,12,15,new_customers,41,9,1

- `channel`: a channel of the scenario whose spend the history gives;
- `start`, `end`: the window's first and last step (or dates, when the history has
  dates, mapped to steps as the history's are); it must lie in the fitted steps, and
  the channel must have spent something in it;
- `outcome`: a series of timeseries.csv (`OBSERVABLES`), or a segment's
  (`new_customers.households`, as a history may give), summed over the window;
- `incremental`: the measured increment (any sign), `se` its standard error (> 0);
- `name` (default `CHANNEL@START-END`) and `weight` (default 1) are optional.

Every problem is reported at its cell, `FILE:LINE:COL: column: message`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass

from marketsim.core.errors import Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.scenario.calibration import series_problem
from marketsim.scenario.calibration_checks import segment_kinds
from marketsim.scenario.history import Cell, History, csv_cells, number_in, read_text, step_of_date
from marketsim.scenario.schema import Scenario

REQUIRED = ("channel", "start", "end", "outcome", "incremental", "se")
OPTIONAL = ("name", "weight")


@dataclass(frozen=True)
class LiftTest:
    """One measured increment: channel, window (steps, inclusive), outcome and its error."""

    name: str
    channel: str
    start: int
    end: int
    outcome: str
    incremental: float
    se: float
    weight: float
    line: int
    """The file line of its row."""


def read_lift(
    path: str | os.PathLike[str], scenario: Scenario, history: History, fitted: int
) -> tuple[LiftTest, ...]:
    """The lift tests in the CSV file at `path`, checked against the scenario and history.

    Args:
        path: the CSV file.
        scenario: the scenario (its channels and step).
        history: the history the calibration fits (its spend and dates).
        fitted: the steps fitted (every window must lie in them).

    Raises:
        ScenarioError: every problem found, each at its place in the file.

    """
    name = os.fspath(path)
    return parse_lift(read_text(name, "the lift tests"), name, scenario, history, fitted)


def parse_lift(
    text: str, name: str, scenario: Scenario, history: History, fitted: int
) -> tuple[LiftTest, ...]:
    """Like `read_lift`, for the CSV `text`; problems are located in a source `name`."""
    rows = csv_cells(text)
    if not rows:
        raise ScenarioError([Problem(name, 1, 1, "", "expected a header row, found an empty file")])
    header, body = rows[0], rows[1:]
    problems: list[Problem] = []
    allowed = (*REQUIRED, *OPTIONAL)
    at: dict[str, int] = {}
    for j, cell in enumerate(header):
        column = cell.text.strip()
        if column in at:
            problems.append(
                _at(name, cell, column, f"expected each column once, found {show(column)} again")
            )
        elif column not in allowed:
            hint = did_you_mean(column, allowed) or f", expected one of {quoted(allowed)}"
            problems.append(_at(name, cell, column, f"unknown column {show(column)}{hint}"))
        at.setdefault(column, j)
    for column in REQUIRED:
        if column not in at:
            problems.append(Problem(name, 1, 1, "", f"missing column {column!r}"))
    if not body and not problems:
        problems.append(Problem(name, 2, 1, "", "expected at least one lift test, found none"))
    if problems:
        raise ScenarioError(problems)
    reader = _Rows(name, scenario, history, fitted, at, problems)
    tests = [t for row in body if (t := reader.test(row, len(header))) is not None]
    seen: dict[str, int] = {}
    for test in tests:
        if test.name in seen:
            message = (
                f"expected each name once, found {show(test.name)} again (line {seen[test.name]})"
            )
            problems.append(Problem(name, test.line, 1, "name", message))
        seen.setdefault(test.name, test.line)
    if problems:
        raise ScenarioError(problems)
    return tuple(tests)


def _at(name: str, cell: Cell, column: str, message: str) -> Problem:
    return Problem(name, cell.line, cell.col, column, message)


@dataclass
class _Rows:
    """Reads one row at a time, collecting every problem."""

    name: str
    scenario: Scenario
    history: History
    fitted: int
    at: dict[str, int]
    problems: list[Problem]

    def test(self, row: list[Cell], width: int) -> LiftTest | None:
        if len(row) != width:
            message = f"expected {width} cells as in the header, found {len(row)}"
            self.problems.append(Problem(self.name, row[0].line, 1, "", message))
            return None
        before = len(self.problems)
        cell = {c: row[j] for c, j in self.at.items()}
        channel = self._channel(cell["channel"])
        start, end = self._step(cell["start"], "start"), self._step(cell["end"], "end")
        outcome = cell["outcome"].text.strip()
        why = series_problem(outcome, segment_kinds(self.scenario))
        if why:
            self._problem(cell["outcome"], "outcome", why)
        incremental = self._number(cell["incremental"], "incremental", "a finite number", None)
        se = self._number(cell["se"], "se", "a standard error > 0", 0.0)
        weight = 1.0
        if "weight" in cell and cell["weight"].text.strip():
            weight = self._number(cell["weight"], "weight", "a weight > 0", 0.0)
        if start is not None and end is not None:
            self._window(cell["end"], start, end, channel)
        if len(self.problems) > before:
            return None
        assert channel is not None and start is not None and end is not None
        given = cell["name"].text.strip() if "name" in cell else ""
        return LiftTest(
            name=given or f"{channel}@{start}-{end}",
            channel=channel,
            start=start,
            end=end,
            outcome=outcome,
            incremental=incremental,
            se=se,
            weight=weight,
            line=row[0].line,
        )

    def _problem(self, cell: Cell, column: str, message: str) -> None:
        self.problems.append(_at(self.name, cell, column, message))

    def _channel(self, cell: Cell) -> str | None:
        cid = cell.text.strip()
        spent = self.history.spend
        if cid in spent:
            return cid
        known = [c.id for c in self.scenario.channels]
        if cid in known:
            message = (
                f"channel {cid!r} has no spend column in the history, so no window of it can "
                "be switched off; a lift test needs the channel's spend_ column"
            )
        else:
            hint = did_you_mean(cid, known) or f", expected one of {quoted(spent)}"
            message = f"no channel {show(cid)}{hint}"
        self._problem(cell, "channel", message)
        return None

    def _step(self, cell: Cell, column: str) -> int | None:
        text = cell.text.strip()
        if text.isdigit():
            return int(text)
        if self.history.dates is not None:
            try:
                date = dt.date.fromisoformat(text)
            except ValueError:
                pass
            else:
                first = min(dt.date.fromisoformat(d) for d in self.history.dates)
                step, why = step_of_date(date, first, self.scenario.step)
                if why:
                    self._problem(cell, column, why)
                    return None
                if step is not None and step < 0:
                    self._problem(
                        cell, column, f"{date} is before the history's first date, {first}"
                    )
                    return None
                return step
        what = "a step >= 0 or a date as YYYY-MM-DD" if self.history.dates else "a step >= 0"
        self._problem(cell, column, f"expected {what}, found {show(text) if text else 'nothing'}")
        return None

    def _number(self, cell: Cell, column: str, what: str, above: float | None) -> float:
        value = number_in(cell.text)
        if value is None or not math.isfinite(value) or (above is not None and value <= above):
            found = show(cell.text.strip()) if cell.text.strip() else "nothing"
            self._problem(cell, column, f"expected {what}, found {found}")
            return math.nan
        return value

    def _window(self, cell: Cell, start: int, end: int, channel: str | None) -> None:
        if end < start:
            self._problem(
                cell, "end", f"the window ends (step {end}) before it starts (step {start})"
            )
        elif end >= self.fitted:
            held = self.history.steps - self.fitted
            where = f", the last {held} held out" if held else ""
            self._problem(
                cell,
                "end",
                f"the window ends at step {end}, outside the fitted steps 0-{self.fitted - 1} "
                f"(the history has {self.history.steps} steps{where})",
            )
        elif channel is not None and not self.history.spend[channel][start : end + 1].any():
            self._problem(
                cell,
                "end",
                f"channel {channel!r} spent nothing in steps {start}-{end} of the history: "
                "switching it off there changes nothing",
            )
