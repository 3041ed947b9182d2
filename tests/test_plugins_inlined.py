"""Kernel hooks compiled into the customer kernel run exactly as hooks called by pointer.

Large markets run a plugin set's kernel hooks inlined (`marketsim.kernels.hook_chain`),
small ones through the shared kernel's function pointers: the two must agree bit for bit
and name a faulty hook alike. One plugin set covers both hook forms, a chain on one point
and a second point, so one kernel is compiled; its parameters (read at run time) switch
the faults on.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest

from marketsim.core import hooks as hooks_core
from marketsim.core.errors import InputError
from marketsim.engine.model import MarketModel
from marketsim.kernels import hook_chain
from marketsim.kernels.customer_step import HookSlot, KernelHooks
from marketsim.kernels.hooks import PURCHASE_HOOK, WOM_HOOK
from marketsim.plugins.prepare import scenario_from_text
from marketsim.plugins.runtime import PluginRunError
from tests.test_plugins_guarantees import ROOT, STATEFUL, folder, market, rows  # noqa: F401

CHAIN = """\
- plugin: add
  a: 0.5
- plugin: echo
- plugin: scale
  b: 0.8
- plugin: raises
  cut: {cut}
- plugin: returns
  value: {value}
  first: {first}
"""


def outcome(text: str, mode: str, monkeypatch) -> list[dict]:
    monkeypatch.setenv(hooks_core.MODE_VARIABLE, mode)
    return rows(text, steps=6)


def failure(text: str, mode: str, monkeypatch) -> str:
    with pytest.raises(PluginRunError) as caught:
        outcome(text, mode, monkeypatch)
    return str(caught.value)


@pytest.mark.slow
def test_inlined_hooks_give_the_pointer_kernels_results_and_faults(folder, monkeypatch):  # noqa: F811
    (folder / "stateful.py").write_text(STATEFUL)
    fine = market(3000, CHAIN.format(cut=10**9, value=0.3, first=2000))
    inlined = outcome(fine, "inline", monkeypatch)
    assert inlined == outcome(fine, "pointers", monkeypatch)
    assert inlined == rows(fine, engine="reference", steps=6)
    assert inlined != outcome(market(3000, "[]"), "inline", monkeypatch)  # hooks act
    bad = market(3000, CHAIN.format(cut=10**9, value=5.0, first=2000))
    message = failure(bad, "inline", monkeypatch)
    assert message == failure(bad, "pointers", monkeypatch)
    assert message.startswith("plugin 'returns' returned 5.0 from its 'purchase' kernel hook")
    raising = market(3000, CHAIN.format(cut=1500, value=0.3, first=2000))
    message = failure(raising, "inline", monkeypatch)
    assert message == failure(raising, "pointers", monkeypatch)
    assert message.startswith("plugin 'raises' failed in its 'word_of_mouth' kernel hook")
    assert "for person 1500 (given " in message
    assert message.endswith("ValueError: no word of mouth past the cut")


@numba.njit(cache=True)
def _same(key, i, s, value, stage, indptr, indices, params):
    return value


def hooks_of(*functions) -> KernelHooks:
    slots = [HookSlot(f, np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0))) for f in functions]
    return KernelHooks.chains([[] if p != WOM_HOOK else slots for p in range(6)])


def test_markets_from_the_threshold_inline_and_the_variable_overrides(monkeypatch):
    monkeypatch.delenv(hooks_core.MODE_VARIABLE, raising=False)
    hooks = hooks_of(_same)
    assert hooks.spec(hooks_core.INLINE_FROM - 1) == hook_chain.POINTERS
    assert hooks.spec(hooks_core.INLINE_FROM).startswith("inline:")
    assert KernelHooks.chains([[]] * 6).spec(10**8) == hook_chain.NO_HOOKS
    monkeypatch.setenv(hooks_core.MODE_VARIABLE, "inline")
    assert hooks.spec(10).startswith("inline:")
    monkeypatch.setenv(hooks_core.MODE_VARIABLE, "pointers")
    assert hooks.spec(10**8) == hook_chain.POINTERS
    monkeypatch.setenv(hooks_core.MODE_VARIABLE, "fast")
    with pytest.raises(InputError) as caught:
        hooks.spec(10)
    assert str(caught.value) == (
        "environment variable MARKETSIM_PLUGIN_KERNELS: expected one of auto, inline, "
        "pointers, found 'fast'"
    )


def module(path: Path, helper: str):
    path.write_text(
        textwrap.dedent(f"""\
        import numba

        @numba.njit
        def helper(value):
            return {helper}

        @numba.njit
        def hook(key, i, s, value, stage, indptr, indices, params):
            return helper(value)
        """)
    )
    spec = importlib.util.spec_from_file_location(path.stem, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded.hook


def test_an_edited_plugin_module_compiles_its_own_kernel(tmp_path):
    # The spec keys numba's cache: a plugin whose helper was edited must not load the
    # kernel compiled with the old one.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = module(tmp_path / "a" / "plug.py", "value")
    spec = hook_chain.inline_spec([first], [WOM_HOOK])
    again = module(tmp_path / "b" / "plug.py", "value")
    assert hook_chain.inline_spec([again], [WOM_HOOK]) == spec  # same code, same kernel
    edited = module(tmp_path / "a" / "plug.py", "value * 2.0")  # only the helper changes
    assert hook_chain.inline_spec([edited], [WOM_HOOK]) != spec
    assert hook_chain.inline_spec([first], [WOM_HOOK]) == spec  # what was loaded counts
    assert hook_chain.inline_spec([first], [PURCHASE_HOOK]) != spec  # another layout
    assert hook_chain.inline_spec([first, first], [WOM_HOOK, WOM_HOOK]) != spec


def test_warm_up_compiles_the_inlined_kernel_a_large_market_runs(folder):  # noqa: F811
    from marketsim.drivers.warm_up import warm_up
    from marketsim.kernels.compiling import on_first_compile

    text = market(hooks_core.INLINE_FROM, "- plugin: scale\n  b: 0.9\n- plugin: add\n")
    scenario = scenario_from_text(text, "g.yaml")
    warm_up([scenario], every_variant=False)
    compiled = []
    with on_first_compile(lambda: compiled.append(True)):
        model = MarketModel(scenario)
        model.step()
    assert model.population.size >= hooks_core.INLINE_FROM
    assert compiled == []  # the run at full size found its kernel compiled


def test_a_bad_mode_stops_any_command_with_exit_2(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from marketsim import cli

    monkeypatch.setenv(hooks_core.MODE_VARIABLE, "fast")
    out = tmp_path / "out"
    scenario = Path(__file__).parent / "contract" / "minimal-b2c.yaml"
    result = CliRunner().invoke(cli.app, ["run", str(scenario), "-o", str(out)])
    assert result.exit_code == 2
    assert "environment variable MARKETSIM_PLUGIN_KERNELS: expected one of" in result.output
    assert not out.exists()


_TABLE = {"weight": 1.0}


@numba.njit
def _reads_a_dict(key, i, s, value, stage, indptr, indices, params):
    return value * _TABLE["weight"]


def test_hooks_the_cache_key_cannot_account_for_are_called_by_pointer(monkeypatch):
    monkeypatch.delenv(hooks_core.MODE_VARIABLE, raising=False)
    assert hooks_of(_reads_a_dict).spec(10**7) == hook_chain.POINTERS
    assert hooks_of(_same).spec(10**7).startswith("inline:")


def test_a_pickled_hook_set_registers_its_spec_again_where_it_lands(monkeypatch):
    import pickle

    monkeypatch.delenv(hooks_core.MODE_VARIABLE, raising=False)
    hooks = hooks_of(_same)
    spec = hooks.spec(10**7)
    hook_chain._INLINED.pop(spec)  # as in a process that never built these hooks
    landed = pickle.loads(pickle.dumps(hooks))
    assert landed.spec(10**7) == spec
    assert spec in hook_chain._INLINED


@pytest.mark.slow
def test_inlined_hooks_give_the_same_bytes_on_one_and_two_threads(folder, tmp_path):  # noqa: F811
    # Several parallel blocks, hooks reading neighbours' stage and their own state.
    (folder / "stateful.py").write_text(STATEFUL)
    scenario = tmp_path / "big.yaml"
    behaviours = "- plugin: neighbours\n  weight: 2.0\n- plugin: echo\n- plugin: add\n"
    scenario.write_text(market(30_000, behaviours, horizon=6))
    outputs = []
    for threads in (1, 2):
        out = tmp_path / f"out{threads}"
        env = {
            **os.environ,
            "NUMBA_NUM_THREADS": str(threads),
            "PYTHONPATH": str(ROOT),
            hooks_core.MODE_VARIABLE: "inline",
        }
        command = [sys.executable, "-m", "marketsim", "run", str(scenario), "--out", str(out)]
        subprocess.run([*command, "--quiet"], env=env, check=True, capture_output=True)
        outputs.append((out / "timeseries.csv").read_bytes())
    assert outputs[0] == outputs[1]
