"""The plan handed over: plan.csv and plan.xlsx add up to the scenario's budgets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from marketsim.drivers.plan import handover_plan, month_weights, round_budgets
from marketsim.io.files import write_plan_xlsx
from marketsim.plugins.prepare import load_scenario

B2B = ROOT / "tests" / "contract" / "minimal-b2b.yaml"
LAUNCH = ROOT / "scenarios" / "b2c_launch.yaml"


@pytest.mark.parametrize("path", [B2B, LAUNCH], ids=lambda p: p.stem)
def test_every_table_spends_each_budget_to_the_unit(path: Path):
    scenario = load_scenario(path)
    plan = handover_plan(scenario)
    assert len(plan.steps) == scenario.horizon
    for channel in scenario.channels:
        if channel.enabled and channel.budget > 0:
            for table in (plan.steps, plan.months):
                column = table[f"budget_{channel.id}"]
                assert abs(column.sum() - channel.budget) <= 0.5, channel.id
                assert (column == column.round()).all()
    total = sum(c.budget for c in scenario.channels if c.enabled)
    assert abs(plan.months["marketing_total"].sum() - total) <= len(scenario.channels)


def test_26_weeks_make_6_months_and_headcount_is_the_team():
    scenario = load_scenario(B2B)
    weights = month_weights(scenario)
    assert weights.shape == (26, 6)
    assert weights.sum(axis=1) == pytest.approx(1.0)  # every week is spent somewhere
    plan = handover_plan(scenario)
    assert (plan.months["headcount_outside"] == scenario.sales.outside.count).all()
    assert plan.months["first_step"].iloc[1] == 4  # week 4 straddles months 1 and 2


def test_a_team_starting_late_counts_from_its_start():
    scenario = load_scenario(B2B, ["sales.outside.start=13", "sales.outside.tenured=0"])
    steps = handover_plan(scenario).steps
    assert (steps["headcount_outside"].iloc[:13] == 0).all()
    assert (steps["headcount_outside"].iloc[13:] == 2).all()


def test_rounded_budgets_keep_the_total_and_are_round():
    got = round_budgets([50074.0181918277, 24925.9818081723, 25000.0])
    assert sum(got) == pytest.approx(100000.0)
    assert got == [50100.0, 24900.0, 25000.0]


def test_csv_and_xlsx_hold_the_same_tables(tmp_path: Path):
    from openpyxl import load_workbook

    plan = handover_plan(load_scenario(B2B))
    path = tmp_path / "plan.xlsx"
    write_plan_xlsx(plan, path)
    book = load_workbook(path)
    assert book.sheetnames == ["weeks", "months"]
    months = pd.read_excel(path, sheet_name="months")
    rows = list(book["months"].iter_rows(values_only=True))
    assert list(rows[0]) == list(plan.months.columns)
    assert [list(r) for r in rows[1:]] == plan.months.values.tolist()
    assert months["budget_webinars"].sum() == plan.months["budget_webinars"].sum()
    frame = plan.frame()
    assert set(frame["table"]) == {"weeks", "months"}


def test_the_same_plan_gives_the_same_xlsx_bytes(tmp_path: Path):
    plan = handover_plan(load_scenario(B2B))
    write_plan_xlsx(plan, tmp_path / "a.xlsx")
    write_plan_xlsx(plan, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
