"""HTML reports: self-contained pages (`page`) drawn from a run's or comparison's files.

`page.py` assembles pages; `figures.py` computes each figure's data as a plain record
(`*_info`) and draws it (`plot_*`); `run_report.py` and `compare_report.py` build the
report of a run and of a comparison from the files in their output directory.
"""
