"""docs/plugins.md works as written: every code block runs, in order, in an empty folder.

* a block with `file=PATH` in its info string is written to PATH;
* other `python` blocks run with this Python, `sh` blocks with bash, the project's
  `marketsim` first on PATH; both must exit 0 (or the `exit=N` the block states);
* a `text` block is the output of the block before it: each of its lines must appear
  in that output;
* `yaml` and `toml` blocks are parsed (and written, when they name a file).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plugins.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
KNOWN = {"python", "sh", "text", "yaml", "toml"}


def blocks(text: str) -> list[tuple[str, dict[str, str], str]]:
    found = []
    for match in FENCE.finditer(text):
        language, info, body = match.groups()
        attrs = dict(part.split("=", 1) for part in info.split() if "=" in part)
        found.append((language, attrs, body))
    return found


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETSIM_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["COLUMNS"] = "200"
    return env


@pytest.mark.slow
def test_the_tutorial_runs_as_written(tmp_path):
    found = blocks(DOC.read_text(encoding="utf-8"))
    assert {language for language, _, _ in found} <= KNOWN
    assert any("kernels" in body for language, _, body in found if language == "python")
    env = environment()
    output = ""
    for n, (language, attrs, body) in enumerate(found, 1):
        where = f"block {n} ({language} {attrs})"
        if language == "yaml":
            yaml.safe_load(body)
        if language == "toml":
            tomllib.loads(body)
        if "file" in attrs:
            path = tmp_path / attrs["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body, encoding="utf-8")
            continue
        if language == "text":
            for line in filter(None, (line.strip() for line in body.splitlines())):
                assert line in output, f"{where}: {line!r} not in the output:\n{output}"
            continue
        if language in ("python", "sh"):
            command = [sys.executable, "-c", body] if language == "python" else ["bash", "-c", body]
            started = time.perf_counter()
            done = subprocess.run(
                command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
            )
            print(f"{where}: {time.perf_counter() - started:.1f}s")
            output = done.stdout + done.stderr
            expected = int(attrs.get("exit", 0))
            assert done.returncode == expected, f"{where} exited {done.returncode}:\n{output}"


def test_blocks_are_found():
    found = blocks(DOC.read_text(encoding="utf-8"))
    files = [attrs["file"] for _, attrs, _ in found if "file" in attrs]
    assert "my_plugins/saturation.py" in files and "tests/test_saturation.py" in files
    assert sum(language == "sh" for language, _, _ in found) >= 5
