"""A plan to hand over: budget per channel and headcount per period, as a media buyer reads it.

`marketsim run` and `marketsim optimize` write plan.csv and plan.xlsx from the scenario
they ran (for `optimize`, the best plan). Two tables, one per sheet of plan.xlsx and told
apart by the `table` column of plan.csv:

- `steps`: one row per step of the scenario (week, month, ...): each channel's planned
  spend, each sales team's headcount (0 before the team starts), the marketing total;
- `months`: the same rolled up to calendar months of the plan (month 1 starts with step
  0): a step that straddles two months is shared between them by the time it spends in
  each (a week of 7/30.44 of a month); headcount is the average over the month.

Money is rounded to whole currency units, each channel's periods by
largest remainder so that they still add up to its budget rounded to a whole unit:
a column never loses or gains a unit through rounding. Budgets the optimiser chooses
are rounded before they are evaluated, to `BUDGET_STEP` (`round_budgets`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from marketsim.core import portable
from marketsim.engine.channels.base import spend_plan
from marketsim.scenario.schema import Scenario

BUDGET_STEP = 100.0
"""Currency step of the budgets the optimiser writes to best.yaml and plan files."""

TEAMS = ("inside", "outside")


@dataclass(frozen=True)
class HandoverPlan:
    """The plan of one scenario: per step and per month (both frames, same columns).

    Columns: `period` (1-based), `first_step` and `last_step` (the scenario's steps it
    covers, 0-based), `budget_<channel>` per channel with money, `marketing_total`,
    `headcount_<team>` per sales team.
    """

    scenario: str
    step: str
    steps: pd.DataFrame
    months: pd.DataFrame

    def frame(self) -> pd.DataFrame:
        """Both tables, one under the other, the first column naming the table."""
        unit = self.step
        return pd.concat(
            [self.steps.assign(table=f"{unit}s"), self.months.assign(table="months")],
            ignore_index=True,
        )[["table", *self.steps.columns]]


def round_budgets(budgets: Sequence[float], step: float = BUDGET_STEP) -> list[float]:
    """Budgets as multiples of `step`, adding up to what they added up to before.

    Every budget but the largest is rounded to the nearest multiple; the largest takes
    the rest, so the total is spent exactly (and is a multiple too when the total is).
    """
    if not budgets:
        return []
    largest = int(np.argmax(budgets))
    out = [round(b / step) * step for b in budgets]
    out[largest] = float(sum(budgets)) - sum(x for i, x in enumerate(out) if i != largest)
    out[largest] = round(out[largest], 6)
    return [float(x) for x in out]


def round_keeping_total(values: np.ndarray) -> np.ndarray:
    """`values` in whole units by largest remainder: they add up to their rounded sum."""
    floor = np.floor(values + 1e-9)
    short = int(np.rint(values.sum() - floor.sum()))
    order = np.argsort(-(values - floor), kind="stable")
    floor[order[: max(short, 0)]] += 1
    return floor


def month_weights(scenario: Scenario) -> np.ndarray:
    """[step, month] share of each step spent in each calendar month of the plan."""
    per_year = scenario.steps_per_year
    horizon = scenario.horizon
    months = max(1, math.ceil(horizon * 12 / per_year - 1e-9))
    out = np.zeros((horizon, months))
    for t in range(horizon):
        start, end = t * 12 / per_year, (t + 1) * 12 / per_year  # in months
        for m in range(int(start), min(months, math.ceil(end - 1e-9))):
            out[t, m] = (min(end, m + 1) - max(start, m)) / (end - start)
    return out


def handover_plan(scenario: Scenario) -> HandoverPlan:
    """The scenario's spend per channel and headcount per team, per step and per month."""
    horizon = scenario.horizon
    budgets = {
        c.id: spend_plan(c, horizon) for c in scenario.channels if c.enabled and c.budget > 0
    }
    teams = {}
    if scenario.sales is not None:
        for name in TEAMS:
            team = getattr(scenario.sales, name)
            if team.count:
                teams[name] = np.where(np.arange(horizon) >= team.start, team.count, 0)
    weights = month_weights(scenario)
    steps = _table(budgets, teams, np.eye(horizon))
    months = _table(budgets, teams, weights)
    return HandoverPlan(scenario.name, scenario.step, steps, months)


def _table(
    budgets: dict[str, np.ndarray], teams: dict[str, np.ndarray], weights: np.ndarray
) -> pd.DataFrame:
    """Rows of the periods `weights` ([step, period]) make of the steps."""
    n = weights.shape[1]
    covered = [np.flatnonzero(weights[:, k] > 0) for k in range(n)]
    table: dict[str, object] = {
        "period": np.arange(1, n + 1),
        "first_step": [int(c[0]) for c in covered],
        "last_step": [int(c[-1]) for c in covered],
    }
    total = np.zeros(n)
    for cid, plan in budgets.items():
        money = round_keeping_total(portable.matmul(plan, weights))
        table[f"budget_{cid}"] = money.astype(np.int64)
        total += money
    table["marketing_total"] = total.astype(np.int64)
    time = weights.sum(axis=0)
    for name, count in teams.items():
        average = np.round(portable.matmul(count, weights) / time, 1)
        whole = np.all(average == np.round(average))
        table[f"headcount_{name}"] = average.astype(np.int64) if whole else average
    return pd.DataFrame(table)
