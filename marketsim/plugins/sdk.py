"""Everything a plugin author imports, in one module: `from marketsim.plugins.sdk import ...`.

- The plugin interface: `Plugin`, `PluginParams`, `NoParams`, `param`, `StateColumn`
  (a per-person column a plugin keeps), `PluginMetric` (a per-step output), the hook
  names `HOOKS` and `KERNEL_HOOKS`, `StepContext` (what a Python hook sees),
  `KERNEL_SIGNATURE` and `VIEW_SIGNATURE` (the two forms of a kernel hook) and
  `KernelView` (what the second form reads).
- Parameter types with the scenario's own rules and messages: `Id`, `Probability`,
  `NonNegative`, `Positive`, `StepIndex`, `Number`.
- The market's layout: funnel stages (`STAGES`, `UNAWARE` ... `CUSTOMER`) and the
  columns of `ctx.seg` (`SegmentColumn`).
- Counter-based random numbers: `uniform`, `draw`, `entity_hash` (numba), `uniform_py`,
  `uniforms` (arrays), `key_to_params` / `key_from_params`, `P_PLUGIN`.
- Words for `Plugin.check` messages: `show`, `quoted`, `did_you_mean`.
- `portable`: `exp`, `log`, `power` (elementwise) and `matmul` with the same bits on
  every machine (numpy's own and BLAS pick CPU-specific code), for Python hooks.

The numba-backed names (`KERNEL_SIGNATURE` and the random-number functions) load on
first use, so a plugin without kernels never pays for numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketsim.core import portable
from marketsim.core.errors import did_you_mean, quoted, show
from marketsim.core.hooks import HOOKS, KERNEL_HOOKS
from marketsim.core.layout import NEVER_CUSTOMER, SegmentColumn
from marketsim.core.lazy import lazy_attributes
from marketsim.core.purposes import P_PLUGIN
from marketsim.core.stages import (
    AWARE,
    CUSTOMER,
    INTERESTED,
    LEAD,
    OPPORTUNITY,
    QUALIFIED,
    STAGES,
    UNAWARE,
)
from marketsim.plugins.base import (
    NoParams,
    Plugin,
    PluginMetric,
    PluginParams,
    StateColumn,
    param,
)
from marketsim.plugins.context import StepContext
from marketsim.scenario.types import Id, NonNegative, Number, Positive, Probability, StepIndex

if TYPE_CHECKING:
    from marketsim.kernels.hooks import KERNEL_SIGNATURE, VIEW_SIGNATURE, KernelView
    from marketsim.plugins.rng import (
        draw,
        entity_hash,
        key_from_params,
        key_to_params,
        uniform,
        uniform_py,
        uniforms,
    )

_LAZY = {
    "KERNEL_SIGNATURE": "marketsim.kernels.hooks",
    "VIEW_SIGNATURE": "marketsim.kernels.hooks",
    "KernelView": "marketsim.kernels.hooks",
    "draw": "marketsim.plugins.rng",
    "entity_hash": "marketsim.plugins.rng",
    "key_from_params": "marketsim.plugins.rng",
    "key_to_params": "marketsim.plugins.rng",
    "uniform": "marketsim.plugins.rng",
    "uniform_py": "marketsim.plugins.rng",
    "uniforms": "marketsim.plugins.rng",
}

__all__ = [
    "AWARE",
    "CUSTOMER",
    "HOOKS",
    "INTERESTED",
    "KERNEL_HOOKS",
    "KERNEL_SIGNATURE",
    "LEAD",
    "NEVER_CUSTOMER",
    "OPPORTUNITY",
    "P_PLUGIN",
    "QUALIFIED",
    "STAGES",
    "UNAWARE",
    "VIEW_SIGNATURE",
    "Id",
    "KernelView",
    "NoParams",
    "NonNegative",
    "Number",
    "Plugin",
    "PluginMetric",
    "PluginParams",
    "Positive",
    "Probability",
    "SegmentColumn",
    "StateColumn",
    "StepContext",
    "StepIndex",
    "did_you_mean",
    "draw",
    "entity_hash",
    "key_from_params",
    "key_to_params",
    "param",
    "portable",
    "quoted",
    "show",
    "uniform",
    "uniform_py",
    "uniforms",
]


__getattr__ = lazy_attributes(__name__, _LAZY)
