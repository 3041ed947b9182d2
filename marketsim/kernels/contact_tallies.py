"""The running tallies of who talks for (and against) us among each person's contacts.

The customer step reads each person's tally instead of their contacts' stages; the
tallies are synced before every step from what changed since the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numba
import numpy as np

from marketsim.core.layout import PRAISE, SegmentColumn, customer_blocks
from marketsim.core.stages import CUSTOMER
from marketsim.kernels.config import JIT, inline_jit

if TYPE_CHECKING:
    from marketsim.kernels.customer_step import People

CHANGES_PER_BLOCK = 1024
"""People a block of the customer step lists as changed before the next sync scans all."""


@dataclass
class TallyChanges:
    """Who may have started or stopped talking for (or against) us since the last sync.

    The customer step appends the people of block b who became or stopped being
    customers, or whose satisfaction or detractor flag it changed (a repeat purchase
    that leaves both as they were is not listed), to `rows[b, :count[b]]`, so the next
    sync of the contact tallies looks at them alone, not at everyone. The list is
    `known` only while the step is the only writer: anyone else writing those arrays
    (sales, Python plugins, a `Customer`, code between `MarketModel.step` calls) makes
    it unknown, and the next sync scans everyone, as it does when a block listed more
    than its room.

    Attributes:
        rows: int32 [block, room] the listed people.
        count: int64 [block] people each block listed (past its room: too many).
        silent: bool [segment] which segments' let-down customers stopped speaking for
            us when the tallies were synced (a change there changes everyone's status).
        known: whether the lists name everyone who may have changed.
    """

    rows: np.ndarray
    count: np.ndarray
    silent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    known: bool = False

    @classmethod
    def for_people(cls, people: int, room: int = CHANGES_PER_BLOCK) -> TallyChanges:
        """Lists for a market of `people` (its step's blocks), of `room` people a block."""
        blocks = customer_blocks(people)
        return cls(
            np.empty((blocks, room), dtype=np.int32),
            np.zeros(blocks, dtype=np.int64),
        )

    def forget(self) -> None:
        """Someone other than the customer step may have written people: scan them all."""
        self.known = False

    def pending(self, silent: np.ndarray) -> np.ndarray:
        """Each block's count of listed people, or an empty array where all must be scanned."""
        listed = self.known and np.array_equal(silent, self.silent)
        if listed and self.count.max(initial=0) <= self.rows.shape[1]:
            return self.count
        return self.count[:0]

    def synced(self, silent: np.ndarray) -> None:
        """The tallies are current: nobody is pending."""
        self.count[:] = 0
        self.silent = silent
        self.known = True


def update_tallies(people: People, seg: np.ndarray) -> None:
    """Bring `people.contacts` and, where detractors are tallied, `people.heard` up to date.

    Only the people `people.changes` lists are looked at while the list is known;
    otherwise everyone is.
    """
    silent = np.ascontiguousarray(seg[:, SegmentColumn.DISSATISFIED_WORD] != PRAISE)
    changes = people.changes
    pending = changes.pending(silent)
    tallies = [(False, people.counted, people.contacts)]
    if people.heard.shape[0]:
        tallies.append((True, people.heard_counted, people.heard))
    for detractors, counted, tally in tallies:
        sync_contacts(
            detractors,
            people.stage,
            people.satisfied,
            people.segment,
            silent,
            people.detractor,
            counted,
            people.indptr,
            people.indices,
            tally,
            changes.rows,
            pending,
        )
    changes.synced(silent)


@inline_jit
def speaks(stage, satisfied, silent):
    """Whether a person speaks for the company.

    Every customer does, except a let-down one in a segment whose dissatisfied keep quiet
    or speak against (`silent`: `dissatisfied_word_of_mouth` other than praise).
    """
    return stage == CUSTOMER and (not silent or satisfied != 0)


@inline_jit
def _sync_person(i, detractors, people):
    """Add or take person i from their contacts' tallies if their status changed."""
    stage, satisfied, seg_of, silent, detractor, counted, indptr, indices, tally = people
    now = detractor[i] != 0 if detractors else speaks(stage[i], satisfied[i], silent[seg_of[i]])
    if now != counted[i]:
        d = 1 if now else -1
        for k in range(indptr[i], indptr[i + 1]):
            tally[indices[k]] += d
        counted[i] = now


@numba.njit(_nrt=False, **JIT)
def sync_contacts(
    detractors,
    stage,
    satisfied,
    seg_of,
    silent,
    detractor,
    counted,
    indptr,
    indices,
    tally,
    rows,
    pending,
):
    """Bring `tally[i]` up to date: talking customers (or `detractors`) among i's contacts.

    A customer talks for the company unless let down where the segment's dissatisfied
    keep quiet or speak against (`silent[segment]`). `counted[i]` says whether i counted
    when last tallied. Only people whose status changed since touch their contacts'
    tallies; they are among `rows[b, :pending[b]]` (listed by the customer step), or,
    with `pending` empty, anyone: everyone is scanned, a pass over `stage`, not over the
    network. Integer increments commute: the result does not depend on order. One
    inlined helper serves both tallies and both loops (one loop choosing per person
    between the two ways measured 1.5-2x slower), compiled without numba's reference
    counting: it allocates nothing, and the helper's counted references made the scan
    40 times slower. Serial: the scan is a pass over a few bytes a person, and
    splitting it over threads (one tally each, or ranges of people) measured slower.
    """
    people = (stage, satisfied, seg_of, silent, detractor, counted, indptr, indices, tally)
    if pending.shape[0] == 0:
        for i in range(stage.shape[0]):
            _sync_person(i, detractors, people)
    else:
        for b in range(pending.shape[0]):
            for r in range(pending[b]):
                _sync_person(rows[b, r], detractors, people)
