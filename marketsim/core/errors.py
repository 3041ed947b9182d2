"""Problems found in a scenario, reported the way compilers do: `FILE:LINE:COL: path: message`.

Strategists fix scenarios in an editor, so every problem names a place they can jump to
and says what was expected and what was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario; `line` and `col` are 1-based, `path` is dotted."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be used, with every problem found (not just the first).

    Problems are grouped by file in order of first appearance, then sorted by position,
    so the output reads top to bottom like the file.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        problems = list(problems)
        files = list(dict.fromkeys(p.file for p in problems))
        self.problems = sorted(problems, key=lambda p: (files.index(p.file), p.line, p.col))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(map(str, self.problems))


def show(value: Any) -> str:
    """Render a found value the way it would look in YAML, short enough for one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        n = len(value)
        return f"a list of {n} item{'s' * (n != 1)}" if value else "an empty list"
    return str(value)


def quoted(choices: Iterable[Any]) -> str:
    """`'a', 'b', 'c'`: the allowed values, as a user would type them."""
    return ", ".join(f"'{c}'" for c in choices)


def did_you_mean(found: Any, choices: Iterable[Any]) -> str:
    """`, did you mean 'X'?` when `found` is a near miss of one of `choices`, else ``."""
    close = difflib.get_close_matches(str(found), [str(c) for c in choices], n=1)
    return f", did you mean '{close[0]}'?" if close else ""
