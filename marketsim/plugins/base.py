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
  signature `KERNEL_SIGNATURE` (`marketsim.kernels.hooks`), called for every person
  from inside the hot loop (no Python per customer). `kernel_params()` hands them
  their parameters as float64s.

Hook points:

* `price(ctx)`: change `ctx.inputs.price[segment, product]` (share of list price paid).
* `exposure(ctx)` / kernel `exposure`: response to channel exposures. Python: change
  `ctx.inputs.exposure[channel, segment]` or `ctx.inputs.impact[channel]`; kernel:
  `value` is the weighted exposure person `i` received this step (sum of impact x
  contacts over channels); return the weight that enters awareness and ad memory.
* `persuasion(ctx)` / kernel `persuasion`: the interest pressure on an aware person
  (Python: `ctx.seg` columns such as `PERSUASION`, `INTEREST`, `WORD_OF_MOUTH`; kernel:
  `value` is the pressure `persuasion x (1 - exp(-memory)) + word of mouth`).
* `purchase(ctx)` / kernel `purchase`: purchase chances (`ctx.seg` columns `PURCHASE`,
  `LEAD_CONVERSION`, `REPEAT`, or per person in the kernel: `value` is the chance,
  return the new chance).
* `churn(ctx)` / kernel `churn`: a customer's chance to lapse this step (Python:
  `ctx.seg` columns `CHURN`, `DISSATISFIED_CHURN`, `CHURN_PRICE`; kernel: `value` is
  the person's chance after satisfaction and price, capped at 1; a subscriber is asked
  at each bill, with the chance of lapsing over the billing period).
* kernel `satisfaction`: `value` is the chance that the purchase person `i` just made
  satisfies them (the product's quality, less above the reference price); return the
  new chance.
* `word_of_mouth(ctx)` / kernel `word_of_mouth`: the word-of-mouth input of each person
  who is unaware or aware (`ctx.talk`, talking contacts minus detractors; the kernel
  gets it as `value` and returns the new one; it is multiplied by the segment's
  `WORD_OF_MOUTH` rate).
* `lead_selection(rep, offered) -> offered`: which leads (account indices) a
  salesperson works, in order; the rep then takes as many as it has capacity for.
* `sales_transition(transition, chances, step) -> chances`: the B2B funnel's stage
  transitions, once per step each: `"qualify"` (per account called this step, in call
  order: the chance the call books an appointment), `"approve"` (per segment: the
  chance a buying-centre member approves at a meeting) and `"win"` (per segment: our
  weight in a buying decision, pull x trust, against competition and the status quo).
  Return an array of the same shape; chances stay in [0, 1], the weight >= 0.
* `broker(agent, offered) -> offered`: which prospects a broker works, in order.
* `after_step(ctx)`: look at or adjust the market after every agent has moved and the
  step is booked (a plugin that moves people between stages updates
  `ctx.market.stage_counts` too, in real people: each person counts
  `represents / size` of its segment).

A plugin may keep per-person state: `state = (StateColumn("loyalty", initial=0.0), ...)`
declares columns (name, dtype, an initial value or a distribution of the scenario's trait
families); `self.column("loyalty")` is the live column for Python hooks, kernels get them
in `KernelView.state` (and as they were at the start of the step in `.seen`), and
`Customer.plugin_state` shows a person's values.

A plugin may take per-segment values: `SegmentParams` (a `PluginParams` model of numbers,
each with a default and bounds) is set per segment under the behaviour's `per_segment:`
(`{plugin: NAME, per_segment: {urban: {boost: 0.2}}}`), every segment it leaves out at
the defaults. `self.segment("urban").boost` reads them in Python hooks, kernels get
`KernelView.segments` (float64 [segment, value], fields in declared order).

A plugin may report per-step outputs: `metrics = (PluginMetric("points_issued", "..."),)`
and `measure(self, ctx) -> {name: value}`, called once a step after `after_step`; each
becomes the column `plugin.<name>.<metric>` of timeseries.csv and a chart in the report.

Columns of `ctx.seg` are `SegmentColumn`s. Random draws use the counter-based generator
(`uniform` and friends in `marketsim.plugins.sdk`) with purposes from `self.purpose(k)`,
so results never depend on thread counts or the order of loops.

Several plugins on one hook point run in scenario order, each seeing what the previous
one left (kernel hooks: returned). Kernel hooks read `stage` as it was at the start of
the step. A hook that raises, or leaves a value out of range (`marketsim.plugins.runtime`),
stops the run with the plugin's name, hook and step (exit code 1).
"""

from __future__ import annotations

import zlib
from abc import ABC
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from marketsim.core.hooks import HOOKS
from marketsim.core.purposes import P_PLUGIN

if TYPE_CHECKING:
    from marketsim.plugins.context import StepContext
    from marketsim.scenario.schema import Scenario


class PluginParams(BaseModel):
    """Base of a plugin's `Params`: unknown keys, NaN and infinities refused; immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NoParams(PluginParams):
    """Parameters of a plugin that has none."""


def param(default: Any, description: str, *, unit: str | None = None, **constraints: Any) -> Any:
    """A `Params` field with its default, description, unit and constraints (`ge`, `le`, ...).

    `plugins show` prints the unit; validation messages use the constraints:

        class Params(PluginParams):
            threshold: float = param(0.3, "share of contacts needed", unit="share", ge=0, le=1)
    """
    extra = {"unit": unit} if unit else None
    return Field(default, description=description, json_schema_extra=extra, **constraints)


Path = tuple[str | int, ...]


PER_SEGMENT = "per_segment"
"""The key of a behaviour under which a scenario sets the plugin's `SegmentParams`."""


@dataclass(frozen=True)
class StateColumn:
    """A per-person column a plugin keeps (checked when the plugin is registered).

    Attributes:
        name: its name, unique in a scenario and not one of the core's columns.
        dtype: a numeric numpy dtype (`"float64"`, `"int32"`, `"bool"`, ...): values are
            kept as float64 (integers exactly up to 2**53) and shown in this dtype.
        initial: every person's starting value, or a distribution drawn once per person
            like a trait (`{"dist": "beta", "mean": 0.3, "sd": 0.1}`; families as in
            `segments.N.traits`).
        description: what it means.
    """

    name: str
    dtype: str = "float64"
    initial: float | Mapping[str, Any] = 0.0
    description: str = ""


@dataclass(frozen=True)
class PluginMetric:
    """A per-step output a plugin reports (`Plugin.measure`).

    Attributes:
        name: a Python identifier, unique among the plugin's metrics.
        description: what it measures (the report's label).
        unit: its unit, if any.
    """

    name: str
    description: str
    unit: str = ""


class Plugin(ABC):
    """Base of every behaviour plugin, built-in or third-party."""

    name: ClassVar[str]
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams
    SegmentParams: ClassVar[type[BaseModel]] = NoParams
    kernels: ClassVar[dict[str, Any]] = {}
    state: ClassVar[tuple[StateColumn, ...]] = ()
    metrics: ClassVar[tuple[PluginMetric, ...]] = ()
    index: int = 0
    """Position in the scenario's `behaviours` (set by `activate`)."""
    columns: np.ndarray = np.zeros((0, 0))
    """float64 [column, person]: the `state` columns, in declared order (set before setup)."""
    by_segment: Mapping[str, BaseModel] = MappingProxyType({})
    """The `SegmentParams` of every segment, by id in scenario order (set before setup)."""

    def __init__(self, params: BaseModel) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    @classmethod
    def python_hooks(cls) -> tuple[str, ...]:
        """The Python hooks this plugin implements (overrides), in step order."""
        return tuple(h for h in HOOKS if getattr(cls, h) is not getattr(Plugin, h))

    @classmethod
    def check(cls, params: BaseModel, scenario: Scenario) -> Iterable[tuple[Path, str]]:
        """Problems with `params` that need the scenario (e.g. segment ids it names).

        Yields (path inside the behaviour's mapping, message) pairs; each becomes a
        located `FILE:LINE:COL: behaviours.N.path: message` problem. Default: none.
        """
        return ()

    def column(self, name: str) -> np.ndarray:
        """The live per-person column `name` of this plugin's `state` (write to change it)."""
        names = [c.name for c in self.state]
        if name not in names:
            raise KeyError(f"plugin {self.name!r} declares no state column {name!r}: {names}")
        return self.columns[names.index(name)]

    def segment(self, segment_id: str) -> BaseModel:
        """This plugin's per-segment values (`SegmentParams`) for segment `segment_id`."""
        if segment_id not in self.by_segment:
            raise KeyError(
                f"plugin {self.name!r} has per-segment values for {list(self.by_segment)}, "
                f"not {segment_id!r}"
            )
        return self.by_segment[segment_id]

    def segment_values(self) -> np.ndarray:
        """float64 [segment, value]: the per-segment values kernels get, in field order."""
        rows = [_numbers(values) for values in self.by_segment.values()]
        width = len(rows[0]) if rows else 0
        return np.array(rows, dtype=np.float64).reshape(len(rows), width)

    def purpose(self, k: int = 0) -> int:
        """Random-draw purpose number `k` (0 to 15) of this plugin instance.

        Distinct for every plugin name and position in `behaviours`, and never one the
        core uses, so two plugins (or two copies of one) never share random numbers.
        """
        if not 0 <= k < 16:
            raise ValueError(f"`0 <= k < 16` must hold, but got {k=}")
        return (
            P_PLUGIN
            + ((zlib.crc32(self.name.encode()) & 0x3FF) << 10)
            + ((self.index & 63) << 4)
            + k
        )

    def kernel_params(self) -> np.ndarray:
        """Numbers handed to kernel hooks, in `Params` field order (bools as 0/1)."""
        return np.array(_numbers(self.params), dtype=np.float64)

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

    def churn(self, ctx: StepContext) -> None:
        """Change this step's churn parameters."""

    def lead_selection(self, rep: Any, offered: np.ndarray) -> np.ndarray:
        """Accounts `rep` works this step, in order (default: as offered)."""
        return offered

    def sales_transition(self, transition: str, chances: np.ndarray, step: int) -> np.ndarray:
        """The chances of a B2B stage transition this step (default: as given)."""
        return chances

    def broker(self, agent: Any, offered: np.ndarray) -> np.ndarray:
        """Prospects broker `agent` works this step, in order (default: as offered)."""
        return offered

    def after_step(self, ctx: StepContext) -> None:
        """Look at or adjust the market once everyone has moved."""

    def measure(self, ctx: StepContext) -> Mapping[str, float]:
        """This step's value of each of `metrics`, by name (called after `after_step`)."""
        return {}


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float | bool)


def _numbers(params: BaseModel) -> list[float]:
    """`params`' numeric fields as floats, in field order (bools as 0/1)."""
    return [float(v) for v in params.model_dump().values() if _numeric(v)]
