"""What every plugin gets by construction: start-of-step state, guards, composition."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from marketsim.engine.model import MarketModel
from marketsim.plugins import discovery as D
from marketsim.plugins.errors import PluginDefinitionError
from marketsim.plugins.loader import load
from marketsim.plugins.prepare import scenario_from_text
from marketsim.plugins.runtime import PluginRunError

ROOT = Path(__file__).resolve().parents[1]

PLUGINS = '''
"""Plugins for the guarantees tests."""
from typing import ClassVar

import numba
import numpy as np

from marketsim.plugins.sdk import INTERESTED, Plugin, PluginParams, SegmentColumn, param


@numba.njit(cache=True, nogil=True)
def interested_talk(key, i, s, value, stage, indptr, indices, params):
    heard = 0
    for k in range(indptr[i], indptr[i + 1]):
        if stage[indices[k]] >= INTERESTED:
            heard += 1
    return value + params[0] * heard


@numba.njit(cache=True, nogil=True)
def add(key, i, s, value, stage, indptr, indices, params):
    return value + params[0]


@numba.njit(cache=True, nogil=True)
def scale(key, i, s, value, stage, indptr, indices, params):
    return value * params[0]


@numba.njit(cache=True, nogil=True)
def affine(key, i, s, value, stage, indptr, indices, params):
    return (value + params[0]) * params[1]


@numba.njit(cache=True, nogil=True)
def returns(key, i, s, value, stage, indptr, indices, params):
    return params[0] if i >= np.int64(params[1]) else value


@numba.njit(cache=True, nogil=True)
def raises(key, i, s, value, stage, indptr, indices, params):
    if i >= np.int64(params[0]):
        raise ValueError("no word of mouth past the cut")
    return value


class Neighbours(Plugin):
    name = "neighbours"
    description = "Interested contacts talk too: reads every contact's stage."

    class Params(PluginParams):
        weight: float = param(0.5, "input per interested contact", ge=0)

    kernels: ClassVar[dict] = {"word_of_mouth": interested_talk}


class Add(Plugin):
    name = "add"
    description = "Adds `a` to word of mouth."

    class Params(PluginParams):
        a: float = param(1.0, "added")

    kernels: ClassVar[dict] = {"word_of_mouth": add}


class Scale(Plugin):
    name = "scale"
    description = "Multiplies word of mouth by `b`."

    class Params(PluginParams):
        b: float = param(0.5, "factor")

    kernels: ClassVar[dict] = {"word_of_mouth": scale}


class Affine(Plugin):
    name = "affine"
    description = "(word of mouth + a) x b in one."

    class Params(PluginParams):
        a: float = param(1.0, "added")
        b: float = param(0.5, "factor")

    kernels: ClassVar[dict] = {"word_of_mouth": affine}


class Returns(Plugin):
    name = "returns"
    description = "Returns `value` as the purchase chance of people from `first` on."

    class Params(PluginParams):
        value: float = param(5.0, "returned", allow_inf_nan=True)
        first: int = param(0, "first person it returns it for")

    kernels: ClassVar[dict] = {"purchase": returns}


class Raises(Plugin):
    name = "raises"
    description = "Raises for people from `cut` on."

    class Params(PluginParams):
        cut: int = param(40, "first person it fails for")

    kernels: ClassVar[dict] = {"word_of_mouth": raises}


class PyAdd(Plugin):
    name = "py_add"
    description = "Adds `a` to purchase chances."

    class Params(PluginParams):
        a: float = param(0.01, "added")

    def purchase(self, ctx):
        ctx.seg[:, SegmentColumn.PURCHASE] += self.params.a


class PyScale(Plugin):
    name = "py_scale"
    description = "Multiplies purchase chances by `b`."

    class Params(PluginParams):
        b: float = param(3.0, "factor")

    def purchase(self, ctx):
        ctx.seg[:, SegmentColumn.PURCHASE] *= self.params.b


class PyAffine(Plugin):
    name = "py_affine"
    description = "(purchase chance + a) x b in one."

    class Params(PluginParams):
        a: float = param(0.01, "added")
        b: float = param(3.0, "factor")

    def purchase(self, ctx):
        column = ctx.seg[:, SegmentColumn.PURCHASE]
        column[:] = (column + self.params.a) * self.params.b


class PyBad(Plugin):
    name = "py_bad"
    description = "Leaves `column` of ctx.seg at `value`."

    class Params(PluginParams):
        column: str = param("INTEREST", "the column")
        value: float = param(5.0, "what it leaves there", allow_inf_nan=True)

    def persuasion(self, ctx):
        ctx.seg[1, SegmentColumn[self.params.column]] = self.params.value
'''


def market(size: int, behaviours: str, horizon: int = 8) -> str:
    """A two-segment market with a random network, reaching every kernel hook point."""
    return textwrap.dedent(f"""\
        name: guarantees
        horizon: {horizon}
        seed: 5
        products: [{{id: app, price: 30.0, repurchase_every: 4}}]
        segments:
          - id: town
            size: {size}
            network: {{type: random, degree: 8}}
            initial_awareness: 0.05
            word_of_mouth: 0.05
            interest: 0.1
            purchase: 0.2
            churn: 0.05
          - id: city
            size: {size // 2}
            network: {{type: small_world, degree: 6}}
            initial_awareness: 0.1
        channels:
          - {{id: ads, type: advertising, budget: 20000, cost_per_contact: 0.02}}
        behaviours:
        """) + textwrap.indent(textwrap.dedent(behaviours), "  ")


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "plugins"
    path.mkdir()
    (path / "guarantees.py").write_text(PLUGINS)
    monkeypatch.setenv(D.PATH_VARIABLE, str(path))
    return path


def rows(text: str, engine: str = "kernel", steps: int = 8) -> list[dict]:
    model = MarketModel(scenario_from_text(text, "g.yaml"), engine=engine)
    for _ in range(steps):
        model.step()
    return model.ledger.rows


# ------------------------------------------------------------ start-of-step state


def test_hooks_see_the_stage_at_the_start_of_the_step(folder):
    # The plain-Python engine moves people one at a time; reading the live stage, a hook
    # would see its earlier neighbours moved already and the engines would part.
    text = market(3000, "- plugin: neighbours\n  weight: 2.0\n")
    kernel = rows(text)
    assert kernel == rows(text, engine="reference")
    assert kernel != rows(market(3000, "[]"))  # it changes the outcome: the test can fail


def test_a_plugin_reading_neighbours_is_identical_on_one_and_two_threads(folder, tmp_path):
    scenario = tmp_path / "big.yaml"
    scenario.write_text(market(100_000, "- plugin: neighbours\n", horizon=10))
    outputs = []
    for threads in (1, 2):
        out = tmp_path / f"out{threads}"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "marketsim", "run", str(scenario), "--out", str(out)]
        subprocess.run([*command, "--quiet"], env=env, check=True, capture_output=True)
        outputs.append((out / "timeseries.csv").read_bytes())
    assert outputs[0] == outputs[1]


# ------------------------------------------------------------------------ guards


@pytest.mark.parametrize(("value", "shown"), [("5.0", "5.0"), (".nan", "nan"), ("-0.1", "-0.1")])
def test_a_kernel_result_out_of_range_stops_the_run_naming_everything(folder, value, shown):
    text = market(20_000, f"- plugin: returns\n  value: {value}\n  first: 17000\n")
    messages = []
    for engine in ("kernel", "reference"):
        with pytest.raises(PluginRunError) as caught:
            rows(text, engine=engine)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]  # the same first person on either engine
    assert re.fullmatch(
        f"plugin 'returns' returned {shown} from its 'purchase' kernel hook at step \\d+ for "
        "person (\\d+); expected a chance in \\[0, 1\\]",
        messages[0],
    )
    assert int(messages[0].split("person ")[1].split(";")[0]) >= 17000


@pytest.mark.parametrize("engine", ["kernel", "reference"])
def test_an_exception_in_a_kernel_names_plugin_hook_step_and_person(folder, engine):
    text = market(40_000, "- plugin: add\n- plugin: raises\n  cut: 20000\n")
    with pytest.raises(PluginRunError) as caught:
        rows(text, engine=engine, steps=1)
    assert str(caught.value) == (
        "plugin 'raises' failed in its 'word_of_mouth' kernel hook at step 0 for person 20000 "
        "(given 1.0): ValueError: no word of mouth past the cut"
    )
    assert isinstance(caught.value.__cause__, ValueError)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("INTEREST", "5.0", "= 5.0, expected a chance in [0, 1]"),
        ("PURCHASE", "-1.0", "= -1.0, expected a finite number >= 0"),
        ("PERSUASION", ".nan", "= nan, expected a finite number"),
    ],
)
def test_a_python_hook_leaving_a_bad_value_stops_the_run(folder, column, value, expected):
    text = market(1000, f"- plugin: py_bad\n  column: {column}\n  value: {value}\n")
    with pytest.raises(PluginRunError) as caught:
        rows(text, steps=1)
    assert str(caught.value) == (
        f"plugin 'py_bad' left ctx.seg[1, SegmentColumn.{column}] (segment 1) {expected} "
        "after its 'persuasion' hook at step 0"
    )


def test_the_command_exits_1_writes_nothing_and_shows_the_chain(folder, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(market(1000, "- plugin: raises\n  cut: 10\n"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "marketsim", "--traceback", "run", str(scenario)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([*command, "--out", str(out)], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert not out.exists()
    assert done.stderr.splitlines()[-1].startswith(
        "error: plugin 'raises' failed in its 'word_of_mouth' kernel hook at step 0 for person 10"
    )
    assert 'guarantees.py", line ' in done.stderr  # the plugin's own frame, in the chain
    assert "The above exception was the direct cause" in done.stderr


def test_a_misspelt_hook_method_is_refused_with_did_you_mean(folder):
    (folder / "typo.py").write_text(
        "from marketsim.plugins.sdk import Plugin\n\n"
        "class Typo(Plugin):\n"
        "    name = 'typo'\n"
        "    description = 'misspelt'\n\n"
        "    def purchse(self, ctx):\n"
        "        pass\n\n"
        "    def _purchse(self, ctx):  # private helpers may be named anything\n"
        "        pass\n"
    )
    with pytest.raises(PluginDefinitionError) as caught:
        load("typo")
    assert "method 'purchse' is not a hook point, did you mean 'purchase'?" in str(caught.value)


# ------------------------------------------------------------------- composition


@pytest.mark.parametrize("engine", ["kernel", "reference"])
def test_kernel_hooks_on_one_point_run_in_scenario_order(folder, engine):
    chained = rows(market(3000, "- plugin: add\n- plugin: scale\n"), engine=engine)
    assert chained == rows(market(3000, "- plugin: affine\n"), engine=engine)
    assert chained != rows(market(3000, "- plugin: scale\n- plugin: add\n"), engine=engine)


def test_python_hooks_on_one_point_run_in_scenario_order(folder):
    chained = rows(market(3000, "- plugin: py_add\n- plugin: py_scale\n"))
    assert chained == rows(market(3000, "- plugin: py_affine\n"))
    assert chained != rows(market(3000, "- plugin: py_scale\n- plugin: py_add\n"))


# ------------------------------------------------------------------- plugin state

STATEFUL = '''
"""A plugin with per-person state, read by neighbours through the kernel view."""
from typing import ClassVar

import numba

from marketsim.plugins.sdk import Plugin, PluginParams, StateColumn, param

HEARD = 0  # state column


@numba.njit(cache=True, nogil=True)
def echo(key, i, s, value, people, params):
    """Contacts' accumulated word of mouth (as it stood) adds to this person's."""
    total = 0.0
    for k in range(people.indptr[i], people.indptr[i + 1]):
        total += people.seen[HEARD, people.indices[k]]
    people.state[HEARD, i] = people.seen[HEARD, i] + value + people.ad_memory[i, 0]
    return value + params[0] * total


class Echo(Plugin):
    name = "echo"
    description = "Word of mouth echoes what contacts heard before."
    state = (
        StateColumn("echoed", initial={"dist": "gamma", "mean": 0.2, "shape": 2.0}),
        StateColumn("visits", dtype="int32", initial=3),
    )

    class Params(PluginParams):
        weight: float = param(0.05, "echo per unit a contact heard", ge=0)

    kernels: ClassVar[dict] = {"word_of_mouth": echo}

    def after_step(self, ctx):
        self.column("visits")[ctx.population.stage >= 2] += 1
'''


@pytest.fixture
def stateful(folder) -> Path:
    (folder / "stateful.py").write_text(STATEFUL)
    return folder


def test_state_columns_are_drawn_kept_read_by_neighbours_and_shown(stateful):
    text = market(3000, "- plugin: echo\n")
    scenario = scenario_from_text(text, "g.yaml")
    models = {engine: MarketModel(scenario, engine=engine) for engine in ("kernel", "reference")}
    echo = models["kernel"].plugins.plugins[0]
    heard = echo.column("echoed").copy()
    assert heard.std() > 0 and abs(heard.mean() - 0.2) < 0.02  # drawn per person
    assert (echo.column("visits") == 3).all()
    for model in models.values():
        for _ in range(6):
            model.step()
    kernel, reference = (m.plugins.plugins[0].columns for m in models.values())
    assert (kernel == reference).all()  # neighbours' state read as it was: engines agree
    assert models["kernel"].ledger.rows == models["reference"].ledger.rows
    assert (kernel[0] != heard).any()  # written by the kernel
    shown = models["kernel"].customer(5).plugin_state
    assert shown == {"echoed": float(kernel[0, 5]), "visits": int(kernel[1, 5])}
    assert isinstance(shown["visits"], int)


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        ('StateColumn("stage")', "state column 'stage': the core has a per-person column"),
        ('StateColumn("x", dtype="str")', "column 'x': expected a numeric dtype, found 'str'"),
        (
            'StateColumn("x", initial={"dist": "beta", "mean": 2.0, "sd": 0.1})',
            "state column 'x': initial is not a valid distribution (beta.mean: Input should be "
            "less than 1",
        ),
    ],
)
def test_bad_state_columns_are_refused_naming_the_plugin(folder, column, problem):
    (folder / "bad_state.py").write_text(
        "from marketsim.plugins.sdk import Plugin, StateColumn\n\n"
        "class BadState(Plugin):\n"
        "    name = 'bad_state'\n"
        "    description = 'bad state'\n"
        f"    state = ({column},)\n"
    )
    with pytest.raises(PluginDefinitionError) as caught:
        load("bad_state")
    assert caught.value.exit_code == 2
    assert "plugin 'bad_state'" in str(caught.value)
    assert problem in str(caught.value)


def test_two_plugins_keeping_one_column_name_are_refused_where_written(stateful):
    from marketsim.core.errors import ScenarioError

    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(market(100, "- plugin: echo\n- plugin: echo\n"), "g.yaml")
    (problem,) = caught.value.problems
    assert problem.path == "behaviours.1.plugin"
    assert "keeps per-person columns 'echoed', 'visits', and so does 'echo' (behaviours.0)" in (
        problem.message
    )


# ------------------------------------------------------------------ plugin metrics

MEASURING = '''
"""A plugin that reports per-step outputs."""
from marketsim.plugins.sdk import Plugin, PluginMetric, PluginParams, param


class Tally(Plugin):
    name = "tally"
    description = "Counts interested people each step."
    metrics = (
        PluginMetric("interested", "people interested or further", unit="people"),
        PluginMetric("share", "their share of the market"),
    )

    class Params(PluginParams):
        broken: bool = param(False, "report NaN")

    def measure(self, ctx):
        interested = int((ctx.population.stage >= 2).sum())
        share = float("nan") if self.params.broken else interested / ctx.population.size
        return {"interested": interested, "share": share}
'''


@pytest.fixture
def measuring(folder) -> Path:
    (folder / "measuring.py").write_text(MEASURING)
    return folder


def test_plugin_metrics_are_timeseries_columns_and_in_the_report(measuring, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(market(2000, "- plugin: tally\n"))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "marketsim", "run", str(scenario), "--out", str(out)]
    subprocess.run([*command, "--quiet", "--replicates", "2"], env=env, check=True)
    import pandas as pd

    frame = pd.read_csv(out / "timeseries.csv")
    assert list(frame.columns[-2:]) == ["plugin.tally.interested", "plugin.tally.share"]
    stages = [c for c in frame.columns if c.startswith("stage_")][2:]
    assert (frame["plugin.tally.interested"] == frame[stages].sum(axis=1)).all()
    assert frame["plugin.tally.share"].between(0, 1).all()
    report = (out / "report.html").read_text()
    assert "Plugin metrics" in report and "plugin.tally.share" in report


def test_a_bad_metric_value_stops_the_run(measuring):
    with pytest.raises(PluginRunError) as caught:
        rows(market(500, "- plugin: tally\n  broken: true\n"), steps=1)
    assert str(caught.value) == (
        "plugin 'tally' measured share = nan at step 0, expected a finite number"
    )


def test_two_copies_of_a_measuring_plugin_keep_their_columns_apart(measuring):
    (row, *_) = rows(market(500, "- plugin: tally\n- plugin: tally\n"), steps=1)
    assert {"plugin.tally@0.share", "plugin.tally@1.share"} <= set(row)


# ------------------------------------------------------------- churn, satisfaction

NEW_POINTS = '''
"""Plugins on the churn and satisfaction hook points."""
from typing import ClassVar

import numba

from marketsim.plugins.sdk import Plugin, PluginParams, SegmentColumn, param


@numba.njit(cache=True, nogil=True)
def constant(key, i, s, value, stage, indptr, indices, params):
    return params[0]


class Loyal(Plugin):
    name = "loyal"
    description = "Customers lapse with chance `chance` (kernel churn hook)."

    class Params(PluginParams):
        chance: float = param(0.0, "churn chance")

    kernels: ClassVar[dict] = {"churn": constant}


class Pleased(Plugin):
    name = "pleased"
    description = "A purchase satisfies with chance `chance` (kernel satisfaction hook)."

    class Params(PluginParams):
        chance: float = param(0.0, "satisfaction chance")

    kernels: ClassVar[dict] = {"satisfaction": constant}


class NoAppointments(Plugin):
    name = "no_appointments"
    description = "Calls never book appointments; or `bad` ones."

    class Params(PluginParams):
        bad: bool = param(False, "return 2.0 instead")

    def sales_transition(self, transition, chances, step):
        if transition != "qualify":
            return chances
        return chances * 0.0 + (2.0 if self.params.bad else 0.0)


class PyLoyal(Plugin):
    name = "py_loyal"
    description = "No churn (Python churn hook)."

    def churn(self, ctx):
        ctx.seg[:, SegmentColumn.CHURN] = 0.0
'''


@pytest.fixture
def new_points(folder) -> Path:
    (folder / "new_points.py").write_text(NEW_POINTS)
    return folder


@pytest.mark.parametrize("plugin", ["loyal", "py_loyal"])
def test_churn_hooks_decide_who_lapses(new_points, plugin):
    assert sum(r["lapsed"] for r in rows(market(3000, "[]"))) > 0  # the test can fail
    kept = rows(market(3000, f"- plugin: {plugin}\n"))
    assert sum(r["lapsed"] for r in kept) == 0
    assert kept == rows(market(3000, f"- plugin: {plugin}\n"), engine="reference")


def test_a_churn_hook_returning_a_chance_above_one_is_refused(new_points):
    with pytest.raises(PluginRunError, match=r"'churn' kernel hook .* expected a chance in"):
        rows(market(3000, "- plugin: loyal\n  chance: 1.5\n"))


@pytest.mark.parametrize("chance", [0.0, 1.0])
def test_the_satisfaction_hook_decides_who_is_satisfied(new_points, chance):
    text = market(3000, f"- plugin: pleased\n  chance: {chance}\n")
    models = {
        e: MarketModel(scenario_from_text(text, "g.yaml"), engine=e)
        for e in ("kernel", "reference")
    }
    for model in models.values():
        for _ in range(8):
            model.step()
    satisfied = models["kernel"].population.satisfied
    assert (satisfied >= 0).sum() > 0  # some bought
    assert set(satisfied[satisfied >= 0].tolist()) == {int(chance)}
    assert (satisfied == models["reference"].population.satisfied).all()


def test_the_sales_transition_hook_changes_b2b_stage_transitions(new_points):
    from marketsim.testing import PluginCase, run_case

    def total(params, column):
        _, ledger = run_case(PluginCase("no_appointments", params), check=False)
        return sum(row[column] for row in ledger)

    calls = total({}, "calls")
    assert calls > 0
    assert total({}, "appointments") == 0  # SMALL_MARKET books some without the plugin
    with pytest.raises(PluginRunError, match=r"returned qualify\[0\] = 2.0 from its"):
        total({"bad": True}, "calls")


# -------------------------------------------------------------- the reusable suite


def test_plugin_case_load_honours_plugin_path(tmp_path, monkeypatch):
    monkeypatch.delenv(D.PATH_VARIABLE, raising=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "guarantees.py").write_text(PLUGINS)
    from marketsim.testing import PluginCase, run_case

    case = PluginCase("add", {"a": 2.0}, plugin_path=[tmp_path / "mine"])
    assert case.load().behaviours[-1] == {"plugin": "add", "a": 2.0}
    run_case(case, steps=1)


def test_the_suite_runs_a_market_larger_than_two_blocks_on_one_and_two_threads(folder):
    from marketsim.core.layout import BLOCK
    from marketsim.testing import LARGE_MARKET, PluginCase

    data = PluginCase("neighbours").large()
    assert sum(s["size"] for s in data["segments"]) >= LARGE_MARKET > 2 * BLOCK


def test_the_suite_fails_a_plugin_returning_bad_values(folder, tmp_path):
    from marketsim.testing import PluginCase, PluginTestSuite

    suite = PluginTestSuite()
    case = PluginCase("returns", {"value": float("nan")}, plugin_path=[folder])
    with pytest.raises(PluginRunError, match=r"returned nan from its 'purchase' kernel hook"):
        suite.test_keeps_the_model_invariants(case)
    with pytest.raises(AssertionError, match=r"on 1 thread.*returned nan from its 'purchase'"):
        suite.test_identical_on_one_and_two_threads(case, tmp_path)
