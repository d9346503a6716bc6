"""The value types of a flow's fields, shaped as CocoIndex v0's ``cocoindex.engine_type``.

Connectors receive these in ``get_setup_state(spec, key_fields_schema, value_fields_schema,
index_options)``: a :class:`FieldSchema` per field whose ``value_type`` is an
:class:`EnrichedValueType` over a :class:`BasicValueType`, :class:`StructType` or
:class:`TableType`. ``encode()``/``decode()`` give and read v0's JSON form, which is also how a
setup state holding them is stored.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

BasicKind = Literal[
    "Bytes",
    "Str",
    "Bool",
    "Int64",
    "Float32",
    "Float64",
    "Range",
    "Uuid",
    "Date",
    "Time",
    "LocalDateTime",
    "OffsetDateTime",
    "TimeDelta",
    "Json",
    "Vector",
    "Union",
]
TableKind = Literal["KTable", "LTable"]
TABLE_KINDS: tuple[str, str] = ("KTable", "LTable")


@dataclasses.dataclass
class VectorTypeSchema:
    element_type: BasicValueType
    dimension: int | None

    def __str__(self) -> str:
        dimension = "" if self.dimension is None else f", {self.dimension}"
        return f"Vector[{self.element_type}{dimension}]"

    __repr__ = __str__

    @staticmethod
    def decode(obj: dict[str, Any]) -> VectorTypeSchema:
        return VectorTypeSchema(BasicValueType.decode(obj["element_type"]), obj.get("dimension"))

    def encode(self) -> dict[str, Any]:
        return {"element_type": self.element_type.encode(), "dimension": self.dimension}


@dataclasses.dataclass
class UnionTypeSchema:
    variants: list[BasicValueType]

    def __str__(self) -> str:
        return f"Union[{' | '.join(str(v) for v in self.variants)}]"

    __repr__ = __str__

    @staticmethod
    def decode(obj: dict[str, Any]) -> UnionTypeSchema:
        return UnionTypeSchema([BasicValueType.decode(t) for t in obj["types"]])

    def encode(self) -> dict[str, Any]:
        return {"types": [v.encode() for v in self.variants]}


@dataclasses.dataclass
class BasicValueType:
    """A scalar kind; ``vector`` is set for ``Vector``, ``union`` for ``Union``."""

    kind: BasicKind
    vector: VectorTypeSchema | None = None
    union: UnionTypeSchema | None = None

    def __str__(self) -> str:
        if self.kind == "Vector" and self.vector is not None:
            return str(self.vector)
        if self.kind == "Union" and self.union is not None:
            return str(self.union)
        return self.kind

    __repr__ = __str__

    @staticmethod
    def decode(obj: dict[str, Any]) -> BasicValueType:
        kind = obj["kind"]
        if kind == "Vector":
            return BasicValueType(kind, vector=VectorTypeSchema.decode(obj))
        if kind == "Union":
            return BasicValueType(kind, union=UnionTypeSchema.decode(obj))
        return BasicValueType(kind)

    def encode(self) -> dict[str, Any]:
        encoded: dict[str, Any] = {"kind": self.kind}
        if self.kind == "Vector" and self.vector is not None:
            encoded.update(self.vector.encode())
        elif self.kind == "Union" and self.union is not None:
            encoded.update(self.union.encode())
        return encoded


@dataclasses.dataclass
class EnrichedValueType:
    """A value type with its nullability and attributes (``attrs``)."""

    type: ValueType
    nullable: bool = False
    attrs: dict[str, Any] | None = None

    def __str__(self) -> str:
        text = str(self.type) + ("?" if self.nullable else "")
        if self.attrs:
            text += f" [{', '.join(f'{k}: {v}' for k, v in self.attrs.items())}]"
        return text

    __repr__ = __str__

    @staticmethod
    def decode(obj: dict[str, Any]) -> EnrichedValueType:
        return EnrichedValueType(
            decode_value_type(obj["type"]), obj.get("nullable", False), obj.get("attrs")
        )

    def encode(self) -> dict[str, Any]:
        encoded: dict[str, Any] = {"type": self.type.encode()}
        if self.nullable:
            encoded["nullable"] = True
        if self.attrs is not None:
            encoded["attrs"] = self.attrs
        return encoded


@dataclasses.dataclass
class FieldSchema:
    """A named field and its type, as connectors see it."""

    name: str
    value_type: EnrichedValueType
    description: str | None = None

    def __str__(self) -> str:
        return f"{self.name}: {self.value_type}"

    __repr__ = __str__

    @staticmethod
    def decode(obj: dict[str, Any]) -> FieldSchema:
        return FieldSchema(obj["name"], EnrichedValueType.decode(obj), obj.get("description"))

    def encode(self) -> dict[str, Any]:
        # v0's flat form: the enriched type's keys with the name beside them.
        encoded = self.value_type.encode()
        encoded["name"] = self.name
        if self.description is not None:
            encoded["description"] = self.description
        return encoded


@dataclasses.dataclass
class StructSchema:
    fields: list[FieldSchema]
    description: str | None = None

    def __str__(self) -> str:
        return f"Struct({', '.join(str(f) for f in self.fields)})"

    __repr__ = __str__

    @classmethod
    def decode(cls, obj: dict[str, Any]) -> StructSchema:
        return cls([FieldSchema.decode(f) for f in obj["fields"]], obj.get("description"))

    def encode(self) -> dict[str, Any]:
        encoded: dict[str, Any] = {"fields": [f.encode() for f in self.fields]}
        if self.description is not None:
            encoded["description"] = self.description
        return encoded


@dataclasses.dataclass
class StructType(StructSchema):
    kind: Literal["Struct"] = "Struct"

    __str__ = StructSchema.__str__
    __repr__ = StructSchema.__str__

    @classmethod
    def decode(cls, obj: dict[str, Any]) -> StructType:
        return cls([FieldSchema.decode(f) for f in obj["fields"]], obj.get("description"))

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "kind": self.kind}


@dataclasses.dataclass
class TableType:
    """A nested table: ``LTable`` (a list of rows) or ``KTable`` (rows keyed by their first
    ``num_key_parts`` fields)."""

    kind: TableKind
    row: StructSchema
    num_key_parts: int | None = None

    def __str__(self) -> str:
        if self.kind == "KTable":
            parts = 1 if self.num_key_parts is None else self.num_key_parts
            return f"KTable({parts})({self.row})"
        return f"LTable({self.row})"

    __repr__ = __str__

    @staticmethod
    def decode(obj: dict[str, Any]) -> TableType:
        return TableType(obj["kind"], StructSchema.decode(obj["row"]), obj.get("num_key_parts"))

    def encode(self) -> dict[str, Any]:
        encoded: dict[str, Any] = {"kind": self.kind, "row": self.row.encode()}
        if self.num_key_parts is not None:
            encoded["num_key_parts"] = self.num_key_parts
        return encoded


ValueType = BasicValueType | StructType | TableType


def decode_value_type(obj: dict[str, Any]) -> ValueType:
    kind = obj["kind"]
    if kind == "Struct":
        return StructType.decode(obj)
    if kind in TABLE_KINDS:
        return TableType.decode(obj)
    return BasicValueType.decode(obj)


def encode_value_type(value_type: ValueType) -> dict[str, Any]:
    return value_type.encode()


def decode_field_schemas(objs: list[dict[str, Any]]) -> list[FieldSchema]:
    return [FieldSchema.decode(o) for o in objs]


def basic(kind: BasicKind, *, nullable: bool = False) -> EnrichedValueType:
    """A shorthand for a basic (non-vector, non-union) field type."""
    return EnrichedValueType(BasicValueType(kind), nullable)


def encode_enriched_type(annotation: Any) -> dict[str, Any] | None:
    """v0's JSON form of the type a Python annotation stands for (``None`` for ``None``)."""
    if annotation is None:
        return None
    from cocotui.value_types import enriched_type_of  # the analysis imports this module

    return enriched_type_of(annotation).encode()


__all__ = [
    "BasicValueType",
    "EnrichedValueType",
    "FieldSchema",
    "StructSchema",
    "StructType",
    "TableType",
    "UnionTypeSchema",
    "ValueType",
    "VectorTypeSchema",
    "decode_field_schemas",
    "decode_value_type",
    "encode_enriched_type",
    "encode_value_type",
]
