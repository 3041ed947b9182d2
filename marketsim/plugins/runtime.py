"""The active plugins of one model run, and the one place their hooks are called.

Python hooks run in scenario order; a hook that raises stops the run with a
`PluginRunError` naming the plugin, the hook and the step. Kernel hooks are handed to
the customer kernel as first-class numba functions (one per hook point at most), with
the built-in identity wherever no plugin provides one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from marketsim.core.errors import RunError
from marketsim.core.hooks import HOOKS, KERNEL_HOOKS
from marketsim.plugins.base import Plugin
from marketsim.plugins.loader import registry

if TYPE_CHECKING:
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
        self._kernel: dict[str, tuple[Plugin, Any]] = {}
        for plugin in plugins:
            for hook, fn in type(plugin).kernels.items():
                if hook in self._kernel:
                    other = self._kernel[hook][0].name
                    raise ValueError(
                        f"plugins {other!r} and {plugin.name!r} both provide the kernel hook "
                        f"{hook!r}; at most one plugin may"
                    )
                self._kernel[hook] = (plugin, fn)
        self._kernel_hooks: KernelHooks | None = None

    @classmethod
    def for_scenario(cls, scenario: Scenario, model: Any) -> PluginSet:
        """The prepared scenario's `behaviours` as plugins, each set up on `model`.

        Each instance's `index` is its position in `behaviours`.
        """
        if not scenario.behaviours:
            return cls([])
        available = registry()
        plugins = []
        for index, item in enumerate(scenario.behaviours):
            plugin_cls = available.load(item["plugin"])
            plugin = plugin_cls(plugin_cls.Params.model_validate(_params(item)))
            plugin.index = index
            plugins.append(plugin)
        active = cls(plugins)
        for plugin in plugins:
            active._guard(plugin, "setup", None, plugin.setup, model)
        return active

    def python_hooks(self, hook: str) -> list[Plugin]:
        """Plugins implementing the Python hook `hook`."""
        return self._python[hook]

    def call(self, hook: str, ctx: StepContext) -> None:
        """Run every plugin's Python hook `hook` on this step's context."""
        for plugin in self._python[hook]:
            self._guard(plugin, hook, ctx.step, getattr(plugin, hook), ctx)

    def select(self, hook: str, agent: Any, offered: np.ndarray, step: int) -> np.ndarray:
        """Let plugins reorder or filter what `agent` is offered (lead_selection, broker)."""
        for plugin in self._python[hook]:
            offered = np.asarray(
                self._guard(plugin, hook, step, getattr(plugin, hook), agent, offered)
            )
        return offered

    def kernel_hooks(self) -> KernelHooks:
        """The kernel hooks as the customer kernel and its reference take them, built once."""
        if self._kernel_hooks is None:
            from marketsim.kernels.customer_step import KernelHooks
            from marketsim.kernels.hooks import identity_hook

            self._kernel_hooks = KernelHooks(
                functions=tuple(
                    self._kernel[h][1] if h in self._kernel else identity_hook for h in KERNEL_HOOKS
                ),
                provided=np.array([h in self._kernel for h in KERNEL_HOOKS], dtype=np.bool_),
                params=tuple(
                    np.ascontiguousarray(self._kernel[h][0].kernel_params(), dtype=np.float64)
                    if h in self._kernel
                    else np.zeros(0)
                    for h in KERNEL_HOOKS
                ),
            )
        return self._kernel_hooks

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
    return {k: v for k, v in behaviour.items() if k != "plugin"}
