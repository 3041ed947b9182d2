"""Typed records of a calibration, in the field order of calibration.json."""

from __future__ import annotations

from marketsim.drivers.records import Record


class FitMetrics(Record):
    """How well one series fits over one window; None where undefined."""

    OPTIONAL = frozenset({"nrmse", "mape", "r2"})

    observations: int
    nrmse: float | None = None
    mape: float | None = None
    r2: float | None = None


class SeriesFit(Record):
    """One observed series: its weight, yardstick and fit in sample and held out."""

    OPTIONAL = frozenset({"holdout"})

    weight: float
    scale: float
    in_sample: FitMetrics
    holdout: FitMetrics | None = None


class ParameterEstimate(Record):
    """One free parameter: the best value, a 90% interval and whether the data pin it down."""

    path: str
    estimate: float
    """The value of the best-fitting set (what calibrated.yaml holds)."""
    low90: float
    high90: float
    """5% and 95% weighted quantiles over the near-best sets."""
    mean: float
    """Weighted mean over the near-best sets."""
    range: tuple[float, float]
    log: bool
    start: float
    """The scenario's own value before calibration."""
    interval_share: float
    """Width of the 90% interval as a share of the range searched (log scale where searched so)."""
    identified: bool
    note: str = ""


class Correlation(Record):
    """Two parameters the near-best sets trade off against each other."""

    first: str
    second: str
    r: float
    """Weighted correlation over the near-best sets (log scale where searched so)."""


class Acceptance(Record):
    """Which trials count as near-best, and how many did."""

    rule: str
    threshold: float
    accepted: int
    effective: float
    """Effective number of sets, (sum w)^2 / sum w^2."""


class Generation(Record):
    """One ABC-SMC generation: its tolerance and what it cost."""

    generation: int
    epsilon: float
    """The tolerance: sets were kept when their distance was at most this."""
    simulations: int
    acceptance_rate: float


class LiftFit(Record):
    """One lift test against its simulated counterpart (the best set, fresh seed)."""

    name: str
    channel: str
    start: int
    end: int
    outcome: str
    measured: float
    se: float
    weight: float
    simulated: float
    """Mean over the evaluation replicates of the paired increment."""
    low: float
    high: float
    """5% and 95% of the replicates' increments."""
    z: float
    """(simulated - measured) / se: within +-2 is as close as the test can tell."""
    error: float
    """The relative miss in the distance: |simulated - measured| / (|measured| + se)."""


class CalibrationRecord(Record):
    """calibration.json: the estimates, the fit and what the data leave open."""

    OPTIONAL = frozenset({"generations"})

    scenario: str
    data: str
    method: str
    seed: int
    replicates: int
    sampler: str
    """The Optuna sampler, or `abc-smc`."""
    study: str
    """The Optuna study's name, or the ABC database's file."""
    trials: dict[str, int]
    """Trials (sets simulated, with ABC) requested and by state."""
    steps: int
    fitted_steps: int
    holdout_steps: int
    distance: str
    best_trial: int
    """The best trial's number, or the best particle's row in posterior.csv."""
    best_distance: float
    evaluation_seed: int
    evaluation_replicates: int
    acceptance: Acceptance
    parameters: list[ParameterEstimate]
    fit: dict[str, SeriesFit]
    lift: list[LiftFit]
    correlations: list[Correlation]
    not_identified: list[str]
    generations: list[Generation] | None = None
