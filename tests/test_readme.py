"""Every `marketsim` command in the README works as written."""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(".venv/bin/marketsim")]


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path):
    commands = readme_commands()
    assert len(commands) >= 10
    for command in commands:
        line = command.replace("runs/", f"{tmp_path}/runs/")
        words = shlex.split(line.replace(".venv/bin/marketsim", "MARKETSIM", 1))
        redirect = None
        if ">" in words:
            words, redirect = words[: words.index(">")], words[words.index(">") + 1]
        args = [a for w in words[1:] for a in (sorted(glob.glob(w, root_dir=ROOT)) or [w])]
        argv = [sys.executable, "-m", "marketsim", *args]
        (tmp_path / "runs").mkdir(exist_ok=True)
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        if redirect:
            Path(redirect).write_text(done.stdout)
    assert (tmp_path / "runs" / "launch" / "report.html").is_file()


@pytest.mark.slow
def test_the_readme_python_example_runs(monkeypatch):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["model"].customer(42).stage in {
        "unaware",
        "aware",
        "interested",
        "lead",
        "qualified",
        "opportunity",
        "customer",
    }
