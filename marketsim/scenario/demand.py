"""The demand baseline: a seasonal profile, a trend and events that move demand by step.

Real sales move with the calendar even when marketing does not. The baseline is one
multiplier per step, `m_t = seasonal_t x (1 + trend)^t x prod_e (1 + (effect_e - 1) w_e,t)`,
that scales how readily the market buys (docs/model.md section 3.9). Left out, it is 1 at
every step: the market of a scenario without a `demand:` section.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from pydantic import Field, field_validator

from marketsim.scenario.types import Frozen, Id, Number, Positive, Probability, StepIndex

MONTHS = 12

STEP_DAYS = {"day": 1, "week": 7}
"""Days in a step of these units."""

STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}
"""Calendar months in a step of these units."""


def steps_between(start: dt.date, date: dt.date, unit: str) -> tuple[int, int]:
    """(whole steps from `start` to `date`, days left over) in steps of `unit`.

    Days and weeks count days; months, quarters and years count calendar months, so any
    day of the calendar month (quarter, year) of `start` is step 0 with nothing left over.
    """
    if unit in STEP_DAYS:
        return divmod((date - start).days, STEP_DAYS[unit])
    months = STEP_MONTHS[unit]
    return (_month_index(date) // months - _month_index(start) // months), 0


def _month_index(date: dt.date) -> int:
    return date.year * MONTHS + date.month - 1


class Calendar(Frozen):
    """Where the scenario's steps fall in the calendar."""

    start: dt.date = Field(
        description="date of step 0 (YYYY-MM-DD); step t is t steps of the scenario's `step` later"
    )


class FourierTerm(Frozen):
    """One harmonic of a smooth seasonal profile."""

    sin: Number = Field(0.0, description="weight of sin(2 pi k t / period) in the log multiplier")
    cos: Number = Field(0.0, description="weight of cos(2 pi k t / period) in the log multiplier")


class Seasonality(Frozen):
    """A profile that repeats every year: per calendar month, or smooth (Fourier terms)."""

    monthly: list[Positive] | None = Field(
        None,
        description="12 multipliers, January to December (1 = an average month); needs a "
        "calendar start",
    )
    fourier: list[FourierTerm] = Field(
        default_factory=list,
        description="harmonics k = 1, 2, ...: the multiplier is exp(sum_k sin_k sin(2 pi k "
        "t / period) + cos_k cos(2 pi k t / period))",
    )
    period: Annotated[Number, Field(gt=1.0)] | None = Field(
        None, description="steps in one cycle of the Fourier terms (default: a year of steps)"
    )

    @field_validator("monthly")
    @classmethod
    def _twelve(cls, monthly: list[float] | None) -> list[float] | None:
        if monthly is not None and len(monthly) != MONTHS:
            raise ValueError(
                f"expected {MONTHS} monthly multipliers, January to December, found {len(monthly)}"
            )
        return monthly


class Event(Frozen):
    """A holiday or one-off event that multiplies demand while it is on."""

    id: Id
    effect: Positive = Field(
        description="demand multiplier while the event is fully on (1.4 = 40% more; 0.8 = 20% less)"
    )
    steps: list[StepIndex] = Field(default_factory=list, description="steps the event is on")
    dates: list[dt.date] = Field(
        default_factory=list,
        description="dates the event is on: each turns on the step it falls in (needs a "
        "calendar start)",
    )
    weights: list[Probability] | None = Field(
        None,
        description="how much the event is on at each step, 0 to 1, one per step of the "
        "horizon (a history's event column is written here); instead of steps and dates",
    )

    def on(self, horizon: int, start: dt.date | None, unit: str) -> list[float]:
        """How much the event is on at each step of the horizon, 0 to 1."""
        if self.weights is not None:
            return list(self.weights)
        weights = [0.0] * horizon
        steps = list(self.steps)
        if start is not None:
            steps += [steps_between(start, date, unit)[0] for date in self.dates]
        for t in steps:
            if 0 <= t < horizon:
                weights[t] = 1.0
        return weights


class Demand(Frozen):
    """The market's demand baseline by step: season, trend and events (default: flat)."""

    calendar: Calendar | None = Field(None, description="where the steps fall in the calendar")
    seasonality: Seasonality | None = Field(None, description="the yearly profile")
    trend: Annotated[Number, Field(gt=-1.0, lt=1.0)] = Field(
        0.0, description="growth of demand per step, compounding: (1 + trend)^t"
    )
    events: list[Event] = Field(default_factory=list, description="holidays and one-off events")
    segments: list[Id] | None = Field(
        None, description="segments whose demand the baseline moves (default: all)"
    )

    @property
    def start(self) -> dt.date | None:
        """The date of step 0, if the scenario has a calendar."""
        return None if self.calendar is None else self.calendar.start

    def multipliers(self, horizon: int, unit: str, steps_per_year: int) -> list[float]:
        """The baseline m_t for t = 0 .. horizon - 1 (docs/model.md section 3.9)."""
        start = self.start
        events = [(e.effect, e.on(horizon, start, unit)) for e in self.events]
        return [
            self._seasonal(t, start, unit, steps_per_year)
            * (1.0 + self.trend) ** t
            * math.prod(1.0 + (effect - 1.0) * on[t] for effect, on in events)
            for t in range(horizon)
        ]

    def _seasonal(self, t: int, start: dt.date | None, unit: str, steps_per_year: int) -> float:
        season = self.seasonality
        if season is None:
            return 1.0
        level = 1.0
        if season.monthly is not None and start is not None:
            months = _months_of_step(t, start, unit)
            level = math.fsum(season.monthly[m] for m in months) / len(months)
        if season.fourier:
            period = season.period or steps_per_year
            angle = 2.0 * math.pi * t / period
            level *= math.exp(
                math.fsum(
                    term.sin * math.sin(k * angle) + term.cos * math.cos(k * angle)
                    for k, term in enumerate(season.fourier, 1)
                )
            )
        return level


def _months_of_step(t: int, start: dt.date, unit: str) -> list[int]:
    """The calendar months (0 = January) step `t` covers: its first day's, or all of them."""
    if unit in STEP_DAYS:
        return [(start + dt.timedelta(days=t * STEP_DAYS[unit])).month - 1]
    months = STEP_MONTHS[unit]
    first = _month_index(start) // months * months + t * months
    return [(first + k) % MONTHS for k in range(months)]
