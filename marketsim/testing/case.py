"""The plugin test case and the checks behind the suite: no pytest needed here."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from marketsim.core.layout import BLOCK
from marketsim.scenario.examples import SMALL_MARKET

if TYPE_CHECKING:
    from marketsim.engine.model import MarketModel
    from marketsim.scenario import Scenario

__all__ = [
    "LARGE_MARKET",
    "SMALL_MARKET",
    "PluginCase",
    "bad_values",
    "check_invariants",
    "run_case",
]

LARGE_MARKET = 2 * BLOCK + BLOCK // 8
"""People in `PluginCase.large`: a little more than two of the kernel's parallel blocks."""


@dataclass(frozen=True)
class PluginCase:
    """The plugin under test and how to exercise it.

    Attributes:
        name: the plugin's name, as scenarios write it.
        params: parameters to test it with (its defaults if empty).
        scenario: a scenario mapping, or a YAML file, to add the plugin to (default:
            `SMALL_MARKET`). Its `behaviours`, if any, stay before the plugin's.
        steps: steps to simulate (default: the horizon, at most 12).
        plugin_path: folders to search for the plugin (like `--plugin-path`).
        bad_params: parameter values that must be refused, one at a time; default:
            values that break each parameter's schema, derived from it (`bad_values`).
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    scenario: Mapping[str, Any] | str | os.PathLike[str] | None = None
    steps: int | None = None
    plugin_path: Sequence[str | os.PathLike[str]] = ()
    bad_params: Mapping[str, Any] | None = None

    def data(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The scenario as plain data, with this plugin appended to `behaviours`."""
        if self.scenario is None:
            data = copy.deepcopy(SMALL_MARKET)
        elif isinstance(self.scenario, Mapping):
            data = copy.deepcopy(dict(self.scenario))
        else:
            data = yaml.safe_load(Path(self.scenario).read_text(encoding="utf-8"))
        item = {"plugin": self.name, **(self.params if params is None else params)}
        data["behaviours"] = [*data.get("behaviours", []), item]
        return data

    @property
    def index(self) -> int:
        """Position of the plugin in the scenario's `behaviours`."""
        return len(self.data()["behaviours"]) - 1

    def yaml(self, params: Mapping[str, Any] | None = None) -> str:
        """The scenario as YAML text (errors in it are located by line)."""
        return yaml.safe_dump(self.data(params), sort_keys=False)

    def load(self, params: Mapping[str, Any] | None = None) -> Scenario:
        """The validated scenario (raises `ScenarioError` with located problems).

        `plugin_path` is searched from now on, in this process and those it starts
        (`add_plugin_paths`), so the model built from the scenario finds the plugin too.
        """
        from marketsim.plugins import add_plugin_paths
        from marketsim.plugins.prepare import scenario_from_text

        add_plugin_paths(self.plugin_path)
        return scenario_from_text(self.yaml(params), name=SOURCE)

    def large(self, people: int = LARGE_MARKET) -> dict[str, Any]:
        """The scenario as plain data, every segment scaled up to `people` in all at least.

        Larger than two of the kernel's parallel blocks by default, so two threads share
        the work and a plugin that races between them shows.
        """
        data = self.data()
        total = sum(int(s.get("size", 0)) for s in data["segments"])
        factor = -(-people // max(total, 1))
        for segment in data["segments"]:
            segment["size"] = int(segment.get("size", 0)) * factor
        return data

    def step_count(self, scenario: Scenario) -> int:
        """Steps to simulate."""
        return min(scenario.horizon, self.steps if self.steps is not None else 12)


SOURCE = "plugin-test.yaml"
"""The name scenario problems are located in."""


def run_case(
    case: PluginCase, *, engine: str = "kernel", steps: int | None = None, check: bool = True
) -> tuple[MarketModel, list[dict[str, Any]]]:
    """Simulate the case's scenario; check the invariants after every step (if `check`).

    Returns the model and its ledger rows (one per step).
    """
    from marketsim.engine.model import MarketModel

    scenario = case.load()
    model = MarketModel(scenario, engine=engine)  # type: ignore[arg-type]
    n = model.population.size
    for _ in range(steps if steps is not None else case.step_count(scenario)):
        model.step()
        if check:
            check_invariants(model, n)
    return model, model.ledger.rows


def check_invariants(model: MarketModel, people: int) -> None:
    """Assert what every step must keep, whatever a plugin does."""
    from marketsim.core.stages import STAGES

    pop = model.population
    step = len(model.ledger.rows) - 1
    where = f"after step {step}"
    assert pop.size == people, f"{where}: population changed from {people} to {pop.size}"
    for name in ("segment", "stage", "ad_memory", "first_touch", "last_touch", "detractor"):
        size = getattr(pop, name).shape[0]
        assert size == people, f"{where}: population.{name} has {size} rows, not {people}"
    assert pop.stage.min() >= 0, f"{where}: a stage below 0"
    assert pop.stage.max() < len(STAGES), f"{where}: a stage beyond {STAGES[-1]}"
    row = model.ledger.rows[-1]
    real = int(model.market.people.sum())
    stages = sum(row[f"stage_{s}"] for s in STAGES)
    assert stages == real, f"{where}: stage counts sum to {stages}, not {real}"
    actual = np.zeros_like(model.market.stage_counts)
    np.add.at(actual, (pop.segment, pop.stage), model.scale[pop.segment])
    assert np.array_equal(actual, model.market.stage_counts), (
        f"{where}: the market's stage counts do not match people's stages "
        "(a plugin that moves people must update ctx.market.stage_counts)"
    )
    for key, value in row.items():
        if isinstance(value, float):
            assert math.isfinite(value), f"{where}: {key} is {value}"
    profit = row["revenue"] - row["cost_of_goods"] - row["spend"] - row["commissions"]
    assert math.isclose(row["profit"], profit, rel_tol=1e-12, abs_tol=1e-6), (
        f"{where}: profit {row['profit']} != revenue - cost_of_goods - spend - commissions "
        f"= {profit}"
    )
    assert 0 <= row["customers"] <= real, f"{where}: {row['customers']} customers"
    assert row["units"] >= 0, f"{where}: {row['units']} units"
    for name in ("ad_memory",):
        values = getattr(pop, name)
        assert np.isfinite(values).all(), f"{where}: population.{name} has NaN or infinity"
    for plugin in model.plugins.plugins:
        assert np.isfinite(plugin.columns).all(), (
            f"{where}: plugin {plugin.name!r}'s state has NaN or infinity"
        )


def bad_values(params_model: Any) -> dict[str, Any]:
    """One value per parameter that its schema refuses (for parameters where one is known)."""
    schema = params_model.model_json_schema()
    defs = schema.get("$defs", {})
    out = {}
    for name, prop in schema.get("properties", {}).items():
        value = _refused(prop, defs)
        if value is not _NONE:
            out[name] = value
    return out


_NONE = object()


def _refused(prop: dict[str, Any], defs: dict[str, Any]) -> Any:
    ref = prop.get("$ref")
    if ref:
        prop = defs.get(ref.rsplit("/", 1)[-1], prop)
    options = prop.get("anyOf", [prop])
    kinds = {o.get("type") for o in options}
    if "enum" in prop or any("enum" in o for o in options):
        return "surely-not-a-choice"
    if kinds & {"number", "integer"}:
        option = next(o for o in options if o.get("type") in ("number", "integer"))
        low = option.get(
            "minimum", option.get("ge", option.get("exclusiveMinimum", option.get("gt")))
        )
        high = option.get(
            "maximum", option.get("le", option.get("exclusiveMaximum", option.get("lt")))
        )
        if low is not None:
            return low - 1
        if high is not None:
            return high + 1
        return "not a number"
    if kinds == {"boolean"}:
        return "maybe"
    if "array" in kinds:
        return "not a list"
    if kinds == {"object"}:
        return "not a mapping"
    return _NONE
