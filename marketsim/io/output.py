"""An output directory: every file complete, or nothing at all.

`write_files` writes each `OutputFile` into a temporary directory next to the
destination (so on the same filesystem), and only when all of them are complete renames
that directory into place. An interrupted or failed write leaves neither half-written
files nor a new output directory; with `force` an existing directory is replaced only
after its replacement is complete, and restored if the final rename fails. `write_file`
does the same for one file. What each command writes is listed in `marketsim.io.files`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from marketsim.core.errors import InputError
from marketsim.core.stages import STAGES

if TYPE_CHECKING:
    import pandas as pd

P = TypeVar("P")

RUNS_DIR = Path("runs")
"""Parent of the default output directory, `runs/<scenario name>`."""

TIMESERIES_LEADING = (
    "replicate",
    "step",
    "revenue",
    "units",
    "spend",
    "new_customers",
    "customers",
)
"""First columns of timeseries.csv, in this order (the user-facing contract)."""


class OutputError(InputError):
    """The output directory cannot be used (exists and is not empty, is a file, ...)."""


@dataclass(frozen=True)
class OutputFile(Generic[P]):
    """One file of an output directory: its name and the function writing it.

    `write(payload, path)` writes the complete file at `path`; it may raise, in which
    case nothing is kept. `applies(payload)` says whether the payload has such a file. A
    name may contain `/` to write into a sub-directory.
    """

    name: str
    write: Callable[[P, Path], None]
    applies: Callable[[P], bool] = lambda payload: True


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data: numpy scalars unwrapped, non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def timeseries_columns(frame: pd.DataFrame, channel_ids: Sequence[str]) -> pd.DataFrame:
    """`frame` with the contract's columns first, in contract order, then any others.

    The contract order is `TIMESERIES_LEADING`, the funnel stage counts in funnel order,
    then `spend_<channel id>` in the scenario's channel order.
    """
    required = [
        *TIMESERIES_LEADING,
        *(f"stage_{s}" for s in STAGES),
        *(f"spend_{c}" for c in channel_ids),
    ]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"the timeseries lacks the contract columns {missing}")
    rest = [c for c in frame.columns if c not in set(required)]
    return frame[required + rest]


# --------------------------------------------------------------------------- destination


def default_out_dir(scenario_name: str) -> Path:
    """`runs/<name>`, with the name reduced to characters safe in one path component."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario_name).strip(".-")
    return RUNS_DIR / (slug or "scenario")


def check_destination(out: Path, *, force: bool = False, protect: Iterable[Path] = ()) -> None:
    """Refuse an output directory that a run may not write; touch nothing.

    Args:
        out: the output directory.
        force: an existing non-empty directory may be replaced.
        protect: paths (the scenario file, say) that replacing `out` must never delete.

    Raises:
        OutputError: `out` is not a directory, is not empty without `force`, would
            delete the working directory or a protected path, or cannot be created.

    """
    target = _absolute(out)
    if target.exists() and not target.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    if target.is_dir() and not _is_empty(target):
        if not force:
            raise OutputError(
                f"output directory {out} exists and is not empty; "
                "use --force to replace it, or --out to choose another"
            )
        for kept in (Path.cwd(), *protect):
            kept = _absolute(kept)
            if kept == target or target in kept.parents:
                raise OutputError(f"refusing to replace output directory {out}: it contains {kept}")
    ancestor = next(p for p in (target, *target.parents) if p.exists())
    if not ancestor.is_dir():
        raise OutputError(f"cannot create output directory {out}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot create output directory {out}: {ancestor} is not writable")


def write_files(
    payload: P,
    out: Path,
    files: Sequence[OutputFile[P]],
    *,
    force: bool = False,
    protect: Iterable[Path] = (),
) -> list[Path]:
    """Write every file of `files` that applies to `payload` into `out`, all or nothing.

    Returns the paths written, in `files` order.

    Raises:
        OutputError: `out` may not be used (see `check_destination`).

    """
    files = [f for f in files if f.applies(payload)]
    protect = list(protect)
    check_destination(out, force=force, protect=protect)
    target = _absolute(out)
    created = _make_parents(target.parent)
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; a run is not
        for file in files:
            path = staging / file.name
            path.parent.mkdir(parents=True, exist_ok=True)
            file.write(payload, path)
            if not path.is_file():
                raise RuntimeError(f"the writer of {file.name} wrote no file")
            _fsync(path)
        _fsync(staging)
        check_destination(out, force=force, protect=protect)  # still usable after the writing?
        _move_into_place(staging, target)
        staging = None
        _fsync(target.parent)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        for directory in reversed(created):  # deepest first
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return [out / file.name for file in files]


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it; put it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename `staging` to `target`, replacing what is there only once it is complete."""
    if not target.exists():
        os.rename(staging, target)
        return
    if _is_empty(target):
        target.rmdir()
        os.rename(staging, target)
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    previous = holder / "previous"
    os.rename(target, previous)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(previous, target)
        holder.rmdir()
        raise
    shutil.rmtree(holder, ignore_errors=True)


def _make_parents(directory: Path) -> list[Path]:
    """Create `directory` and its missing ancestors; return those created, outermost first."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    created = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except BaseException:
            for made in reversed(created):
                with contextlib.suppress(OSError):
                    made.rmdir()
            raise
        created.append(path)
    return created


def _absolute(path: Path) -> Path:
    """`path` made absolute with symlinks resolved, so a linked directory is written through."""
    return Path(os.path.realpath(path))


def _is_empty(directory: Path) -> bool:
    with os.scandir(directory) as entries:
        return next(entries, None) is None


def _fsync(path: Path) -> None:
    """Flush `path` (a file or a directory) to disk, where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8), replacing what is there only once it is complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(data: Any, path: Path) -> None:
    """`data` as indented JSON, with no NaN or infinity (null instead)."""
    text = json.dumps(jsonable(data), indent=2, allow_nan=False, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame` as CSV: no index, Unix line ends, UTF-8."""
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
