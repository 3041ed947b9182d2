"""The `calibrate:` section: which parameters a history may change, and what it must match.

A strategist names each free parameter by the dotted path `--set` uses
(`segments.urban_young.attention`), with a search range (`low`, `high`, optionally on a
log scale) or a prior (a beta, gamma or lognormal, the trait families of
`marketsim.scenario.traits`), and the observed series to match with their weights.
Whether a path names a number of the scenario is checked with the rest of the scenario
(`marketsim.scenario.calibration_checks`); whether the history has the series, when
the history is read (`marketsim.scenario.history`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, model_validator

from marketsim.core.errors import did_you_mean, quoted, show
from marketsim.scenario.traits import Beta, Gamma, LogNormal
from marketsim.scenario.types import Frozen, Int, NonNegative, Number, Positive

Observable = Literal[
    "revenue",
    "units",
    "new_customers",
    "customers",
    "visits",
    "new_leads",
    "lapsed",
    "customers_consumers",
    "new_consumers",
    "revenue_consumers",
    "customers_accounts",
    "new_accounts",
    "revenue_accounts",
    "leads",
    "appointments",
    "meetings",
    "opportunities",
    "proposals",
    "deals_won",
    "deals_lost",
    "broker_sales",
    "renewals",
    "contracts_churned",
]
OBSERVABLES: tuple[str, ...] = get_args(Observable)
"""Outcome columns of timeseries.csv a history may give, per step (totals of the market).

Spend is not among them: a history's `spend_<channel>` columns are the plan, not an
outcome.
"""

SEGMENT_SERIES: dict[str, tuple[str, ...]] = {
    "b2c": (
        "revenue",
        "units",
        "new_customers",
        "customers",
        "visits",
        "new_leads",
        "lapsed",
        "broker_sales",
    ),
    "b2b": (
        "revenue",
        "units",
        "new_customers",
        "customers",
        "visits",
        "new_leads",
        "leads",
        "appointments",
        "meetings",
        "opportunities",
        "proposals",
        "deals_won",
        "broker_sales",
        "renewals",
        "contracts_churned",
    ),
}
"""Per segment kind, the outcomes kept per segment (`SERIES.SEGMENT`, e.g.
`revenue.smb`): those each sale, person or account books to one segment. A b2c
segment has no pipeline; a b2b segment's customers never lapse one by one (its
contracts churn). Deals lost are not among them (stale opportunities are counted
without their segment)."""

PER_SEGMENT: tuple[str, ...] = tuple(
    dict.fromkeys(s for kind in SEGMENT_SERIES.values() for s in kind)
)
"""Every series kept per segment, for some kind of segment."""


def split_series(name: str) -> tuple[str, str | None]:
    """(series, segment id) of `SERIES.SEGMENT`; (name, None) for a market total."""
    series, dot, segment = name.partition(".")
    return (series, segment) if dot else (name, None)


def series_problem(name: str, kinds: Mapping[str, str] | None = None) -> str:
    """Why `name` is not an outcome a history may give ("" if it is one).

    Args:
        name: a market total (`revenue`) or a segment's series (`revenue.smb`).
        kinds: each segment id's kind; without it, the segment is not checked.
    """
    series, segment = split_series(name)
    if segment is None:
        if series in OBSERVABLES:
            return ""
        hint = did_you_mean(series, OBSERVABLES) or f", expected one of {quoted(OBSERVABLES)}"
        return f"unknown series {show(series)}{hint}"
    if series not in PER_SEGMENT:
        if series in OBSERVABLES:
            return (
                f"{series} is a total of the market only, not kept per segment; per "
                f"segment: {quoted(PER_SEGMENT)}"
            )
        hint = did_you_mean(series, PER_SEGMENT) or f", expected one of {quoted(PER_SEGMENT)}"
        return f"unknown per-segment series {show(series)}{hint}"
    if kinds is None:
        return ""
    if segment not in kinds:
        hint = did_you_mean(segment, kinds) or f", expected one of {quoted(kinds)}"
        return f"no segment {show(segment)} in {show(name)}{hint}"
    kind = kinds[segment]
    if series not in SEGMENT_SERIES[kind]:
        return (
            f"segment {segment!r} is {kind}, and a {kind} segment has no {series}; "
            f"per {kind} segment: {quoted(SEGMENT_SERIES[kind])}"
        )
    return ""


def _series_name(name: str) -> str:
    """A matched series must be a total or a segment's series (its segment checked later)."""
    why = series_problem(name)
    if why:
        raise ValueError(why)
    return name


SeriesName = Annotated[str, AfterValidator(_series_name)]
"""An outcome a fit may match: a market total, or `SERIES.SEGMENT`."""

Prior = Annotated[Beta | Gamma | LogNormal, Field(discriminator="dist")]

PRIOR_MASS = 0.99
"""Share of a prior's mass inside the range searched by `--method optimize`."""


class FreeParameter(Frozen):
    """One number of the scenario that calibration may change."""

    path: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="dotted path of the number, as --set writes it (channels.tv.impact)"
    )
    low: Number | None = Field(None, description="lowest value searched")
    high: Number | None = Field(None, description="highest value searched")
    log: bool = Field(False, description="search on a log scale (needs low > 0)")
    prior: Prior | None = Field(
        None,
        description="a distribution instead of a range: the optimiser searches its "
        "central 99%, on a log scale for gamma and lognormal; abc draws from it",
    )

    @model_validator(mode="after")
    def _range(self) -> FreeParameter:
        given = (self.low is not None, self.high is not None)
        if self.prior is not None:
            if any(given) or self.log:
                raise ValueError("expected a range (low, high, log) or a prior, found both")
            return self
        if not all(given):
            missing = " and ".join(k for k, g in zip(("low", "high"), given, strict=True) if not g)
            raise ValueError(f"expected a range (low and high) or a prior, {missing} missing")
        assert self.low is not None and self.high is not None
        if not self.low < self.high:
            raise ValueError(
                f"an empty range: `low < high` must hold, but got (low={self.low:g}, "
                f"high={self.high:g})"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"a log scale needs low > 0, but got low={self.low:g}")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """The range searched: as written, or the prior's central `PRIOR_MASS`."""
        if self.prior is None:
            assert self.low is not None and self.high is not None
            return float(self.low), float(self.high)
        from scipy import stats

        tail = (1.0 - PRIOR_MASS) / 2
        p = self.prior
        if isinstance(p, Beta):
            dist = stats.beta(p.a, p.b)
        elif isinstance(p, Gamma):
            dist = stats.gamma(p.shape, scale=p.mean / p.shape)
        else:
            dist = stats.lognorm(p.sigma, scale=math.exp(p.mu))
        return float(dist.ppf(tail)), float(dist.ppf(1.0 - tail))

    @property
    def log_scale(self) -> bool:
        """Whether the range is searched on a log scale."""
        return self.log or isinstance(self.prior, Gamma | LogNormal)


class CalibrateSpec(Frozen):
    """Settings of `marketsim calibrate`; command-line options override them."""

    parameters: Annotated[list[FreeParameter], Field(min_length=1, max_length=50)] = Field(
        description="the numbers calibration may change, each with a range or a prior"
    )
    match: dict[SeriesName, Positive] | None = Field(
        None,
        description="observed series to match and their weights: totals (revenue) or a "
        "segment's (revenue.smb) (default: every outcome column of the history, weight 1)",
    )
    method: Literal["optimize", "abc"] = Field(
        "optimize",
        description="optimize: the point that fits best, and near-best sets; abc: a "
        "posterior by ABC-SMC (needs pyabc)",
    )
    trials: Annotated[Int, Field(ge=1)] = Field(
        100,
        description="optimize: completed trials wanted; abc: most simulations of parameter "
        "sets in all (each of `replicates` runs)",
    )
    population: Annotated[Int, Field(ge=5, le=10_000)] = Field(
        50, description="abc only: particles per generation (the posterior's sample size)"
    )
    generations: Annotated[Int, Field(ge=1, le=100)] = Field(
        8, description="abc only: most generations, each with a smaller tolerance"
    )
    min_epsilon: NonNegative = Field(
        0.0, description="abc only: stop once the tolerance (a distance) is at most this"
    )
    replicates: Annotated[Int, Field(ge=1)] = Field(
        2, description="replicates per trial, on common random numbers"
    )
    sampler: Literal["cmaes", "tpe", "random", "gp"] = Field(
        "cmaes", description="Optuna sampler minimising the distance"
    )
    holdout_steps: Annotated[Int, Field(ge=0)] = Field(
        0, description="last steps of the history kept out of the fit (an out-of-sample check)"
    )
    accept: Positive = Field(
        0.1,
        description="near-best sets: trials whose distance is at most (1 + accept) x the best",
    )
    min_accepted: Annotated[Int, Field(ge=2, le=1000)] = Field(
        10, description="fewest near-best sets kept (the best trials, if too few are near)"
    )
    band_replicates: Annotated[Int, Field(ge=2, le=1000)] = Field(
        10, description="replicates of the best set on a fresh seed for fit.csv and the metrics"
    )
    workers: Annotated[Int, Field(ge=1, le=256)] = Field(1, description="parallel processes")
