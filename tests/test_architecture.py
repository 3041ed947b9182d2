"""The layer rules of docs/architecture.md, read from the source: imports go only downward.

Every `import` of a marketsim module is found with `ast`, whether at module level, inside
a function or under `if TYPE_CHECKING:`. Two rules:

- layers: a module may import its own package's modules and those of lower layers,
  never a higher layer's or a peer's (`scenario` and `kernels` are peers), type-only
  imports included;
- cycles: the modules imported at run time (inside functions too, type-only imports
  aside) form no cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "marketsim"
CONTRACT_B2C = ROOT / "tests" / "contract" / "minimal-b2c.yaml"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("scenario", "kernels"),
    ("plugins",),
    ("engine",),
    ("drivers",),
    ("io",),
    ("report",),
    ("cli",),
    ("api",),
)
"""Bottom up; packages on one row are peers and may not import each other."""

API = ("marketsim", "marketsim.__main__", "marketsim.testing")
"""The public facade above every layer (and the modules inside these packages)."""


@dataclass(frozen=True)
class Import:
    """One import statement's target, as found in a module."""

    source: str
    target: str
    line: int
    type_only: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    if module in API or module.startswith("marketsim.testing."):
        return "api"
    return module.split(".")[1]


def rank(layer: str) -> int:
    return next(i for i, row in enumerate(LAYERS) if layer in row)


def _resolve(name: str) -> str:
    """The marketsim module an imported name lives in: the longest existing prefix."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in MODULES:
            return candidate
    return name


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_stmt(stmt, True)
                for stmt in child.orelse:
                    visit_stmt(stmt, type_only)
                continue
            visit_stmt(child, type_only)

    def visit_stmt(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("marketsim"):
                    add(alias.name, node.lineno, type_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("marketsim"):
                for alias in node.names:
                    add(f"{base}.{alias.name}", node.lineno, type_only)
        else:
            visit(node, type_only)

    def add(name: str, line: int, type_only: bool) -> None:
        target = _resolve(name)
        if target != module and target in MODULES:
            found.append(Import(module, target, line, type_only))

    visit(tree, False)
    return found


ALL_IMPORTS = [imp for module in MODULES for imp in imports_of(module)]


def test_every_module_belongs_to_a_layer() -> None:
    known = {name for row in LAYERS for name in row}
    strays = [m for m in MODULES if layer_of(m) not in known]
    assert not strays, f"modules outside every layer of docs/architecture.md: {strays}"


def test_no_module_imports_a_higher_layer_or_a_peer() -> None:
    wrong = []
    for imp in ALL_IMPORTS:
        here, there = layer_of(imp.source), layer_of(imp.target)
        if here == there:
            continue
        if rank(there) >= rank(here):
            kind = "type-only " if imp.type_only else ""
            wrong.append(
                f"{MODULES[imp.source].relative_to(ROOT)}:{imp.line}: {imp.source} ({here}) "
                f"{kind}imports {imp.target} ({there})"
            )
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def connect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return components


def test_no_import_cycle_at_run_time() -> None:
    edges: dict[str, set[str]] = {}
    for imp in ALL_IMPORTS:
        if not imp.type_only:
            edges.setdefault(imp.source, set()).add(imp.target)
    cycles = _cycles(edges)
    assert not cycles, "import cycles at run time:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_checks_see_what_they_check() -> None:
    """The parser finds imports in functions and under TYPE_CHECKING, and finds cycles."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert not _cycles({"a": {"b"}, "b": set()})
    assert any(imp.type_only for imp in ALL_IMPORTS)
    assert len(ALL_IMPORTS) > 100


@pytest.mark.parametrize("command", ["--help", "validate"])
def test_startup_imports_no_heavy_library(command: str, tmp_path: Path) -> None:
    """`marketsim --help` and `validate` must not pay for scipy, plotly, optuna or pandas."""
    import subprocess
    import sys

    args = [command] if command == "--help" else [command, str(CONTRACT_B2C)]
    code = (
        "import sys\n"
        "from marketsim.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('scipy', 'plotly', 'optuna', 'pandas', 'numba', 'mesa') "
        "if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.splitlines()[-1] == "HEAVY=", done.stdout
