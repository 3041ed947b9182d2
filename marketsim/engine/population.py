"""The customers as a struct of arrays, plus their contact network.

A million customers are a handful of arrays, not a million Python objects; Mesa
`Customer` agents are views onto one row (see `marketsim.engine.agents.customer`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from marketsim.core.layout import NEVER_CUSTOMER, TOUCH_NONE
from marketsim.core.purposes import P_INITIAL
from marketsim.core.stages import AWARE, UNAWARE
from marketsim.engine.media import channel_media
from marketsim.engine.traits import TraitColumns, draw_traits
from marketsim.kernels import network
from marketsim.kernels.contact_tallies import TallyChanges
from marketsim.kernels.population import draw_initial_awareness
from marketsim.kernels.rng import derive_key, stream_key
from marketsim.scenario.schema import Scenario

SETUP_STEP = -1  # the step index of draws made while building the population


@dataclass
class Population:
    """Per-person state. Row i is one person; segments occupy contiguous blocks.

    Attributes:
        segment: segment index of each person.
        stage: funnel stage index (see `marketsim.core.stages`).
        ad_memory: [person, memory group] adstock, in effective exposures
            (`marketsim.engine.media`).
        first_touch / last_touch: touch code of the first and latest contact.
        talk: each person's word-of-mouth input, when it must be an array (detractors,
            Python word-of-mouth hooks).
        product / purchased_at: what a customer last bought, and when (a subscription's
            start); -1 for nobody.
        customer_since: the step the person last became a customer (their tenure is the
            steps since); kept after a lapse until they come back, `NEVER_CUSTOMER`
            before they ever are. Read by plugins only: no built-in behaviour uses it.
        satisfied: 1 if satisfied with the last purchase, 0 if not, -1 before any.
        detractor: 1 for people who were let down (mis-sold, or dissatisfied where the
            segment's let-down customers speak against the company) and warn contacts.
        purchases / spent: units each person bought over the run, and what they paid.
        traits: individual traits and media habits (`marketsim.engine.traits`).
        indptr / indices: symmetric CSR contact network (ties stay within a segment).
        offsets: first person of each segment, plus the total at the end.
        contacts / counted: the kernel engine's running tally of customers among each
            person's contacts, and whether each person was a customer when last
            tallied; brought up to date from `stage` before every step.
        heard / heard_counted: the same for detractors among each person's contacts;
            empty until someone is a detractor.
        changes: who the customer step changed since the tallies' last sync, so the
            sync need not scan everyone; whoever else writes `stage`, `satisfied` or
            `detractor` calls `changes.forget()`.

    """

    segment: np.ndarray
    stage: np.ndarray
    ad_memory: np.ndarray
    first_touch: np.ndarray
    last_touch: np.ndarray
    talk: np.ndarray
    product: np.ndarray
    purchased_at: np.ndarray
    customer_since: np.ndarray
    satisfied: np.ndarray
    detractor: np.ndarray
    purchases: np.ndarray
    spent: np.ndarray
    traits: TraitColumns
    indptr: np.ndarray
    indices: np.ndarray
    offsets: np.ndarray
    contacts: np.ndarray = field(default=None)  # type: ignore[assignment]
    counted: np.ndarray = field(default=None)  # type: ignore[assignment]
    heard: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    heard_counted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    changes: TallyChanges = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = self.stage.shape[0]
        if self.contacts is None:
            self.contacts = np.zeros(n, dtype=np.int32)
        if self.counted is None:
            self.counted = np.zeros(n, dtype=np.bool_)
        if self.changes is None:
            self.changes = TallyChanges.for_people(n)

    def hear_detractors(self) -> None:
        """Start tallying detractors among contacts (once someone is one)."""
        if self.heard.shape[0] == 0:
            self.heard = np.zeros(self.size, dtype=np.int32)
            self.heard_counted = np.zeros(self.size, dtype=np.bool_)
            self.changes.forget()  # nobody's detractor flag is counted yet

    @property
    def price_sensitivity(self) -> np.ndarray:
        """Each person's price elasticity (empty where nobody differs)."""
        return self.traits.price_sensitivity

    @property
    def purchase_rate(self) -> np.ndarray:
        """Each person's purchase-rate multiplier (empty where nobody differs)."""
        return self.traits.purchase_rate

    @property
    def word_of_mouth(self) -> np.ndarray:
        """Each person's response to word of mouth (empty where nobody differs)."""
        return self.traits.word_of_mouth

    @property
    def attitude(self) -> np.ndarray:
        """Each person's brand attitude (empty where nobody differs)."""
        return self.traits.attitude

    @property
    def habit(self) -> np.ndarray:
        """[person, medium] media habits, for `traits.media` ((0, 0) without any)."""
        return self.traits.habit

    @property
    def size(self) -> int:
        """Number of people."""
        return int(self.stage.shape[0])

    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes."""
        arrays = [*vars(self).values(), *vars(self.traits).values(), *vars(self.changes).values()]
        return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))

    @classmethod
    def build(cls, scenario: Scenario, seed: int, replicate: int) -> Population:
        """Allocate the arrays, draw traits and initial awareness, wire the networks."""
        sizes = np.array([s.people for s in scenario.segments], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        n = int(offsets[-1])
        key = stream_key(seed, replicate, SETUP_STEP)
        segment = np.repeat(np.arange(len(sizes), dtype=np.int16), sizes)
        stage = np.full(n, UNAWARE, dtype=np.int8)
        initial = np.array([s.initial_awareness for s in scenario.segments])
        if initial.any():
            draw_initial_awareness(key, stage, segment, initial, P_INITIAL, AWARE)
        indptr, indices = _wire(key, scenario, offsets)
        traits = draw_traits(scenario, key, offsets)
        groups = channel_media(scenario, traits.media).count
        return cls(
            segment=segment,
            stage=stage,
            ad_memory=np.zeros((n, groups), dtype=np.float32),
            first_touch=np.full(n, TOUCH_NONE, dtype=np.int8),
            last_touch=np.full(n, TOUCH_NONE, dtype=np.int8),
            talk=np.zeros(n, dtype=np.float32),
            product=np.full(n, -1, dtype=np.int8),
            purchased_at=np.full(n, -1, dtype=np.int32),
            customer_since=np.full(n, NEVER_CUSTOMER, dtype=np.int32),
            satisfied=np.full(n, -1, dtype=np.int8),
            detractor=np.zeros(n, dtype=np.int8),
            purchases=np.zeros(n, dtype=np.int32),
            spent=np.zeros(n, dtype=np.float32),
            traits=traits,
            indptr=indptr,
            indices=indices,
            offsets=offsets,
        )


def _wire(key: np.uint64, scenario: Scenario, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    caps = [
        network.edge_capacity(s.network.type, s.people, s.network.degree) for s in scenario.segments
    ]
    src = np.empty(sum(caps), dtype=np.int32)
    dst = np.empty(sum(caps), dtype=np.int32)
    used = 0
    for seg, offset in zip(scenario.segments, offsets[:-1], strict=False):
        net = seg.network
        # Each segment draws from its own stream, named by its id: its network does not
        # change when another segment is added, resized or moved.
        own = derive_key(key, zlib.crc32(seg.id.encode()))
        used += network.build_edges(
            own, net.type, int(offset), seg.people, net.degree, net.rewire, src, dst, used
        )
    return network.to_csr(int(offsets[-1]), src[:used], dst[:used])
