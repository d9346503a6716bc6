"""Collected rows as ``mutate`` receives them, decoded per the annotation of its
``*all_mutations`` (``tuple[Spec, dict[K, V | None]]``), as CocoIndex v0 decodes them.

Keys: one key field arrives bare, several as a tuple, or as the annotated frozen dataclass or
NamedTuple (built by field name). Values: the annotated dataclass or NamedTuple, or a dict. Inside
them every field follows its own annotation: nested structs (from dataclasses, NamedTuples or
dicts), ``list[Struct]`` and ``dict[K, Struct]`` tables, vectors as lists or, for
``numpy.typing.NDArray[...]``, numpy arrays, ``uuid.UUID``, dates and times, enums. Where the
annotation says nothing (``Any``, a type variable, ``Json``) a value gets v0's default
representation: structs become dicts (tuples in keys), at any depth; everything else is passed on
as it was produced. Annotations nothing can be decoded to fail when the flow loads.
"""

from __future__ import annotations

import datetime
import enum
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from cocotui.annotations import (
    AnnotationError,
    is_any,
    is_ndarray,
    is_pydantic_model,
    mapping_types,
    ndarray_dtype,
    sequence_element,
    split_optional,
    strip_annotated,
    struct_class,
    struct_type_fields,
    type_name,
    union_variants,
)
from cocotui.values.shapes import struct_fields

Decoder = Callable[[Any], Any]
KeyDecoder = Callable[[tuple[Any, ...]], Any]
ValueDecoder = Callable[[dict[str, Any]], Any]


class RowDecodeError(ValueError):
    """A produced value that cannot take the annotated shape; it fails its row."""


_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})
_MISSING = object()


# ---------------------------------------------------------------------------------------------
# v0's default representation (for ``Any``)


def as_default(value: Any) -> Any:
    """``value`` as v0 hands an un-annotated value over: structs as dicts, at any depth."""
    if type(value) in _PLAIN:
        return value
    fields = struct_fields(value)
    if fields is not None:
        return {name: as_default(v) for name, v in fields.items()}
    if isinstance(value, list):
        return [as_default(v) for v in value]
    if isinstance(value, dict):
        return {as_default_key(k): as_default(v) for k, v in value.items()}
    return value


def as_default_key(value: Any) -> Any:
    """A key part as v0 hands an un-annotated one over: structs as tuples of their fields."""
    if type(value) in _PLAIN:
        return value
    fields = struct_fields(value)
    if fields is not None:
        return tuple(as_default_key(v) for v in fields.values())
    return value


def field_types(schemas: Sequence[Any]) -> dict[str, Any]:
    """Field name → the v0-shaped value type (``FieldSchema.value_type.type``) of the collected
    fields whose type is known."""
    found = {}
    for schema in schemas:
        value_type = getattr(getattr(schema, "value_type", None), "type", None)
        if value_type is not None:
            found[schema.name] = value_type
    return found


#: Element kinds of vectors v0 hands over as numpy arrays when the annotation says nothing.
_ARRAY_DTYPES = {"Float32": "float32", "Float64": "float64", "Int64": "int64"}


def default_decoder(value_type: Any) -> Decoder:
    """v0's default representation of a value of ``value_type`` (v0's ``engine_type`` shape,
    ``None`` when unknown): :func:`as_default`, except that vectors of numbers become numpy
    arrays (when numpy is installed), in structs and tables too."""
    kind = getattr(value_type, "kind", None)
    if kind == "Vector":
        element = getattr(getattr(value_type, "vector", None), "element_type", None)
        dtype = _ARRAY_DTYPES.get(getattr(element, "kind", ""))
        numpy = _numpy()
        if dtype is not None and numpy is not None:
            return lambda value: None if value is None else numpy.asarray(value, dtype=dtype)
    elif kind == "Struct":
        return _struct_to_dict(value_type.fields)
    elif kind == "LTable":
        row = _struct_to_dict(value_type.row.fields)
        if row is not as_default:
            return lambda value: (
                [row(r) for r in value] if isinstance(value, list) else as_default(value)
            )
    elif kind == "KTable":
        row = _struct_to_dict(value_type.row.fields[value_type.num_key_parts or 1 :])
        if row is not as_default:
            return lambda value: (
                {as_default_key(k): row(r) for k, r in value.items()}
                if isinstance(value, Mapping)
                else as_default(value)
            )
    return as_default


def _struct_to_dict(fields: Sequence[Any]) -> Decoder:
    decoders = {f.name: default_decoder(getattr(f.value_type, "type", None)) for f in fields}
    if all(d is as_default for d in decoders.values()):
        return as_default

    def decode(value: Any) -> Any:
        source = value if isinstance(value, Mapping) else struct_fields(value)
        if source is None:
            return as_default(value)
        return {k: decoders.get(k, as_default)(v) for k, v in source.items()}

    return decode


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # numpy is optional: vectors then stay as produced
        return None
    return numpy


# ---------------------------------------------------------------------------------------------
# One value per its annotation


def make_decoder(tp: Any, where: str, value_type: Any = None) -> Decoder:
    """A function giving a produced value the shape annotated by ``tp``; ``where`` names the
    field in errors (``LanceTarget.mutate() value type _Row.embedding``). ``value_type`` is the
    value's type (v0's ``engine_type`` shape) where known: parts annotated ``Any`` get v0's
    default representation of it (:func:`default_decoder`)."""
    core, _ = split_optional(tp)
    decode = _decoder(core, where, value_type)
    if decode is _identity:
        return decode
    return lambda value: None if value is None else decode(value)


def _struct_or_model(tp: Any) -> type | None:
    """The class of a struct type: a dataclass, a NamedTuple or (as in v0) a pydantic model."""
    cls = struct_class(tp)
    if cls is None and is_pydantic_model(tp):
        return typing.cast(type, tp)
    return cls


def _identity(value: Any) -> Any:
    return value


def _decoder(tp: Any, where: str, value_type: Any = None) -> Decoder:
    if is_any(tp) or union_variants(tp) is not None:
        return default_decoder(value_type)
    cls = _struct_or_model(tp)
    if cls is not None:
        return _struct_decoder(cls, where, _field_value_types(value_type))
    if is_ndarray(tp):
        return _ndarray_decoder(tp, where)
    element = sequence_element(tp)
    if element is not None:
        return _list_decoder(element, where, _element_type(value_type))
    kv = mapping_types(tp)
    if kv is not None:
        decode_k = make_decoder(kv[0], f"{where} key")
        decode_v = make_decoder(kv[1], where, _element_type(value_type))
        return lambda value: {decode_k(k): decode_v(v) for k, v in value.items()}
    if typing.get_origin(tp) is tuple or tp is tuple:
        return _tuple_decoder(tp, where)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda value: value if isinstance(value, tp) else tp(value)
    scalar = _SCALAR_DECODERS.get(tp)
    if scalar is not None:
        return scalar
    if _is_uuid_type(tp):
        return _to_uuid
    if typing.get_origin(tp) is typing.Literal:
        return _identity
    raise AnnotationError(
        f"{where}: type {type_name(tp)} is not supported; use a basic type (str, int, float, "
        f"bool, bytes, uuid.UUID, dates and times), a dataclass, NamedTuple or pydantic model, "
        f"list[...], dict[..., ...], numpy.typing.NDArray[...] or Any"
    )


def _parse(parse: Callable[[str], Any]) -> Decoder:
    return lambda value: parse(value) if isinstance(value, str) else value


def _to_float(value: Any) -> Any:
    return value if type(value) is float else float(value)


def _to_int(value: Any) -> Any:
    return value if type(value) is int else int(value)


_SCALAR_DECODERS: dict[Any, Decoder] = {
    str: _identity,
    bytes: _identity,
    bool: _identity,
    int: _to_int,
    float: _to_float,
    datetime.datetime: _parse(datetime.datetime.fromisoformat),
    datetime.date: _parse(datetime.date.fromisoformat),
    datetime.time: _parse(datetime.time.fromisoformat),
    datetime.timedelta: _identity,
}


def _is_uuid_type(tp: Any) -> bool:
    # A UUID annotation exists only once uuid was imported (by the app): it is not imported
    # here, where it would cost every run start-up time.
    uuid = sys.modules.get("uuid")
    return uuid is not None and tp is uuid.UUID


def _to_uuid(value: Any) -> Any:
    import uuid

    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _element_type(value_type: Any) -> Any:
    """The type of a vector's elements, or of a table's rows (as a struct), else ``None``."""
    kind = getattr(value_type, "kind", None)
    if kind == "Vector":
        return getattr(getattr(value_type, "vector", None), "element_type", None)
    if kind in ("LTable", "KTable"):
        return _RowStruct(value_type.row.fields)
    return None


class _RowStruct(NamedTuple):
    """A table's row seen as a struct (what :func:`default_decoder` reads of one)."""

    fields: Sequence[Any]
    kind: str = "Struct"


def _field_value_types(value_type: Any) -> dict[str, Any]:
    if getattr(value_type, "kind", None) != "Struct":
        return {}
    return {f.name: getattr(f.value_type, "type", None) for f in value_type.fields}


def _list_decoder(element: Any, where: str, element_type: Any = None) -> Decoder:
    core, nullable = split_optional(element)
    decode_item = _decoder(core, f"{where}[*]", element_type) if not nullable else None
    if decode_item is _to_float or decode_item is _to_int:
        # Vectors: a fast path (the conversion loop runs in C); numpy arrays give Python numbers.
        kind = float if decode_item is _to_float else int
        return lambda value: value.tolist() if hasattr(value, "tolist") else list(map(kind, value))
    if decode_item is _identity:
        return list
    decode_element = make_decoder(element, f"{where}[*]", element_type)
    return lambda value: [decode_element(v) for v in value]


def _ndarray_decoder(tp: Any, where: str) -> Decoder:
    try:
        import numpy
    except ImportError:
        raise AnnotationError(
            f"{where}: {type_name(tp)} needs numpy, which is not installed "
            f"(pip install 'cocotui[numpy]')"
        ) from None
    dtype = ndarray_dtype(tp)
    return lambda value: numpy.asarray(value, dtype=dtype)


def _tuple_decoder(tp: Any, where: str) -> Decoder:
    args = typing.get_args(tp)
    if not args or (len(args) == 2 and args[1] is Ellipsis):
        decode_item = make_decoder(args[0] if args else Any, f"{where}[*]")
        return lambda value: tuple(decode_item(v) for v in value)
    decoders = [make_decoder(a, f"{where}[{i}]") for i, a in enumerate(args)]
    return lambda value: tuple(d(v) for d, v in zip(decoders, value, strict=True))


def _struct_decoder(cls: type, where: str, types: Mapping[str, Any] | None = None) -> Decoder:
    """Build ``cls`` by field name from a dataclass, a NamedTuple or a dict (or, in field order,
    from a plain tuple), each field decoded per its own annotation (and, where that says
    nothing, per its value type in ``types``, by field name)."""
    types = types or {}
    fields = [
        (
            f.name,
            make_decoder(f.hint, f"{where}.{f.name}", types.get(f.name)),
            f.has_default,
            _auto_default(f.hint),
        )
        for f in struct_type_fields(cls)
    ]
    names = [name for name, *_ in fields]

    def decode(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        source = value if isinstance(value, Mapping) else struct_fields(value)
        if source is None and isinstance(value, tuple | list):
            source = dict(zip(names, value, strict=False))
        if source is None:
            raise RowDecodeError(f"{where}: cannot build {cls.__qualname__} from {value!r:.60}")
        kwargs: dict[str, Any] = {}
        for name, decode_field, has_default, auto in fields:
            if name in source:
                kwargs[name] = _decode_field(decode_field, source[name], f"{where}.{name}")
            elif not has_default:
                if auto is _MISSING:
                    raise RowDecodeError(f"{where}: field '{name}' is missing in {value!r:.60}")
                kwargs[name] = auto() if callable(auto) else auto
        return cls(**kwargs)

    return decode


def _decode_field(decode: Decoder, value: Any, where: str) -> Any:
    try:
        return decode(value)
    except RowDecodeError:
        raise
    except (TypeError, ValueError, AttributeError) as exc:
        raise RowDecodeError(f"{where}: cannot decode {value!r:.60}: {exc}") from exc


def _auto_default(hint: Any) -> Any:
    """What v0 gives a missing field without default: ``None`` if optional, an empty list or
    dict for tables, else nothing (an error)."""
    core, nullable = split_optional(hint)
    if nullable:
        return None
    if sequence_element(core) is not None:
        return list
    if mapping_types(core) is not None:
        return dict
    return _MISSING


# ---------------------------------------------------------------------------------------------
# Keys and values of ``mutate``


def _struct_defaults(cls: type) -> dict[str, bool]:
    """Field name → whether it may be left out: it has a default, or v0 gives it one (``None``
    when optional, an empty list or dict)."""
    return {
        f.name: f.has_default or _auto_default(f.hint) is not _MISSING
        for f in struct_type_fields(cls)
    }


def key_decoder(key_type: Any, key_fields: Sequence[str], where: str) -> KeyDecoder:
    """How a target's key parts (in ``primary_key_fields`` order) reach its ``mutate``."""
    key_type = strip_annotated(key_type)
    fields = tuple(key_fields)
    cls = struct_class(key_type)
    if cls is not None:
        return _struct_key_decoder(cls, fields, where)
    if is_any(key_type):
        if len(fields) == 1:
            return lambda parts: as_default_key(parts[0])
        return lambda parts: tuple(as_default_key(p) for p in parts)
    if typing.get_origin(key_type) is tuple or key_type is tuple:
        return _tuple_decoder(key_type, f"{where}: key type")
    if len(fields) != 1:
        raise AnnotationError(
            f"{where}: key type {type_name(key_type)} can only carry a single primary key "
            f"field, but the primary key has {len(fields)}: {', '.join(fields)}; annotate the "
            f"key as a frozen dataclass, a NamedTuple or a tuple"
        )
    decode = make_decoder(key_type, f"{where}: key type {type_name(key_type)}")
    return lambda parts: decode(parts[0])


def _struct_key_decoder(cls: type, fields: tuple[str, ...], where: str) -> KeyDecoder:
    if getattr(cls, "__hash__", None) is None:
        # A key is a dict key in ``mutate``: an unhashable one would fail every row.
        raise AnnotationError(
            f"{where}: key type {cls.__qualname__} is not hashable; declare it with "
            f"@dataclass(frozen=True) or as a NamedTuple"
        )
    has_default = _struct_defaults(cls)
    for name, defaulted in has_default.items():
        if name not in fields and not defaulted:
            raise AnnotationError(
                f"{where}: key type {cls.__qualname__} has field '{name}', which is not "
                f"a primary key field ({', '.join(fields)}) and has no default"
            )
    for name in fields:
        if name not in has_default:
            raise AnnotationError(
                f"{where}: primary key field '{name}' has no field in key type {cls.__qualname__}"
            )
    decode = _struct_decoder(cls, f"{where}: key type {cls.__qualname__}")
    return lambda parts: decode(dict(zip(fields, parts, strict=True)))


def value_decoder(
    value_type: Any,
    value_fields: Sequence[str],
    where: str,
    types: Mapping[str, Any] | None = None,
) -> ValueDecoder:
    """How a collected row's value fields reach ``mutate`` (``None`` is always a delete);
    ``types`` are the fields' value types, where known (see :func:`field_types`)."""
    value_type = strip_annotated(value_type)
    kv = mapping_types(value_type)
    if is_any(value_type) or (kv is not None and is_any(kv[1])):
        return _default_fields_decoder(types or {})
    if kv is not None:
        decode_field = make_decoder(kv[1], f"{where}: value type {type_name(value_type)}")
        return lambda values: {name: decode_field(v) for name, v in values.items()}
    cls = _struct_or_model(value_type)
    if cls is None:
        raise AnnotationError(
            f"{where}: value type {type_name(value_type)} is not supported; use a dataclass, "
            f"a NamedTuple, a pydantic model or dict[str, Any]"
        )
    collected = set(value_fields)
    for name, defaulted in _struct_defaults(cls).items():
        if name not in collected and not defaulted:
            raise AnnotationError(
                f"{where}: field '{name}' of value type {cls.__qualname__} is never "
                f"collected and has no default (collected value fields: "
                f"{', '.join(value_fields) or 'none'})"
            )
    return _struct_decoder(cls, f"{where}: value type {cls.__qualname__}", types)


def _default_fields_decoder(types: Mapping[str, Any]) -> ValueDecoder:
    special = {name: default_decoder(t) for name, t in types.items()}
    special = {name: d for name, d in special.items() if d is not as_default}
    if not special:
        plain = _PLAIN  # a local: this runs for every row
        return lambda values: {
            name: v if type(v) in plain else as_default(v) for name, v in values.items()
        }
    return lambda values: {name: special.get(name, as_default)(v) for name, v in values.items()}


__all__ = [
    "KeyDecoder",
    "ValueDecoder",
    "as_default",
    "default_decoder",
    "field_types",
    "key_decoder",
    "make_decoder",
    "value_decoder",
]
