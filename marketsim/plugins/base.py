"""What a behaviour plugin is: the one extension point for changing how agents behave.

A plugin is a subclass of `Plugin` that declares its `name`, `version`,
`description`, a pydantic `Params` model (every field with a default, a description
and, in `json_schema_extra={"unit": ...}`, its unit) and implements any of the hooks
below. A scenario switches it on by name only:

    behaviours:
      - plugin: threshold_contagion
        threshold: 0.3

Two speeds, at the same named hook points:

* Python hooks (methods, no-ops by default) run once per step on whole arrays (per
  batch) or once per agent (`lead_selection`, `broker`). Easy to write; numpy-fast.
* Kernel hooks (`kernels = {"word_of_mouth": fn, ...}`) are numba functions with the
  signature `KERNEL_SIGNATURE`, called for every person from inside the hot loop (no
  Python per customer). `kernel_params()` hands them their parameters as float64s.

Hook points, in the order a step runs them:

* `price(ctx)`: change `ctx.inputs.price[segment, product]` (share of list price paid).
* `exposure(ctx)` / kernel `exposure`: response to channel exposures. Python: change
  `ctx.inputs.exposure[channel, segment]` or `ctx.inputs.impact[channel]`; kernel:
  `value` is the weighted exposure person `i` received this step (sum of impact x
  contacts over channels); return the weight that enters awareness and ad memory.
* `word_of_mouth(ctx)` / kernel `word_of_mouth`: the word-of-mouth input of each person
  (`ctx.talk`, talking contacts; the kernel gets it as `value` and returns the new one).
* `persuasion(ctx)` / kernel `persuasion`: the interest pressure on an aware person.
* `purchase(ctx)` / kernel `purchase`: purchase chances (`ctx.seg` columns, or per
  person in the kernel: `value` is the chance, return the new chance).
* `lead_selection(rep, offered) -> offered`: which leads a salesperson works, in order.
* `broker(agent, offered) -> offered`: which prospects a broker works, in order.
* `after_step(ctx)`: look at or adjust the market after every agent has moved.

A hook that raises stops the run with the plugin's name and step (exit code 1).
"""

from __future__ import annotations

from abc import ABC
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numba import types
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from marketsim.plugins.context import StepContext

HOOKS: tuple[str, ...] = (
    "price",
    "exposure",
    "word_of_mouth",
    "persuasion",
    "purchase",
    "lead_selection",
    "broker",
    "after_step",
)
"""Every hook point, in the order a step reaches them."""

KERNEL_HOOKS: tuple[str, ...] = ("exposure", "word_of_mouth", "persuasion", "purchase")
"""Hook points that also take a per-person numba function."""

KERNEL_SIGNATURE = types.float64(
    types.uint64,  # key: the step's random stream key (draw with marketsim.kernels.rng)
    types.int64,  # i: the person's row
    types.int64,  # s: the person's segment
    types.float64,  # value: what the core computed (see each hook)
    types.int8[::1],  # stage: every person's funnel stage (read only)
    types.int64[::1],  # indptr: contact network (CSR)
    types.int32[::1],  # indices
    types.float64[::1],  # params: the plugin's `kernel_params()`
)
"""The one signature of every kernel hook; it returns the new `value`."""


class NoParams(BaseModel):
    """Parameters of a plugin that has none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Plugin(ABC):
    """Base of every behaviour plugin, built-in or third-party."""

    name: ClassVar[str]
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams
    kernels: ClassVar[dict[str, Any]] = {}

    def __init__(self, params: BaseModel) -> None:
        self.params = params

    def kernel_params(self) -> np.ndarray:
        """Numbers handed to kernel hooks, in `Params` field order (bools as 0/1)."""
        values = [float(v) for v in self.params.model_dump().values() if _numeric(v)]
        return np.array(values, dtype=np.float64)

    def setup(self, model: Any) -> None:
        """Called once when the model is built; keep references or allocate state."""

    def price(self, ctx: StepContext) -> None:
        """Change this step's prices."""

    def exposure(self, ctx: StepContext) -> None:
        """Change this step's channel exposures."""

    def word_of_mouth(self, ctx: StepContext) -> None:
        """Change each person's word-of-mouth input."""

    def persuasion(self, ctx: StepContext) -> None:
        """Change this step's persuasion parameters."""

    def purchase(self, ctx: StepContext) -> None:
        """Change this step's purchase chances."""

    def lead_selection(self, rep: Any, offered: np.ndarray) -> np.ndarray:
        """Accounts `rep` works this step, in order (default: as offered)."""
        return offered

    def broker(self, agent: Any, offered: np.ndarray) -> np.ndarray:
        """Prospects broker `agent` works this step, in order (default: as offered)."""
        return offered

    def after_step(self, ctx: StepContext) -> None:
        """Look at or adjust the market once everyone has moved."""


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float | bool)
