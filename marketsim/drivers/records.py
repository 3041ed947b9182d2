"""Typed records of what the drivers produce: a run's summary, a comparison, statistics.

Each is a frozen pydantic model whose fields are in the order the JSON files list them,
so `record.to_json()` is exactly what summary.json or comparison.json hold, and reading
a file back (`Model.model_validate(data)`) checks it. Optional sections (a promotion's
discount cost, a channel's measured increment) are left out of the JSON when absent.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_serializer


class Record(BaseModel):
    """Base of every record: immutable, unknown keys refused, optional keys left out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    OPTIONAL: ClassVar[frozenset[str]] = frozenset()
    """Fields written only when they have a value."""

    FIRST: ClassVar[tuple[str, ...]] = ()
    """Fields written first (a subclass's own fields before those it inherits)."""

    @model_serializer(mode="wrap")
    def _as_written(self, handler: Any) -> Any:
        data = handler(self)
        for name in self.OPTIONAL:
            if data.get(name) is None:
                data.pop(name, None)
        if self.FIRST:
            data = {**{k: data[k] for k in self.FIRST}, **data}
        return data

    def to_json(self) -> dict[str, Any]:
        """The record as JSON data, in field order."""
        return self.model_dump(mode="json")


class Stats(Record):
    """Mean over replicates, sample std and a Student-t 95% interval of the mean.

    None where undefined: std and the interval with one replicate, everything when a
    replicate's value is undefined (ROI without spend).
    """

    mean: float | None = None
    std: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None


class Contribution(Record):
    """A channel's measured increment: the run with it minus the run without, paired.

    Customers are counted per kind, and only for the kinds the scenario has.
    """

    OPTIONAL = frozenset({"incremental_consumers", "incremental_accounts"})

    incremental_revenue: Stats
    incremental_profit: Stats
    incremental_units: Stats
    incremental_consumers: Stats | None = None
    incremental_accounts: Stats | None = None


class ChannelSummary(Record):
    """One channel over the run: spend, attributed revenue, and what was measured."""

    OPTIONAL = frozenset(
        {
            "discount_cost",
            "incremental_revenue",
            "incremental_profit",
            "incremental_units",
            "incremental_consumers",
            "incremental_accounts",
        }
    )

    type: str
    spend: Stats
    attributed_revenue: Stats
    first_touch_revenue: Stats
    discount_cost: Stats | None = None
    incremental_revenue: Stats | None = None
    incremental_profit: Stats | None = None
    incremental_units: Stats | None = None
    incremental_consumers: Stats | None = None
    incremental_accounts: Stats | None = None


class SegmentSummary(Record):
    """One segment's revenue and units; its profit, customers held and their equity.

    Profit is the segment's revenue less its cost of goods and acquisition cost (the
    marketing spend that reached it, its sales costs and commissions); customers and
    customer equity are those held at the horizon.
    """

    OPTIONAL = frozenset({"profit", "customers", "customer_equity"})

    revenue: Stats
    units: Stats
    profit: Stats | None = None
    customers: Stats | None = None
    customer_equity: Stats | None = None


class TraitBandSummary(Record):
    """One band of a trait: who is in it and what they bought, means over replicates.

    `low` and `high` are the band's smallest and largest values (means over replicates
    for quintiles); per-person figures are over the band's people.
    """

    low: float
    high: float
    people: Stats
    customers: Stats
    customer_share: Stats
    units: Stats
    revenue: Stats
    revenue_per_person: Stats


class ProductSummary(Record):
    """One product's units."""

    units: Stats


class PosteriorUse(Record):
    """Which calibration's uncertainty a run carries: replicate r uses posterior draw r."""

    dir: str
    method: str
    seed: int
    """The calibration's seed, which keys the draws."""
    parameters: list[str]
    sets: int
    """Parameter sets in posterior.csv."""
    draws: int
    """Replicates drawn for (one draw each, with replacement)."""
    distinct: int
    """Distinct sets among the draws."""
    rule: str

    def note(self) -> str:
        """The one line every report and terminal shows."""
        return (
            f"intervals include calibration uncertainty: replicate r uses posterior draw r "
            f"from {self.dir} ({self.distinct} distinct of its {self.sets} sets in "
            f"{self.draws} draws)"
        )


class RunSummary(Record):
    """summary.json: a run's headline metrics and its breakdowns, each with 95% CIs."""

    OPTIONAL = frozenset({"funnel", "by_trait", "posterior"})

    scenario: str
    seed: int
    replicates: int
    horizon: int
    step: str
    customer_types: list[str]
    """The kinds of customer the scenario has (consumers, accounts): what tables show."""
    metrics: dict[str, Stats]
    by_channel: dict[str, ChannelSummary]
    unattributed_revenue: dict[str, Stats]
    by_segment: dict[str, SegmentSummary]
    by_product: dict[str, ProductSummary]
    revenue_by_closer: dict[str, Stats]
    funnel: dict[str, dict[str, Stats]] | None = None
    """Per kind of customer, people at each stage of its funnel at the horizon."""
    by_trait: dict[str, list[TraitBandSummary]] | None = None
    """Consumers by band of each trait that varies (absent when nobody differs)."""
    posterior: PosteriorUse | None = None
    """The calibration whose draws the replicates ran on (absent without --posterior)."""


class StrategyEntry(Record):
    """One strategy of a comparison: its display name, scenario, file and directory."""

    name: str
    scenario: str
    file: str
    dir: str


class PairedDifference(Record):
    """Mean paired difference over replicates, its 95% CI and the paired t-test."""

    n: int
    mean: float | None = None
    std: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None
    relative: float | None = None
    relative_ci95_low: float | None = None
    relative_ci95_high: float | None = None
    t: float | None = None
    p_value: float | None = None


class Difference(PairedDifference):
    """A strategy's paired difference from the baseline on one metric, Holm-corrected."""

    FIRST = ("strategy", "metric")

    strategy: str
    metric: str
    p_holm: float | None = None
    significant: bool = False
    better: bool | None = None


class Part(Record):
    """One part of a decomposed difference: both strategies' means and the paired change.

    `share` is the change over the whole difference decomposed (None where not additive);
    `basis` says how a channel's revenue was credited (incremental or last_touch).
    """

    key: str
    label: str
    basis: str | None = None
    baseline: float | None = None
    other: float | None = None
    difference: Stats
    share: float | None = None


class StageChange(Record):
    """A funnel or pipeline stage in two strategies: people reached, conversion into it.

    `reached` and `conversion` are paired differences (conversion as a share: 0.02 is
    +2 percentage points); `share` is the stage's part of the change in customers held.
    """

    stage: str
    reached_baseline: float
    reached_other: float
    reached: Stats
    conversion_baseline: float | None = None
    conversion_other: float | None = None
    conversion: Stats
    share: float | None = None


class CapacityChange(Record):
    """A sales team's or broker group's utilisation in two strategies, paired."""

    team: str
    baseline: float
    other: float
    difference: Stats
    at_capacity_baseline: bool
    at_capacity_other: bool


class Decomposition(Record):
    """Where a strategy's significant revenue or profit difference from the baseline came from."""

    strategy: str
    metric: str
    total: Stats
    components: list[Part]
    by_type: list[Part]
    by_segment: list[Part]
    customers: list[Part]
    channel_basis: str
    by_channel: list[Part]
    funnel: dict[str, list[StageChange]]
    pipeline: list[StageChange]
    capacity: list[CapacityChange]


class ComparisonRecord(Record):
    """comparison.json: settings, strategies, statistics and per-replicate values."""

    kind: str = "comparison"
    baseline: str
    seed: int
    replicates: int
    horizon: int
    step: str
    strategies: list[StrategyEntry]
    alpha: float
    correction: str
    family: str
    metrics: dict[str, dict[str, Stats]]
    differences: list[Difference]
    decompositions: list[Decomposition] = []
    """Every significant revenue and profit difference, taken apart."""
    per_replicate: dict[str, dict[str, list[float | None]]]
    posterior: PosteriorUse | None = None
    """The calibration whose draw r replicate r of every strategy ran on."""

    OPTIONAL = frozenset({"posterior"})

    def difference(self, strategy: str, metric: str) -> Difference | None:
        """The difference of `strategy` on `metric` (None for the baseline)."""
        return next(
            (d for d in self.differences if (d.strategy, d.metric) == (strategy, metric)), None
        )


# --------------------------------------------------------------------------- optimisation

Decision = dict[str, float | int | str]
"""A plan in words: `budget.tv`, `headcount.inside`, `flight.tv.weights`, ..."""


class TrialResult(Record):
    """What a trial's plan did, kept with the trial in the study (Optuna user attribute)."""

    decision: Decision
    planned_spend: float
    values: list[float | None]
    mean: float | None = None
    std: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None
    risk: float | None = None
    spend: float
    simulating: float
    seconds: float
    shortfalls: dict[str, float] | None = None
    """Per outcome constraint, how far the trial's mean missed it over its bound (<= 0 met)."""
    trimmed: list[str] | None = None
    """Teams cut to fit the money the other team left."""

    OPTIONAL = frozenset({"shortfalls", "trimmed"})


class StudyInfo(Record):
    """Which study produced an optimisation, and how it sampled."""

    name: str
    storage: str
    sampler: str
    seed: int
    directions: list[str]


class SeedReplicates(Record):
    """A seed and how many replicates were run on it."""

    seed: int
    replicates: int


class BestPlan(Record):
    """The winning plan, re-evaluated on fresh seeds."""

    trial: int
    search_value: float | None
    objective: Stats
    risk: float | None
    decision: Decision
    budgets: dict[str, float]
    planned_spend: float
    metrics: dict[str, Stats]


class BaselinePlan(Record):
    """The scenario's own plan, re-evaluated on the same fresh seeds."""

    budgets: dict[str, float]
    objective: Stats
    metrics: dict[str, Stats]


class Uplift(Record):
    """Best minus baseline on the objective, replicate by replicate."""

    objective: str
    absolute: Stats
    relative: float | None


class Bound(Record):
    """A channel's budget range in the study."""

    min: float
    max: float | None


class CandidatePlan(Record):
    """One of the best trials, re-evaluated on fresh seeds."""

    trial: int
    baseline_plan: bool
    search_values: list[float | None]
    decision: Decision
    objective: Stats
    risk: float | None
    spend: Stats


class MarginalReturn(Stats):
    """A channel's marginal return at the best plan, by finite differences on CRN."""

    FIRST = ("budget", "delta", "difference", "metric")

    budget: float
    delta: float
    difference: str
    metric: str


class DecisionRange(Record):
    """A decision's range before the search: as asked, and the most the total affords.

    `note` says in words when the money narrows it ("at most 6 outside reps fit after
    the channel minimums").
    """

    decision: str
    low: float
    high: float | None
    most: float | None
    note: str | None = None


class Convergence(Record):
    """Whether the best plan's marginal returns agree where no bound binds.

    `difference` is the paired difference of the highest and lowest marginal return
    among the free channels (replicate by replicate); `converged` is None with fewer
    than two free channels.
    """

    converged: bool | None
    free: list[str]
    highest: str | None = None
    lowest: str | None = None
    difference: Stats = Stats()
    message: str


class Sizing(Record):
    """Whether the total budget is too small: every channel still pays at the margin.

    `extra` is about how much more would still pay (where the marginal profit of each
    channel, extrapolated along its curvature, reaches zero), when it can be told.
    """

    too_small: bool
    extra: float | None = None
    message: str


class SideEffect(Record):
    """The best plan against the baseline on something it was not chosen for, paired."""

    metric: str
    label: str
    baseline: float | None
    best: float | None
    difference: Stats
    worse: bool


class Explanation(Record):
    """Why the optimiser's answer is what it is, and what it costs besides the objective."""

    ranges: list[DecisionRange]
    trimmed: int
    """Trials in which a team was cut to fit the money the other team left."""
    constraints: list[str]
    """The best plan's value of every outcome constraint, on the fresh seeds."""
    convergence: Convergence | None = None
    sizing: Sizing | None = None
    side_effects: list[SideEffect]
    losses: list[str]
    """Sentences naming what the best plan loses against the baseline."""
    cost: dict[str, float]
    """Money each decision takes in the best plan (budgets; headcount at its cost)."""


class OptimizationSummary(Record):
    """An optimisation's summary.json: the question, the study, the best plan and why."""

    scenario: str
    objective: str
    risk: str
    pareto: str | None
    total_budget: float
    study: StudyInfo
    trials: dict[str, int]
    search: SeedReplicates
    reevaluation: SeedReplicates
    best: BestPlan
    baseline: BaselinePlan
    uplift: Uplift
    bounds: dict[str, Bound]
    candidates: list[CandidatePlan]
    marginal_roi: dict[str, MarginalReturn]
    importance: dict[str, float]
    explanation: Explanation | None = None
    posterior: PosteriorUse | None = None
    """The calibration whose draw r replicate r of every trial and re-evaluation ran on."""

    OPTIONAL = frozenset({"explanation", "posterior"})
