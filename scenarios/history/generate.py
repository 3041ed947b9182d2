"""Generate history.csv: 40 weeks of Fresh Pantry's spend and outcomes, from hidden truths.

The history is one simulated replicate of company.yaml with the parameters below (what
calibration should recover; docs/calibrate.md does not show them), TV in bursts and
search always on, and multiplicative noise on every observed outcome (as reporting
adds). Run from the repository root to write it again, bit for bit:

    .venv/bin/python scenarios/history/generate.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from marketsim.drivers.calibrate import with_history
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


if __name__ == "__main__":
    main()
