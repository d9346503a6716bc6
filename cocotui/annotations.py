"""Reading Python type annotations the way CocoIndex v0 reads them: structs (dataclasses and
NamedTuples, generic ones too) and their fields, optional and union types, lists, dicts and numpy
arrays. The one reader of annotations: the field types of a flow (:mod:`cocotui.value_types`),
the setup-object codec, the ``mutate`` decoders and transform-flow results use it."""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import inspect
import sys
import types
import typing
from typing import Any

from cocotui.values.shapes import ValueShapeError


class AnnotationError(ValueShapeError):
    """An annotation the engine cannot decode values for."""


@dataclasses.dataclass(frozen=True)
class StructField:
    """A field a struct type is built with (a dataclass ``init`` field or a NamedTuple field)."""

    name: str
    hint: Any
    has_default: bool


_EMPTY = inspect.Parameter.empty
_UNION_ORIGINS = (typing.Union, types.UnionType)
_SEQUENCE_ORIGINS = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPING_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def strip_annotated(tp: Any) -> Any:
    """``Annotated[T, ...]`` → ``T`` (at any depth of ``Annotated``)."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = tp.__origin__
    return tp


def is_any(tp: Any) -> bool:
    """Whether ``tp`` says nothing about the value: missing, ``Any``, ``object`` or a type
    variable."""
    tp = strip_annotated(tp)
    return tp is Any or tp is _EMPTY or tp is object or isinstance(tp, typing.TypeVar)


def split_optional(tp: Any) -> tuple[Any, bool]:
    """``(T, True)`` for ``T | None`` (``T`` a union if several remain), else ``(tp, False)``."""
    tp = strip_annotated(tp)
    if typing.get_origin(tp) not in _UNION_ORIGINS:
        return tp, False
    args = typing.get_args(tp)
    rest = tuple(a for a in args if a is not type(None))
    if len(rest) == len(args):
        return tp, False
    if not rest:
        return Any, True
    return (strip_annotated(rest[0]) if len(rest) == 1 else typing.Union[rest]), True  # noqa: UP007


def union_variants(tp: Any) -> tuple[Any, ...] | None:
    """The variants of a union type without ``None``, else ``None``."""
    if typing.get_origin(tp) not in _UNION_ORIGINS:
        return None
    return tuple(a for a in typing.get_args(tp) if a is not type(None))


def is_pydantic_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (without importing pydantic: a model's module
    has imported it)."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def is_struct_type(tp: Any) -> bool:
    """Whether ``tp`` is a struct class: a dataclass, a NamedTuple or a pydantic model."""
    return isinstance(tp, type) and (struct_class(tp) is not None or is_pydantic_model(tp))


def struct_field_names(cls: type) -> tuple[str, ...]:
    """The names a struct class is constructed with: a dataclass's ``init`` fields, a
    NamedTuple's fields, a pydantic model's fields."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)
    declared: Any = getattr(cls, "_fields", None) or getattr(cls, "model_fields", ())
    return tuple(declared)


@functools.cache
def annotated_struct_hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of ``cls`` with their ``Annotated`` metadata (which carries
    vector sizes and type kinds); raises what :func:`typing.get_type_hints` raises for a
    forward reference that cannot be resolved."""
    return typing.get_type_hints(cls, include_extras=True)


def struct_class(tp: Any) -> type | None:
    """The class of a struct type (``Ref[T]`` → ``Ref``), or ``None`` if ``tp`` is not one."""
    cls = typing.get_origin(tp) or tp
    if not isinstance(cls, type):
        return None
    if dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields")):
        return cls
    return None


@functools.cache
def struct_type_hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of ``cls`` (none if a forward reference cannot be resolved)."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # an unresolvable forward reference: decode that class untyped
        return {}


@functools.cache
def struct_type_fields(cls: type) -> tuple[StructField, ...]:
    """The fields ``cls`` is constructed from, with their resolved annotations (``Any`` for a
    forward reference that cannot be resolved)."""
    hints = struct_type_hints(cls)
    defaulted = _defaulted_fields(cls)
    return tuple(
        StructField(name, hints.get(name, Any), name in defaulted)
        for name in struct_field_names(cls)
    )


def _defaulted_fields(cls: type) -> frozenset[str]:
    if dataclasses.is_dataclass(cls):
        return frozenset(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        )
    if is_pydantic_model(cls):
        model_fields: Any = getattr(cls, "model_fields", {})
        return frozenset(name for name, f in model_fields.items() if not f.is_required())
    return frozenset(getattr(cls, "_field_defaults", {}))


def sequence_element(tp: Any) -> Any | None:
    """The element type of ``list[T]`` / ``Sequence[T]`` (``Any`` if bare), else ``None``."""
    origin = typing.get_origin(tp) or tp
    if origin not in _SEQUENCE_ORIGINS:
        return None
    args = typing.get_args(tp)
    return args[0] if args else Any


def mapping_types(tp: Any) -> tuple[Any, Any] | None:
    """``(K, V)`` of ``dict[K, V]`` / ``Mapping[K, V]`` (``Any`` if bare), else ``None``."""
    origin = typing.get_origin(tp) or tp
    if origin not in _MAPPING_ORIGINS:
        return None
    args = typing.get_args(tp)
    return (args[0], args[1]) if len(args) == 2 else (Any, Any)


def is_ndarray(tp: Any) -> bool:
    """Whether ``tp`` is ``numpy.ndarray`` or ``numpy.typing.NDArray[...]``, without importing
    numpy (connectors that never mention it do not need it installed)."""
    cls = typing.get_origin(tp) or tp
    return isinstance(cls, type) and cls.__module__ == "numpy" and cls.__name__ == "ndarray"


def ndarray_dtype(tp: Any) -> Any:
    """The scalar type of ``NDArray[np.float32]`` (``None`` when not given)."""
    args = typing.get_args(tp)
    if len(args) != 2:
        return None
    dtype_args = typing.get_args(args[1])
    return dtype_args[0] if dtype_args and not is_any(dtype_args[0]) else None


def type_name(tp: Any) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")
