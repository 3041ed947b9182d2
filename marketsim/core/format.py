"""Numbers as people read them, the same in the terminal and in every report."""

from __future__ import annotations

import math

KINDS = ("amount", "count", "ratio", "percent", "points", "slope")
"""What a number can be: money, a count, a share, a relative change, a change of a share
in percentage points, a return per unit of money."""


def number(x: float | None, kind: str = "amount") -> str:
    """`x` for people: thousands separators, a percentage for ratios, n/a when undefined.

    Kinds (`KINDS`): `amount` (money: whole units from 100 up, else cents), `count`
    (people, units, deals: an integer where it is one, else one decimal below 100),
    `ratio` (a share as a percentage, `12.5%`), `percent` (a signed relative change,
    `+12.5%`), `points` (a signed change of a ratio in percentage points, `+2.3 pp`:
    ROI going from 10% to 12% is +2.0 pp, not +20%) and `slope` (a return per unit of
    money, three decimals).
    """
    if kind not in KINDS:
        raise ValueError(f"`kind` must be one of {KINDS}, but got {kind=}")
    if x is None or not math.isfinite(x):
        return "n/a"
    if kind == "ratio":
        return f"{x:,.1%}"
    if kind == "percent":
        return f"{x:+,.1%}"
    if kind == "points":
        return f"{100 * x:+,.1f} pp"
    if kind == "slope":
        return f"{x:,.3f}"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.1f}" if kind == "count" else f"{x:,.2f}"


def interval(low: float | None, high: float | None, kind: str = "amount") -> str:
    """A 95% interval as text (`1,200 to 1,450`), or n/a."""
    if low is None or high is None:
        return "n/a"
    return f"{number(low, kind)} to {number(high, kind)}"


def signed(x: float | None, kind: str = "amount") -> str:
    """`number(x)` with a `+` on a positive or zero change (kinds that are signed keep theirs)."""
    text = number(x, kind)
    if x is None or not math.isfinite(x) or x < 0 or text.startswith("+"):
        return text
    return f"+{text}"


def p_value(p: float | None) -> str:
    """A p-value as a reader wants it: `< 0.001`, `0.042`, or n/a."""
    if p is None:
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
