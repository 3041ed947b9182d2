"""A calibration's posterior, read from its directory and checked against a scenario.

`marketsim calibrate` writes `calibration.json` (which names the free parameters by
dotted path, the method and the seed) and `posterior.csv` (one row per parameter set:
a `weight` column and one column per parameter path; other columns are ignored). Both
`--method optimize` (near-best sets) and `--method abc` (ABC particles) write this
shape. Weights need not sum to 1: they are normalised here.

Every problem is located: `FILE:LINE:COL: path: message` where a file position exists
(calibration.json is read like a scenario, so every key keeps its place; in
posterior.csv line 1 is the header), else `DIR: message`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from marketsim.core.errors import InputError, Problem, ScenarioError, did_you_mean, show
from marketsim.scenario.calibration_checks import number_at
from marketsim.scenario.history import Cell, csv_cells
from marketsim.scenario.schema import Scenario
from marketsim.scenario.source import read_document
from marketsim.scenario.validate import model_problems

RECORD = "calibration.json"
SETS = "posterior.csv"
WEIGHT = "weight"


class _Named(BaseModel):
    """A free parameter as calibration.json lists it; only its path matters here."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    path: str = Field(min_length=1, description="the parameter's dotted path")


class CalibrationHeader(BaseModel):
    """What carrying a calibration forward needs of calibration.json; the rest is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    scenario: str = Field(description="the scenario calibrated")
    method: str = Field(description="how it was fitted: optimize or abc")
    seed: int = Field(ge=0, description="the calibration's seed")
    parameters: list[_Named] = Field(min_length=1, description="the free parameters")


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter sets of one calibration.

    Attributes:
        dir: the calibration directory, as given.
        scenario: the name of the scenario calibrated.
        method: optimize or abc.
        seed: the calibration's seed (it keys the draws).
        paths: the parameters' dotted paths, in calibration.json's order.
        values: [set, parameter] values.
        weights: each set's weight, normalised to sum to 1.
        lines: each set's line in posterior.csv.
        columns: each path's column (1-based character) in posterior.csv's header.

    """

    dir: str
    scenario: str
    method: str
    seed: int
    paths: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    lines: tuple[int, ...]
    columns: Mapping[str, int]

    @property
    def file(self) -> str:
        """posterior.csv, as located in messages."""
        return os.path.join(self.dir, SETS)

    @property
    def sets(self) -> int:
        """Rows of posterior.csv."""
        return len(self.lines)

    def values_of(self, row: int) -> dict[str, float | int]:
        """Set `row`'s values by path (whole numbers as int, so integer settings take them)."""
        return {p: _tidy(float(v)) for p, v in zip(self.paths, self.values[row], strict=True)}

    def at(self, row: int, path: str, message: str) -> Problem:
        """A problem with set `row`'s value of `path`, located at its cell."""
        return Problem(self.file, self.lines[row], self.columns[path], path, message)


def read_posterior(path: str | os.PathLike[str]) -> Posterior:
    """The posterior of the calibration directory at `path`.

    Raises:
        InputError: the directory is missing or holds no calibration.json or posterior.csv.
        ScenarioError: calibration.json is not a calibration's record, or posterior.csv
            lacks a column, has no rows, or a value or weight is not a usable number, or
            every weight is 0; each problem at its place.

    """
    where = os.fspath(path)
    root = Path(where)
    if not root.is_dir():
        found = "a file" if root.exists() else "nothing"
        raise InputError(f"{where}: expected a calibration directory, found {found}")
    record = root / RECORD
    if not record.is_file():
        raise InputError(
            f"{where}: not a calibration: no {RECORD} (marketsim calibrate --out DIR writes one)"
        )
    header = _header(os.path.join(where, RECORD))
    sets = root / SETS
    if not sets.is_file():
        raise InputError(f"{where}: not a calibration: no {SETS} beside its {RECORD}")
    return _sets(where, header)


def check_posterior(posterior: Posterior, scenario: Scenario) -> list[Problem]:
    """Every parameter path that names no number of `scenario`, at its posterior.csv column."""
    data = scenario.model_dump(mode="json")
    problems = []
    for path in posterior.paths:
        why, _ = number_at(data, path)
        if why:
            message = f"{why} (scenario {scenario.name!r})"
            problems.append(Problem(posterior.file, 1, posterior.columns[path], path, message))
    return problems


def _header(file: str) -> CalibrationHeader:
    doc = read_document(file, "calibration record")
    try:
        return CalibrationHeader.model_validate(doc.data)
    except ValidationError as e:
        problems = model_problems(CalibrationHeader, e, doc.problem)
        notes = [
            Problem(p.file, p.line, p.col, p.path, f"not a calibration record: {p.message}")
            for p in problems
        ]
        raise ScenarioError(notes) from None


def _sets(where: str, header: CalibrationHeader) -> Posterior:
    file = os.path.join(where, SETS)
    try:
        with open(file, encoding="utf-8-sig", newline="") as f:
            rows = csv_cells(f.read())
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError([Problem(file, 1, 1, "", f"cannot read the sets: {e}")]) from None
    if not rows:
        raise ScenarioError([Problem(file, 1, 1, "", "expected a header row, found an empty file")])
    head, body = rows[0], rows[1:]
    columns = {c.text.strip(): c for c in reversed(head)}
    paths = tuple(p.path for p in header.parameters)
    problems = []
    for wanted in (WEIGHT, *paths):
        if wanted not in columns:
            source = "every posterior has" if wanted == WEIGHT else f"{RECORD}'s parameters name"
            hint = did_you_mean(wanted, list(columns))
            message = f"missing column {wanted!r}, which {source}{hint}"
            problems.append(Problem(file, 1, 1, "", message))
    if not body:
        problems.append(Problem(file, 2, 1, "", "expected at least one parameter set, found none"))
    if problems:
        raise ScenarioError(problems)
    index = {c.text.strip(): j for j, c in reversed(list(enumerate(head)))}
    values = np.full((len(body), len(paths)), np.nan)
    weights = np.full(len(body), np.nan)
    for i, row in enumerate(body):
        if len(row) != len(head):
            message = f"expected {len(head)} cells as in the header, found {len(row)}"
            problems.append(Problem(file, row[0].line, 1, "", message))
            continue
        weights[i] = _number(row[index[WEIGHT]], WEIGHT, "a weight >= 0", file, problems)
        for k, p in enumerate(paths):
            values[i, k] = _number(row[index[p]], p, "a number", file, problems)
    if not problems and not weights.sum() > 0:
        cell = body[0][index[WEIGHT]]
        message = "every weight is 0: there is no parameter set to draw"
        problems.append(Problem(file, cell.line, cell.col, WEIGHT, message))
    if problems:
        raise ScenarioError(problems)
    return Posterior(
        dir=where,
        scenario=header.scenario,
        method=header.method,
        seed=header.seed,
        paths=paths,
        values=values,
        weights=weights / weights.sum(),
        lines=tuple(row[0].line for row in body),
        columns={p: columns[p].col for p in paths},
    )


def _number(cell: Cell, column: str, what: str, file: str, problems: list[Problem]) -> float:
    """The cell as a finite number (>= 0 for a weight), else NaN and a problem."""
    text = cell.text.strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value) and (column != WEIGHT or value >= 0):
        return value
    found = show(text) if text else "nothing"
    problems.append(Problem(file, cell.line, cell.col, column, f"expected {what}, found {found}"))
    return math.nan


def _tidy(value: float) -> float | int:
    return int(value) if value.is_integer() else value
