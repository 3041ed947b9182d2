"""Results that do not depend on the machine: `marketsim.core.portable` and where it is used.

numpy's exp, log and power loops and BLAS's kernels are picked by the CPU, so two
machines can disagree in the last bit (an AVX-512 Intel machine and an AVX2 AMD one did,
on customer equity and the acquisition cost per segment). Three checks: the portable
functions are the C library's and sum in a fixed order; no module whose numbers reach a
run's output calls numpy's CPU-picked versions; and a run with numpy's CPU-specific
loops switched off and BLAS pinned to its oldest kernel writes the recorded bytes.
"""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from marketsim.core import portable
from tests.test_golden import FILES, GOLDEN, SEED

finite = st.floats(-700.0, 700.0, allow_nan=False)
positive = st.floats(1e-300, 1e300, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=20))
def test_exp_is_the_c_librarys(xs):
    assert portable.exp(np.array(xs)).tolist() == [math.exp(x) for x in xs]


@given(st.lists(positive, min_size=1, max_size=20))
def test_log_is_the_c_librarys(xs):
    assert portable.log(np.array(xs)).tolist() == [math.log(x) for x in xs]


bases = st.one_of(st.just(0.0), st.floats(1e-3, 50.0))


@given(st.lists(st.tuples(bases, st.floats(-5.0, 5.0)), min_size=1, max_size=20))
def test_power_is_the_c_librarys(pairs):
    base, exponent = (np.array(v) for v in zip(*pairs, strict=True))
    got = portable.power(base, exponent)
    want = [math.inf if b == 0.0 and e < 0 else math.pow(b, e) for b, e in pairs]
    assert got.tolist() == want


def test_edge_cases_follow_numpy():
    assert portable.exp(1000.0) == np.inf and portable.exp(-1000.0) == 0.0
    assert portable.log(0.0) == -np.inf and np.isnan(portable.log(-1.0))
    assert portable.power(0.0, -1.0) == np.inf and np.isnan(portable.power(-8.0, 1 / 3))
    assert portable.power(-10.0, 1001.0) == -np.inf and portable.power(10.0, 1001.0) == np.inf
    assert portable.power(np.array([[2.0], [3.0]]), np.array([1.0, 2.0])).tolist() == [
        [2.0, 4.0],
        [3.0, 9.0],
    ]


@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            st.lists(finite, min_size=k, max_size=k),
            st.lists(st.lists(finite, min_size=3, max_size=3), min_size=k, max_size=k),
        )
    )
)
def test_matmul_sums_the_products_in_order(operands):
    a, b = np.array(operands[0]) / 100.0, np.array(operands[1]) / 100.0
    in_order = []
    for j in range(b.shape[1]):
        total = 0.0
        for i in range(a.shape[0]):
            total += a[i] * b[i, j]
        in_order.append(total)
    assert portable.matmul(a, b).tolist() == in_order
    np.testing.assert_allclose(portable.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    assert portable.matmul(b.T, a).tolist() == [float((row * a).sum()) for row in b.T]
    assert portable.matmul(a[None, :], b).shape == (1, 3)


CPU_PICKED = {"exp", "log", "log2", "log10", "expm1", "log1p", "power", "dot", "matmul"}
"""numpy functions whose float results depend on the CPU (SIMD loops or BLAS)."""

CHECKED = [
    p
    for p in sorted([*(ROOT / "marketsim").rglob("*.py"), *(ROOT / "plugins").glob("*.py")])
    if not {"kernels", "report"} & set(p.relative_to(ROOT).parts)
]
"""Modules whose numbers can reach a run's output: not the numba kernels (which compile
`np.exp` to the C library) nor the HTML report's axes."""


def _cpu_picked_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: @")
        if (
            isinstance(node, ast.Attribute)
            and node.attr in CPU_PICKED
            and isinstance(node.value, ast.Name)
            and node.value.id == "np"
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: np.{node.attr}")
    return found


def test_no_output_reaches_numpys_cpu_picked_arithmetic():
    assert len(CHECKED) > 100
    found = [hit for path in CHECKED for hit in _cpu_picked_calls(path)]
    assert found == [], "use marketsim.core.portable instead:\n" + "\n".join(found)


PINNED = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Prescott",
}
"""numpy without its AVX2 and AVX-512 loops, BLAS with its oldest x86-64 kernel."""


@pytest.mark.parametrize("name", ["established_brand", "discount_targeting", "b2c_launch"])
def test_a_run_on_the_oldest_cpu_paths_writes_the_recorded_bytes(name, tmp_path):
    out = tmp_path / "out"
    args = ["run", str(ROOT / "scenarios" / f"{name}.yaml"), "--replicates", "2"]
    args += ["--seed", str(SEED), "--out", str(out), "--quiet"]
    env = {**os.environ, **PINNED}
    done = subprocess.run(
        [sys.executable, "-m", "marketsim", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    for file in FILES:
        if (GOLDEN / name / file).exists():
            assert (out / file).read_bytes() == (GOLDEN / name / file).read_bytes(), file
