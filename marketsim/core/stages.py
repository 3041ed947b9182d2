"""Funnel stages, in order; a person is in exactly one at any step."""

from __future__ import annotations

STAGES: tuple[str, ...] = (
    "unaware",
    "aware",
    "interested",
    "lead",
    "qualified",
    "opportunity",
    "customer",
)
UNAWARE, AWARE, INTERESTED, LEAD, QUALIFIED, OPPORTUNITY, CUSTOMER = range(len(STAGES))
