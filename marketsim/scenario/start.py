"""Where the market stands at step 0: an established business, not a launch.

Without these sections every person starts unaware (or aware, `initial_awareness`): a
launch. A segment's `start:` gives the shares of its people at each funnel stage at step
0, how long ago its existing customers bought, and for b2b segments the accounts under
contract and in the open pipeline (docs/model.md section 11). A scenario's `burn_in:`
runs the market for some steps before step 0 under a stated plan instead, so the state
at step 0 is what the model's own dynamics make of that past. Shares are plain numbers
reachable by dotted paths (`segments.ID.start.customers`), so `calibrate:` can fit them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, model_validator

from marketsim.core.errors import Problem, did_you_mean, quoted, show
from marketsim.scenario.traits import Fixed, Gamma, LogNormal, Mix
from marketsim.scenario.types import Frozen, Id, Int, NonNegative, Probability

if TYPE_CHECKING:
    from marketsim.scenario.schema import Scenario

Steps = NonNegative | Annotated[Fixed | Gamma | LogNormal | Mix, Field(discriminator="dist")]
"""A number of steps: one for everyone, or a distribution over the people (rounded)."""

B2C_ONLY = ("leads", "customers", "tenure", "last_purchase")
B2B_ONLY = ("contracts", "remaining", "pipeline")
"""Keys of `start:` that mean something for one kind of segment only."""


class Pipeline(Frozen):
    """Shares of a b2b segment's accounts at each stage of the sales pipeline at step 0."""

    leads: Probability = Field(
        0.0, description="share of accounts passed to sales, waiting for a call"
    )
    appointments: Probability = Field(
        0.0, description="share of accounts with an appointment booked with an outside rep"
    )
    opportunities: Probability = Field(
        0.0, description="share of accounts in discovery with an outside rep"
    )
    proposals: Probability = Field(
        0.0,
        description="share of accounts with a proposal out, decided within the cycle's "
        "proposal_steps",
    )

    @property
    def total(self) -> float:
        """Share of accounts in the pipeline."""
        return self.leads + self.appointments + self.opportunities + self.proposals


class Start(Frozen):
    """A segment's state at step 0 (docs/model.md section 11); the rest start unaware."""

    aware: Probability = Field(
        0.0,
        description="share of people aware at step 0, not further (replaces "
        "initial_awareness; write one of the two)",
    )
    interested: Probability = Field(0.0, description="share of people interested at step 0")
    leads: Probability = Field(0.0, description="b2c only: share of people who are leads at step 0")
    customers: Probability = Field(
        0.0, description="b2c only: share of people who are customers at step 0"
    )
    tenure: Steps | None = Field(
        None,
        description="b2c only: steps since an existing subscriber subscribed (at least 1; "
        "default: spread evenly over one term)",
    )
    last_purchase: Steps | None = Field(
        None,
        description="b2c only: steps since an existing repeat buyer last bought (at "
        "least 1; default: spread evenly over one repurchase interval)",
    )
    contracts: Probability = Field(
        0.0, description="b2b only: share of accounts under contract at step 0"
    )
    remaining: Steps | None = Field(
        None,
        description="b2b only: steps until a running contract comes up for renewal (0: at "
        "step 0; default: spread evenly over one contract_length)",
    )
    pipeline: Pipeline = Field(
        default_factory=Pipeline, description="b2b only: accounts in the open pipeline"
    )

    @model_validator(mode="after")
    def _shares(self) -> Start:
        people = self.aware + self.interested + self.leads + self.customers
        if people > 1.0 + 1e-12:
            raise ValueError(
                "expected shares of the people (aware + interested + leads + customers) "
                f"summing to at most 1, found {people:g}"
            )
        accounts = self.contracts + self.pipeline.total
        if accounts > 1.0 + 1e-12:
            raise ValueError(
                "expected shares of the accounts (contracts + pipeline) summing to at most "
                f"1, found {accounts:g}"
            )
        return self


class BurnIn(Frozen):
    """Steps run before step 0 under a stated plan; nothing of them is reported or costed."""

    steps: Annotated[Int, Field(ge=0, le=100_000)] = Field(
        description="steps run before step 0 (they do not count towards the horizon)"
    )
    plan: dict[Id, NonNegative] = Field(
        default_factory=dict,
        description="per channel id: spend per step during the burn-in (currency); a "
        "channel not named spends nothing, promotions do not run",
    )


Locate = Callable[..., Problem]
"""Makes a problem at a data path (`key=True`: at the key), located where it was written."""


def check_start(scenario: Scenario, locate: Locate) -> list[Problem]:
    """Problems of the `start:` sections and `burn_in:` that need the rest of the scenario."""
    problems: list[Problem] = []
    outside = scenario.sales.outside.count if scenario.sales is not None else 0
    for i, segment in enumerate(scenario.segments):
        start = segment.start
        if start is None:
            continue
        here = ("segments", i, "start")
        wrong = B2C_ONLY if segment.kind == "b2b" else B2B_ONLY
        for key in wrong:
            if _given(getattr(start, key)):
                hint = " (a b2b segment's customers are its accounts under contract)"
                message = (
                    f"{key} applies to {'b2c' if segment.kind == 'b2b' else 'b2b'} segments "
                    f"only, but kind is {segment.kind!r}" + (hint if key == "customers" else "")
                )
                problems.append(locate((*here, key), message, key=True))
        if segment.initial_awareness > 0:
            message = (
                "expected either initial_awareness or start.aware, found "
                f"initial_awareness={segment.initial_awareness:g} beside a start: section "
                "(write the share aware at step 0 as start.aware)"
            )
            problems.append(locate(("segments", i, "initial_awareness"), message, key=True))
        pipeline = start.pipeline
        if segment.kind == "b2b" and outside == 0:
            for key in ("opportunities", "proposals"):
                if getattr(pipeline, key) > 0:
                    message = (
                        f"expected outside reps (sales.outside.count > 0) to own open "
                        f"{key}, found none"
                    )
                    problems.append(locate((*here, "pipeline", key), message))
    problems += _check_plan(scenario, locate)
    return problems


def _given(value: object) -> bool:
    """Whether a kind-specific value says something (not its default of nothing)."""
    if isinstance(value, Pipeline):
        return value.total > 0
    if isinstance(value, int | float):
        return value > 0
    return value is not None


def _check_plan(scenario: Scenario, locate: Locate) -> list[Problem]:
    burn_in = scenario.burn_in
    if burn_in is None:
        return []
    problems = []
    channels = {c.id: c for c in scenario.channels}
    for name in burn_in.plan:
        path = ("burn_in", "plan", name)
        channel: Any = channels.get(name)
        if channel is None:
            ids = list(channels)
            message = f"expected a channel id, one of {quoted(ids)}, found {show(name)}"
            problems.append(locate(path, message + did_you_mean(name, ids), key=True))
        elif channel.type == "promotion":
            message = f"promotions do not run in the burn-in, so {name!r} cannot be given spend"
            problems.append(locate(path, message, key=True))
    return problems
