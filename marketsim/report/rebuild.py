"""`marketsim report DIR`: draw a report again from the files of an output directory."""

from __future__ import annotations

from pathlib import Path

from marketsim.io.files import REPORT
from marketsim.io.output import write_file
from marketsim.io.runs import kind_of, load_bench, load_comparison, load_run


def build(directory: Path) -> str:
    """The HTML report of the run, comparison or benchmark in `directory`, from its files.

    Raises:
        ReportError: `directory` is none of them, or a file cannot be read.

    """
    kind = kind_of(directory)
    if kind == "comparison":
        from marketsim.report.compare_report import compare_page

        return compare_page(load_comparison(directory))
    if kind == "bench":
        from marketsim.report.bench_report import bench_html

        return bench_html(load_bench(directory))
    from marketsim.report.run_report import run_page

    return run_page(load_run(directory))


def rebuild(directory: Path, out: Path | None = None) -> Path:
    """Write the report of `directory` to `out` (default `directory/report.html`).

    The page is complete before it replaces the old file: a failure leaves it untouched.
    """
    html = build(directory)
    out = directory / REPORT if out is None else out
    write_file(out, html)
    return out
