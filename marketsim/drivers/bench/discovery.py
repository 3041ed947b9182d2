"""Scenario discovery: the market conditions under which one strategy beats another.

For a pair (incumbent A, challenger B), each market is labelled "B beats A" when B's
mean objective there is better than A's (the mean of the paired differences over
replicates is above zero, or below for a lower-is-better objective). A shallow
decision tree (scikit-learn, `max_depth` = the suite's `discovery.depth`, at least
`min_markets` markets a leaf, a fixed `random_state`) splits the markets on their
parameters; every leaf where B wins most markets is a rule, worded with the dotted
parameter names, with its

- coverage: the share of all of B's wins that fall in the rule, and
- density: the share of the rule's markets where B wins.

A rule with high density and high coverage says where B is the better plan; several
rules each cover part of the wins. Parameters constant across markets explain nothing
and are left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from marketsim.drivers.bench.records import Condition, DiscoveryRecord, Rule


def discover(
    incumbent: str,
    challenger: str,
    wins: Sequence[bool],
    features: Mapping[str, Sequence[float | None]],
    *,
    depth: int = 2,
    min_markets: int = 2,
) -> DiscoveryRecord:
    """The rules under which `challenger` beats `incumbent`.

    Args:
        incumbent: the strategy A.
        challenger: the strategy B.
        wins: per market, whether B beats A there.
        features: per parameter (dotted path), its value in each market (None where a
            market has none: the parameter is then left out).
        depth: depth of the tree.
        min_markets: fewest markets in a leaf.

    """
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(wins, dtype=bool)
    names = [
        name
        for name, column in features.items()
        if all(v is not None and math.isfinite(v) for v in column) and len(set(column)) > 1
    ]
    record = {
        "incumbent": incumbent,
        "challenger": challenger,
        "markets": int(y.size),
        "wins": int(y.sum()),
        "features": names,
    }
    if not y.any() or y.all():
        where = "every market" if y.all() else "no market"
        return DiscoveryRecord(
            **record, rules=[], note=f"{challenger} beats {incumbent} in {where}."
        )
    if not names:
        note = "No market parameter varies across these markets: nothing to explain wins with."
        return DiscoveryRecord(**record, rules=[], note=note)
    x = np.array([[float(features[n][i]) for n in names] for i in range(y.size)])
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=min_markets, random_state=0)
    tree.fit(x, y)
    leaves = tree.apply(x)
    rules = []
    for leaf, conditions in _leaf_conditions(tree.tree_, names):
        members = leaves == leaf
        won = int(np.sum(y & members))
        size = int(members.sum())
        if won * 2 <= size:
            continue
        text = f"{challenger} beats {incumbent} " + (
            "when " + " and ".join(f"{c.path} {c.op} {_threshold(c.threshold)}" for c in conditions)
            if conditions
            else "in most markets"
        )
        rules.append(
            Rule(
                text=text,
                conditions=conditions,
                markets=size,
                wins=won,
                coverage=won / int(y.sum()),
                density=won / size,
            )
        )
    rules.sort(key=lambda r: (-r.coverage, -r.density))
    note = "" if rules else f"No rule of depth {depth} isolates markets where {challenger} wins."
    return DiscoveryRecord(**record, rules=rules, note=note)


def _leaf_conditions(tree: object, names: Sequence[str]) -> list[tuple[int, list[Condition]]]:
    """Each leaf of a fitted tree and the tightest conditions on its path from the root."""
    left, right = tree.children_left, tree.children_right
    found = []

    def walk(node: int, bounds: dict[tuple[str, str], float]) -> None:
        if left[node] == right[node]:  # a leaf
            conditions = [
                Condition(path=path, op=op, threshold=value)
                for (path, op), value in sorted(
                    bounds.items(), key=lambda kv: names.index(kv[0][0])
                )
            ]
            found.append((node, conditions))
            return
        path, threshold = names[tree.feature[node]], float(tree.threshold[node])
        below = dict(bounds)
        below[(path, "<=")] = min(threshold, bounds.get((path, "<="), math.inf))
        above = dict(bounds)
        above[(path, ">")] = max(threshold, bounds.get((path, ">"), -math.inf))
        walk(int(left[node]), below)
        walk(int(right[node]), above)

    walk(0, {})
    return found


def _threshold(x: float) -> str:
    """A threshold as people read it: four significant digits."""
    return f"{x:.4g}"
