"""Terminal tables fit the terminal, and numbers are formatted by kind."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from marketsim.cli.tables import Column, fitted, fitted_groups, width
from marketsim.core.format import number, signed
from marketsim.drivers.metrics import change_kind, kind_of

ROWS = [["revenue", "436,371", "436,371 to 465,356", "+12.5%", "+2.0 pp", "12,345,678"]] * 3
COLUMNS = [
    Column("metric", "left"),
    Column("mean"),
    Column("95% CI", drop=1),
    Column("relative", drop=3),
    Column("points", drop=2),
    Column("a long total column"),
]


def _console(columns: int) -> Console:
    return Console(file=io.StringIO(), width=columns, color_system=None)


@pytest.mark.parametrize("columns", [40, 60, 80, 120])
def test_a_table_is_cut_to_the_width_without_splitting_a_number(columns):
    console = _console(columns)
    table = fitted(console, "t", COLUMNS, ROWS)
    console.print(table)
    text = console.file.getvalue()
    assert width(console, table) <= columns or len(table.columns) == 3  # kept: drop 0 only
    if columns >= 80:
        assert "436,371 to 465,356" in text  # whole, never wrapped
    if columns < 60:
        assert "+12.5%" not in text  # the most dispensable column went first
    assert "12,345,678" in text


def test_strategies_that_do_not_fit_go_on_to_another_table():
    console = _console(50)
    names = [f"strategy-{i}" for i in range(6)]

    def draw(group):
        cols = [Column("metric", "left"), *(Column(n) for n in group)]
        return fitted(console, "t", cols, [["revenue", *["1,234,567"] * len(group)]])

    tables = fitted_groups(console, names, draw)
    assert len(tables) > 1
    assert all(width(console, t) <= 50 for t in tables)
    assert sum(len(t.columns) - 1 for t in tables) == len(names)


def test_numbers_are_formatted_by_kind():
    assert number(1234567.891) == "1,234,568"  # money
    assert number(12.5, "count") == "12.5" and number(12.0, "count") == "12"
    assert number(0.125, "ratio") == "12.5%"
    assert number(0.125, "percent") == "+12.5%"
    assert number(0.02, "points") == "+2.0 pp"  # ROI from 10% to 12%
    assert signed(0.02, "points") == "+2.0 pp"
    assert change_kind("roi") == "points" and change_kind("revenue") == "amount"
    assert kind_of("customers_accounts") == "count" and kind_of("win_rate") == "ratio"
    with pytest.raises(ValueError, match="kind"):
        number(1.0, "money")
