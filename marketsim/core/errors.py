"""Every error marketsim reports to a user, and the words its messages are made of.

One hierarchy, so every command maps errors to exit codes in one place:

- `MarketsimError`: the base; `exit_code` is what the command line exits with.
- `InputError` (exit 2): a file, option or setting that cannot be used. Nothing has
  been written when it is raised. `ScenarioError` is the input error of scenario
  files, reported the way compilers do: `FILE:LINE:COL: dotted.path: message`.
- `RunError` (exit 1): the input was accepted, and the run failed.

Anything else escaping a command is a bug, reported as a run-time failure (exit 1),
never as bad input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar


class MarketsimError(Exception):
    """Base of the errors marketsim reports; `str()` is the message, one problem a line."""

    exit_code: ClassVar[int] = 1

    def lines(self) -> list[str]:
        """The message as the command line prints it, one `error: ...` line per problem."""
        return [f"error: {line}" for line in str(self).splitlines()]


class InputError(MarketsimError):
    """Input that cannot be used (exit code 2); nothing was written."""

    exit_code = 2


class RunError(MarketsimError):
    """A run that failed after its input was accepted (exit code 1)."""

    exit_code = 1


class InputErrors(InputError):
    """Several input errors found together (every bad file of a comparison, say)."""

    def __init__(self, errors: Iterable[MarketsimError], *notes: str) -> None:
        self.errors = list(errors)
        self.notes = notes
        super().__init__("\n".join([*(str(e) for e in self.errors), *notes]))

    def lines(self) -> list[str]:
        """Each error's lines, then the notes."""
        return [line for e in self.errors for line in e.lines()] + [
            f"error: {n}" for n in self.notes
        ]


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


class ScenarioError(InputError):
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

    def lines(self) -> list[str]:
        """Every problem, located."""
        return [str(p) for p in self.problems]


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
