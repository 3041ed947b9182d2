"""marketsim's benchmarks: each script runs on its own; `python -m benchmarks` runs the table."""
