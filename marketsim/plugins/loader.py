"""Load the plugins a scenario names, refuse those that break the interface, activate them.

Loading is lazy and happens once per plugin and process: only a name a scenario (or
`marketsim plugins show`) asks for is imported. Any error while importing becomes one
`PluginLoadError` naming the plugin and its package or file, with the cause chained.
Registration then checks the class the way pluggy checks hook implementations:

* it subclasses `Plugin`, and its `name` is the name it was found under;
* `version` and `description` are non-empty strings;
* `Params` is a pydantic model whose every field has a default;
* every hook it overrides has the signature of the base class's hook (names and kinds
  of parameters, compared with `inspect.signature`), and is a plain method;
* no other public method has a name close to a hook's (`purchse`): a misspelt hook
  would otherwise be silently never called;
* `SegmentParams` is a pydantic model whose every field has a number for a default (its
  values go to kernels as float64s), and no parameter is called `per_segment`;
* `metrics` is a tuple of `PluginMetric`s with distinct identifiers for names, and
  `measure` is overridden exactly when there are any;
* each `state` column has an identifier for a name that is not a core column
  (`PERSON_COLUMNS`) nor another of its own, a numeric dtype, and a number or a valid
  trait distribution as its initial value;
* `kernels` maps kernel hook points (`KERNEL_HOOKS`) to numba `njit` functions, each
  compiled here with `KERNEL_SIGNATURE`, or `VIEW_SIGNATURE` if it takes six parameters
  (a function that cannot be is refused).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from marketsim.plugins.discovery import Candidate, discover
from marketsim.plugins.errors import (
    PluginConflictError,
    PluginDefinitionError,
    PluginLoadError,
    UnknownPluginError,
)

if TYPE_CHECKING:
    from marketsim.plugins.base import Plugin

_loaded: dict[tuple[Any, ...], type[Plugin]] = {}


class Registry:
    """The plugins discovery found, by name; loads and checks them on request."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self._by_name: dict[str, list[Candidate]] = defaultdict(list)
        for c in candidates:
            self._by_name[c.name].append(c)

    def names(self) -> list[str]:
        """Every plugin name found, sorted."""
        return sorted(self._by_name)

    def candidates(self) -> list[Candidate]:
        """Everything found, sorted by name (a conflicting name appears more than once)."""
        return [c for name in self.names() for c in self._by_name[name]]

    def find(self, name: str) -> Candidate:
        """The one candidate called `name`.

        Raises:
            UnknownPluginError: no plugin has the name (the message lists those that do).
            PluginConflictError: two plugins claim it.
        """
        found = self._by_name.get(name)
        if not found:
            raise UnknownPluginError(name, self.names())
        if len(found) > 1:
            raise PluginConflictError(name, [c.origin for c in found])
        return found[0]

    def load(self, name: str) -> type[Plugin]:
        """The checked plugin class called `name`, importing it on first use.

        Raises:
            UnknownPluginError, PluginConflictError: see `find`.
            PluginLoadError: importing it failed (the cause is chained).
            PluginDefinitionError: it does not follow the plugin interface.
        """
        return load_candidate(self.find(name))


def registry() -> Registry:
    """The plugins available now (discovery is cached per file, so this is cheap)."""
    return Registry(discover())


def load(name: str) -> type[Plugin]:
    """The checked plugin class called `name` (see `Registry.load`)."""
    return registry().load(name)


def load_candidate(candidate: Candidate) -> type[Plugin]:
    """Import and check one discovered plugin; later calls return the same class."""
    stamp = _stamp(candidate)
    key = (candidate.name, candidate.identity, stamp)
    if key not in _loaded:
        try:
            cls = _import(candidate)
        except Exception as e:
            raise PluginLoadError(candidate.name, candidate.origin, e) from e
        check_plugin_class(cls, candidate.name, candidate.origin)
        _loaded[key] = cls
    return _loaded[key]


def _stamp(candidate: Candidate) -> int | None:
    """When the plugin's file last changed: an edited folder plugin is loaded afresh."""
    if candidate.file is None or candidate.module is not None:
        return None
    try:
        return Path(candidate.file).stat().st_mtime_ns
    except OSError:
        return None


def _import(candidate: Candidate) -> Any:
    if candidate.module is not None:
        if candidate.problem and candidate.attr is None:
            raise ValueError(candidate.problem)
        module = importlib.import_module(candidate.module)
    else:
        module = _import_file(candidate)
    if candidate.attr is None:
        raise ValueError(candidate.problem or f"no plugin class found in {candidate.file}")
    return functools.reduce(getattr, candidate.attr.split("."), module)


def _import_file(candidate: Candidate) -> ModuleType:
    """Execute a folder plugin's module under a private name (never `import plugins.x`)."""
    file = Path(candidate.file or "")
    home = candidate.package_dir or candidate.file or ""
    digest = hashlib.sha1(os.path.realpath(home).encode()).hexdigest()[:10]
    if candidate.package_dir is None:
        return _exec_file(f"marketsim_plugin_{file.stem}_{digest}", file, None)
    package_dir = Path(candidate.package_dir)
    package = f"marketsim_plugin_{package_dir.name}_{digest}"
    module = _exec_file(package, package_dir / "__init__.py", package_dir)
    if file.name == "__init__.py":
        return module
    name = f"{package}.{file.stem}"
    stale = sys.modules.get(name)
    if stale is not None and getattr(stale, "__marketsim_stamp__", None) != _mtime(file):
        del sys.modules[name]
    module = importlib.import_module(name)
    module.__marketsim_stamp__ = _mtime(file)  # type: ignore[attr-defined]
    return module


def _mtime(file: Path) -> int:
    return file.stat().st_mtime_ns


def _exec_file(name: str, file: Path, package_dir: Path | None) -> ModuleType:
    stamp = _mtime(file)
    current = sys.modules.get(name)
    if current is not None and getattr(current, "__marketsim_stamp__", None) == stamp:
        return current
    locations = [str(package_dir)] if package_dir is not None else None
    spec = importlib.util.spec_from_file_location(name, file, submodule_search_locations=locations)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    module.__marketsim_stamp__ = stamp  # type: ignore[attr-defined]
    return module


# ------------------------------------------------------------------------ registration


def check_plugin_class(cls: Any, name: str, origin: str) -> None:
    """Refuse a class that does not follow the plugin interface, listing every problem.

    Raises:
        PluginDefinitionError: naming the plugin, its origin and each problem.
    """
    from pydantic import BaseModel

    from marketsim.plugins.base import Plugin

    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        found = cls.__name__ if isinstance(cls, type) else type(cls).__name__
        problem = f"expected a subclass of marketsim.plugins.Plugin, found {found}"
        raise PluginDefinitionError(name, origin, [problem])
    problems = []
    declared = cls.__dict__.get("name", getattr(cls, "name", None))
    if declared != name:
        problems.append(f"its class declares name = {declared!r}, but it is registered as {name!r}")
    for attr in ("version", "description"):
        value = getattr(cls, attr, None)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"expected a non-empty string {attr}, found {value!r}")
    params = getattr(cls, "Params", None)
    if not (isinstance(params, type) and issubclass(params, BaseModel)):
        problems.append(f"expected Params to be a pydantic model class, found {params!r}")
    else:
        required = [f for f, info in params.model_fields.items() if info.is_required()]
        if required:
            listed = ", ".join(repr(f) for f in required)
            problems.append(f"every parameter needs a default, but {listed} has none")
    problems += _hook_problems(cls)
    if not isinstance(inspect.getattr_static(cls, "check"), classmethod):
        problems.append("check must be a classmethod like Plugin.check(cls, params, scenario)")
    problems += _state_problems(cls)
    problems += _segment_problems(cls)
    problems += _metric_problems(cls)
    problems += _kernel_problems(cls)
    if problems:
        raise PluginDefinitionError(name, origin, problems)


_METHODS = ("setup", "kernel_params", "measure")


def _hook_problems(cls: type[Plugin]) -> list[str]:
    from marketsim.core.hooks import HOOKS
    from marketsim.plugins.base import Plugin

    problems = []
    for hook in (*HOOKS, *_METHODS):
        impl = getattr(cls, hook)
        spec = getattr(Plugin, hook)
        if impl is spec:
            continue
        raw = inspect.getattr_static(cls, hook)
        if not inspect.isfunction(raw):
            kind = type(raw).__name__
            problems.append(
                f"hook {hook} must be a plain method like Plugin.{hook}, found a {kind}"
            )
            continue
        if inspect.iscoroutinefunction(impl) or inspect.isgeneratorfunction(impl):
            problems.append(f"hook {hook} must be a plain method, not a coroutine or generator")
            continue
        if _shape(impl) != _shape(spec):
            problems.append(
                f"hook {hook}{_show_signature(impl)} does not match the hook specification "
                f"Plugin.{hook}{_show_signature(spec)}"
            )
    return problems + _near_misses(cls)


def _near_misses(cls: type[Plugin]) -> list[str]:
    """Public methods named like a hook but not one: misspelt hooks the run would skip."""
    from marketsim.core.errors import did_you_mean
    from marketsim.core.hooks import HOOKS
    from marketsim.plugins.base import Plugin

    problems = []
    for name in sorted(set(dir(cls)) - set(dir(Plugin))):
        if name.startswith("_") or not inspect.isfunction(inspect.getattr_static(cls, name)):
            continue
        hint = did_you_mean(name, HOOKS)
        if hint:
            problems.append(
                f"method {name!r} is not a hook point{hint} (a helper close to a hook's name "
                f"must be private: '_{name}')"
            )
    return problems


def _shape(fn: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values()]


def _show_signature(fn: Any) -> str:
    parts = []
    for p in inspect.signature(fn).parameters.values():
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        parts.append(prefix + p.name)
    return f"({', '.join(parts)})"


def _metric_problems(cls: type[Plugin]) -> list[str]:
    from marketsim.plugins.base import Plugin, PluginMetric

    metrics = cls.metrics
    if not isinstance(metrics, tuple) or not all(isinstance(m, PluginMetric) for m in metrics):
        return [f"expected metrics to be a tuple of PluginMetric, found {metrics!r}"]
    problems = []
    names = [m.name for m in metrics]
    for name in names:
        if not name.isidentifier():
            problems.append(f"metric {name!r}: expected a Python identifier for a name")
        elif names.count(name) > 1:
            problems.append(f"metric {name!r}: declared {names.count(name)} times")
    measures = cls.measure is not Plugin.measure
    if metrics and not measures:
        problems.append(f"declares metrics {names} but no measure(self, ctx) reporting them")
    elif measures and not metrics:
        problems.append("implements measure(self, ctx) but declares no metrics")
    return list(dict.fromkeys(problems))  # a name declared twice is reported once


def _segment_problems(cls: type[Plugin]) -> list[str]:
    """What is wrong with the plugin's `SegmentParams` (numbers with defaults)."""
    from pydantic import BaseModel

    from marketsim.plugins.base import PER_SEGMENT

    problems = []
    params = getattr(cls, "Params", None)
    if isinstance(params, type) and PER_SEGMENT in getattr(params, "model_fields", {}):
        problems.append(
            f"a parameter may not be called {PER_SEGMENT!r}: scenarios set the per-segment "
            "values (SegmentParams) under that key"
        )
    model = getattr(cls, "SegmentParams", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return [*problems, f"expected SegmentParams to be a pydantic model class, found {model!r}"]
    for field, info in model.model_fields.items():
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if not isinstance(default, int | float | bool):
            problems.append(
                f"per-segment value {field!r} needs a number for a default, found {default!r}"
            )
    return problems


def _state_problems(cls: type[Plugin]) -> list[str]:
    import numpy as np
    from pydantic import TypeAdapter, ValidationError

    from marketsim.core.layout import PERSON_COLUMNS
    from marketsim.plugins.base import StateColumn
    from marketsim.scenario.traits import Distribution

    state = cls.state
    if not isinstance(state, tuple) or not all(isinstance(c, StateColumn) for c in state):
        return [f"expected state to be a tuple of StateColumn, found {state!r}"]
    problems = []
    names: set[str] = set()
    for c in state:
        where = f"state column {c.name!r}"
        if not c.name.isidentifier():
            problems.append(f"{where}: expected a Python identifier for a name")
        elif c.name in PERSON_COLUMNS:
            problems.append(f"{where}: the core has a per-person column of that name")
        elif c.name in names:
            problems.append(f"{where}: declared twice")
        names.add(c.name)
        try:
            kind = np.dtype(c.dtype).kind
        except TypeError:
            kind = "?"
        if kind not in "biuf":
            problems.append(f"{where}: expected a numeric dtype, found {c.dtype!r}")
        if isinstance(c.initial, bool | int | float):
            if not np.isfinite(c.initial):
                problems.append(f"{where}: expected a finite initial value, found {c.initial!r}")
            continue
        try:
            TypeAdapter(Distribution).validate_python(c.initial)
        except ValidationError as e:
            found = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or 'initial'}: {err['msg']}" for err in e.errors()
            )
            problems.append(f"{where}: initial is not a valid distribution ({found})")
    return problems


def _kernel_problems(cls: type[Plugin]) -> list[str]:
    """Check `cls.kernels`; on success, swap in the loop-ready compilation of each.

    Each kernel is compiled with its form's signature (`signature_of`). A kernel that
    allocates nothing (the usual case) is also compiled without reference counting: numba
    otherwise increments and decrements the counts of the array arguments it reads inside
    branches, atomic operations on arrays every thread shares, which can cost more than the
    kernel itself when it runs for every person. That compilation replaces the author's
    function in `kernels` (same Python function, same results).
    """
    kernels = cls.kernels
    if not isinstance(kernels, dict):
        return [f"expected kernels to be a dict of hook point to numba function, found {kernels!r}"]
    if not kernels:
        return []
    from numba.core.dispatcher import Dispatcher

    from marketsim.core.errors import did_you_mean, quoted
    from marketsim.core.hooks import KERNEL_HOOKS
    from marketsim.kernels.hooks import signature_of

    problems = []
    ready = {}
    for hook, fn in kernels.items():
        if hook not in KERNEL_HOOKS:
            hint = did_you_mean(hook, KERNEL_HOOKS) or f", expected one of {quoted(KERNEL_HOOKS)}"
            problems.append(f"kernels: {hook!r} is not a kernel hook point{hint}")
            continue
        if not isinstance(fn, Dispatcher):
            problems.append(
                f"kernels[{hook!r}] must be a numba.njit function, found {type(fn).__name__}"
            )
            continue
        if fn.targetoptions.get("parallel"):
            problems.append(
                f"kernels[{hook!r}] must not be parallel: it runs inside the parallel hot loop"
            )
            continue
        signature = signature_of(fn)
        try:
            fn.compile(signature)
        except Exception as e:
            reason = _first_lines(f"{type(e).__name__}: {e}")
            name = "KERNEL_SIGNATURE" if len(signature.args) == 8 else "VIEW_SIGNATURE"
            problems.append(
                f"kernels[{hook!r}] ({fn.py_func.__name__}) does not compile with "
                f"{name} {signature}: {reason}"
            )
            continue
        ready[hook] = _without_refcounts(fn, signature)
    if not problems and any(ready[h] is not kernels[h] for h in ready):
        cls.kernels = {**kernels, **ready}
    return problems


def _without_refcounts(fn: Any, signature: Any) -> Any:
    """`fn` compiled without numba's reference counting, or `fn` itself if it needs it."""
    import numba

    if getattr(fn, "_marketsim_loop_ready", False):
        return fn
    options = {
        k: v
        for k, v in fn.targetoptions.items()
        if k in ("nogil", "fastmath", "error_model", "boundscheck")
    }
    try:
        twin = numba.njit(signature, _nrt=False, cache=False, **options)(fn.py_func)
    except Exception:  # it allocates (or otherwise needs the runtime): keep it as written
        return fn
    twin._marketsim_loop_ready = True
    return twin


def _first_lines(text: str, n: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[:n])
