"""Each channel's true incremental revenue: the market with and without it.

Attribution rules (first touch, last touch) share out revenue by who touched a buyer;
they cannot say what would have happened without a channel. A simulator can: switch
the channel off (`enabled: false`, which keeps every random stream where it was) and
run the same replicates again. The paired difference per replicate is the channel's
contribution, with a 95% interval over replicates.
"""

from __future__ import annotations

import dataclasses

from marketsim.drivers import metrics
from marketsim.drivers.execution import Executor, Progress
from marketsim.drivers.records import Contribution
from marketsim.drivers.results import Result
from marketsim.drivers.simulation import simulate
from marketsim.drivers.stats import describe
from marketsim.engine.ledger import TYPES
from marketsim.scenario.schema import Scenario

MEASURES = ("revenue", "profit", "units")
"""What every contribution measures; customers are added per kind the scenario has."""

CHEAP_PEOPLE_STEPS = 100_000_000
"""Most extra people-steps `marketsim run` spends on contributions without being asked.

Measuring them re-runs every replicate once per enabled channel: enabled channels x
replicates x people x horizon more people-steps. Up to this many (about ten seconds on
two cores for a consumer market; sales teams and brokers make steps slower) a run
measures them unless told not to (`--no-contribution`); beyond it, only when asked
(`--contribution`). The rule counts people-steps, not seconds, so whether a run measured
them depends on the scenario alone, never on the machine.
"""


def contribution_cost(scenario: Scenario, replicates: int) -> int:
    """The people-steps measuring every enabled channel's contribution would simulate."""
    channels = sum(c.enabled for c in scenario.channels)
    return channels * replicates * scenario.people * scenario.horizon


def measured_by_default(scenario: Scenario, replicates: int) -> bool:
    """Whether `marketsim run` measures contributions when neither switch is given."""
    cost = contribution_cost(scenario, replicates)
    return 0 < cost <= CHEAP_PEOPLE_STEPS


def without_channel(scenario: Scenario, channel_id: str) -> Scenario:
    """The scenario with one channel switched off and everything else unchanged."""
    channels = [
        c.model_copy(update={"enabled": False}) if c.id == channel_id else c
        for c in scenario.channels
    ]
    return scenario.model_copy(update={"channels": channels})


Increments = dict[str, dict[str, list[float]]]
"""Per channel, per measured metric, each replicate's paired increment."""


def increments(
    result: Result,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> Increments:
    """Each enabled channel's increment per replicate: the run with it minus without it.

    Measured on revenue, profit, units and customers held of each kind the scenario has.

    Args:
        result: the run with every channel, whose seed, replicates and posterior draws
            are reused (replicate r without the channel runs on the same draw r).
        executor: where the counterfactual runs go.
        progress: called with steps completed, as `simulate` does.
    """
    scenario = result.scenario
    base = result.metrics()
    measured = [*MEASURES, *(f"customers_{kind}" for kind in metrics.customer_types(scenario))]
    out = {}
    for channel in scenario.channels:
        if not channel.enabled:
            continue
        other = simulate(
            without_channel(scenario, channel.id),
            seed=result.seed,
            replicates=result.replicates,
            executor=executor,
            progress=progress,
            posterior=result.posterior,
        )
        without = other.metrics()
        out[channel.id] = {
            m: [b.value(m) - w.value(m) for b, w in zip(base, without, strict=True)]
            for m in measured
        }
    return out


def contributions(found: Increments) -> dict[str, Contribution]:
    """Each channel's increments described: mean and 95% interval over replicates."""
    names = {m: f"incremental_{m}" for m in MEASURES} | {
        f"customers_{kind}": f"incremental_{kind}" for kind in TYPES
    }
    return {
        cid: Contribution(**{names[m]: describe(values) for m, values in measured.items()})
        for cid, measured in found.items()
    }


def channel_contributions(
    result: Result,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> dict[str, Contribution]:
    """Incremental revenue, profit, units and customers (per kind) of every enabled channel."""
    return contributions(increments(result, executor=executor, progress=progress))


def with_contributions(result: Result, contributions: dict[str, Contribution]) -> Result:
    """The result with each channel's contribution added to its summary."""
    by_channel = {
        cid: entry.model_copy(update=dict(contributions[cid])) if cid in contributions else entry
        for cid, entry in result.summary.by_channel.items()
    }
    summary = result.summary.model_copy(update={"by_channel": by_channel})
    return dataclasses.replace(result, summary=summary)
