"""What a benchmark concludes, from every run's metrics: the record bench.json holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from marketsim.drivers import metrics
from marketsim.drivers.bench.discovery import discover
from marketsim.drivers.bench.leaderboard import RESAMPLES, leaderboard
from marketsim.drivers.bench.plan import Bench
from marketsim.drivers.bench.records import (
    BenchRecord,
    CellRecord,
    DiscoveryRecord,
    MarketRecord,
    StrategyInfo,
)
from marketsim.drivers.compare import paired_difference
from marketsim.drivers.metrics import ReplicateMetrics

Values = Mapping[tuple[str, str], Sequence[ReplicateMetrics]]
"""Every (market, strategy)'s replicates' metrics, replicate 0 first."""


def bench_record(bench: Bench, values: Values, *, resamples: int = RESAMPLES) -> BenchRecord:
    """The leaderboard, criteria, cells and discovery of a finished benchmark."""
    spec = bench.suite.spec
    objective = spec.objective
    lower = objective in metrics.LOWER_IS_BETTER
    strategies = bench.strategies
    baseline = strategies.index(bench.suite.baseline)
    names = [m.name for m in bench.markets]
    table = np.array(
        [[metrics.values(values[(m, s)], objective) for s in strategies] for m in names]
    )
    kept = [i for i in range(len(names)) if np.all(np.isfinite(table[i]))]
    ranked = [names[i] for i in kept]
    board = (
        leaderboard(
            table[kept],
            strategies,
            ranked,
            baseline=baseline,
            lower_is_better=lower,
            resamples=resamples,
        )
        if kept
        else None
    )
    row = {i: j for j, i in enumerate(kept)}
    cells = []
    for i, market in enumerate(names):
        base = values[(market, strategies[baseline])]
        for k, strategy in enumerate(strategies):
            reps = values[(market, strategy)]
            versus = None
            if k != baseline:
                versus = paired_difference(
                    metrics.values(base, objective), metrics.values(reps, objective)
                )
            ranked_here = board is not None and i in row
            cells.append(
                CellRecord(
                    market=market,
                    strategy=strategy,
                    replicates=len(reps),
                    metrics=metrics.describe_metrics(reps, bench.metrics),
                    rank=float(board.ranks[row[i], k]) if ranked_here else None,
                    regret=float(board.regrets[row[i], k]) if ranked_here else None,
                    versus_baseline=versus,
                )
            )
    markets = [
        MarketRecord(
            name=m.name,
            family=m.family,
            kind=m.kind,
            scenario=str(m.file),
            values=m.values,
            features=m.features,
            best=[strategies[k] for k in board.best[row[i]]] if board and i in row else [],
        )
        for i, m in enumerate(bench.markets)
    ]
    standings = sorted(board.standings, key=lambda s: s.mean_rank.value) if board else []
    first = bench.markets[0].scenario
    return BenchRecord(
        suite=spec.name,
        description=spec.description,
        file=str(bench.suite.path),
        seed=bench.seed,
        replicates=bench.replicates,
        horizon=first.horizon,
        step=first.step,
        objective=objective,
        lower_is_better=lower,
        metrics=bench.metrics,
        baseline=strategies[baseline],
        resamples=resamples,
        strategies=[StrategyInfo(name=s.name, description=s.description) for s in spec.strategies],
        markets=markets,
        excluded=[n for i, n in enumerate(names) if i not in row],
        leaderboard=standings,
        criteria=board.criteria if board else [],
        agreement=board.agreement if board else _undefined(objective),
        cells=cells,
        discovery=_discoveries(bench, table, kept, lower),
    )


def _undefined(objective: str) -> str:
    return f"No market has {objective} defined for every strategy: nothing to rank."


def _discoveries(
    bench: Bench, table: np.ndarray, kept: list[int], lower: bool
) -> list[DiscoveryRecord]:
    """One discovery per pair: the suite's pairs, else the baseline against each other."""
    strategies = bench.strategies
    spec = bench.suite.spec.discovery
    baseline = bench.suite.baseline
    pairs = spec.pairs or [[baseline, s] for s in strategies if s != baseline]
    sign = -1.0 if lower else 1.0
    means = table[kept].mean(axis=2) if kept else np.empty((0, len(strategies)))
    markets = [bench.markets[i] for i in kept]
    paths = list(dict.fromkeys(p for m in markets for p in m.features))
    features = {p: [m.features.get(p) for m in markets] for p in paths}
    found = []
    for incumbent, challenger in pairs:
        a, b = strategies.index(incumbent), strategies.index(challenger)
        wins = [bool(sign * (row[b] - row[a]) > 0) for row in means]
        found.append(
            discover(
                incumbent,
                challenger,
                wins,
                features,
                depth=spec.depth,
                min_markets=spec.min_markets,
            )
        )
    return found
