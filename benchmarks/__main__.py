"""`python -m benchmarks`: the one-command benchmark table (see `benchmarks.table`)."""

from __future__ import annotations

import sys

from benchmarks.table import main

sys.exit(main())
