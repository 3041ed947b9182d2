"""The report of a benchmark: the verdict, the leaderboard, regret, and when plans win.

Everything is drawn from the record bench.json holds, so the page depends only on it.
"""

from __future__ import annotations

import plotly.graph_objects as go

from marketsim.core.format import interval, number
from marketsim.drivers.bench.records import BenchRecord, DiscoveryRecord
from marketsim.drivers.metrics import LABELS, kind_of
from marketsim.report import figures as F
from marketsim.report.page import Section, cards, escape, page, table

GOOD, BAD = "#1a7f37", "#cf222e"


def bench_html(record: BenchRecord) -> str:
    """report.html of a benchmark."""
    subtitle = (
        f"{len(record.strategies)} strategies in {len(record.markets)} markets, "
        f"{record.replicates} replicates each on common random numbers (seed {record.seed}), "
        f"{record.horizon} {record.step}s, ranked by {_label(record)}"
    )
    return page(f"{record.suite}: benchmark", bench_sections(record), subtitle=subtitle)


def _label(record: BenchRecord) -> str:
    return LABELS.get(record.objective, record.objective)


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        template="plotly_white",
        margin={"l": 80, "r": 20, "t": 50, "b": 60},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def bench_sections(record: BenchRecord) -> list[Section]:
    """Every section of a benchmark's report."""
    sections = [_verdict(record), _leaderboard(record)]
    if record.leaderboard:
        sections += [
            Section(
                "Strategy x market",
                figures=[heatmap(record)],
                note="Regret of each strategy in each market: the best strategy's mean there "
                "minus this one's (0 = best). Hover for the mean.",
            ),
            Section(
                "Regret",
                figures=[regret_boxes(record), mean_and_worst(record)],
                note="Regret across markets per strategy; then each strategy's mean against "
                "its worst outcome, with 95% intervals: expected value prefers the top, maximin "
                "the right.",
            ),
            Section("By market", figures=[by_market(record)]),
        ]
    sections += [_discovery(record), _markets(record), _method(record)]
    return sections


def _verdict(record: BenchRecord) -> Section:
    kind = kind_of(record.objective)
    items = [
        (
            c.label.split(" (")[0],
            c.strategy,
            f"{c.label.split('(')[-1].rstrip(')')}: {number(c.value, kind)}",
        )
        for c in record.criteria
    ]
    note = record.agreement
    if record.excluded:
        note += (
            f" Left out of the ranking ({_label(record)} undefined): {', '.join(record.excluded)}."
        )
    return Section("Verdict", html=cards(items), note=note)


def _leaderboard(record: BenchRecord) -> Section:
    kind = kind_of(record.objective)
    columns = [
        "strategy",
        "mean rank",
        "win rate",
        f"mean {_label(record)}",
        "95% CI",
        "worst",
        "worst market",
        "mean regret",
        "max regret",
        "p90 regret",
        f"vs {record.baseline}",
        "95% CI",
    ]
    rows = []
    for s in record.leaderboard:
        baseline = s.strategy == record.baseline
        rows.append(
            [
                s.strategy,
                f"{s.mean_rank.value:.2f}",
                number(s.win_rate.value, "ratio"),
                number(s.mean.value, kind),
                interval(s.mean.ci95_low, s.mean.ci95_high, kind),
                number(s.worst.value, kind),
                s.worst_market,
                number(s.regret_mean.value, kind),
                number(s.regret_max.value, kind),
                number(s.regret_p90.value, kind),
                "baseline" if baseline else number(s.versus_baseline.value, kind),
                ""
                if baseline
                else interval(s.versus_baseline.ci95_low, s.versus_baseline.ci95_high, kind),
            ]
        )
    align = ["left", *["right"] * 5, "left", *["right"] * 5]
    note = (
        "Mean rank (1 = best in a market), the share of markets won (a tie splits the win), "
        f"mean and worst {_label(record)} across markets, regret against the best strategy "
        "of each market, and the mean paired difference from the baseline. Intervals: 95%, "
        f"from {record.resamples} paired resamples of the replicates (the baseline "
        "difference: Student t of replicate noise)."
    )
    return Section("Leaderboard", html=table(columns, rows, align=align), note=note)


def _strategies(record: BenchRecord) -> list[str]:
    return [s.name for s in record.strategies]


def _ranked_markets(record: BenchRecord) -> list[str]:
    return [m.name for m in record.markets if m.name not in record.excluded]


def heatmap(record: BenchRecord) -> go.Figure:
    """Regret of every strategy in every market, the mean in the hover."""
    strategies, markets = _strategies(record), _ranked_markets(record)
    kind = kind_of(record.objective)
    z, text = [], []
    for s in strategies:
        cells = [record.cell(m, s) for m in markets]
        z.append([c.regret for c in cells])
        text.append([f"mean {number(c.metrics[record.objective].mean, kind)}" for c in cells])
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=markets,
            y=strategies,
            text=text,
            colorscale="YlOrRd",
            colorbar={"title": {"text": "regret"}},
            hovertemplate="%{y} in %{x}<br>regret %{z:,.0f}<br>%{text}<extra></extra>",
        )
    )
    return _layout(fig, f"regret in {_label(record)}", "market", "", 160 + 40 * len(strategies))


def regret_boxes(record: BenchRecord) -> go.Figure:
    """The distribution of each strategy's regret across markets."""
    fig = go.Figure()
    markets = _ranked_markets(record)
    for i, s in enumerate(_strategies(record)):
        fig.add_trace(
            go.Box(
                y=[record.cell(m, s).regret for m in markets],
                text=markets,
                name=s,
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"color": F.color(i), "size": 6},
                line={"color": F.color(i)},
                hovertemplate="%{text}: regret %{y:,.0f}<extra>" + escape(s) + "</extra>",
            )
        )
    fig.update_layout(showlegend=False)
    return _layout(fig, "regret across markets", "", f"regret in {_label(record)}")


def mean_and_worst(record: BenchRecord) -> go.Figure:
    """Each strategy's mean against its worst outcome: the trade between the criteria."""
    fig = go.Figure()
    for i, s in enumerate(record.leaderboard):
        color = F.color(_strategies(record).index(s.strategy))
        fig.add_trace(
            go.Scatter(
                x=[s.worst.value],
                y=[s.mean.value],
                mode="markers+text",
                text=[s.strategy],
                textposition="top center",
                name=s.strategy,
                marker={"size": 12, "color": color},
                error_x=_error(s.worst.value, s.worst.ci95_low, s.worst.ci95_high),
                error_y=_error(s.mean.value, s.mean.ci95_low, s.mean.ci95_high),
                hovertemplate=f"{escape(s.strategy)}<br>worst %{{x:,.0f}} in "
                f"{escape(s.worst_market)}<br>mean %{{y:,.0f}}<extra></extra>",
                legendrank=i,
            )
        )
    label = _label(record)
    return _layout(fig, "mean and worst case", f"worst {label}", f"mean {label}")


def _error(value: float | None, low: float | None, high: float | None) -> dict:
    if value is None or low is None or high is None:
        return {"visible": False}
    return {
        "type": "data",
        "symmetric": False,
        "array": [high - value],
        "arrayminus": [value - low],
        "thickness": 1,
    }


def by_market(record: BenchRecord) -> go.Figure:
    """Every strategy's mean in each market, markets ordered by the baseline's mean."""
    markets = _ranked_markets(record)
    objective = record.objective
    markets.sort(key=lambda m: record.cell(m, record.baseline).metrics[objective].mean or 0.0)
    fig = go.Figure()
    for i, s in enumerate(_strategies(record)):
        stats = [record.cell(m, s).metrics[objective] for m in markets]
        fig.add_trace(
            go.Scatter(
                x=markets,
                y=[x.mean for x in stats],
                mode="lines+markers",
                name=s,
                line={"color": F.color(i)},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [_gap(x.ci95_high, x.mean) for x in stats],
                    "arrayminus": [_gap(x.mean, x.ci95_low) for x in stats],
                    "thickness": 1,
                },
            )
        )
    label = _label(record)
    return _layout(fig, f"mean {label} by market (95% CI)", "market", label)


def _gap(a: float | None, b: float | None) -> float:
    return 0.0 if a is None or b is None else a - b


def _discovery(record: BenchRecord) -> Section:
    rows, figures = [], []
    for found in record.discovery:
        pair = f"{found.challenger} vs {found.incumbent}"
        wins = f"{found.wins} of {found.markets}"
        if not found.rules:
            rows.append([pair, wins, found.note, "", ""])
        for rule in found.rules:
            rows.append(
                [
                    pair,
                    wins,
                    rule.text,
                    number(rule.coverage, "ratio"),
                    number(rule.density, "ratio"),
                ]
            )
        figure = discovery_figure(record, found)
        if figure is not None:
            figures.append(figure)
    note = (
        "For each pair, the market conditions under which the challenger's mean beats the "
        "incumbent's, from a shallow decision tree over the markets' parameters. Coverage: "
        "the share of the challenger's wins the rule captures; density: the share of the "
        "rule's markets where the challenger wins."
    )
    columns = ["pair", "challenger wins", "rule", "coverage", "density"]
    html = table(columns, rows, align=["left", "right", "left", "right", "right"])
    return Section("When does a strategy win", html=html, figures=figures, note=note)


def discovery_figure(record: BenchRecord, found: DiscoveryRecord) -> go.Figure | None:
    """The markets on the first rule's parameters, won or lost.

    A rule on one parameter: the challenger's lead over the incumbent against it, so the
    threshold shows where the lead changes sign; on two: the markets on both.
    """
    if not found.rules or not found.rules[0].conditions:
        return None
    axes = list(dict.fromkeys(c.path for c in found.rules[0].conditions))[:2]
    markets = [m for m in record.markets if m.name not in record.excluded]
    kind = kind_of(record.objective)
    lead_title = f"{found.challenger} - {found.incumbent}"
    fig = go.Figure()
    for won, color, label in ((True, GOOD, "wins"), (False, BAD, "does not win")):
        chosen = []
        for m in markets:
            ours = record.cell(m.name, found.challenger).metrics[record.objective].mean
            theirs = record.cell(m.name, found.incumbent).metrics[record.objective].mean
            lead = None if ours is None or theirs is None else ours - theirs
            beats = lead is not None and (lead < 0 if record.lower_is_better else lead > 0)
            if beats == won:
                chosen.append((m, lead))
        fig.add_trace(
            go.Scatter(
                x=[m.features.get(axes[0]) for m, _ in chosen],
                y=[m.features.get(axes[1]) if len(axes) > 1 else g for m, g in chosen],
                mode="markers",
                name=f"{found.challenger} {label}",
                marker={"color": color, "size": 9},
                text=[f"{m.name}: {lead_title} {number(g, kind)}" for m, g in chosen],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    y_title = axes[1] if len(axes) > 1 else f"{lead_title} ({_label(record)})"
    return _layout(fig, found.rules[0].text, axes[0], y_title)


def _markets(record: BenchRecord) -> Section:
    parameters = list(dict.fromkeys(p for m in record.markets for p in m.features))
    columns = ["market", "family", "kind", *parameters, "best"]
    rows = [
        [
            m.name,
            m.family,
            m.kind,
            *(_value(m.features.get(p)) for p in parameters),
            ", ".join(m.best),
        ]
        for m in record.markets
    ]
    align = ["left", "left", "left", *["right"] * len(parameters), "left"]
    return Section(
        "Markets",
        html=table(columns, rows, align=align),
        note="Each market's origin and the settings markets vary (a `*` path: the mean of "
        "its matches), and the strategy with the best mean there.",
    )


def _value(x: float | None) -> str:
    return "" if x is None else f"{x:.4g}"


def _method(record: BenchRecord) -> Section:
    rows = [[s.name, s.description] for s in record.strategies]
    text = (
        "<p>Every (market, strategy) was simulated with the same seed and replicate indices, "
        "so replicate r of every strategy in a market used the same random streams (common "
        "random numbers) and strategies are compared pair by pair. Regret is the best "
        "strategy's mean in a market minus this one's. Expected value picks the best mean "
        "over markets, maximin the best worst case, minimax regret the smallest maximum "
        f"regret. Suite: {escape(record.file)}.</p>"
    )
    return Section(
        "Method",
        html=text + table(["strategy", "description"], rows, align=["left", "left"]),
    )
