"""Find plugins by name without importing them (like flake8's finder).

Three places are searched, and everything found is sorted by name:

* installed packages, through the entry-point group `marketsim.plugins`: each entry
  point is `NAME = "module:Class"`;
* the project's `plugins/` folder (the built-in behaviours, next to the `marketsim`
  package in a source checkout or editable install — how `make` installs marketsim);
* folders named by `--plugin-path DIR` (any command that loads scenarios) or by the
  `MARKETSIM_PLUGIN_PATH` environment variable (`os.pathsep`-separated).

In a folder, every `*.py` file and every package (a folder with `__init__.py`) whose
name does not start with `_` or `test_` is read — parsed with `ast`, never executed —
for classes that assign a string literal to `name`; that literal is the plugin's name.
Version, description, hooks and kernel hooks are read the same way for `plugins
list`. An entry point's module file is located without importing it and read likewise.
Nothing runs until a scenario (or `plugins show`) names a plugin: see
`marketsim.plugins.registry`.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from marketsim.core.hooks import HOOKS

ENTRY_POINT_GROUP = "marketsim.plugins"
PATH_VARIABLE = "MARKETSIM_PLUGIN_PATH"

BUILT_IN = "built-in"
FOLDER = "plugin path"
ENTRY_POINT = "entry point"
_SOURCE_ORDER = {BUILT_IN: 0, FOLDER: 1, ENTRY_POINT: 2}


@dataclass(frozen=True)
class Candidate:
    """A plugin found by discovery: its name and where to import it from, not yet loaded.

    Attributes:
        name: the plugin's name, as scenarios write it.
        source: `built-in`, `plugin path` or `entry point`.
        origin: where it came from, in words, for messages (file, or package and entry
            point).
        package: the installed distribution (`name version`) or the folder.
        module: the module to import (entry points); None for folder plugins.
        file: the module's source file, when known.
        package_dir: for a plugin inside a folder package, that package's folder.
        attr: the class (attribute path) inside the module.
        version / description / hooks / kernel_hooks: as read from the source without
            running it (None or empty if unknown).
        problem: why the source could not be read (e.g. a syntax error); loading the
            plugin then reports the real error.
    """

    name: str
    source: str
    origin: str
    package: str
    module: str | None
    file: str | None
    attr: str | None
    package_dir: str | None = None
    version: str | None = None
    description: str | None = None
    hooks: tuple[str, ...] = ()
    kernel_hooks: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def identity(self) -> tuple[str | None, ...]:
        """The same plugin found twice (one folder named twice) has the same identity."""
        if self.file is not None:
            return (os.path.realpath(self.file), self.attr)
        return (self.module, self.attr)

    @property
    def target(self) -> str:
        """`module:Class` or `file:Class`."""
        return f"{self.module or self.file}:{self.attr}"


@dataclass(frozen=True)
class _ClassInfo:
    name: str
    attr: str
    version: str | None = None
    description: str | None = None
    hooks: tuple[str, ...] = ()
    kernel_hooks: tuple[str, ...] = ()


@dataclass
class _Cache:
    """Parsed files by (path, mtime, size), entry points by `sys.path`."""

    files: dict[tuple[str, int, int], list[_ClassInfo] | str] = field(default_factory=dict)
    entry_points: dict[tuple[str, ...], list[Candidate]] = field(default_factory=dict)


_cache = _Cache()


# ----------------------------------------------------------------------------- folders


def builtin_folder() -> Path | None:
    """The project's `plugins/` folder, when marketsim runs from its source tree."""
    root = Path(__file__).resolve().parents[2]
    folder = root / "plugins"
    if folder.is_dir() and (root / "pyproject.toml").is_file() and (root / "marketsim").is_dir():
        return folder
    return None


def path_folders() -> list[Path]:
    """Folders from `MARKETSIM_PLUGIN_PATH` (and `--plugin-path`, which extends it)."""
    value = os.environ.get(PATH_VARIABLE, "")
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


def add_plugin_paths(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Search `paths` too, here and in every process started from now on.

    The folders are put in front of `MARKETSIM_PLUGIN_PATH`, so worker processes (and a
    fork server) inherit them. Raises `NotADirectoryError` for a path that is not a folder.
    """
    new = []
    for p in paths:
        folder = os.path.abspath(os.fspath(p))
        if not os.path.isdir(folder):
            raise NotADirectoryError(f"not a folder: {os.fspath(p)}")
        new.append(folder)
    old = [str(p) for p in path_folders()]
    merged = list(dict.fromkeys([*new, *old]))
    if merged:
        os.environ[PATH_VARIABLE] = os.pathsep.join(merged)


def searched_folders() -> list[tuple[Path, str]]:
    """Every folder searched, in order, with its source label; each folder once."""
    folders: list[tuple[Path, str]] = []
    builtin = builtin_folder()
    if builtin is not None:
        folders.append((builtin, BUILT_IN))
    folders += [(p, FOLDER) for p in path_folders()]
    seen: set[str] = set()
    unique = []
    for folder, source in folders:
        real = os.path.realpath(folder)
        if real not in seen:
            seen.add(real)
            unique.append((folder, source))
    return unique


def _skipped(name: str) -> bool:
    return name.startswith(("_", ".", "test_")) or name == "conftest.py"


def folder_candidates(folder: Path, source: str) -> Iterator[Candidate]:
    """Plugins declared in a folder's modules and packages, read without running them."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if _skipped(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_file() and entry.name.endswith(".py"):
            yield from _file_candidates(path, source, path.stem, None)
        elif entry.is_dir() and (path / "__init__.py").is_file():
            yield from _file_candidates(path / "__init__.py", source, path.name, path)
            for sub in sorted(path.glob("*.py")):
                if not _skipped(sub.name):
                    yield from _file_candidates(sub, source, path.name, path)


def _file_candidates(
    file: Path, source: str, stem: str, package_dir: Path | None
) -> Iterator[Candidate]:
    read = _read_file(file)
    shown = _show_path(file, source)
    package = str(package_dir or file.parent)
    if isinstance(read, str):  # unreadable: named after the file, fails on load
        if package_dir is not None and file.name != "__init__.py":
            return  # a broken helper module inside a package shows when the package loads
        yield Candidate(
            stem,
            source,
            shown,
            package,
            module=None,
            file=str(file),
            attr=None,
            package_dir=str(package_dir) if package_dir else None,
            problem=read,
        )
        return
    for info in read:
        yield Candidate(
            name=info.name,
            source=source,
            origin=shown,
            package=package,
            module=None,
            file=str(file),
            attr=info.attr,
            package_dir=str(package_dir) if package_dir else None,
            version=info.version,
            description=info.description,
            hooks=info.hooks,
            kernel_hooks=info.kernel_hooks,
        )


def _show_path(file: Path, source: str) -> str:
    if source == BUILT_IN:
        builtin = builtin_folder()
        if builtin is not None:
            return f"built-in {file.relative_to(builtin.parent)}"
    return str(file)


# ------------------------------------------------------------------------ entry points


def entry_point_candidates() -> list[Candidate]:
    """Plugins installed as packages, from the `marketsim.plugins` entry-point group."""
    key = tuple(sys.path)
    if key not in _cache.entry_points:
        _cache.entry_points[key] = list(_entry_points())
    return _cache.entry_points[key]


def _entry_points() -> Iterator[Candidate]:
    from importlib.metadata import entry_points

    seen: set[tuple[str, str]] = set()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        if (ep.name, ep.value) in seen:
            continue
        seen.add((ep.name, ep.value))
        dist = getattr(ep, "dist", None)
        package = f"{dist.name} {dist.version}" if dist is not None else "an unknown package"
        origin = f"package '{package}' (entry point {ep.name} = {ep.value})"
        module, _, attr = ep.value.partition(":")
        module, attr = module.strip(), attr.strip() or None
        file = _module_file(module)
        info = None
        problem = None
        if attr is None:
            problem = f"entry point {ep.value!r} must name a class, as 'module:Class'"
        elif file is not None:
            read = _read_file(Path(file))
            if isinstance(read, str):
                problem = read
            else:
                info = next((c for c in read if c.attr == attr), None)
        yield Candidate(
            name=ep.name,
            source=ENTRY_POINT,
            origin=origin,
            package=package,
            module=module,
            file=file,
            attr=attr,
            version=info.version if info else None,
            description=info.description if info else None,
            hooks=info.hooks if info else (),
            kernel_hooks=info.kernel_hooks if info else (),
            problem=problem,
        )


def _module_file(module: str) -> str | None:
    """The source file of `module`, found without importing it (or its parents)."""
    parts = module.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if len(parts) == 1:
        return spec.origin if spec.origin and spec.origin.endswith(".py") else None
    locations = list(spec.submodule_search_locations or ())
    for part in parts[1:-1]:
        locations = [
            os.path.join(d, part) for d in locations if os.path.isdir(os.path.join(d, part))
        ]
    for d in locations:
        for candidate in (
            os.path.join(d, parts[-1] + ".py"),
            os.path.join(d, parts[-1], "__init__.py"),
        ):
            if os.path.isfile(candidate):
                return candidate
    return None


# ------------------------------------------------------------------------------ parsing


def _read_file(file: Path) -> list[_ClassInfo] | str:
    """Plugin classes declared in `file`, or why it cannot be read."""
    try:
        stat = file.stat()
    except OSError as e:
        return f"cannot read {file}: {e.strerror}"
    key = (str(file), stat.st_mtime_ns, stat.st_size)
    if key not in _cache.files:
        _cache.files[key] = _parse(file)
    return _cache.files[key]


def _parse(file: Path) -> list[_ClassInfo] | str:
    try:
        tree = ast.parse(file.read_bytes(), filename=str(file))
    except SyntaxError as e:
        return f"SyntaxError: {e.msg} ({file}, line {e.lineno})"
    except (OSError, ValueError) as e:
        return f"cannot read {file}: {e}"
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.bases:
            strings = _class_strings(node)
            if "name" in strings:
                found.append(
                    _ClassInfo(
                        name=strings["name"],
                        attr=node.name,
                        version=strings.get("version"),
                        description=strings.get("description"),
                        hooks=tuple(h for h in HOOKS if h in _methods(node)),
                        kernel_hooks=_kernel_keys(node),
                    )
                )
    return found


def _assignments(node: ast.ClassDef) -> Iterator[tuple[str, ast.expr]]:
    for stmt in node.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield target.id, stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is not None
            and isinstance(stmt.target, ast.Name)
        ):
            yield stmt.target.id, stmt.value


def _class_strings(node: ast.ClassDef) -> dict[str, str]:
    return {
        name: value.value
        for name, value in _assignments(node)
        if isinstance(value, ast.Constant) and isinstance(value.value, str)
    }


def _methods(node: ast.ClassDef) -> set[str]:
    return {
        stmt.name for stmt in node.body if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _kernel_keys(node: ast.ClassDef) -> tuple[str, ...]:
    for name, value in _assignments(node):
        if name == "kernels" and isinstance(value, ast.Dict):
            return tuple(
                k.value
                for k in value.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            )
    return ()


# ----------------------------------------------------------------------------- together


def discover() -> list[Candidate]:
    """Every plugin candidate, sorted by name (then built-in, plugin path, entry point).

    Nothing is imported. A name found twice at the same place (a folder searched twice)
    appears once; two different plugins claiming one name both appear, and using that
    name is an error.
    """
    found: list[Candidate] = []
    for folder, source in searched_folders():
        found += folder_candidates(folder, source)
    found += entry_point_candidates()
    unique = {}
    for c in found:
        unique.setdefault((c.name, c.identity), c)
    return sorted(unique.values(), key=lambda c: (c.name, _SOURCE_ORDER[c.source], c.origin))
