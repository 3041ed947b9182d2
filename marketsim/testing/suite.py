"""`PluginTestSuite`: the checks every plugin should pass, as pytest tests (see the package)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from marketsim.testing.case import SOURCE, PluginCase, bad_values, run_case


class PluginTestSuite:
    """Tests every plugin should pass. Subclass it and define the `plugin_case` fixture."""

    @pytest.fixture
    def plugin_case(self) -> PluginCase:
        """The plugin under test; override in your subclass."""
        raise NotImplementedError("define a `plugin_case` fixture returning a PluginCase")

    @pytest.fixture(autouse=True)
    def _plugin_path(
        self, plugin_case: PluginCase, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[None]:
        from marketsim.plugins.discovery import PATH_VARIABLE, path_folders

        if plugin_case.plugin_path:
            folders = [os.path.abspath(os.fspath(p)) for p in plugin_case.plugin_path]
            current = [str(p) for p in path_folders()]
            monkeypatch.setenv(PATH_VARIABLE, os.pathsep.join([*folders, *current]))
        yield

    # ------------------------------------------------------------ loading and interface
    def test_discovered_by_name(self, plugin_case: PluginCase) -> None:
        """Discovery finds the plugin by name, once, without importing it."""
        from marketsim.plugins import discover

        names = [c.name for c in discover()]
        assert plugin_case.name in names, f"{plugin_case.name!r} not found; found {names}"
        assert names.count(plugin_case.name) == 1, f"two plugins claim {plugin_case.name!r}"

    def test_loads_and_declares_itself(self, plugin_case: PluginCase) -> None:
        """It loads, subclasses Plugin and declares name, version, description, hooks."""
        from pydantic import BaseModel

        from marketsim.plugins import Plugin, load

        cls = load(plugin_case.name)
        assert issubclass(cls, Plugin)
        assert cls.name == plugin_case.name
        assert cls.version and cls.description
        assert issubclass(cls.Params, BaseModel)
        assert cls.python_hooks() or cls.kernels, "the plugin implements no hook"
        cls.Params()  # every parameter has a default

    def test_activates_with_its_params(self, plugin_case: PluginCase) -> None:
        """A model of a scenario naming it activates an instance with the case's parameters."""
        from marketsim.engine.model import MarketModel

        plugins = MarketModel(plugin_case.load()).plugins.plugins
        plugin = plugins[plugin_case.index]
        assert plugin.name == plugin_case.name
        given = plugin.params.model_dump()
        for key, value in plugin_case.params.items():
            assert given[key] == value or given[key] == pytest.approx(value)

    def test_defaults_validate(self, plugin_case: PluginCase) -> None:
        """The plugin works with every parameter left at its default."""
        plugin_case.load(params={})

    # ------------------------------------------------------------------- bad parameters
    def test_unknown_parameter_refused_where_written(self, plugin_case: PluginCase) -> None:
        """A misspelt parameter is refused, located at its key."""
        from marketsim.core.errors import ScenarioError

        params = {**plugin_case.params, "no_such_parameter": 1}
        with pytest.raises(ScenarioError) as caught:
            plugin_case.load(params)
        path = f"behaviours.{plugin_case.index}.no_such_parameter"
        found = [p for p in caught.value.problems if p.path == path]
        assert found, f"no problem at {path}: {caught.value}"
        assert found[0].file == SOURCE and found[0].line > 1
        assert "unknown parameter" in found[0].message

    def test_bad_values_refused_where_written(self, plugin_case: PluginCase) -> None:
        """Each value outside a parameter's schema is refused, located at it."""
        from marketsim.core.errors import ScenarioError
        from marketsim.plugins import load

        bad = plugin_case.bad_params
        if bad is None:
            bad = bad_values(load(plugin_case.name).Params)
        for key, value in bad.items():
            params = {**plugin_case.params, key: value}
            with pytest.raises(ScenarioError) as caught:
                plugin_case.load(params)
            path = f"behaviours.{plugin_case.index}.{key}"
            where = [p for p in caught.value.problems if p.path.startswith(path)]
            assert where, f"{key}={value!r}: no problem located at {path}: {caught.value}"
            assert where[0].line > 1

    def test_misspelt_name_suggests_it(self, plugin_case: PluginCase) -> None:
        """A misspelt plugin name is refused with `did you mean` this plugin."""
        from marketsim.core.errors import ScenarioError

        case = PluginCase(
            plugin_case.name + "x", plugin_case.params, plugin_case.scenario, plugin_case.steps
        )
        with pytest.raises(ScenarioError) as caught:
            case.load()
        message = str(caught.value)
        assert f"behaviours.{case.index}.plugin" in message
        assert f"did you mean '{plugin_case.name}'" in message

    # -------------------------------------------------------------------------- running
    def test_keeps_the_model_invariants(self, plugin_case: PluginCase) -> None:
        """A short run keeps population, stage counts, money balance, no NaN."""
        run_case(plugin_case)

    def test_deterministic(self, plugin_case: PluginCase) -> None:
        """Two runs of the same scenario are identical."""
        first, rows = run_case(plugin_case, check=False)
        second, again = run_case(plugin_case, check=False)
        assert rows == again, "two runs of the same scenario differ"
        assert np.array_equal(first.population.stage, second.population.stage)

    def test_identical_on_one_and_two_threads(
        self, plugin_case: PluginCase, tmp_path: Path
    ) -> None:
        """A market larger than two parallel blocks gives the same bytes on 1 and 2 threads.

        Each run is `marketsim run` in its own process (numba's thread count is fixed
        when it loads); a hook result out of range (NaN, a chance of 5) fails it too.
        """
        import marketsim

        plugin_case.load()  # checks it, and searches its plugin_path from now on
        scenario = tmp_path / "large.yaml"
        scenario.write_text(yaml.safe_dump(plugin_case.large(), sort_keys=False))
        here = os.path.dirname(os.path.dirname(os.path.abspath(marketsim.__file__)))
        python_path = os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
        outputs = []
        for threads in (1, 2):
            out = tmp_path / f"threads-{threads}"
            env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "PYTHONPATH": python_path}
            command = [sys.executable, "-m", "marketsim", "run", str(scenario), "--out", str(out)]
            done = subprocess.run(
                [*command, "--quiet"], env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, f"on {threads} thread(s): {done.stderr.strip()}"
            outputs.append((out / "timeseries.csv").read_bytes())
        assert outputs[0] == outputs[1], "timeseries.csv differs between 1 and 2 threads"

    def test_engines_agree(self, plugin_case: PluginCase) -> None:
        """The numba and plain-Python engines give identical results."""
        steps = min(4, plugin_case.step_count(plugin_case.load()))
        kernel, rows = run_case(plugin_case, steps=steps, check=False)
        reference, again = run_case(plugin_case, engine="reference", steps=steps, check=False)
        assert rows == again, "the numba and plain-Python engines differ"
        assert np.array_equal(kernel.population.stage, reference.population.stage)
