"""The JSON Schema of a scenario's `behaviours`: one alternative per installed plugin.

Editors then complete a plugin's name and, once it is written, its parameters (and
under `per_segment`, its per-segment values) with their descriptions, units and bounds.
Each plugin is loaded (imported and checked) to read its `Params` and `SegmentParams`;
one that fails to load is left out and reported, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketsim.plugins.base import PER_SEGMENT
from marketsim.plugins.errors import PluginError
from marketsim.plugins.loader import registry


@dataclass(frozen=True)
class BehavioursSchema:
    """The `behaviours` list's item schema, the definitions it refers to, who was left out.

    Attributes:
        items: the schema of one behaviour (`oneOf` the plugins' schemas).
        defs: definitions referred to as `#/$defs/plugin.NAME.MODEL`.
        skipped: (plugin name, why) of each plugin that could not be loaded.
    """

    items: dict[str, Any]
    defs: dict[str, Any]
    skipped: list[tuple[str, str]]


def behaviours_schema() -> BehavioursSchema:
    """The schema of one `behaviours` item, over every plugin discovery finds."""
    available = registry()
    alternatives, defs, skipped = [], {}, []
    for name in available.names():
        try:
            cls = available.load(name)
        except PluginError as e:
            skipped.append((name, str(e)))
            continue
        template = f"#/$defs/plugin.{name}.{{model}}"
        params = cls.Params.model_json_schema(ref_template=template)
        defs |= {f"plugin.{name}.{k}": v for k, v in params.pop("$defs", {}).items()}
        per_segment = {}
        if cls.SegmentParams.model_fields:
            values = cls.SegmentParams.model_json_schema(ref_template=template)
            defs |= {f"plugin.{name}.{k}": v for k, v in values.pop("$defs", {}).items()}
            per_segment[PER_SEGMENT] = {
                "description": "per-segment values, by segment id (others keep the defaults)",
                "type": "object",
                "additionalProperties": values,
            }
        alternatives.append(
            {
                "title": name,
                "description": cls.description,
                "type": "object",
                "properties": {
                    "plugin": {"const": name, "description": "the plugin's name"},
                    **params.get("properties", {}),
                    **per_segment,
                },
                "required": ["plugin"],
                "additionalProperties": False,
            }
        )
    return BehavioursSchema({"oneOf": alternatives}, defs, skipped)
