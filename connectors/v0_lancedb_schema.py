"""Arrow schema and row conversion of the LanceDB target (``connectors.v0_lancedb``): field
types as v0.3.39 maps them, and values as Arrow takes them, vectors checked against their
dimension so that a bad row fails before anything is written."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from cocotui.engine_type import (
    BasicValueType,
    EnrichedValueType,
    FieldSchema,
    StructType,
    TableType,
    ValueType,
)


class LanceDBTargetError(ValueError):
    """A spec, schema or row the LanceDB target cannot use."""


_BASIC: dict[str, Any] = {
    "Bytes": pa.binary,
    "Str": pa.string,
    "Bool": pa.bool_,
    "Int64": pa.int64,
    "Float32": pa.float32,
    "Float64": pa.float64,
    "Uuid": pa.uuid,
    "Date": pa.date32,
    "Time": lambda: pa.time64("us"),
    "LocalDateTime": lambda: pa.timestamp("us"),
    "OffsetDateTime": lambda: pa.timestamp("us", tz="UTC"),
    "TimeDelta": lambda: pa.duration("us"),
    "Json": pa.json_,
}


def check_identifier(name: str) -> None:
    """The key column goes into a delete filter: only plain identifiers (as v0 requires)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise LanceDBTargetError(f"Invalid identifier: {name}")


def arrow_schema(key_field: FieldSchema, value_fields: Sequence[FieldSchema]) -> pa.Schema:
    return pa.schema([arrow_field(f) for f in (key_field, *value_fields)])


def arrow_field(field: FieldSchema) -> pa.Field:
    return pa.field(field.name, arrow_type(field.value_type), nullable=field.value_type.nullable)


def arrow_type(value_type: EnrichedValueType) -> pa.DataType:
    typ = value_type.type
    if isinstance(typ, StructType):
        return pa.struct([arrow_field(f) for f in typ.fields])
    if isinstance(typ, TableType):
        return pa.list_(pa.struct([arrow_field(f) for f in typ.row.fields]))
    return _basic_type(typ)


def _basic_type(typ: BasicValueType) -> pa.DataType:
    if typ.kind in _BASIC:
        return _BASIC[typ.kind]()
    if typ.kind == "Vector" and typ.vector is not None:
        element = _basic_type(typ.vector.element_type)
        if typ.vector.dimension is None:
            return pa.list_(element)
        return pa.list_(element, typ.vector.dimension)
    if typ.kind == "Range":
        return pa.struct([pa.field("start", pa.int64()), pa.field("end", pa.int64())])
    raise LanceDBTargetError(f"LanceDB cannot store a field of type {typ}")


def sql_literal(value: Any) -> str:
    """A key value in a LanceDB filter expression."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, uuid.UUID):
        return f"x'{value.hex}'"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LanceDBTargetError(f"LanceDB cannot filter on a key of type {type(value).__name__}")
    return str(value)


def arrow_value(typ: ValueType, value: Any, where: str) -> Any:
    """``value`` of type ``typ`` as Arrow takes it; ``where`` names it in errors."""
    if value is None:
        return None
    if isinstance(typ, StructType):
        return _fields_value(typ.fields, value, where)
    if isinstance(typ, TableType):
        if isinstance(value, Mapping):  # a KTable: key -> rest of the row
            keys = typ.row.fields[: typ.num_key_parts]
            rest = typ.row.fields[typ.num_key_parts :]
            return [
                _fields_value(keys, k, where) | _fields_value(rest, v, where)
                for k, v in value.items()
            ]
        return [_fields_value(typ.row.fields, row, where) for row in value]
    if isinstance(value, uuid.UUID):
        return value.bytes
    if typ.kind == "Range":
        return {"start": value[0], "end": value[1]}
    if typ.kind == "Json":
        return json.dumps(value, sort_keys=True, default=str)
    if typ.vector is not None:
        items = list(value)
        dimension = typ.vector.dimension
        if dimension is not None and len(items) != dimension:
            raise LanceDBTargetError(
                f"{where}: the vector has dimension {len(items)}, the column's is {dimension}"
            )
        return [arrow_value(typ.vector.element_type, item, where) for item in items]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _fields_value(fields: Sequence[FieldSchema], value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {f.name: arrow_value(f.value_type.type, value.get(f.name), where) for f in fields}
    if isinstance(value, tuple):
        return {
            f.name: arrow_value(f.value_type.type, v, where)
            for f, v in zip(fields, value, strict=False)
        }
    if hasattr(value, "__dataclass_fields__"):
        return {
            f.name: arrow_value(f.value_type.type, getattr(value, f.name), where) for f in fields
        }
    return {fields[0].name: arrow_value(fields[0].value_type.type, value, where)}


def arrow_rows(
    key_field: FieldSchema,
    value_fields: Sequence[FieldSchema],
    rows: Mapping[Any, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Upserted rows as Arrow rows (key column first)."""
    converted = []
    for key, value in rows.items():
        where = f"row {key!r}"
        row = {key_field.name: arrow_value(key_field.value_type.type, key, where)}
        for field in value_fields:
            row[field.name] = arrow_value(
                field.value_type.type, value.get(field.name), f"{where}, field '{field.name}'"
            )
        converted.append(row)
    return converted
