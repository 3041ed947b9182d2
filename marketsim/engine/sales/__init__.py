"""The sales organisation and brokers: lasting state, one module per phase of a step."""

from __future__ import annotations

from marketsim.engine.sales.organisation import SalesForce, SalesOrganisation

__all__ = ["SalesForce", "SalesOrganisation"]
