"""Budget optimisation with Optuna: `marketsim optimize`.

A strategist asks: how should a total budget be split over the channels (and, where the
scenario opts in, over time, sales headcount and promotion terms) to maximise revenue,
profit or ROI? The pieces:

- `space`: the decision variables and a parametrisation in which every trial is feasible
  and spends the total exactly;
- `objective`: the objective metric and the risk measure over replicates;
- `study`: storage, create/resume, samplers and the worker processes running trials;
- `analysis`: re-evaluation on fresh seeds, marginal returns, response curves, importance;
- `runner`: the whole question from search to outcome; `outputs` writes the directory.

`docs/optimize.md` explains how to pose a question, read the results and trust them.
"""

from __future__ import annotations

from marketsim.drivers.optimize.objective import Risk
from marketsim.drivers.optimize.runner import (
    Hooks,
    Outcome,
    analyse,
    open_study,
    optimize,
    question_for,
    search,
)
from marketsim.drivers.optimize.space import InfeasibleError, Plan, Space
from marketsim.drivers.optimize.study import Question, Storage, StudyError

__all__ = [
    "Hooks",
    "InfeasibleError",
    "Outcome",
    "Plan",
    "Question",
    "Risk",
    "Space",
    "Storage",
    "StudyError",
    "analyse",
    "open_study",
    "optimize",
    "question_for",
    "search",
]
