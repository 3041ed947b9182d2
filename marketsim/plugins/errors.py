"""What can go wrong finding, loading and checking a plugin, each naming the plugin.

Every error says which plugin (its name) and where it came from (its package or file),
so a researcher can tell a typo in a scenario from a broken installation. The error a
running hook raises is `marketsim.plugins.runtime.PluginRunError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from marketsim.core.errors import InputError, did_you_mean, quoted


class PluginError(InputError):
    """A plugin cannot be used; `str()` says which one and why (bad input, exit 2)."""


class UnknownPluginError(PluginError, LookupError):
    """No plugin has this name; the message lists the available ones."""

    def __init__(self, name: str, available: Sequence[str]) -> None:
        self.name = name
        self.available = tuple(available)
        super().__init__(name, self.available)

    def __str__(self) -> str:
        known = quoted(self.available) if self.available else "none found"
        return f"unknown plugin {self.name!r} (available: {known})" + did_you_mean(
            self.name, self.available
        )


class PluginConflictError(PluginError):
    """Two plugins claim the same name."""

    def __init__(self, name: str, origins: Sequence[str]) -> None:
        self.name = name
        self.origins = tuple(origins)
        super().__init__(name, self.origins)

    def __str__(self) -> str:
        where = " and ".join(self.origins)
        return f"two plugins claim the name {self.name!r}: {where}; rename or remove one"


class PluginLoadError(PluginError):
    """A plugin's module failed to import; the cause is chained (`__cause__`)."""

    def __init__(self, name: str, origin: str, cause: BaseException) -> None:
        self.name = name
        self.origin = origin
        self.cause = cause
        super().__init__(name, origin, cause)

    def __str__(self) -> str:
        cause = f"{type(self.cause).__name__}: {self.cause}"
        return f"plugin {self.name!r} from {self.origin} failed to import: {cause}"


class PluginDefinitionError(PluginError):
    """A plugin imported but does not follow the plugin interface (refused at registration)."""

    def __init__(self, name: str, origin: str, problems: Sequence[str]) -> None:
        self.name = name
        self.origin = origin
        self.problems = tuple(problems)
        super().__init__(name, origin, self.problems)

    def __str__(self) -> str:
        head = f"plugin {self.name!r} from {self.origin} is refused: "
        if len(self.problems) == 1:
            return head + self.problems[0]
        return head + "".join(f"\n  - {p}" for p in self.problems)
