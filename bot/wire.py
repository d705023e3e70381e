"""botbuilder models ↔ Bot Framework JSON, without msrest on the hot path.

msrest's Serializer and Deserializer check every field against its declared type on every call; turning
one incoming activity into a model and one reply back into JSON cost more CPU than the rest of a turn.
These walk the same `_attribute_map` the models declare, so the wire names and nesting are the SDK's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

import botbuilder.schema as schema
import botbuilder.schema.teams as teams_schema
from msrest.serialization import Deserializer, Model

M = TypeVar("M", bound=Model)
_SCALARS = frozenset({"str", "bool", "int", "long", "float", "object", "bytearray"})


def to_json(model: Any) -> Any:
    """A model (or a list/dict of them) as JSON: wire names, no nulls, UTC timestamps ending in Z."""
    if isinstance(model, Model):
        out = {}
        for name, spec in model._attribute_map.items():
            value = getattr(model, name, None)
            if value is not None and name != "additional_properties":
                out[spec["key"]] = to_json(value)
        if "additional_properties" in model._attribute_map:  # msrest sends extras only when declared
            out.update({k: to_json(v) for k, v in (model.additional_properties or {}).items()})
        return out
    if isinstance(model, list | tuple):
        return [to_json(item) for item in model]
    if isinstance(model, dict):
        return {key: to_json(value) for key, value in model.items()}
    if isinstance(model, datetime):
        return _iso(model)
    if isinstance(model, Enum):
        return model.value
    return model


def _iso(moment: datetime) -> str:
    # msrest's form: UTC, milliseconds at least, trailing zeros of the microseconds dropped.
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    fraction = str(utc.microsecond).rjust(6, "0").rstrip("0").ljust(3, "0")
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{fraction}Z"


def from_json(cls: type[M], data: Any) -> M | None:
    """Build a model from JSON; keys the model doesn't declare go to additional_properties, as in msrest."""
    if not isinstance(data, dict):
        return None
    fields = _fields(cls)
    model = cls(**{name: _value(kind, data[key]) for key, (name, kind) in fields.items() if key in data})
    # Like msrest, keep undeclared keys on every model: Teams' mention "text"/"mentioned" live there, and
    # so does conversation "tenantId" (the schema declares "tenantID").
    model.additional_properties = {key: value for key, value in data.items() if key not in fields}
    return model


@cache
def _fields(cls: type[Model]) -> dict[str, tuple[str, Any]]:
    declared = cls._attribute_map.items()
    return {spec["key"]: (name, spec["type"]) for name, spec in declared if name != "additional_properties"}


def _value(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(kind, str):  # a few teams models name their class directly
        return from_json(kind, value)
    if kind in _SCALARS:
        return value
    if kind == "iso-8601":
        return _datetime(value)
    if kind.startswith("["):
        return [_value(kind[1:-1], item) for item in value] if isinstance(value, list) else None
    if kind.startswith("{"):
        return (
            {key: _value(kind[1:-1], item) for key, item in value.items()}
            if isinstance(value, dict)
            else None
        )
    model = _model(kind)
    return from_json(model, value) if model is not None else value


def _datetime(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        # Formats fromisoformat doesn't take (e.g. more than 7 fractional digits): msrest's own parser.
        return Deserializer.deserialize_iso(text)


@cache
def _model(name: str) -> type[Model] | None:
    for module in (schema, teams_schema):
        model = getattr(module, name, None)
        if isinstance(model, type) and issubclass(model, Model):
            return model
    return None
