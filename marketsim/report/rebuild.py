"""`marketsim report DIR`: draw a report again from the files of an output directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from marketsim.report.data import ReportError, kind_of, load_comparison, load_run

REPORT = "report.html"


def build(directory: Path) -> str:
    """The HTML report of the run or comparison in `directory`, from its files only.

    Raises:
        ReportError: `directory` is not a run or comparison, or a file cannot be read.

    """
    if kind_of(directory) == "comparison":
        from marketsim.report.compare_report import compare_page

        return compare_page(load_comparison(directory))
    from marketsim.report.run_report import run_page

    return run_page(load_run(directory))


def rebuild(directory: Path, out: Path | None = None) -> Path:
    """Write the report of `directory` to `out` (default `directory/report.html`).

    The page is complete before it replaces the old file: a failure leaves it untouched.
    """
    html = build(directory)
    out = directory / REPORT if out is None else out
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return out


__all__ = ["REPORT", "ReportError", "build", "rebuild"]
