"""Column layout shared by the customer-step kernel, its reference and the model.

Per-segment parameters arrive as one float64 matrix `seg[s, col]`; per-step counts leave
as one int64 tensor `counts[block, s, col]`. Naming the columns once keeps the kernel,
the reference and the model in step.
"""

from __future__ import annotations

from marketsim.core.stages import STAGES

# seg[s, col]: effective per-step parameters of segment s (multipliers already applied)
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
REPEAT = 11  # probability a customer buys again
MEAN_FIELD_TALKERS = 12  # well-mixed: degree x share of customers; -1 = use the network
POTENTIAL = 13  # share of people who could ever become interested (Bass m)
N_SEG_PARAMS = 14

# Touch codes recorded for attribution: channels are 0..C-1, then these two.
TOUCH_NONE = -1


def touch_word_of_mouth(n_channels: int) -> int:
    """Touch code for word of mouth given the number of channels."""
    return n_channels


def touch_organic(n_channels: int) -> int:
    """Touch code for unprompted discovery given the number of channels."""
    return n_channels + 1


# counts[block, s, col]
N_STAGES = len(STAGES)
NEW_CUSTOMERS = N_STAGES
UNITS = N_STAGES + 1
NEW_LEADS = N_STAGES + 2
UNITS_LAST_TOUCH = N_STAGES + 3  # then one column per touch code (channels, wom, organic)


def units_first_touch(n_channels: int) -> int:
    """First column of units by first-touch code."""
    return UNITS_LAST_TOUCH + n_channels + 2


def n_count_columns(n_channels: int) -> int:
    """Width of the counts tensor for a scenario with `n_channels` channels."""
    return units_first_touch(n_channels) + n_channels + 2


BLOCK = 16384  # people per parallel block: fixed, so sums never depend on threads
