"""The names of the hook points where plugins change behaviour, in the order a step runs them."""

from __future__ import annotations

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
