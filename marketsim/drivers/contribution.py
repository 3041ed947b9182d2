"""Each channel's true incremental revenue: the market with and without it.

Attribution rules (first touch, last touch) share out revenue by who touched a buyer;
they cannot say what would have happened without a channel. A simulator can: switch
the channel off (`enabled: false`, which keeps every random stream where it was) and
run the same replicates again. The paired difference per replicate is the channel's
contribution, with a 95% interval over replicates.
"""

from __future__ import annotations

from typing import Any

from marketsim.drivers.execution import Executor
from marketsim.drivers.results import Result
from marketsim.drivers.simulation import Progress, simulate
from marketsim.drivers.stats import describe
from marketsim.scenario.schema import Scenario

MEASURES = ("revenue", "profit", "units", "customers")


def without_channel(scenario: Scenario, channel_id: str) -> Scenario:
    """The scenario with one channel switched off and everything else unchanged."""
    channels = [
        c.model_copy(update={"enabled": False}) if c.id == channel_id else c
        for c in scenario.channels
    ]
    return scenario.model_copy(update={"channels": channels})


def channel_contributions(
    result: Result,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> dict[str, dict[str, Any]]:
    """Incremental revenue, profit, units and customers of every enabled channel.

    Args:
        result: the run with every channel, whose seed and replicates are reused.
        executor: where the counterfactual runs go.
        progress: called with steps completed, as `simulate` does.
    """
    scenario = result.scenario
    base = _per_replicate(result)
    out: dict[str, dict[str, Any]] = {}
    for channel in scenario.channels:
        if not channel.enabled:
            continue
        other = simulate(
            without_channel(scenario, channel.id),
            seed=result.seed,
            replicates=result.replicates,
            executor=executor,
            progress=progress,
        )
        without = _per_replicate(other)
        out[channel.id] = {
            f"incremental_{m}": describe([b - w for b, w in zip(base[m], without[m], strict=True)])
            for m in MEASURES
        }
    return out


def _per_replicate(result: Result) -> dict[str, list[float]]:
    by_rep = result.timeseries.groupby("replicate", sort=True)
    return {
        "revenue": by_rep["revenue"].sum().tolist(),
        "profit": by_rep["profit"].sum().tolist(),
        "units": by_rep["units"].sum().tolist(),
        "customers": by_rep["customers"].last().tolist(),
    }


def with_contributions(result: Result, contributions: dict[str, dict[str, Any]]) -> Result:
    """The result with each channel's contribution added to `summary["by_channel"]`."""
    summary = dict(result.summary)
    summary["by_channel"] = {
        cid: {**entry, **contributions.get(cid, {})}
        for cid, entry in result.summary["by_channel"].items()
    }
    return Result(result.scenario, result.seed, result.timeseries, summary, result.agents)
