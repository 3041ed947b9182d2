"""The names of the hook points where plugins change behaviour, in the order a step runs them."""

from __future__ import annotations

import os

from marketsim.core.errors import InputError

HOOKS: tuple[str, ...] = (
    "price",
    "exposure",
    "word_of_mouth",
    "persuasion",
    "purchase",
    "churn",
    "lead_selection",
    "sales_transition",
    "broker",
    "after_step",
)
"""Every Python hook point, in the order a step reaches them."""

KERNEL_HOOKS: tuple[str, ...] = (
    "exposure",
    "word_of_mouth",
    "persuasion",
    "purchase",
    "churn",
    "satisfaction",
)
"""Hook points that also take a per-person numba function, in the kernel's order."""

KERNEL_SLOTS = 8
"""Most kernel hook functions one scenario may use, over every hook point together."""

INLINE_FROM = 200_000
"""People from which a market runs its kernel hooks compiled into its own kernel (mode
`auto`): below it, compiling a kernel for the plugin set would cost more than it saves."""

MODE_VARIABLE = "MARKETSIM_PLUGIN_KERNELS"
MODES = ("auto", "inline", "pointers")
"""How kernel hooks are called: by size, always compiled in, always through pointers."""


def plugin_kernel_mode() -> str:
    """The mode `MODE_VARIABLE` sets (default `auto`); another value is refused."""
    mode = os.environ.get(MODE_VARIABLE, "auto")
    if mode not in MODES:
        raise InputError(
            f"environment variable {MODE_VARIABLE}: expected one of {', '.join(MODES)}, "
            f"found {mode!r}"
        )
    return mode


def inlines(people: int) -> bool:
    """Whether a market of `people` with kernel hooks runs them compiled into its kernel."""
    mode = plugin_kernel_mode()
    return mode == "inline" or (mode == "auto" and people >= INLINE_FROM)
