"""Typed records of a benchmark, in the field order of bench.json.

Like `marketsim.drivers.records`, each is a frozen pydantic model: `to_json()` is what
the file holds, and `BenchRecord.model_validate(data)` reads it back, checked.
"""

from __future__ import annotations

from marketsim.drivers.records import PairedDifference, Record, Stats


class Interval(Record):
    """A statistic and its 95% interval over paired resamples of the replicates."""

    value: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None


class Standing(Record):
    """One strategy's row of the leaderboard, over the markets ranked.

    `mean` and `worst` are the objective (the mean over replicates in each market, then
    over or worst across markets); `regret_*` is, per market, the best strategy's mean
    minus this one's (zero where it is best); `versus_baseline` the mean over markets
    of its paired difference from the baseline, with a replicate-noise interval.
    """

    strategy: str
    mean_rank: Interval
    win_rate: Interval
    mean: Interval
    worst: Interval
    worst_market: str
    regret_mean: Interval
    regret_max: Interval
    regret_p90: Interval
    versus_baseline: Interval
    better_markets: int
    """Markets where its mean beats the baseline's."""


class Criterion(Record):
    """Which strategy a decision criterion picks, and by how much."""

    criterion: str
    """`expected_value`, `maximin` or `minimax_regret`."""
    label: str
    strategy: str
    value: float
    tied: list[str]
    """Other strategies exactly as good on this criterion."""


class CellRecord(Record):
    """One (market, strategy): its metrics, rank and regret, and its paired difference."""

    market: str
    strategy: str
    replicates: int
    metrics: dict[str, Stats]
    rank: float | None = None
    regret: float | None = None
    versus_baseline: PairedDifference | None = None


class MarketRecord(Record):
    """One market: where it came from, the values drawn for it and what it varies."""

    name: str
    family: str
    kind: str
    scenario: str
    values: dict[str, float]
    features: dict[str, float]
    best: list[str]
    """The strategies with the best mean there (several on a tie)."""


class Condition(Record):
    """One test of a rule: a market parameter at most, or above, a threshold."""

    path: str
    op: str
    threshold: float


class Rule(Record):
    """Market conditions under which the challenger wins, with how well they describe it.

    `coverage`: the share of the challenger's wins (markets) the rule captures;
    `density`: the share of the rule's markets where the challenger wins.
    """

    text: str
    conditions: list[Condition]
    markets: int
    wins: int
    coverage: float
    density: float


class DiscoveryRecord(Record):
    """When does `challenger` beat `incumbent`: rules over the markets' parameters."""

    incumbent: str
    challenger: str
    markets: int
    wins: int
    features: list[str]
    rules: list[Rule]
    note: str


class StrategyInfo(Record):
    """A strategy as the suite describes it."""

    name: str
    description: str


class BenchRecord(Record):
    """bench.json: the suite's settings, the leaderboard, criteria, cells and discovery."""

    kind: str = "bench"
    suite: str
    description: str
    file: str
    seed: int
    replicates: int
    horizon: int
    step: str
    objective: str
    lower_is_better: bool
    metrics: list[str]
    baseline: str
    resamples: int
    strategies: list[StrategyInfo]
    markets: list[MarketRecord]
    excluded: list[str]
    """Markets left out of the leaderboard: some strategy's objective is undefined there."""
    leaderboard: list[Standing]
    criteria: list[Criterion]
    agreement: str
    cells: list[CellRecord]
    discovery: list[DiscoveryRecord]

    def cell(self, market: str, strategy: str) -> CellRecord:
        """The record of one (market, strategy)."""
        return next(c for c in self.cells if (c.market, c.strategy) == (market, strategy))
