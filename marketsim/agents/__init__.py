"""Mesa agents of the market."""

from __future__ import annotations

from marketsim.agents.customer import Customer

__all__ = ["Customer"]
