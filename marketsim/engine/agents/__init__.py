"""Mesa agents of the market."""

from __future__ import annotations

from marketsim.engine.agents.customer import Customer

__all__ = ["Customer"]
