"""Resize a scenario's market: the same segments and mix, a different number of people."""

from __future__ import annotations

from marketsim.scenario.schema import Scenario


def scaled(scenario: Scenario, people: int) -> Scenario:
    """`scenario` with segment sizes scaled so the population totals about `people`.

    Sizes are scaled by one factor and rounded; the rounding remainder goes to the
    largest segment that counts one person per unit, so b2c totals are exact. A segment
    standing for a larger market keeps the people each agent stands for.
    """
    if people < 1:
        raise ValueError(f"`people >= 1` must hold, but got {people=}")
    factor = people / scenario.people
    sizes = [max(1, round(s.size * factor)) for s in scenario.segments]
    singles = [i for i, s in enumerate(scenario.segments) if s.people_per_unit == 1]
    if singles:
        big = max(singles, key=lambda i: sizes[i])
        rest = people - sum(
            n * s.people_per_unit for n, s in zip(sizes, scenario.segments, strict=True)
        )
        sizes[big] = max(1, sizes[big] + rest)
    segments = [
        s.model_copy(update={"size": n, "represents": s.represents and n * s.scale})
        for s, n in zip(scenario.segments, sizes, strict=True)
    ]
    return scenario.model_copy(update={"segments": segments})
