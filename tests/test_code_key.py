"""The fingerprint an inlined plugin kernel is cached by changes whenever its code can.

Each case writes two versions of a plugin module that differ in one thing the hook's
machine code depends on (cases a review found a first version of the key to miss) and
asserts their fingerprints differ; the same code must give the same fingerprint, in
another process too.
"""

from __future__ import annotations

import importlib
import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from marketsim.kernels.code_key import Unaccounted, fingerprint

ROOT = Path(__file__).resolve().parents[1]
_loaded = itertools.count()


def load(folder: Path, files: dict[str, str]):
    """Write `files` into package `pkg` in a new folder under `folder`; import its `plug`.

    The package's name stays the same (the module's name is part of the key: numba's
    cached code imports it by name); each copy is a fresh import.
    """
    package = folder / f"copy{next(_loaded)}" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))
    for name in [m for m in sys.modules if m == "pkg" or m.startswith("pkg.")]:
        del sys.modules[name]
    sys.path.insert(0, str(package.parent))
    try:
        module = importlib.import_module("pkg.plug")
    finally:
        sys.path.remove(str(package.parent))
    return module.hook


HOOK = "def hook(key, i, s, value, stage, indptr, indices, params):\n"
JIT = "import numba\n"

CASES = {
    "a helper read as a module attribute": (
        {"helpers.py": "import numba\n@numba.njit\ndef f(v):\n    return v\n"},
        {"helpers.py": "import numba\n@numba.njit\ndef f(v):\n    return 2.0 * v\n"},
        JIT + "from . import helpers\n@numba.njit\n" + HOOK + "    return helpers.f(value)\n",
    ),
    "a closure cell": (
        {"consts.py": "FACTOR = 1.0\n"},
        {"consts.py": "FACTOR = 2.0\n"},
        "import numba\nfrom .consts import FACTOR\n"
        "def make(factor):\n    @numba.njit\n    "
        + HOOK.replace("\n", "\n    ")
        + "    return factor * value\n    return hook\nhook = make(FACTOR)\n",
    ),
    "a helper's default argument": (
        {"helpers.py": "import numba\n@numba.njit\ndef f(v, by=1.0):\n    return v * by\n"},
        {"helpers.py": "import numba\n@numba.njit\ndef f(v, by=2.0):\n    return v * by\n"},
        "import numba\nfrom .helpers import f\n@numba.njit\n" + HOOK + "    return f(value)\n",
    ),
    "a numpy scalar global": (
        {"consts.py": "import numpy as np\nCUT = np.float32(1.5)\n"},
        {"consts.py": "import numpy as np\nCUT = np.float32(2.5)\n"},
        "import numba\nfrom .consts import CUT\n@numba.njit\n" + HOOK + "    return value * CUT\n",
    ),
    "a global array's dtype": (
        {"consts.py": "import numpy as np\nW = np.array([1, 2], dtype=np.int32)\n"},
        {"consts.py": "import numpy as np\nW = np.array([1, 2], dtype=np.float64)\n"},
        "import numba\nfrom .consts import W\n@numba.njit\n" + HOOK + "    return value * W[0]\n",
    ),
    "a long array inside a tuple": (
        {"consts.py": "import numpy as np\nT = (np.zeros(5000),)\n"},
        {"consts.py": "import numpy as np\nT = (np.zeros(5000),)\nT[0][2500] = 1.0\n"},
        JIT + "from .consts import T\n@numba.njit\n" + HOOK + "    return value + T[0][2500]\n",
    ),
    "a helper's compile options": (
        {"helpers.py": "import numba\n@numba.njit\ndef f(v):\n    return v + 1e-3\n"},
        {"helpers.py": JIT + "@numba.njit(fastmath=True)\ndef f(v):\n    return v + 1e-3\n"},
        "import numba\nfrom .helpers import f\n@numba.njit\n" + HOOK + "    return f(value)\n",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_change_the_code_depends_on_changes_the_fingerprint(tmp_path, case):
    before, after, plug = CASES[case]
    first = load(tmp_path, {**before, "plug.py": plug})
    same = load(tmp_path, {**before, "plug.py": plug})
    changed = load(tmp_path, {**after, "plug.py": plug})
    assert fingerprint(first) == fingerprint(same)
    assert fingerprint(first) != fingerprint(changed)


def test_a_hook_reading_a_mutable_global_cannot_be_keyed(tmp_path):
    hook = load(
        tmp_path,
        {"plug.py": JIT + "TABLE = {'a': 1.0}\n@numba.njit\n" + HOOK + "    return TABLE\n"},
    )
    with pytest.raises(Unaccounted, match="TABLE is a dict"):
        fingerprint(hook)


def test_the_fingerprint_is_the_same_in_another_process():
    script = (
        "import sys; sys.path.insert(0, 'plugins')\n"
        "import threshold_contagion as t\n"
        "from marketsim.kernels.code_key import fingerprint\n"
        "print(fingerprint(t.threshold_talk).hex())\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(seen) == 1 and len(seen.pop().strip()) == 64
