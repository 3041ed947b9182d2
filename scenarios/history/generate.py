"""Generate history.csv and lift.csv: 40 weeks of Fresh Pantry, from hidden truths.

The history is one simulated replicate of company.yaml with the parameters below (what
calibration should recover; docs/calibrate.md does not show them), TV in bursts and
search always on, and multiplicative noise on every observed outcome (as reporting
adds). The lift tests are what two experiments measured: TV switched off for a
holdout during its second burst, and search paused for four weeks, each the true
increment in new customers (the mean over 40 replicates of the market with and
without the channel in the window) plus a measurement error of 15% of it, reported as
the test's standard error. Run from the repository root to write both again, bit for
bit:

    .venv/bin/python scenarios/history/generate.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from marketsim.drivers.calibrate import with_history, without_spend
from marketsim.engine.model import MarketModel
from marketsim.plugins.prepare import load_scenario, prepare
from marketsim.scenario.history import History
from marketsim.scenario.paths import with_values

HERE = Path(__file__).resolve().parent
WEEKS = 40
FIRST = dt.date(2024, 1, 1)

TRUTH = {
    "segments.households.attention": 0.035,
    "segments.households.word_of_mouth": 0.006,
    "segments.households.churn": 0.01,
    "channels.radio.impact": 1.6,
}
"""The true values: radio's impact is never seen, as radio never ran in these weeks."""

NOISE = 0.08
"""Standard deviation of the multiplicative (lognormal) noise on each observed outcome."""

OUTCOMES = ("revenue", "units", "new_customers", "customers")

LIFT_TESTS = (("tv-holdout", "tv", 14, 19), ("search-pause", "search", 24, 27))
"""Name, channel and window (first and last week) of each experiment."""
LIFT_REPLICATES = 40
LIFT_SE = 0.15
"""A test's standard error as a share of the true increment (a well-powered test)."""


def spend_plan() -> dict[str, np.ndarray]:
    """TV in three 6-week bursts of rising weight; search always on, growing slowly."""
    tv = np.zeros(WEEKS)
    for start, weekly in ((2, 2500.0), (14, 3500.0), (28, 4500.0)):
        tv[start : start + 6] = weekly
    search = np.linspace(300.0, 600.0, WEEKS).round(2)
    return {"tv": tv, "search": search, "radio": np.zeros(WEEKS)}


def main() -> None:
    """Simulate the truth on the spend plan and write history.csv."""
    company = load_scenario(HERE / "company.yaml")
    spend = spend_plan()
    plan = History("generate", None, spend, {}, tuple(range(2, WEEKS + 2)))
    truth = prepare(with_values(with_history(company, plan), TRUTH | {"calibrate": None}))
    model = MarketModel(truth, seed=2024, replicate=0, materialize_customers=False)
    for _ in range(WEEKS):
        model.step()
    rows = model.ledger.rows
    noise = np.random.default_rng(2024).lognormal(0.0, NOISE, size=(WEEKS, len(OUTCOMES)))
    with open(HERE / "history.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["date", *(f"spend_{c}" for c in spend), *OUTCOMES])
        for week, row in enumerate(rows):
            observed = [row[o] * noise[week, k] for k, o in enumerate(OUTCOMES)]
            whole = [
                round(v, 2) if o == "revenue" else round(v)
                for o, v in zip(OUTCOMES, observed, strict=True)
            ]
            date = FIRST + dt.timedelta(weeks=week)
            out.writerow([date.isoformat(), *(spend[c][week] for c in spend), *whole])
    write_lift(truth)


def new_customers(scenario: object, end: int) -> np.ndarray:
    """New customers per replicate and week, over weeks 0..end."""
    found = []
    for r in range(LIFT_REPLICATES):
        model = MarketModel(scenario, seed=7, replicate=r, materialize_customers=False)
        for _ in range(end + 1):
            model.step()
        found.append([row["new_customers"] for row in model.ledger.rows])
    return np.array(found, dtype=np.float64)


def write_lift(truth: object) -> None:
    """Each experiment's measured increment: the truth's, plus the test's own error."""
    rng = np.random.default_rng(2026)
    with open(HERE / "lift.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["name", "channel", "start", "end", "outcome", "incremental", "se"])
        for name, channel, start, end in LIFT_TESTS:
            window = slice(start, end + 1)
            on = new_customers(truth, end)[:, window].sum(axis=1)
            off = new_customers(without_spend(truth, channel, start, end), end)[:, window].sum(
                axis=1
            )
            true = float((on - off).mean())
            se = LIFT_SE * abs(true)
            measured = true + rng.normal(0.0, se)
            out.writerow(
                [name, channel, start, end, "new_customers", round(measured, 1), round(se, 1)]
            )


if __name__ == "__main__":
    main()
