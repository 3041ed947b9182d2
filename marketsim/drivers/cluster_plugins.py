"""`--plugin-path` folders on a Dask cluster: copied to every worker and searched there.

A local worker process inherits the folders through `MARKETSIM_PLUGIN_PATH`; a Dask
worker, started before the command and perhaps on another machine, does not. So the
folders' Python files travel with the connection, as a worker plugin that writes them
into each worker's own directory (workers joining later get them too) and adds them to
that worker's plugin path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from marketsim.plugins.discovery import add_plugin_paths


class PluginFolders(WorkerPlugin):
    """The plugin folders this process searches, as files to write on each worker."""

    name = "marketsim-plugin-folders"

    def __init__(self, folders: list[Path]) -> None:
        self.folders = [(folder.name, _python_files(folder)) for folder in folders]

    def setup(self, worker: Any) -> None:
        """Write the folders under the worker's directory and search them there."""
        root = Path(worker.local_directory) / "marketsim-plugins"
        written = []
        for i, (name, files) in enumerate(self.folders):
            target = root / f"{i}-{name}"
            for relative, data in files.items():
                path = target / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            target.mkdir(parents=True, exist_ok=True)
            written.append(target)
        add_plugin_paths(written)


def _python_files(folder: Path) -> dict[str, bytes]:
    """Every `.py` file under `folder` (caches left out), by its path inside it."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    }
