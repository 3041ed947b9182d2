"""Terminal tables that fit the terminal: least needed columns go first, numbers never wrap.

A table wider than the terminal would be wrapped by rich cell by cell, splitting
`436,371 to 465,356` over two lines. Instead each column says how dispensable it is,
and `fitted` drops the most dispensable ones until the table fits; labels (the first
column) may still wrap, folding a word too long for the column; numbers never do.
Tables with a column per strategy are split into several tables of fewer strategies
(`fitted_groups`). The width is the console's: the terminal's, or `COLUMNS` (80 by
default) when the output is not a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

WIDE = 100_000
"""A width no table reaches: what a table's natural width is measured in."""


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, alignment and how soon it may be dropped.

    `drop` 0 keeps the column always; among the others, the highest goes first.
    """

    header: str
    justify: str = "right"
    drop: int = 0


def width(console: Console, table: Table) -> int:
    """The width `table` takes when nothing wraps."""
    return console.measure(table, options=console.options.update_width(WIDE)).maximum


def build(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    keep: Sequence[int],
    **options: Any,
) -> Table:
    """A rich table of the columns at indices `keep` (numbers unwrapped, text wrapping).

    A row left with nothing but its label once columns are dropped is left out.
    """
    table = Table(title=title, title_justify="left", **options)
    for i in keep:
        column = columns[i]
        numeric = column.justify == "right"
        table.add_column(
            column.header,
            justify=column.justify,  # type: ignore[arg-type]
            no_wrap=numeric,
            overflow="ellipsis" if numeric else "fold",  # a dotted path has no space to wrap at
        )
    for row in rows:
        cells = [row[i] for i in keep]
        if any(str(cell) for cell in cells[1:]):
            table.add_row(*cells)
    return table


def fitted(
    console: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    **options: Any,
) -> Table:
    """The table with as many of `columns` as fit the console, dispensable ones dropped first."""
    keep = list(range(len(columns)))
    table = build(title, columns, rows, keep, **options)
    for level in sorted({c.drop for c in columns if c.drop}, reverse=True):
        if width(console, table) <= console.width:
            break
        keep = [i for i in keep if columns[i].drop != level]
        table = build(title, columns, rows, keep, **options)
    return table


def fitted_groups(
    console: Console, items: Sequence[str], draw: Callable[[Sequence[str]], Table]
) -> list[Table]:
    """`draw` of groups of `items` (strategies), as many in a table as fit the console."""
    size = max(1, len(items))
    while size > 1:
        tables = [draw(items[i : i + size]) for i in range(0, len(items), size)]
        if all(width(console, t) <= console.width for t in tables):
            return tables
        size -= 1
    return [draw([item]) for item in items]
