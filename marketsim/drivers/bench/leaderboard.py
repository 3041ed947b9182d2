"""Robustness statistics: how each strategy fares across markets, and which one to pick.

From the objective of every (market, strategy, replicate), `values[M, K, R]`:

- the mean over replicates of each (market, strategy), `m[i, k]`;
- rank within each market (1 = best, ties share the average rank) and its mean;
- win rate: the share of markets where a strategy is best (a tie splits the win);
- mean and worst outcome across markets;
- regret: in each market, the best strategy's mean minus this one's (0 where it is
  best), and its mean, maximum and 90th percentile (linear interpolation);
- versus the baseline: the mean over markets of the paired difference, with a Student-t
  95% interval of replicate noise, the markets taken as given: variance
  (1/M²) Σ_i s_i² / R with M(R - 1) degrees of freedom.

Every statistic's 95% interval comes from a paired bootstrap over replicates (each
resample draws, in each market, the same replicate indices for every strategy, so
common random numbers stay paired), 1,000 resamples from a fixed seed: the noise of
the finite replicates, not of the choice of markets.

The decision criteria: expected value picks the best mean, maximin the best worst
outcome, minimax regret the smallest maximum regret. When they disagree, the text says
what each trades.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marketsim.core.format import number
from marketsim.drivers.bench.records import Criterion, Interval, Standing
from marketsim.drivers.stats import t_quantile

RESAMPLES = 1000
"""Bootstrap resamples of the replicates behind every interval."""

QUANTILE = 0.9
"""The regret quantile reported (90th percentile)."""

LABELS = {
    "expected_value": "expected value (best mean)",
    "maximin": "maximin (best worst case)",
    "minimax_regret": "minimax regret (smallest maximum regret)",
}


@dataclass(frozen=True)
class Board:
    """The leaderboard of a suite: standings, per-cell ranks and regrets, and the criteria."""

    standings: list[Standing]
    ranks: np.ndarray
    regrets: np.ndarray
    best: list[list[int]]
    """Per market, the strategies (indices) with the best mean."""
    criteria: list[Criterion]
    agreement: str


@dataclass(frozen=True)
class _Point:
    """The statistics of one table of means, `m[M, K]` (higher is better)."""

    ranks: np.ndarray
    regrets: np.ndarray
    mean_rank: np.ndarray
    win_rate: np.ndarray
    mean: np.ndarray
    worst: np.ndarray
    regret_mean: np.ndarray
    regret_max: np.ndarray
    regret_p90: np.ndarray


def _point(score: np.ndarray) -> _Point:
    from scipy.stats import rankdata

    best = score.max(axis=1, keepdims=True)
    regrets = best - score
    winners = score == best
    ranks = rankdata(-score, axis=1, method="average")
    return _Point(
        ranks=ranks,
        regrets=regrets,
        mean_rank=ranks.mean(axis=0),
        win_rate=(winners / winners.sum(axis=1, keepdims=True)).mean(axis=0),
        mean=score.mean(axis=0),
        worst=score.min(axis=0),
        regret_mean=regrets.mean(axis=0),
        regret_max=regrets.max(axis=0),
        regret_p90=np.quantile(regrets, QUANTILE, axis=0),
    )


def leaderboard(
    values: np.ndarray,
    strategies: Sequence[str],
    markets: Sequence[str],
    *,
    baseline: int = 0,
    lower_is_better: bool = False,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Board:
    """The leaderboard of `values[M, K, R]`: markets x strategies x replicates.

    Means and regrets are in the objective's own units and direction: with
    `lower_is_better` (cost per acquisition) the best mean is the lowest, and the worst
    outcome the highest.
    """
    values = np.asarray(values, dtype=np.float64)
    n_markets, n_strategies, n_replicates = values.shape
    if n_markets < 1 or n_strategies < 2 or n_replicates < 1:
        raise ValueError(
            f"a leaderboard needs markets, two strategies and replicates, but got {values.shape}"
        )
    sign = -1.0 if lower_is_better else 1.0
    score = sign * values
    point = _point(score.mean(axis=2))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {name: [] for name in _STATS}
    for _ in range(resamples):
        pick = rng.integers(0, n_replicates, size=(n_markets, n_replicates))
        resampled = np.take_along_axis(score, pick[:, None, :], axis=2).mean(axis=2)
        stats = _point(resampled)
        for name in _STATS:
            draws[name].append(getattr(stats, name))
    versus = [_versus(score[:, k, :] - score[:, baseline, :]) for k in range(n_strategies)]
    means = score.mean(axis=2)  # higher is better, whatever the objective
    standings = []
    for k, strategy in enumerate(strategies):
        worst_at = int(np.argmin(means[:, k]))

        def interval(name: str, scale: float = 1.0, k: int = k) -> Interval:
            value = float(getattr(point, name)[k]) * scale
            samples = np.array([d[k] for d in draws[name]]) * scale
            if not resamples:
                return Interval(value=value)
            low, high = sorted(np.quantile(samples, [0.025, 0.975]))
            return Interval(value=value, ci95_low=float(low), ci95_high=float(high))

        d_mean, d_low, d_high = versus[k]
        standings.append(
            Standing(
                strategy=strategy,
                mean_rank=interval("mean_rank"),
                win_rate=interval("win_rate"),
                mean=interval("mean", sign),
                worst=interval("worst", sign),
                worst_market=markets[worst_at],
                regret_mean=interval("regret_mean"),
                regret_max=interval("regret_max"),
                regret_p90=interval("regret_p90"),
                versus_baseline=Interval(
                    value=sign * d_mean,
                    ci95_low=min(sign * d_low, sign * d_high),
                    ci95_high=max(sign * d_low, sign * d_high),
                ),
                better_markets=int(np.sum(means[:, k] > means[:, baseline])),
            )
        )
    best = [list(np.flatnonzero(row == row.max())) for row in means]
    criteria = _criteria(point, strategies, sign)
    return Board(
        standings=standings,
        ranks=point.ranks,
        regrets=point.regrets,
        best=best,
        criteria=criteria,
        agreement=agreement(criteria, standings),
    )


_STATS = (
    "mean_rank",
    "win_rate",
    "mean",
    "worst",
    "regret_mean",
    "regret_max",
    "regret_p90",
)


def _versus(d: np.ndarray) -> tuple[float, float, float]:
    """Mean over markets of the mean paired difference `d[M, R]`, and its 95% interval."""
    n_markets, n_replicates = d.shape
    mean = float(d.mean())
    if n_replicates < 2:
        return mean, mean, mean
    variance = float(d.var(axis=1, ddof=1).sum()) / (n_markets**2 * n_replicates)
    half = t_quantile(n_markets * (n_replicates - 1)) * math.sqrt(variance)
    return mean, mean - half, mean + half


def _criteria(point: _Point, strategies: Sequence[str], sign: float) -> list[Criterion]:
    """What each criterion picks; among strategies tied on it, the best mean."""
    found = []
    for name, values, pick in (
        ("expected_value", point.mean, np.max),
        ("maximin", point.worst, np.max),
        ("minimax_regret", point.regret_max, np.min),
    ):
        chosen = pick(values)
        tied = sorted(np.flatnonzero(values == chosen), key=lambda k: -point.mean[k])
        value = float(chosen) * (sign if name != "minimax_regret" else 1.0)
        found.append(
            Criterion(
                criterion=name,
                label=LABELS[name],
                strategy=strategies[tied[0]],
                value=value,
                tied=[strategies[k] for k in tied[1:]],
            )
        )
    return found


def agreement(criteria: Sequence[Criterion], standings: Sequence[Standing]) -> str:
    """Whether the criteria agree, and if not what each pick trades."""
    picks = {c.strategy for c in criteria}
    if len(picks) == 1:
        return f"Every criterion picks {criteria[0].strategy}."
    shared = set.intersection(*({c.strategy, *c.tied} for c in criteria))
    if shared:
        chosen = next((c.strategy for c in criteria if c.strategy in shared), sorted(shared)[0])
        return f"Every criterion picks {chosen}, some on a tie."
    by_name = {s.strategy: s for s in standings}
    parts = []
    for c in criteria:
        s = by_name[c.strategy]
        if c.criterion == "expected_value":
            detail = f"mean {number(s.mean.value)}"
        elif c.criterion == "maximin":
            detail = f"worst {number(s.worst.value)} in {s.worst_market}"
        else:
            detail = f"maximum regret {number(s.regret_max.value)}"
        parts.append(f"{c.label.split(' (')[0]} picks {c.strategy} ({detail})")
    first = by_name[criteria[0].strategy]
    safest = by_name[criteria[1].strategy]
    trade = ""
    if first.strategy != safest.strategy:
        gap = abs(first.mean.value - safest.mean.value)
        loss = abs(first.worst.value - safest.worst.value)
        trade = (
            f" {first.strategy} is better on average by {number(gap)}, but in its worst "
            f"market ({first.worst_market}) it does {number(loss)} worse than "
            f"{safest.strategy} does in its own worst ({safest.worst_market})."
        )
    return "The criteria disagree: " + "; ".join(parts) + "." + trade
