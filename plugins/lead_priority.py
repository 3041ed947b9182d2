"""Lead prioritisation: salespeople work the most engaged accounts first.

A Python per-agent plugin on the lead-selection hook: each rep, each step, reorders
the accounts offered (by default an inside rep's leads newest first, an outside rep's
appointments oldest first) by a score, the engaged share of the account's buying
centre: members who are interested or further along. A rep still
works as many as its capacity allows, so with more leads than calls the most engaged
ones are called and the rest wait (and may go cold).

An inside rep qualifies a lead with chance qualify_rate x engaged share x trust, so
calling engaged accounts first books more appointments, and more deals, per call.
Accounts scoring below `min_score` are not called at all; the capacity they leave goes
to cold calls.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from marketsim.plugins.sdk import INTERESTED, Plugin, PluginParams, Probability, param


class LeadPriority(Plugin):
    name = "lead_priority"
    version = "1.0.0"
    description = (
        "Salesperson lead prioritisation: work the accounts with the most engaged buying "
        "centre first (Python per-agent plugin, lead_selection hook)."
    )

    class Params(PluginParams):
        roles: list[Literal["inside", "outside"]] = param(
            ["inside"], "which reps prioritise: inside (calls), outside (meetings)"
        )
        min_score: Probability = param(
            0.0, "accounts with a smaller engaged share are not worked", unit="share"
        )

    def lead_selection(self, rep, offered: np.ndarray) -> np.ndarray:
        if rep.role not in self.params.roles or len(offered) == 0:
            return offered
        score = engaged_share(rep.model, offered)
        order = np.argsort(-score, kind="stable")  # ties keep the offered order
        keep = score[order] >= self.params.min_score
        return offered[order][keep]


def engaged_share(model, accounts: np.ndarray) -> np.ndarray:
    """Share of each account's buying centre who are interested or further along."""
    book = model.sales.accounts
    first = book.first[accounts]
    size = book.size[accounts]
    ends = np.cumsum(size)
    rows = np.repeat(first - (ends - size), size) + np.arange(int(ends[-1]))
    engaged = (model.population.stage[rows] >= INTERESTED).astype(np.int64)
    return np.add.reduceat(engaged, ends - size) / size
