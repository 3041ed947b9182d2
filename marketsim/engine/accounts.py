"""B2B accounts as arrays: which people form each buying centre, and its deal state.

Account a of a b2b segment owns `size[a]` consecutive rows of the population starting
at `first[a]`; the first member is the economic buyer (whose approval a deal needs).
`stage` uses the funnel's indices (see `marketsim.kernels.sales`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsim.core.stages import UNAWARE
from marketsim.scenario.schema import Scenario

NOT_BLOCKED = -(2**62)
"""`blocked_until` of whoever was never refunded: before every step, a burn-in's too."""


@dataclass
class AccountBook:
    """Per-account state. Row a is one account.

    Attributes:
        segment / first / size: where the buying centre lives in the population.
        stage: with marketing (0), lead, qualified, opportunity, proposal or customer
            (`marketsim.kernels.sales`).
        since: step the account entered its pipeline stage; ready: step a routed lead
            reaches sales; due: step a proposal is decided; renew_at: step the contract
            comes up for renewal (-1: none).
        source: where the opportunity came from (inbound, referral, cold call).
        value: revenue per contract term; booker / owner / broker: the inside rep,
            outside rep or broker group that worked it (-1: none).
        blocked_until: first step a refunded account may be sold to again.
        approvals: per person, whether that decision maker has agreed to buy.
    """

    segment: np.ndarray
    first: np.ndarray
    size: np.ndarray
    stage: np.ndarray
    since: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    source: np.ndarray
    renew_at: np.ndarray
    value: np.ndarray
    product: np.ndarray
    booker: np.ndarray
    owner: np.ndarray
    broker: np.ndarray
    blocked_until: np.ndarray
    approvals: np.ndarray

    @property
    def count(self) -> int:
        """Number of accounts."""
        return int(self.stage.shape[0])

    @classmethod
    def build(cls, scenario: Scenario, offsets: np.ndarray) -> AccountBook:
        """Lay every b2b segment's accounts over its block of the population."""
        segment, first, size = [], [], []
        for s, seg in enumerate(scenario.segments):
            if seg.kind != "b2b":
                continue
            k = seg.people_per_unit
            segment.append(np.full(seg.size, s, dtype=np.int64))
            first.append(offsets[s] + k * np.arange(seg.size, dtype=np.int64))
            size.append(np.full(seg.size, k, dtype=np.int64))
        n = sum(len(x) for x in segment)
        join = lambda parts: np.concatenate(parts) if parts else np.zeros(0, np.int64)  # noqa: E731
        minus_one = lambda: np.full(n, -1, dtype=np.int64)  # noqa: E731
        people = int(offsets[-1])
        return cls(
            segment=join(segment),
            first=join(first),
            size=join(size),
            stage=np.full(n, UNAWARE, dtype=np.int8),
            since=np.zeros(n, dtype=np.int64),
            ready=np.zeros(n, dtype=np.int64),
            due=np.zeros(n, dtype=np.int64),
            source=np.zeros(n, dtype=np.int8),
            renew_at=minus_one(),
            value=np.zeros(n),
            product=minus_one(),
            booker=minus_one(),
            owner=minus_one(),
            broker=minus_one(),
            blocked_until=np.full(n, NOT_BLOCKED, dtype=np.int64),
            approvals=np.zeros(people, dtype=np.int8),
        )
