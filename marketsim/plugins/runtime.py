"""The active plugins of one model run, and the one place their hooks are called.

Python hooks run in scenario order; a hook that raises stops the run with a
`PluginRunError` naming the plugin, the hook and the step. Kernel hooks are handed to
the customer kernel as first-class numba functions (one per hook point at most), with
the built-in identity wherever no plugin provides one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from marketsim.plugins.base import HOOKS, KERNEL_HOOKS, Plugin

if TYPE_CHECKING:
    from marketsim.plugins.context import StepContext
    from marketsim.scenario.schema import Scenario


class PluginRunError(RuntimeError):
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
        self._arguments: tuple[Any, ...] | None = None

    @classmethod
    def for_scenario(cls, scenario: Scenario, model: Any) -> PluginSet:
        """Activate the scenario's `behaviours` and let each plugin set itself up."""
        if not scenario.behaviours:
            return cls([])
        from marketsim.plugins import activate

        plugins = cls(activate(scenario))
        for plugin in plugins.plugins:
            plugins._guard(plugin, "setup", None, plugin.setup, model)
        return plugins

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

    def kernel_hooks(self) -> dict[str, tuple[Any, np.ndarray]]:
        """Kernel hooks as the reference engine takes them: name -> (function, params)."""
        return {hook: (fn, p.kernel_params()) for hook, (p, fn) in self._kernel.items()}

    def kernel_arguments(self) -> tuple[Any, ...]:
        """(functions, provided flags, parameters) for the customer kernel, built once."""
        if self._arguments is None:
            from marketsim.kernels.customer_step import identity_hook

            hooks = self.kernel_hooks()
            self._arguments = (
                tuple(hooks[h][0] if h in hooks else identity_hook for h in KERNEL_HOOKS),
                np.array([h in hooks for h in KERNEL_HOOKS], dtype=np.bool_),
                tuple(
                    np.ascontiguousarray(hooks[h][1], dtype=np.float64)
                    if h in hooks
                    else np.zeros(0)
                    for h in KERNEL_HOOKS
                ),
            )
        return self._arguments

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
