"""The active plugins of one model run, and the one place their hooks are called.

Hooks run in scenario order, Python and kernel hooks alike: several plugins on one hook
point form a chain, each seeing what the one before it left. Kernel hooks are handed to
the customer kernel chain by chain (`KernelHooks`), which calls them through function
pointers or has them compiled in (`marketsim.kernels.hook_chain`).

Every hook is guarded. One that raises, or leaves a value out of range (NaN or an
infinity anywhere, a chance outside [0, 1], a negative exposure), stops the run with a
`PluginRunError` naming the plugin, the hook, the step and where (the person or the
segment column) and the value; the command exits 1 and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from marketsim.core.errors import RunError
from marketsim.core.hooks import HOOKS, KERNEL_HOOKS
from marketsim.core.layout import CAPPED_COLUMNS, CHANCE_COLUMNS, SegmentColumn
from marketsim.plugins.base import PER_SEGMENT, Plugin
from marketsim.plugins.loader import registry

if TYPE_CHECKING:
    from pydantic import BaseModel

    from marketsim.kernels.customer_step import KernelHooks
    from marketsim.plugins.context import StepContext
    from marketsim.scenario.schema import Scenario


class PluginRunError(RunError):
    """A plugin failed during a run; says which plugin, hook and step."""


class PluginSet:
    """The plugins a scenario switched on, in its order."""

    def __init__(self, plugins: list[Plugin]) -> None:
        self.plugins = plugins
        self._python = {
            hook: [p for p in plugins if getattr(type(p), hook) is not getattr(Plugin, hook)]
            for hook in HOOKS
        }
        self._slots = [
            (plugin, hook) for hook in KERNEL_HOOKS for plugin in plugins if hook in plugin.kernels
        ]
        """Who holds each slot of `kernel_hooks()`: chains in `KERNEL_HOOKS` order."""
        self._kernel_hooks: KernelHooks | None = None

    @classmethod
    def for_scenario(
        cls, scenario: Scenario, model: Any, state: Callable[[Plugin], np.ndarray]
    ) -> PluginSet:
        """The prepared scenario's `behaviours` as plugins, each set up on `model`.

        Each instance's `index` is its position in `behaviours`; its `columns` are
        `state(plugin)` and its `by_segment` the per-segment values of every segment
        (defaults where the behaviour's `per_segment` leaves one out), given before
        `setup` runs.
        """
        if not scenario.behaviours:
            return cls([])
        available = registry()
        plugins = []
        for index, item in enumerate(scenario.behaviours):
            plugin_cls = available.load(item["plugin"])
            plugin = plugin_cls(plugin_cls.Params.model_validate(_params(item)))
            plugin.index = index
            plugin.by_segment = _by_segment(plugin_cls, item, scenario)
            plugin.columns = state(plugin)
            plugins.append(plugin)
        active = cls(plugins)
        for plugin in plugins:
            active._guard(plugin, "setup", None, plugin.setup, model)
        return active

    def metric_columns(self) -> list[tuple[Plugin, str, str]]:
        """(plugin, metric, timeseries column) of every metric: `plugin.<name>.<metric>`.

        A plugin listed more than once in `behaviours` names its columns
        `plugin.<name>@<position>.<metric>`.
        """
        names = [p.name for p in self.plugins]
        return [
            (
                p,
                m.name,
                f"plugin.{p.name if names.count(p.name) == 1 else f'{p.name}@{p.index}'}.{m.name}",
            )
            for p in self.plugins
            for m in p.metrics
        ]

    def measure(self, ctx: StepContext) -> dict[str, float]:
        """This step's plugin metrics by timeseries column, each checked (finite, as declared)."""
        values: dict[str, float] = {}
        reported: dict[int, dict[str, Any]] = {}
        for plugin, metric, column in self.metric_columns():
            if id(plugin) not in reported:
                got = dict(self._guard(plugin, "measure", ctx.step, plugin.measure, ctx))
                declared = [m.name for m in plugin.metrics]
                if sorted(got) != sorted(declared):
                    raise PluginRunError(
                        f"plugin {plugin.name!r} measured {sorted(got)} at step {ctx.step}, "
                        f"but declares the metrics {declared}"
                    )
                reported[id(plugin)] = got
            value = reported[id(plugin)][metric]
            if not (isinstance(value, int | float | np.number) and np.isfinite(value)):
                raise PluginRunError(
                    f"plugin {plugin.name!r} measured {metric} = {value!r} at step {ctx.step}, "
                    "expected a finite number"
                )
            values[column] = float(value)
        return values

    @property
    def any_python_hooks(self) -> bool:
        """Whether any plugin runs Python during a step (which may write people)."""
        return any(self._python.values())

    def python_hooks(self, hook: str) -> list[Plugin]:
        """Plugins implementing the Python hook `hook`."""
        return self._python[hook]

    def call(self, hook: str, ctx: StepContext) -> None:
        """Run every plugin's Python hook `hook` on this step's context, checking each."""
        for plugin in self._python[hook]:
            self._guard(plugin, hook, ctx.step, getattr(plugin, hook), ctx)
            problem = out_of_range(hook, ctx)
            if problem:
                raise PluginRunError(
                    f"plugin {plugin.name!r} left {problem} after its {hook!r} hook at step "
                    f"{ctx.step}"
                )

    def select(self, hook: str, agent: Any, offered: np.ndarray, step: int) -> np.ndarray:
        """Let plugins reorder or filter what `agent` is offered (lead_selection, broker)."""
        for plugin in self._python[hook]:
            offered = np.asarray(
                self._guard(plugin, hook, step, getattr(plugin, hook), agent, offered)
            )
        return offered

    def transition(self, transition: str, chances: np.ndarray, step: int) -> np.ndarray:
        """`chances` of a B2B stage transition after every plugin's `sales_transition`."""
        high, expected = (
            (np.inf, "a weight >= 0") if transition == "win" else (1.0, "a chance in [0, 1]")
        )
        for plugin in self._python["sales_transition"]:
            fn = plugin.sales_transition
            out = np.asarray(
                self._guard(plugin, "sales_transition", step, fn, transition, chances, step)
            )
            where = f"from its 'sales_transition' hook ({transition!r}) at step {step}"
            if out.shape != chances.shape:
                raise PluginRunError(
                    f"plugin {plugin.name!r} returned shape {out.shape} {where}; expected "
                    f"{chances.shape}"
                )
            bad = _first(out, 0.0, high)
            if bad is not None:
                raise PluginRunError(
                    f"plugin {plugin.name!r} returned {transition}{list(bad[0])} = {bad[1]!r} "
                    f"{where}; expected {expected}"
                )
            chances = out
        return chances

    def kernel_hooks(self) -> KernelHooks:
        """The kernel hooks as the customer kernel and its reference take them, built once."""
        if self._kernel_hooks is None:
            from marketsim.kernels.customer_step import HookSlot, KernelHooks

            self._kernel_hooks = KernelHooks.chains(
                [
                    [
                        HookSlot(
                            type(p).kernels[hook], p.kernel_params(), p.columns, p.segment_values()
                        )
                        for p, h in self._slots
                        if h == hook
                    ]
                    for hook in KERNEL_HOOKS
                ]
            )
        return self._kernel_hooks

    def run_kernel(self, step: int, run: Callable[[], np.ndarray]) -> np.ndarray:
        """`run()` (a customer step), with a kernel hook's fault named for the user."""
        from marketsim.kernels.hooks import HOOK_RANGES, HookFault

        try:
            return run()
        except HookFault as fault:
            plugin, hook = self._slots[fault.slot]
            where = f"its {hook!r} kernel hook at step {step} for person {fault.person}"
            if fault.raised is None:
                message = (
                    f"plugin {plugin.name!r} returned {fault.value!r} from {where}; expected "
                    f"{HOOK_RANGES[hook][2]}"
                )
                raise PluginRunError(message) from None
            error = fault.raised
            message = (
                f"plugin {plugin.name!r} failed in {where} (given {fault.value!r}): "
                f"{type(error).__name__}: {error}"
            )
            raise PluginRunError(message) from error

    @staticmethod
    def _guard(plugin: Plugin, hook: str, step: int | None, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:
            when = "while setting up" if step is None else f"at step {step}"
            raise PluginRunError(
                f"plugin {plugin.name!r} failed in its {hook!r} hook {when}: "
                f"{type(e).__name__}: {e}"
            ) from e


def _params(behaviour: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in behaviour.items() if k not in ("plugin", PER_SEGMENT)}


def _by_segment(
    cls: type[Plugin], behaviour: dict[str, Any], scenario: Scenario
) -> dict[str, BaseModel]:
    """Every segment's `SegmentParams`, by id in scenario order: as set, else defaults."""
    given = behaviour.get(PER_SEGMENT) or {}
    return {s.id: cls.SegmentParams.model_validate(given.get(s.id, {})) for s in scenario.segments}


def out_of_range(hook: str, ctx: StepContext) -> str | None:
    """What a Python hook left out of range in the arrays it may change, or None.

    Checked: everything finite; prices and exposures not negative; `ctx.seg`'s chances
    (`CHANCE_COLUMNS`) in [0, 1] and the columns capped per person (`CAPPED_COLUMNS`) >= 0.
    """
    if hook in ("price", "exposure"):
        inputs = ctx.inputs
        for name in ("price", "exposure", "impact"):
            bad = _first(getattr(inputs, name), 0.0, np.inf)
            if bad is not None:
                return (
                    f"ctx.inputs.{name}{list(bad[0])} = {bad[1]!r}, expected a finite number >= 0"
                )
    elif hook in ("persuasion", "purchase", "churn") and ctx.seg is not None:
        for columns, low, high, expected in (
            (tuple(SegmentColumn), -np.inf, np.inf, "a finite number"),
            (CHANCE_COLUMNS, 0.0, 1.0, "a chance in [0, 1]"),
            (CAPPED_COLUMNS, 0.0, np.inf, "a finite number >= 0"),
        ):
            bad = _first(ctx.seg[:, list(columns)], low, high)
            if bad is not None:
                s, c = bad[0]
                return f"{_cell(s, columns[c])} = {bad[1]!r}, expected {expected}"
    elif hook == "word_of_mouth" and ctx.talk is not None:
        bad = _first(ctx.talk, -np.inf, np.inf)
        if bad is not None:
            return (
                f"ctx.talk[{bad[0][0]}] (person {bad[0][0]}) = {bad[1]!r}, expected a finite number"
            )
    return None


def _first(a: np.ndarray, low: float, high: float) -> tuple[tuple[int, ...], float] | None:
    """The index and value of the first entry of `a` that is not finite in [low, high].

    One pass without temporaries first (a sum is finite only if every entry is), as
    `ctx.talk` has an entry per person.
    """
    if (
        np.isfinite(a.sum(dtype=np.float64))
        and (low == -np.inf or a.min() >= low)
        and (high == np.inf or a.max() <= high)
    ):
        return None
    bad = ~(np.isfinite(a) & (a >= low) & (a <= high))
    if not bad.any():
        return None
    where = tuple(int(x) for x in np.argwhere(bad)[0])
    return where, float(a[where])


def _cell(s: int, c: int) -> str:
    return f"ctx.seg[{s}, SegmentColumn.{SegmentColumn(c).name}] (segment {s})"
