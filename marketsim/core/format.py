"""Numbers as people read them, the same in the terminal and in every report."""

from __future__ import annotations

import math


def number(x: float | None, kind: str = "amount") -> str:
    """`x` for people: thousands separators, a percentage for ratios, n/a when undefined.

    Kinds: `amount` (money and counts: whole numbers from 100 up, else two decimals),
    `ratio` (a share as a percentage, `12.5%`) and `percent` (a signed relative change,
    `+12.5%`).
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    if kind == "ratio":
        return f"{x:,.1%}"
    if kind == "percent":
        return f"{x:+,.1%}"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"


def interval(low: float | None, high: float | None, kind: str = "amount") -> str:
    """A 95% interval as text (`1,200 to 1,450`), or n/a."""
    if low is None or high is None:
        return "n/a"
    return f"{number(low, kind)} to {number(high, kind)}"
