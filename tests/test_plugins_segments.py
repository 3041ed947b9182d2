"""Plugins' per-segment values (`SegmentParams`, `per_segment:`) and the core's tenure column."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from marketsim.core.errors import ScenarioError
from marketsim.core.layout import NEVER_CUSTOMER
from marketsim.core.stages import CUSTOMER
from marketsim.engine.model import MarketModel
from marketsim.plugins import discovery as D
from marketsim.plugins.errors import PluginDefinitionError
from marketsim.plugins.loader import load
from marketsim.plugins.prepare import scenario_from_text
from marketsim.testing import SMALL_MARKET, PluginCase, PluginTestSuite

ROOT = Path(__file__).resolve().parents[1]

PLUGINS = '''
"""Plugins reading per-segment values and tenure."""
from typing import ClassVar

import numba
import numpy as np

from marketsim.plugins.sdk import CUSTOMER, Plugin, PluginParams, SegmentColumn, param

BOOST = 0  # per-segment value


class Boost(Plugin):
    name = "boost"
    description = "Purchase chances rise by a per-segment share (Python hook)."

    class SegmentParams(PluginParams):
        boost: float = param(0.0, "relative rise of purchase chances", unit="share", ge=0, le=1)

    def purchase(self, ctx):
        for s, segment in enumerate(ctx.model.scenario.segments):
            ctx.seg[s, SegmentColumn.PURCHASE] *= 1.0 + self.segment(segment.id).boost


@numba.njit(cache=True, nogil=True)
def boosted(key, i, s, value, people, params):
    return min(1.0, value * (1.0 + people.segments[s, BOOST]))


class KernelBoost(Plugin):
    name = "kernel_boost"
    description = "Purchase chances rise by a per-segment share (kernel hook)."

    class SegmentParams(PluginParams):
        boost: float = param(0.0, "relative rise of purchase chances", unit="share", ge=0, le=1)

    kernels: ClassVar[dict] = {"purchase": boosted}


@numba.njit(cache=True, nogil=True)
def seasoned(key, i, s, value, people, params):
    """Churn halves every `params[0]` steps a customer stays."""
    tenure = people.step - people.customer_since[i]
    return value * 0.5 ** (tenure / params[0])


class Seasoned(Plugin):
    name = "seasoned"
    description = "Long-standing customers churn less (kernel churn hook reading tenure)."

    class Params(PluginParams):
        half_life: float = param(2.0, "steps of tenure that halve churn", unit="steps", gt=0)

    kernels: ClassVar[dict] = {"churn": seasoned}
'''


def market(behaviours: str, size: int = 3000, horizon: int = 10, start: str = "") -> str:
    """Two like segments, so a per-segment value is the only difference between them."""
    text = textwrap.dedent(f"""\
        name: segments
        horizon: {horizon}
        seed: 7
        products: [{{id: app, price: 30.0, repurchase_every: 4}}]
        segments:
          - id: town
            size: {size}
            network: {{type: random, degree: 6}}
            initial_awareness: 0.2
            interest: 0.2
            purchase: 0.1
            churn: 0.2
          - id: city
            size: {size}
            network: {{type: random, degree: 6}}
            initial_awareness: 0.2
            interest: 0.2
            purchase: 0.1
            churn: 0.2
        channels:
          - {{id: ads, type: advertising, budget: 20000, cost_per_contact: 0.02}}
        behaviours:
        """)
    if start:
        text = text.replace("    initial_awareness: 0.2\n", "").replace(
            "churn: 0.2\n", f"churn: 0.2\n    start: {{aware: 0.2, {start}}}\n"
        )
    return text + textwrap.indent(textwrap.dedent(behaviours), "  ")


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "plugins"
    path.mkdir()
    (path / "segmented.py").write_text(PLUGINS)
    monkeypatch.setenv(D.PATH_VARIABLE, str(path))
    return path


def run(text: str, engine: str = "kernel", steps: int = 8) -> MarketModel:
    model = MarketModel(scenario_from_text(text, "s.yaml"), engine=engine)
    for _ in range(steps):
        model.step()
    return model


def ever_bought(model: MarketModel) -> list[int]:
    pop = model.population
    return [
        int((pop.purchases[lo:hi] > 0).sum())
        for lo, hi in zip(pop.offsets[:-1], pop.offsets[1:], strict=True)
    ]


# ------------------------------------------------------------------ per-segment values


@pytest.mark.parametrize("plugin", ["boost", "kernel_boost"])
def test_per_segment_values_change_only_the_segment_they_are_set_for(folder, plugin):
    plain = ever_bought(run(market("[]")))
    boosted = ever_bought(
        run(market(f"- plugin: {plugin}\n  per_segment: {{city: {{boost: 1.0}}}}\n"))
    )
    assert boosted[0] == plain[0]  # town keeps the default, 0: nothing changes there
    assert boosted[1] > 1.2 * plain[1]  # city's purchase chance doubled


def test_the_plugin_reads_them_by_segment_id_and_kernels_by_row(folder):
    scenario = scenario_from_text(
        market("- plugin: kernel_boost\n  per_segment: {city: {boost: 0.4}}\n"), "s.yaml"
    )
    assert scenario.behaviours[0]["per_segment"] == {"town": {"boost": 0.0}, "city": {"boost": 0.4}}
    plugin = MarketModel(scenario).plugins.plugins[0]
    assert plugin.segment("city").boost == 0.4
    assert plugin.segment_values().tolist() == [[0.0], [0.4]]
    with pytest.raises(KeyError, match="not 'village'"):
        plugin.segment("village")


def test_engines_agree_with_per_segment_values(folder):
    text = market(
        "- plugin: kernel_boost\n  per_segment: {city: {boost: 0.5}, town: {boost: 0.2}}\n"
    )
    assert run(text).ledger.rows == run(text, engine="reference").ledger.rows


def test_set_overrides_a_per_segment_value_by_dotted_path(folder):
    text = market("- plugin: boost\n")
    scenario = scenario_from_text(text, "s.yaml", ["behaviours.0.per_segment.city.boost=0.3"])
    assert scenario.behaviours[0]["per_segment"]["city"] == {"boost": 0.3}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, "s.yaml", ["behaviours.0.per_segment.city.boost=3"])
    (problem,) = caught.value.problems
    assert (problem.file, problem.path) == ("--set", "behaviours.0.per_segment.city.boost")
    assert "plugin 'boost': expected a number >= 0 and <= 1, found 3" in problem.message


@pytest.mark.parametrize(
    ("per_segment", "path", "message"),
    [
        (
            "{cty: {boost: 0.2}}",
            "behaviours.0.per_segment.cty",
            "plugin 'boost': unknown segment 'cty', did you mean 'city'?",
        ),
        (
            "{city: {boost: 1.5}}",
            "behaviours.0.per_segment.city.boost",
            "plugin 'boost': expected a number >= 0 and <= 1, found 1.5",
        ),
        (
            "{city: {bost: 0.2}}",
            "behaviours.0.per_segment.city.bost",
            "unknown per-segment value 'bost' of plugin 'boost', did you mean 'boost'?",
        ),
        (
            "[0.2]",
            "behaviours.0.per_segment",
            "plugin 'boost': expected a mapping of segment id to per-segment values ('boost'), "
            "found a list",
        ),
    ],
)
def test_bad_per_segment_values_are_located_and_name_the_plugin(folder, per_segment, path, message):
    text = market(f"- plugin: boost\n  per_segment: {per_segment}\n")
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, "s.yaml")
    (problem,) = caught.value.problems
    assert problem.path == path
    assert message in problem.message
    line = text.splitlines()[problem.line - 1]
    assert "per_segment" in line  # located where it was written


def test_a_plugin_without_segment_params_refuses_per_segment(folder):
    with pytest.raises(ScenarioError, match=r"plugin 'seasoned' declares no per-segment values"):
        scenario_from_text(market("- plugin: seasoned\n  per_segment: {city: {}}\n"), "s.yaml")


def test_validate_exits_2_on_a_bad_per_segment_value(folder, tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(market("- plugin: boost\n  per_segment: {cty: {boost: 0.2}}\n"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "marketsim", "validate", str(scenario)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "behaviours.0.per_segment.cty: plugin 'boost': unknown segment 'cty'" in done.stderr


def test_the_schema_lists_per_segment_values(folder):
    from marketsim.plugins.schema import behaviours_schema

    (boost,) = [a for a in behaviours_schema().items["oneOf"] if a["title"] == "boost"]
    values = boost["properties"]["per_segment"]["additionalProperties"]
    assert values["properties"]["boost"]["maximum"] == 1
    (seasoned,) = [a for a in behaviours_schema().items["oneOf"] if a["title"] == "seasoned"]
    assert "per_segment" not in seasoned["properties"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "class SegmentParams(PluginParams):\n        label: str = 'x'\n",
            "per-segment value 'label' needs a number for a default, found 'x'",
        ),
        (
            "class Params(PluginParams):\n        per_segment: float = 0.0\n",
            "a parameter may not be called 'per_segment'",
        ),
    ],
)
def test_bad_segment_params_are_refused_when_the_plugin_loads(folder, body, problem):
    (folder / "bad_segments.py").write_text(
        "from marketsim.plugins.sdk import Plugin, PluginParams\n\n"
        "class BadSegments(Plugin):\n"
        "    name = 'bad_segments'\n"
        "    description = 'bad per-segment values'\n"
        f"    {body}"
        "    def purchase(self, ctx):\n"
        "        pass\n"
    )
    with pytest.raises(PluginDefinitionError) as caught:
        load("bad_segments")
    assert caught.value.exit_code == 2
    assert "plugin 'bad_segments'" in str(caught.value)
    assert problem in str(caught.value)


# ---------------------------------------------------------------------------- tenure


def test_customer_since_is_dated_alike_by_both_engines(folder):
    text = market("[]", start="customers: 0.3, last_purchase: 5")
    models = {engine: run(text, engine, steps=0) for engine in ("kernel", "reference")}
    pop = models["kernel"].population
    held = pop.stage == CUSTOMER
    assert (pop.customer_since[held] == pop.purchased_at[held]).all()  # dated at the start
    assert (pop.customer_since[~held] == NEVER_CUSTOMER).all()
    before = pop.customer_since.copy()
    for model in models.values():
        for _ in range(6):
            model.step()
    kernel, reference = (m.population for m in models.values())
    assert np.array_equal(kernel.customer_since, reference.customer_since)
    joined = (kernel.customer_since != before) & (kernel.stage == CUSTOMER)
    assert joined.sum() > 100
    assert (kernel.customer_since[joined] >= 0).all() and (kernel.customer_since < 6).all()
    row = int(np.flatnonzero(joined)[0])
    customer = models["kernel"].customer(row)
    assert customer.tenure == 6 - int(kernel.customer_since[row]) >= 1
    assert (
        models["kernel"].customer(int(np.flatnonzero(~held & (kernel.stage != CUSTOMER))[0])).tenure
        is None
    )


def test_a_churn_hook_reading_tenure_keeps_seasoned_customers(folder):
    text = market("[]", start="customers: 0.3, last_purchase: 8")

    def lapsed(model: MarketModel) -> int:
        return sum(row["lapsed"] for row in model.ledger.rows)

    plain = run(text)
    seasoned = run(text.replace("[]", "\n  - plugin: seasoned\n    half_life: 2.0"))
    assert lapsed(seasoned) < 0.2 * lapsed(plain)  # 8 steps in: churn cut to 1/16 or less
    reference = run(text.replace("[]", "\n  - plugin: seasoned\n    half_life: 2.0"), "reference")
    assert seasoned.ledger.rows == reference.ledger.rows


class TestSeasonedSuite(PluginTestSuite):
    """The reusable suite on tenure and per-segment values together: among its checks,
    1 and 2 threads on a market larger than two parallel blocks, and both engines."""

    @pytest.fixture
    def plugin_case(self, folder):
        boost = {"plugin": "kernel_boost", "per_segment": {"young": {"boost": 0.5}}}
        scenario = {**copy.deepcopy(SMALL_MARKET), "behaviours": [boost]}
        return PluginCase("seasoned", {"half_life": 3.0}, scenario=scenario, plugin_path=[folder])
