"""Column layouts shared by the customer kernel, its reference, the model and plugins.

Per-segment parameters reach the kernel as one float64 matrix `seg[segment, column]`
with columns `SegmentColumn`; per-step counts leave it as one int64 tensor
`counts[block, segment, column]` with columns `CountColumn` (then one column per touch
code, twice). The two are separate namespaces, so a segment column cannot be mistaken
for a count column. Both are `IntEnum`s: numba folds them to integer constants.
"""

from __future__ import annotations

from enum import IntEnum

from marketsim.core.stages import STAGES


class SegmentColumn(IntEnum):
    """Columns of `seg[s, col]`: segment s's effective parameters in one step."""

    INNOVATION_HAZARD = 0  # -log(1 - innovation)
    ATTENTION = 1  # awareness hazard per exposure
    RETENTION = 2  # ad memory carried over
    PERSUASION = 3  # interest hazard per unit of saturated ad memory
    INTEREST = 4  # unprompted interest probability
    WORD_OF_MOUTH = 5  # hazard per talking contact, trust applied
    PURCHASE = 6  # self-service purchase probability of an interested person
    SEARCH = 7  # probability an interested person searches
    LEAD_CONVERSION = 8  # probability a lead buys
    INTEREST_DECAY = 9  # probability interest or a lead goes cold
    CHURN = 10  # probability a customer lapses
    REPEAT = 11  # multiplier on a customer's chance to buy again (trust, dips)
    MEAN_FIELD_TALKERS = 12  # well-mixed: degree x share of customers; -1 = use the network
    POTENTIAL = 13  # share of people who could ever become interested (Bass m)
    AWARENESS_ADSTOCK = 14  # weight of carried ad memory on the awareness hazard
    AWARENESS_DECAY = 15  # chance per step an unreminded aware person forgets
    ELASTICITY = 16  # the segment's price elasticity (its people's mean)
    SUBSTITUTION = 17  # nested-logit substitution between the segment's products
    DISSATISFIED_CHURN = 18  # churn multiplier of a dissatisfied customer
    CHURN_PRICE = 19  # churn x (price / reference)^(this x elasticity)
    DISSATISFIED_WORD = 20  # what the dissatisfied say: PRAISE, SILENT or AGAINST


CHANCE_COLUMNS: tuple[SegmentColumn, ...] = (
    SegmentColumn.INTEREST,
    SegmentColumn.SEARCH,
    SegmentColumn.INTEREST_DECAY,
    SegmentColumn.POTENTIAL,
    SegmentColumn.AWARENESS_DECAY,
)
"""Columns of `seg` that are chances as they stand: plugins must leave them in [0, 1]."""

CAPPED_COLUMNS: tuple[SegmentColumn, ...] = (
    SegmentColumn.PURCHASE,
    SegmentColumn.LEAD_CONVERSION,
    SegmentColumn.REPEAT,
    SegmentColumn.CHURN,
)
"""Columns of `seg` that become chances once multiplied per person and capped at 1 in the
kernel: plugins must leave them >= 0."""

PERSON_COLUMNS: tuple[str, ...] = (
    "segment",
    "stage",
    "ad_memory",
    "first_touch",
    "last_touch",
    "talk",
    "contacts",
    "counted",
    "heard",
    "heard_counted",
    "product",
    "purchased_at",
    "customer_since",
    "tenure",
    "satisfied",
    "detractor",
    "purchases",
    "spent",
    "price_sensitivity",
    "purchase_rate",
    "word_of_mouth",
    "attitude",
    "habit",
    "traits",
    "indptr",
    "indices",
    "offsets",
    "row",
)
"""Names of the core's per-person columns (and `Customer` attributes): plugin state
columns may not take them."""

PRAISE, SILENT, AGAINST = 0, 1, 2
"""Values of `SegmentColumn.DISSATISFIED_WORD`."""


N_SEGMENT_COLUMNS = len(SegmentColumn)

N_STAGES = len(STAGES)


class CountColumn(IntEnum):
    """Fixed columns of `counts[block, s, col]`, after one column per funnel stage.

    Then units by last-touch code and by first-touch code (one column per channel, word of
    mouth and organic each), then units by product: new purchases, repeat purchases and
    subscription bills (one column per product each).
    """

    NEW_CUSTOMERS = N_STAGES
    UNITS = N_STAGES + 1
    NEW_LEADS = N_STAGES + 2
    VISITS = N_STAGES + 3  # searchers who found the company through an inbound channel
    LAPSED = N_STAGES + 4  # customers who churned or did not renew
    SILENT = N_STAGES + 5  # customers at the end of the step who do not speak for us
    FORGOT = N_STAGES + 6  # aware people who forgot the brand this step
    UNITS_LAST_TOUCH = N_STAGES + 7  # then one column per touch code (channels, wom, organic)


TOUCH_NONE = -1
"""Touch code of a person no channel has touched. Channels are 0..C-1, then these two."""

NEVER_CUSTOMER = -(2**31)
"""`customer_since` of a person who has never been a customer (the least int32)."""


def touch_word_of_mouth(n_channels: int) -> int:
    """Touch code for word of mouth given the number of channels."""
    return n_channels


def touch_organic(n_channels: int) -> int:
    """Touch code for unprompted discovery given the number of channels."""
    return n_channels + 1


def units_first_touch(n_channels: int) -> int:
    """First column of units by first-touch code."""
    return CountColumn.UNITS_LAST_TOUCH + n_channels + 2


def units_by_product(n_channels: int) -> int:
    """First column of units by product: new, then again, then billed (each one per product)."""
    return units_first_touch(n_channels) + n_channels + 2


def n_count_columns(n_channels: int, n_products: int) -> int:
    """Width of the counts tensor for `n_channels` channels and `n_products` products."""
    return units_by_product(n_channels) + 3 * n_products


NEW, AGAIN, BILLED = 1, 2, 3
"""What a unit a person buys in a step is: a new purchase, a repeat, a subscription bill."""


BLOCK = 16384
"""Most people in one parallel block of the customer step (and of the network's build)."""
MIN_BLOCK = 1024
SPREAD_BLOCKS = 64
"""The customer step splits a market into this many blocks, or as many as blocks of
`MIN_BLOCK` people need where that is fewer: 100,000 people in blocks of `BLOCK` (7)
kept one of 2 threads idle an eighth of the step, 10,000 (one block) throughout."""


def customer_blocks(people: int) -> int:
    """Parallel blocks of the customer step for a market of `people`.

    A function of the market alone, never of the thread count: every tally comes out
    the same however the blocks are run.
    """
    size = min(BLOCK, max(MIN_BLOCK, -(-people // SPREAD_BLOCKS)))
    return max(1, -(-people // size))
