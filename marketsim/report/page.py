"""Self-contained HTML pages: plotly.js inlined once, a small neutral style, no network.

Every HTML report of marketsim (run, compare, and the optimiser's) is assembled here, so
they look alike and all work offline. The API is stable:

    from marketsim.report.page import Section, cards, page, table

    html = page(
        "b2c launch: 5 replicates",
        [
            Section("Headline", html=cards([("revenue", "1,234,567", "95% CI 1.2M to 1.3M")])),
            Section("Over time", figures=[fig_revenue, fig_customers], note="mean and 95% band"),
            Section("By channel", html=table(["channel", "spend"], [["tv", "150,000"]])),
        ],
        subtitle="seed 7, 52 weeks",
    )
    Path("report.html").write_text(html, encoding="utf-8")

- `page(title, sections, *, subtitle="", notice="", footer="")` returns the complete page as
  a string.
  plotly.js is inlined once in `<head>` (about 4.6 MB), each figure is a
  `<div class="plotly-graph-div">` drawn by `Plotly.newPlot` when the page loads.
- `Section(title, figures=(), html="", note="")`: `note` is plain text (escaped), `html` a
  trusted fragment shown above the figures (build it with `table`, `cards` or `escape`),
  `figures` plotly `go.Figure`s drawn one under the other at full width.
- `table(columns, rows, *, align=None)` and `cards(items)` build escaped HTML fragments;
  every cell or card value is text, escaped here.
- The output depends only on the arguments: figure ids are numbered in page order, and
  nothing (time, random ids) varies from one call to the next, so rebuilding a report from
  the same files gives the same bytes.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
"""plotly config of every figure: no logo; figures follow the width of the page."""

STYLE = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa;
        --good: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; }
header p { margin: 0 0 16px; color: var(--muted); }
header p.notice { margin-top: -12px; color: var(--fg); }
nav { margin: 0 0 12px; font-size: 13px; }
nav a { color: var(--muted); margin-right: 14px; text-decoration: none; }
nav a:hover { text-decoration: underline; }
section { padding: 20px 0 8px; border-bottom: 1px solid var(--line); }
section h2 { margin: 0 0 6px; font-size: 18px; font-weight: 600; }
section p.note { margin: 0 0 12px; color: var(--muted); font-size: 13px; }
.figure { margin: 8px 0 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px;
        font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: left; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; }
tr.significant td { font-weight: 600; }
tr.worse td { color: #d1242f; }
.good { color: var(--good); } .bad { color: var(--bad); } .muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 16px; }
.card { flex: 1 1 130px; border: 1px solid var(--line); border-radius: 6px;
        padding: 10px 14px; background: var(--panel); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
               letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .detail { color: var(--muted); font-size: 12px; }
footer { padding: 16px 24px 32px; color: var(--muted); font-size: 12px; }
"""


@dataclass(frozen=True)
class Section:
    """One titled part of a page.

    Attributes:
        title: heading of the section (plain text).
        figures: plotly figures, drawn in order at the width of the page.
        html: a trusted HTML fragment shown under the note, above the figures.
        note: a short plain-text explanation shown under the title.

    """

    title: str
    figures: Sequence[go.Figure] = field(default_factory=tuple)
    html: str = ""
    note: str = ""


def escape(text: object) -> str:
    """`text` as HTML text (quotes escaped too)."""
    return _html.escape(str(text), quote=True)


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    align: Sequence[str] | None = None,
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table of text cells, every cell escaped.

    Args:
        columns: header labels.
        rows: one sequence of cell values per row (converted with `str`).
        align: per column "left" or "right" (numbers); default: left for the first
            column, right for the others.
        row_classes: a CSS class per row (e.g. "significant"), or "" for none.

    """
    columns = list(columns)
    if align is None:
        align = ["left", *["right"] * (len(columns) - 1)]
    if len(align) != len(columns):
        raise ValueError(f"`align` needs one entry per column, but got {align=} for {columns=}")
    cls = [' class="num"' if a == "right" else "" for a in align]
    head = "".join(f"<th{c}>{escape(name)}</th>" for c, name in zip(cls, columns, strict=True))
    body = []
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(columns):
            raise ValueError(f"row {i} has {len(row)} cells but there are {len(columns)} columns")
        css = row_classes[i] if row_classes is not None else ""
        tr = f'<tr class="{escape(css)}">' if css else "<tr>"
        cells = "".join(f"<td{c}>{escape(v)}</td>" for c, v in zip(cls, row, strict=True))
        body.append(f"{tr}{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def cards(items: Iterable[tuple[str, str, str]]) -> str:
    """Headline figures as cards: (label, value, detail) each, all plain text."""
    parts = [
        '<div class="card">'
        f'<div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div>'
        f'<div class="detail">{escape(detail)}</div>'
        "</div>"
        for label, value, detail in items
    ]
    return f'<div class="cards">{"".join(parts)}</div>'


def page(
    title: str,
    sections: Sequence[Section],
    *,
    subtitle: str = "",
    notice: str = "",
    footer: str = "",
) -> str:
    """The complete, self-contained HTML page of `sections`.

    Args:
        title: page title and main heading (plain text).
        sections: the parts of the page, in order; a table of contents links to each.
        subtitle: a line under the heading (plain text).
        notice: a second line under it, for what changes how every number reads (plain
            text; the run on a calibration's posterior says so here).
        footer: a line at the bottom (plain text); default names marketsim's version.

    """
    from plotly.offline import get_plotlyjs

    if not footer:
        from marketsim.core.version import __version__

        footer = f"marketsim {__version__}"
    body = []
    nav = []
    n_figure = 0
    for i, section in enumerate(sections, start=1):
        anchor = f"section-{i}"
        nav.append(f'<a href="#{anchor}">{escape(section.title)}</a>')
        parts = [f'<section id="{anchor}">', f"<h2>{escape(section.title)}</h2>"]
        if section.note:
            parts.append(f'<p class="note">{escape(section.note)}</p>')
        if section.html:
            parts.append(section.html)
        for figure in section.figures:
            n_figure += 1
            parts.append(f'<div class="figure">{_figure_div(figure, f"figure-{n_figure}")}</div>')
        parts.append("</section>")
        body.append("\n".join(parts))
    subtitle_html = f"<p>{escape(subtitle)}</p>" if subtitle else ""
    if notice:
        subtitle_html += f'<p class="notice">{escape(notice)}</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>{STYLE}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        "</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1>{subtitle_html}<nav>{''.join(nav)}</nav></header>\n"
        f"<main>\n{chr(10).join(body)}\n</main>\n"
        f"<footer>{escape(footer)}</footer>\n"
        "</body>\n</html>\n"
    )


def _figure_div(figure: go.Figure, div_id: str) -> str:
    """The `<div>` and script drawing `figure`, with plotly.js expected in the page."""
    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=PLOT_CONFIG,
        validate=False,
    )
