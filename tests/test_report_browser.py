"""Reports in a real browser: headless chromium opens each kind of report.

For each report the test checks that no script error or console error occurred, that
every figure was drawn (an SVG with at least one trace and a non-zero size), and saves a
screenshot under test-artifacts/. Errors and the figure check are collected by a small
script injected at the top of a copy of the page, read back with `--dump-dom`.

Skipped only when no chromium is installed; `.ci/run` installs Debian's chromium.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketsim import cli

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "tests" / "contract"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs it with apt-get)"
)

HARNESS = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var where = (e.filename || "") + ":" + (e.lineno || 0);
  window.__errors.push("error: " + (e.message || e.type) + " at " + where);
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.__errors.push("unhandled rejection: " + String(e.reason));
});
(function () {
  var error = console.error;
  console.error = function () {
    window.__errors.push("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return error.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  setTimeout(function () {
    var divs = document.querySelectorAll(".plotly-graph-div");
    var figures = Array.prototype.map.call(divs, function (d) {
      var box = d.getBoundingClientRect();
      return {
        id: d.id,
        plotted: d.classList.contains("js-plotly-plot"),
        svgs: d.querySelectorAll("svg.main-svg").length,
        traces: d.querySelectorAll("g.trace, g.hm").length,
        data: (d._fullData || []).length,
        width: box.width,
        height: box.height
      };
    });
    var pre = document.createElement("pre");
    pre.id = "browser-test-result";
    pre.textContent = JSON.stringify({errors: window.__errors, figures: figures});
    document.body.appendChild(pre);
  }, 300);
});
</script>"""

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]

runner = CliRunner()


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def invoke(*args: str | Path):
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """One report of each kind: b2c and b2b runs, a comparison, a bench, a calibration."""
    tmp = tmp_path_factory.mktemp("browser")
    invoke(
        "run",
        CONTRACT / "minimal-b2c.yaml",
        "-o",
        tmp / "run",
        "-r",
        "3",
        "--set",
        "segments.consumers.size=2000",
        "--set",
        "horizon=20",
        "--set",
        "segments.consumers.traits.purchase_rate={dist: gamma, mean: 1, shape: 1}",
    )
    invoke(
        "run",
        CONTRACT / "minimal-b2b.yaml",
        "-o",
        tmp / "sales",
        "-r",
        "2",
        "--set",
        "segments.midmarket.size=200",
        "--set",
        "horizon=20",
    )
    text = (CONTRACT / "minimal-b2c.yaml").read_text()
    text = text.replace("size: 50000", "size: 2000").replace("horizon: 52", "horizon: 20")
    (tmp / "baseline.yaml").write_text(text)
    (tmp / "more-search.yaml").write_text(
        text.replace("budget: 40000", "budget: 80000").replace("minimal-b2c", "more-search")
    )
    invoke(
        "compare", tmp / "baseline.yaml", tmp / "more-search.yaml", "-r", "4", "-o", tmp / "compare"
    )
    invoke("bench", ROOT / "tests" / "suites" / "small.yaml", "-r", "3", "-o", tmp / "bench")
    b2b = (CONTRACT / "minimal-b2b.yaml").read_text().replace("size: 2000", "size: 600")
    few = b2b.replace("count: 2", "count: 1").replace(
        "meetings_per_step: 8", "meetings_per_step: 2"
    )
    (tmp / "few-reps.yaml").write_text(few)
    (tmp / "many-reps.yaml").write_text(
        b2b.replace("count: 2", "count: 6").replace("minimal-b2b", "many-reps")
    )
    invoke(
        "compare",
        tmp / "few-reps.yaml",
        tmp / "many-reps.yaml",
        "-r",
        "6",
        "--contribution",
        "-o",
        tmp / "why",
    )
    invoke(
        "optimize",
        CONTRACT / "minimal-b2b.yaml",
        "--objective",
        "profit+equity",
        "--trials",
        "8",
        "--replicates",
        "2",
        "--reevaluate",
        "4",
        "--curve-points",
        "4",
        "--set",
        "segments.midmarket.size=300",
        "--set",
        "optimize={total_budget: 400000, headcount: {outside: {min: 1, max: 12}}, "
        "constraints: {min_share: {trade_press: 0.1}}}",
        "-o",
        tmp / "optimize",
    )
    history = ROOT / "scenarios" / "history"
    invoke(
        "calibrate",
        history / "company.yaml",
        "--data",
        history / "history.csv",
        "--lift",
        history / "lift.csv",
        "--method",
        "abc",
        "--population",
        "8",
        "--generations",
        "2",
        "--replicates",
        "1",
        "--set",
        "segments.households.size=2000",
        "--holdout-steps",
        "8",
        "-o",
        tmp / "calibrate",
    )
    return {
        "run": tmp / "run" / "report.html",
        "sales": tmp / "sales" / "report.html",
        "compare": tmp / "compare" / "report.html",
        "bench": tmp / "bench" / "report.html",
        "why": tmp / "why" / "report.html",
        "optimize": tmp / "optimize" / "optimization.html",
        "calibrate": tmp / "calibrate" / "calibration.html",
    }


def probe(tmp_path: Path, source: str) -> tuple[dict, subprocess.CompletedProcess]:
    """Open `source` with the harness injected; the harness's findings and chromium's run."""
    page = tmp_path / "probe.html"
    page.write_text(source.replace("<head>", "<head>\n" + HARNESS, 1), encoding="utf-8")
    dump = chromium(tmp_path, "--virtual-time-budget=15000", "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="browser-test-result">(.*?)</pre>', dump.stdout, re.S)
    assert found, f"the page did not finish loading:\n{dump.stderr[-3000:]}"
    return json.loads(html.unescape(found.group(1))), dump


def test_the_probe_catches_script_and_console_errors(tmp_path):
    source = (
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        '<div class="plotly-graph-div" id="figure-1"></div>'
        "<script>console.error('drawn wrong'); notAFunction();</script></body></html>"
    )
    result, _ = probe(tmp_path, source)
    assert any("drawn wrong" in e for e in result["errors"]), result
    assert any("notAFunction" in e for e in result["errors"]), result
    assert result["figures"][0]["plotted"] is False


FIGURES = {"run": 9, "sales": 8, "compare": 8, "bench": 5, "calibrate": 9, "why": 8, "optimize": 5}
"""The fewest figures each kind of report draws."""

SECTIONS = {
    "run": ["By trait", "Channels"],
    "sales": ["Sales team"],
    "compare": [],
    "bench": [],
    "calibrate": ["Estimates", "Fit", "Lift tests", "Posterior", "Generations"],
    "why": ["Why many-reps's revenue differs", "Why many-reps's profit differs"],
    "optimize": [
        "What fits the budget",
        "Is the answer settled?",
        "Side effects against the baseline",
        "What matters",
        "Response curves",
    ],
}
"""Sections (title beginnings) each report must have beyond those every report has."""

SHOTS = {
    "run": {"run-report-channels": ["Channels"]},
    "why": {"compare-report-why": ["Why many-reps's revenue differs"]},
    "optimize": {
        "optimize-ranges": ["What fits the budget"],
        "optimize-explain": ["Is the answer settled?", "Side effects against the baseline"],
        "optimize-curves": ["Response curves"],
    },
}
"""Screenshots of single sections (under test-artifacts/, copied to docs/img/)."""

CONTENT = {
    "run": ["incremental", "attribution"],
    "why": ["outside reps worked at", "channel (incremental)", "utilisation"],
    "optimize": ["outside reps fit after the channel minimums", "current plan"],
}
"""Text each report must show: what its new sections are for."""


@pytest.mark.parametrize("kind", list(FIGURES))
def test_report_renders_every_figure_without_errors(reports, kind, tmp_path):
    page = reports[kind]
    source = page.read_text(encoding="utf-8")
    expected = len(re.findall(r'class="plotly-graph-div"', source))
    assert expected >= FIGURES[kind]
    for title in SECTIONS[kind]:
        assert f"<h2>{title}" in html.unescape(source), title
    for text in CONTENT.get(kind, []):
        assert text in html.unescape(source), text

    result, dump = probe(tmp_path, source)

    assert result["errors"] == []
    assert "Uncaught" not in dump.stderr, dump.stderr[-3000:]
    assert len(result["figures"]) == expected
    for figure in result["figures"]:
        assert figure["plotted"], figure
        assert figure["svgs"] >= 1, figure
        assert figure["traces"] >= 1, figure
        assert figure["data"] >= 1, figure
        assert figure["width"] > 100 and figure["height"] > 100, figure

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{kind}.png"
    shot.unlink(missing_ok=True)
    done = chromium(
        tmp_path,
        "--virtual-time-budget=15000",
        f"--screenshot={shot}",
        "--window-size=1400,3000",
        page.as_uri(),
    )
    assert shot.is_file() and shot.stat().st_size > 20_000, done.stderr[-3000:]
    assert "Uncaught" not in done.stderr, done.stderr[-3000:]


def only_sections(source: str, titles: list[str]) -> str:
    """The page with every section but those whose title begins with one of `titles` hidden."""
    ids = []
    for found in re.finditer(r'<section id="(section-\d+)">\s*<h2>(.*?)</h2>', source):
        if any(html.unescape(found.group(2)).startswith(t) for t in titles):
            ids.append(found.group(1))
    assert len(ids) >= len(titles), (titles, ids)
    keep = ", ".join(f"#{i}" for i in ids)
    style = (
        f"<style>section:not({keep}), nav, header, footer {{ display: none !important; }}</style>"
    )
    return source.replace("</head>", style + "</head>", 1)


@pytest.mark.parametrize("kind", list(SHOTS))
def test_new_sections_render_alone_for_the_docs(reports, kind, tmp_path):
    """Each new section drawn on its own: no errors, its figures drawn, a screenshot."""
    source = reports[kind].read_text(encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    for name, titles in SHOTS[kind].items():
        page = tmp_path / f"{name}.html"
        page.write_text(only_sections(source, titles), encoding="utf-8")
        result, _ = probe(tmp_path, page.read_text(encoding="utf-8"))
        assert result["errors"] == []
        assert all(f["plotted"] for f in result["figures"]), result["figures"]
        shot = ARTIFACTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        done = chromium(
            tmp_path,
            "--virtual-time-budget=15000",
            f"--screenshot={shot}",
            "--window-size=1200,1100",
            page.as_uri(),
        )
        assert shot.is_file() and shot.stat().st_size > 10_000, done.stderr[-3000:]
