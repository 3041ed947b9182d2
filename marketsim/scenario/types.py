"""The building blocks of every scenario section: numbers, ids and the frozen base model."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_serializer


def _not_bool(value: object) -> object:
    """Refuse YAML's yes/no/true/false where a number is meant (pydantic would take 1/0)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, found {str(value).lower()}")
    return value


Id = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$",
        max_length=64,
        description="an id: a letter, then letters, digits, '_' or '-'",
    ),
]
Number = Annotated[float, BeforeValidator(_not_bool)]
Probability = Annotated[Number, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[Number, Field(ge=0.0)]
Positive = Annotated[Number, Field(gt=0.0)]
Int = Annotated[int, Strict()]
StepIndex = Annotated[Int, Field(ge=0)]


class Frozen(BaseModel):
    """Base of every scenario section: immutable, unknown keys and infinities refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


class KindSpecific(Frozen):
    """A section with keys that mean something for one kind of it only.

    Such keys are left out when the section is written back (resolved scenarios,
    `with_values`), and refused when a file writes them for another kind
    (`marketsim.scenario.references`).
    """

    ONLY: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Kind -> the keys that apply to that kind only."""

    KIND_KEY: ClassVar[str] = "kind"
    """The key that says the kind, for messages."""

    @property
    def kind_name(self) -> str:
        """This section's kind."""
        return str(getattr(self, self.KIND_KEY))

    def misplaced(self) -> list[tuple[str, str]]:
        """(key, the kind it applies to) of each key written that means nothing here."""
        return [
            (key, kind)
            for kind, keys in self.ONLY.items()
            if kind != self.kind_name
            for key in keys
            if key in self.model_fields_set and getattr(self, key) != _NOTHING.get(key)
        ]

    @model_serializer(mode="wrap")
    def _relevant(self, handler: Any) -> Any:
        data = handler(self)
        for kind, keys in self.ONLY.items():
            if kind != self.kind_name:
                for key in keys:
                    data.pop(key, None)
        return data


_NOTHING = {"repurchase_every": 0.0}
"""Values of kind keys that say "not this kind" and so may be written for any kind."""
