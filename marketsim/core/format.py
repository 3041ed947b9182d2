"""Numbers as people read them, the same in the terminal and in every report."""

from __future__ import annotations

import math


def number(x: float | None, kind: str = "amount") -> str:
    """`x` for people: thousands separators, a percentage for ratios, n/a when undefined.

    Kinds: `amount` (money and counts: whole numbers from 100 up, else two decimals),
    `ratio` (a share as a percentage, `12.5%`), `percent` (a signed relative change,
    `+12.5%`) and `slope` (a return per unit of money, three decimals).
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    if kind == "ratio":
        return f"{x:,.1%}"
    if kind == "percent":
        return f"{x:+,.1%}"
    if kind == "slope":
        return f"{x:,.3f}"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"


def interval(low: float | None, high: float | None, kind: str = "amount") -> str:
    """A 95% interval as text (`1,200 to 1,450`), or n/a."""
    if low is None or high is None:
        return "n/a"
    return f"{number(low, kind)} to {number(high, kind)}"


def signed(x: float | None, kind: str = "amount") -> str:
    """`number(x)` with a `+` on a positive or zero change."""
    text = number(x, kind)
    return text if x is None or not math.isfinite(x) or x < 0 else f"+{text}"


def p_value(p: float | None) -> str:
    """A p-value as a reader wants it: `< 0.001`, `0.042`, or n/a."""
    if p is None:
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
