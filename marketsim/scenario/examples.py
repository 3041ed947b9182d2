"""A small built-in market, for checks that need a scenario without a file.

Plugin tests run their plugin in it (`marketsim.testing`), and `marketsim warm-up`
compiles the kernels it uses: it reaches every hook point and every part of the engine
(networks, b2b accounts, sales reps, a reseller, a promotion).
"""

from __future__ import annotations

from typing import Any

SMALL_MARKET: dict[str, Any] = {
    "name": "plugin-test-market",
    "horizon": 12,
    "seed": 11,
    "products": [
        {"id": "widget", "price": 40.0, "unit_cost": 15.0, "repurchase_every": 4},
        {"id": "suite", "price": 900.0, "unit_cost": 200.0},
    ],
    "segments": [
        {
            "id": "young",
            "size": 1500,
            "products": ["widget"],
            "network": {"type": "small_world", "degree": 6},
            "initial_awareness": 0.1,
            "word_of_mouth": 0.05,
            "purchase": 0.1,
            "churn": 0.02,
        },
        {
            "id": "crowd",
            "size": 800,
            "products": ["widget"],
            "network": {"type": "well_mixed", "degree": 8},
            "initial_awareness": 0.05,
        },
        {
            "id": "firms",
            "kind": "b2b",
            "size": 150,
            "buying_center": 3,
            "products": ["suite"],
            "initial_awareness": 0.3,
            "interest": 0.05,
            "search": 0.5,
            "contract_length": 6,
        },
    ],
    "channels": [
        {"id": "tv", "type": "advertising", "budget": 6000, "cost_per_contact": 0.05},
        {"id": "search", "type": "inbound", "budget": 2000, "cost_per_contact": 0.5},
        {"id": "sale", "type": "promotion", "budget": 500, "start": 4, "end": 7},
    ],
    "sales": {
        "routing": {"score_threshold": 0.3, "handoff_delay": 0},
        "inside": {"count": 1, "calls_per_step": 5, "cost_per_step": 500},
        "outside": {"count": 1, "meetings_per_step": 5, "cost_per_step": 900},
    },
    "brokers": [
        {
            "id": "resellers",
            "represents": "seller",
            "count": 2,
            "targets": ["young"],
            "commission": 0.1,
            "clients_per_step": 10,
            "close_rate": 0.3,
            "oversell": 0.5,
            "refund_after": 2,
        }
    ],
}
"""A small market reaching every hook point; about 3,000 people, 12 steps."""
