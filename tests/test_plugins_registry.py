"""Plugin discovery, loading and registration checks, and every way a plugin can be bad."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from marketsim.engine.model import MarketModel
from marketsim.plugins import (
    PluginConflictError,
    PluginDefinitionError,
    PluginLoadError,
    PluginRunError,
    UnknownPluginError,
    discover,
    registry,
)
from marketsim.plugins import discovery as D
from marketsim.plugins.prepare import prepare, scenario_from_text
from marketsim.scenario import ScenarioError
from marketsim.scenario.schema import Scenario

pytestmark = pytest.mark.filterwarnings("ignore:First-class function type")

SHIPPED = {
    "bass_adoption",
    "competitor",
    "lead_priority",
    "negative_wom",
    "reference_price",
    "threshold_contagion",
}

HEADER = "from marketsim.plugins import Plugin, PluginParams, param\n"

GOOD = """
class Good(Plugin):
    name = "good"
    version = "1.0"
    description = "multiplies purchase chances"

    class Params(PluginParams):
        factor: float = param(1.0, "multiplier", unit="x", ge=0)

    def purchase(self, ctx):
        ctx.seg[:, 6] *= self.params.factor
"""

MARKET = """\
name: tiny
horizon: 6
products: [{id: w, price: 10}]
segments:
  - id: consumers
    size: 400
behaviours:
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.setenv(D.PATH_VARIABLE, "")  # restored after each test


def write(folder: Path, name: str, body: str, header: str = HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(header + textwrap.dedent(body))
    return path


def use(monkeypatch, *folders: Path) -> None:
    monkeypatch.setenv(D.PATH_VARIABLE, ":".join(str(f) for f in folders))


def with_behaviours(text: str) -> Scenario:
    return scenario_from_text(MARKET + textwrap.indent(textwrap.dedent(text), "  "), "s.yaml")


# ------------------------------------------------------------------------ discovery


def test_builtin_plugins_are_found_like_any_folder():
    found = {c.name: c for c in discover()}
    assert set(found) >= SHIPPED
    assert {found[n].source for n in SHIPPED} == {D.BUILT_IN}
    assert found["threshold_contagion"].kernel_hooks == ("word_of_mouth",)
    assert found["competitor"].hooks == ("purchase", "after_step")
    assert found["competitor"].version == "1.0.0"


def test_discovery_does_not_import(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    write(
        tmp_path / "p",
        "noisy.py",
        GOOD.replace('"good"', '"noisy"'),
        header=f"open({str(marker)!r}, 'w').close()\n" + HEADER,
    )
    use(monkeypatch, tmp_path / "p")
    assert "noisy" in registry().names()
    assert not marker.exists()
    registry().load("noisy")
    assert marker.exists()


def test_discovery_is_sorted_and_skips_private_and_test_modules(tmp_path, monkeypatch):
    folder = tmp_path / "p"
    for stem, name in (
        ("zeta", "zeta"),
        ("alpha", "alpha"),
        ("_hidden", "hidden"),
        ("test_x", "tx"),
    ):
        write(folder, f"{stem}.py", GOOD.replace('"good"', f'"{name}"'))
    use(monkeypatch, folder)
    names = [c.name for c in discover() if c.source == D.FOLDER]
    assert names == ["alpha", "zeta"]


def test_a_package_folder_is_a_plugin(tmp_path, monkeypatch):
    package = tmp_path / "p" / "mypack"
    write(package, "__init__.py", "", header="")
    write(package, "helpers.py", "FACTOR = 2.0\n", header="")
    write(
        package,
        "core.py",
        GOOD.replace('"good"', '"packed"'),
        header=HEADER + "from .helpers import FACTOR\n",
    )
    use(monkeypatch, tmp_path / "p")
    cls = registry().load("packed")
    assert cls.name == "packed"
    assert sys.modules[cls.__module__].FACTOR == 2.0


def test_a_folder_named_twice_counts_once(tmp_path, monkeypatch):
    write(tmp_path / "p", "good.py", GOOD)
    use(monkeypatch, tmp_path / "p", tmp_path / "p")
    assert [c.name for c in discover()].count("good") == 1


def test_an_edited_plugin_is_reloaded(tmp_path, monkeypatch):
    path = write(tmp_path / "p", "good.py", GOOD)
    use(monkeypatch, tmp_path / "p")
    first = registry().load("good")
    path.write_text(HEADER + textwrap.dedent(GOOD).replace("multiplies", "now scales") + "\n\n")
    second = registry().load("good")
    assert second is not first and second.description == "now scales purchase chances"


def test_add_plugin_paths_extends_the_environment(tmp_path, monkeypatch):
    D.add_plugin_paths([tmp_path])
    assert D.path_folders()[0] == tmp_path
    with pytest.raises(NotADirectoryError, match="not a folder"):
        D.add_plugin_paths([tmp_path / "missing"])


# --------------------------------------------------------------------- entry points


def fake_distribution(site: Path, package: str, entries: dict[str, str], module: str) -> None:
    (site / package).mkdir(parents=True)
    (site / package / "__init__.py").write_text(HEADER + textwrap.dedent(module))
    info = site / f"{package}-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.2\n")
    lines = "\n".join(f"{name} = {value}" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[marketsim.plugins]\n{lines}\n")


def test_entry_points_are_discovered_without_import_and_loaded(tmp_path, monkeypatch):
    module = (
        GOOD.replace('"good"', '"installed"')
        + "\nimport sys\nsys.modules[__name__].LOADED = True\n"
    )
    fake_distribution(
        tmp_path,
        "msplug_ok",
        {"installed": "msplug_ok:Good", "renamed": "msplug_ok:Good"},
        module,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = {c.name: c for c in discover()}
    assert found["installed"].source == D.ENTRY_POINT
    assert found["installed"].package == "msplug_ok 1.2"
    assert found["installed"].description == "multiplies purchase chances"  # read, not run
    assert "msplug_ok" not in sys.modules
    assert registry().load("installed").name == "installed"
    with pytest.raises(PluginDefinitionError, match="registered as 'renamed'"):
        registry().load("renamed")


def test_an_entry_point_that_fails_to_import_names_its_package(tmp_path, monkeypatch):
    fake_distribution(
        tmp_path,
        "msplug_bad",
        {"shaky": "msplug_bad:Good"},
        "import msplug_missing_dependency\n" + GOOD,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError) as caught:
        registry().load("shaky")
    message = str(caught.value)
    assert "plugin 'shaky'" in message and "msplug_bad 1.2" in message
    assert "ModuleNotFoundError: No module named 'msplug_missing_dependency'" in message
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


# ------------------------------------------------------------------ bad plugins


def test_unknown_plugin_lists_the_available_ones():
    with pytest.raises(UnknownPluginError) as caught:
        registry().load("bass_adoptoin")
    message = str(caught.value)
    assert "did you mean 'bass_adoption'" in message
    assert all(f"'{name}'" in message for name in SHIPPED)


def test_a_plugin_that_fails_to_import_names_plugin_file_and_cause(tmp_path, monkeypatch):
    path = write(
        tmp_path / "p",
        "broken.py",
        GOOD.replace('"good"', '"broken"'),
        header="import msplug_nope\n" + HEADER,
    )
    use(monkeypatch, tmp_path / "p")
    with pytest.raises(PluginLoadError) as caught:
        registry().load("broken")
    assert str(caught.value).startswith(f"plugin 'broken' from {path} failed to import:")
    assert "No module named 'msplug_nope'" in str(caught.value)


def test_a_syntax_error_is_a_load_error_named_after_the_file(tmp_path, monkeypatch):
    write(tmp_path / "p", "oops.py", "def broken(:\n", header="")
    use(monkeypatch, tmp_path / "p")
    candidate = next(c for c in discover() if c.name == "oops")
    assert candidate.problem.startswith("SyntaxError")
    with pytest.raises(PluginLoadError, match=r"plugin 'oops' .* SyntaxError"):
        registry().load("oops")


def test_two_plugins_claiming_one_name_are_refused_naming_both(tmp_path, monkeypatch):
    one = write(tmp_path / "a", "good.py", GOOD)
    two = write(tmp_path / "b", "other.py", GOOD)
    use(monkeypatch, tmp_path / "a", tmp_path / "b")
    with pytest.raises(PluginConflictError) as caught:
        registry().load("good")
    assert str(one) in str(caught.value) and str(two) in str(caught.value)
    with pytest.raises(ScenarioError, match="two plugins claim the name 'good'"):
        with_behaviours("- plugin: good\n")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            GOOD.replace("def purchase(self, ctx):", "def purchase(self, context, extra):"),
            r"hook purchase\(self, context, extra\) does not match the hook specification "
            r"Plugin.purchase\(self, ctx\)",
        ),
        (
            GOOD.replace(
                "    def purchase(self, ctx):", "    @staticmethod\n    def purchase(ctx):"
            ),
            "hook purchase must be a plain method like Plugin.purchase, found a staticmethod",
        ),
        (
            GOOD.replace("def purchase(self, ctx):", "def lead_selection(self, offered):"),
            r"hook lead_selection\(self, offered\) does not match",
        ),
        (
            GOOD.replace('= param(1.0, "multiplier", unit="x", ge=0)', ""),
            "every parameter needs a default, but 'factor' has none",
        ),
        (
            GOOD.replace('description = "multiplies purchase chances"', ""),
            "non-empty string description",
        ),
        (
            GOOD + '\n    kernels = {"purchase": lambda key, i, s, v, st, ip, ix, p: v}\n',
            r"kernels\['purchase'\] must be a numba.njit function, found function",
        ),
        (
            "import numba\n\n@numba.njit\ndef k(key, i, value):\n    return value\n"
            + GOOD
            + '\n    kernels = {"purchase": k}\n',
            r"kernels\['purchase'\] \(k\) does not compile with KERNEL_SIGNATURE",
        ),
        (
            "import numba\n\n@numba.njit\ndef k(key, i, s, v, st, ip, ix, p):\n    return v\n"
            + GOOD
            + '\n    kernels = {"word_of_mouht": k}\n',
            "'word_of_mouht' is not a kernel hook point, did you mean 'word_of_mouth'",
        ),
        (
            "import numba\n\n@numba.njit(parallel=True)\ndef k(key, i, s, v, st, ip, ix, p):\n"
            "    return v\n" + GOOD + '\n    kernels = {"purchase": k}\n',
            "must not be parallel",
        ),
        (
            GOOD + "\n    def check(self, params, scenario):\n        return ()\n",
            "check must be a classmethod",
        ),
    ],
    ids=[
        "signature",
        "staticmethod",
        "agent-hook",
        "no-default",
        "no-description",
        "not-numba",
        "kernel-signature",
        "kernel-hook-name",
        "parallel",
        "check-not-classmethod",
    ],
)
def test_a_plugin_breaking_the_interface_is_refused_at_registration(
    tmp_path, monkeypatch, body, expected
):
    write(tmp_path / "p", "good.py", body)
    use(monkeypatch, tmp_path / "p")
    with pytest.raises(PluginDefinitionError, match=expected) as caught:
        registry().load("good")
    assert str(caught.value).startswith("plugin 'good' from ")


def test_a_class_that_is_not_a_plugin_is_refused(tmp_path, monkeypatch):
    write(tmp_path / "p", "fake.py", "class Fake(object):\n    name = 'fake'\n", header="")
    use(monkeypatch, tmp_path / "p")
    with pytest.raises(
        PluginDefinitionError, match=r"expected a subclass of marketsim\.plugins\.Plugin"
    ):
        registry().load("fake")


# ------------------------------------------------------------ scenario validation


def test_parameters_are_validated_like_core_keys():
    with pytest.raises(ScenarioError) as caught:
        with_behaviours(
            """\
            - plugin: threshold_contagion
              treshold: 0.3
              spread: -1
            - plugin: bass_adoption
              adoption: purchse
            - plugin: competitor
              segments: [consumer]
            - {threshold: 0.2}
            - plugin: 5
            """
        )
    assert [str(p) for p in caught.value.problems] == [
        "s.yaml:9:5: behaviours.0.treshold: unknown parameter 'treshold' of plugin "
        "'threshold_contagion', did you mean 'threshold'?",
        "s.yaml:10:13: behaviours.0.spread: expected a number >= 0 and <= 1, found -1",
        "s.yaml:12:15: behaviours.1.adoption: expected one of 'purchase', 'awareness', found "
        "'purchse', did you mean 'purchase'?",
        "s.yaml:14:16: behaviours.2.segments.0: expected a segment id, one of 'consumers', "
        "found 'consumer', did you mean 'consumers'?",
        "s.yaml:15:5: behaviours.3: missing required key 'plugin', expected a plugin name, one "
        "of " + ", ".join(f"'{n}'" for n in sorted(registry().names())),
        "s.yaml:16:13: behaviours.4.plugin: expected a plugin name, one of "
        + ", ".join(f"'{n}'" for n in sorted(registry().names()))
        + ", found 5",
    ]


def test_more_kernel_hooks_than_the_kernel_has_slots_are_refused(tmp_path, monkeypatch):
    kernel = (
        "import numba\n\n@numba.njit\ndef k(key, i, s, v, st, ip, ix, p):\n    return v\n"
        + GOOD.replace('"good"', '"second_kernel"').replace(
            "def purchase(self, ctx):", "def price(self, ctx):"
        )
        + '\n    kernels = {"word_of_mouth": k, "purchase": k}\n'
    )
    write(tmp_path / "p", "second.py", kernel)
    use(monkeypatch, tmp_path / "p")
    with_behaviours("- plugin: threshold_contagion\n" + "- plugin: second_kernel\n" * 3)  # 7: ok
    with pytest.raises(ScenarioError) as caught:
        with_behaviours("- plugin: threshold_contagion\n" + "- plugin: second_kernel\n" * 4)
    (problem,) = caught.value.problems
    assert problem.path == "behaviours.4.plugin"
    assert "kernel hooks to 9; at most 8 may be active together" in problem.message


def test_scenarios_built_in_python_are_checked_too():
    data = {
        "name": "py",
        "horizon": 3,
        "products": [{"id": "w", "price": 1.0}],
        "segments": [{"id": "c", "size": 50}],
        "behaviours": [{"plugin": "competitor", "budget": -5}],
    }
    with pytest.raises(
        ScenarioError, match=r"<scenario>:1:1: behaviours.0.budget: expected a number >= 0"
    ):
        prepare(Scenario.model_validate(data))
    with pytest.raises(ScenarioError, match=r"behaviours.0.budget"):
        MarketModel(Scenario.model_validate(data))


def test_a_model_activates_instances_in_scenario_order():
    sc = with_behaviours(
        "- plugin: competitor\n  budget: 10\n- plugin: reference_price\n- plugin: competitor\n"
    )
    plugins = MarketModel(sc).plugins.plugins
    assert [p.name for p in plugins] == ["competitor", "reference_price", "competitor"]
    assert [p.index for p in plugins] == [0, 1, 2]
    assert plugins[0].params.budget == 10 and plugins[2].params.budget == 100000
    assert plugins[0].purpose(0) != plugins[2].purpose(0)  # two rivals draw independently


def test_a_loaded_scenario_carries_every_plugin_default():
    sc = with_behaviours("- plugin: lead_priority\n  min_score: 0.2\n")
    assert sc.prepared
    assert sc.behaviours == [{"plugin": "lead_priority", "roles": ["inside"], "min_score": 0.2}]


# --------------------------------------------------------------------- run faults


def test_a_plugin_that_raises_stops_the_run_naming_plugin_and_step(tmp_path, monkeypatch):
    from marketsim.drivers.simulation import simulate

    write(
        tmp_path / "p",
        "boom.py",
        GOOD.replace('"good"', '"boom"')
        + "\n    def after_step(self, ctx):\n        if ctx.step == 3:\n"
        "            raise ValueError('the sky fell')\n",
    )
    use(monkeypatch, tmp_path / "p")
    with pytest.raises(PluginRunError) as caught:
        simulate(with_behaviours("- plugin: boom\n"))
    assert "plugin 'boom'" in str(caught.value) and "at step 3" in str(caught.value)
    assert "ValueError: the sky fell" in str(caught.value)
