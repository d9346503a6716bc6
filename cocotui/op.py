"""The connector and function contract (CocoIndex v0 compatible), validated at decoration time.

A connector class is never instantiated: its methods are fetched from the class and called as
plain functions, exactly as CocoIndex v0 does, so they are normally ``@staticmethod``.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import importlib
import inspect
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from cocotui import registry
from cocotui.asyncbridge import await_if_needed
from cocotui.engine_type import FieldSchema  # v0's op module has these names too
from cocotui.op_function import (
    FUNCTION_INFO_ATTR,
    ArgRelationship,
    ExecutorFunction,
    FunctionInfo,
    FunctionSpec,
    OpArgs,
    executor_class,
    function,
    function_info,
)
from cocotui.specs import SpecMeta

if TYPE_CHECKING:
    from cocotui.index import IndexOptions
    from cocotui.source_connector import (
        NO_ORDINAL,
        NON_EXISTENCE,
        PartialSourceRow,
        PartialSourceRowData,
        SourceReadOptions,
        SourceSpec,
        source_connector,
    )

#: Names v0's op module has that live elsewhere here, imported on first use (PEP 562): most
#: apps define no source connector, and a command should not pay for building its classes.
_ELSEWHERE = {
    "IndexOptions": "cocotui.index",
    **dict.fromkeys(
        (
            "NO_ORDINAL",
            "NON_EXISTENCE",
            "PartialSourceRow",
            "PartialSourceRowData",
            "SourceReadOptions",
            "SourceSpec",
            "source_connector",
        ),
        "cocotui.source_connector",
    ),
}


def __getattr__(name: str) -> Any:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


T = TypeVar("T")


class TargetSpec(metaclass=SpecMeta):
    """Base class of target specs: subclasses are dataclasses whose fields configure a target.

    Every field must hold a storable value (JSON-like, or an enum, dataclass or NamedTuple of
    such values); that is checked when a flow is loaded.
    """


class DeclarationSpec(metaclass=SpecMeta):
    """Base class of declarations (``flow_builder.declare(...)``): dataclasses whose class
    attribute ``kind`` names the target kind whose connector receives them, as in v0."""


class TargetStateCompatibility(enum.Enum):
    """How a desired setup state relates to a stored one, as judged by the connector."""

    COMPATIBLE = "compatible"
    PARTIALLY_COMPATIBLE = "partially_compatible"
    NOT_COMPATIBLE = "not_compatible"


# ---------------------------------------------------------------------------------------------
# Target connectors


class ConnectorDefinitionError(ValueError):
    """A connector class breaks the contract; raised when it is decorated."""


class TargetConfigurationError(Exception):
    """Raise it (or a subclass) from a connector method for a problem the user fixes outside
    the code: a missing environment variable, a setting out of range. cocotui then shows its
    message alone, without the connector's traceback (as it does for ``OSError``)."""


@dataclasses.dataclass(frozen=True)
class _PrefixMethod:
    """An optional method that receives a prefix of its available positional arguments."""

    available: tuple[str, ...]
    required: int


_PREFIX_METHODS: dict[str, _PrefixMethod] = {
    # flow_name is cocotui's addition: a target may derive default names from it, as v0's
    # built-in targets do from the flow instance (utils.get_target_default_name).
    "get_persistent_key": _PrefixMethod(("spec", "target_name", "flow_name"), 1),
    "get_setup_state": _PrefixMethod(
        ("spec", "key_fields_schema", "value_fields_schema", "index_options"), 1
    ),
    # persistent_key is cocotui's addition: where the target is, when the spec alone does not
    # say (a name derived from the flow and target names).
    "prepare": _PrefixMethod(
        ("spec", "setup_state", "key_fields_schema", "value_fields_schema", "persistent_key"), 1
    ),
    "describe": _PrefixMethod(("key",), 1),
    # Not in CocoIndex v0: the one form of keys the target stores as the same row.
    "normalize_key": _PrefixMethod(("key",), 1),
}
_FIXED_ARITY_METHODS: dict[str, tuple[str, ...]] = {
    "apply_setup_change": ("key", "previous", "current"),
    "check_state_compatibility": ("desired_state", "existing_state"),
}
_REQUIRED_METHODS = ("get_persistent_key", "apply_setup_change", "mutate")


@dataclasses.dataclass(frozen=True)
class BoundMethod:
    """A connector method with the number of leading arguments it accepts."""

    function: Callable[..., Any]
    arity: int

    def call(self, *available: Any) -> Any:
        """Call with the leading arguments it accepts (all of them for ``mutate``)."""
        args = available if self.arity < 0 else available[: self.arity]
        return await_if_needed(self.function(*args))


@dataclasses.dataclass(frozen=True)
class ConnectorKind:
    """A validated connector: everything the engine needs to drive it."""

    kind: str
    spec_cls: type[TargetSpec]
    connector_cls: type
    persistent_key_type: Any
    setup_state_cls: Any
    methods: dict[str, BoundMethod]
    mutation_key_type: Any
    mutation_value_type: Any

    @property
    def optional_methods(self) -> list[str]:
        return sorted(
            name
            for name in (
                "describe",
                "prepare",
                "get_setup_state",
                "check_state_compatibility",
                "normalize_key",
            )
            if name in self.methods
        )

    @property
    def origin(self) -> str:
        return f"{self.connector_cls.__module__}.{self.connector_cls.__qualname__}"


def _where(cls: type, method: str) -> str:
    return f"{cls.__qualname__}.{method}()"


def _signature(cls: type, name: str, fn: Any) -> inspect.Signature:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ConnectorDefinitionError(
            f"{_where(cls, name)}: cannot read its signature ({exc})"
        ) from exc


def _self_hint(sig: inspect.Signature) -> str:
    params = list(sig.parameters)
    return " (is @staticmethod missing?)" if params and params[0] in ("self", "cls") else ""


def _validate_prefix_method(cls: type, name: str, fn: Any) -> BoundMethod:
    rule = _PREFIX_METHODS[name]
    sig = _signature(cls, name, fn)
    for param in sig.parameters.values():
        if param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            kind = {
                param.KEYWORD_ONLY: "keyword-only parameter",
                param.VAR_POSITIONAL: "*args parameter",
                param.VAR_KEYWORD: "**kwargs parameter",
            }[param.kind]
            raise ConnectorDefinitionError(
                f"{_where(cls, name)} may only have positional parameters, but "
                f"'{param.name}' is a {kind}"
            )
    count = len(sig.parameters)
    if count > len(rule.available):
        raise ConnectorDefinitionError(
            f"{_where(cls, name)} declares {count} parameters but can be given at most "
            f"{len(rule.available)}: {', '.join(rule.available)}{_self_hint(sig)}"
        )
    if count < rule.required:
        raise ConnectorDefinitionError(
            f"{_where(cls, name)} must take at least {rule.required} parameter(s): "
            f"{', '.join(rule.available[: rule.required])}"
        )
    return BoundMethod(fn, count)


def _validate_fixed_method(cls: type, name: str, fn: Any) -> BoundMethod:
    expected = _FIXED_ARITY_METHODS[name]
    sig = _signature(cls, name, fn)
    for param in sig.parameters.values():
        if param.kind is param.KEYWORD_ONLY and param.default is param.empty:
            raise ConnectorDefinitionError(
                f"{_where(cls, name)} has a required keyword-only parameter '{param.name}'; "
                f"it is called with positional arguments ({', '.join(expected)})"
            )
    try:
        sig.bind(*expected)
    except TypeError as exc:
        raise ConnectorDefinitionError(
            f"{_where(cls, name)} must accept exactly {len(expected)} positional arguments "
            f"({', '.join(expected)}): {exc}{_self_hint(sig)}"
        ) from exc
    return BoundMethod(fn, len(expected))


_MUTATE_SHAPE = "tuple[SpecType, dict[KeyType, ValueType | None]]"


def _strip_optional(tp: Any) -> Any:
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if args and (origin is typing.Union or origin is _UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    return tp


_UnionType = type(int | None)


def _mutation_types(cls: type, fn: Any) -> tuple[Any, Any]:
    """Validate ``mutate(*all_mutations)`` and return the annotated (key type, value type)."""
    where = f"{cls.__qualname__}.mutate(*all_mutations)"
    sig = _signature(cls, "mutate", fn)
    params = list(sig.parameters.values())
    if len(params) != 1:
        raise ConnectorDefinitionError(
            f"{where} must have exactly one parameter, *all_mutations; got {len(params)}"
            f"{_self_hint(sig)}"
        )
    if params[0].kind is not params[0].VAR_POSITIONAL:
        raise ConnectorDefinitionError(
            f"{where}: its parameter '{params[0].name}' must be *{params[0].name} "
            f"(each argument is one target's {_MUTATE_SHAPE})"
        )
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an unresolvable forward reference: decode without annotations
        hints = {}
    element = hints.get(params[0].name, Any)
    if element is Any or element is tuple:
        return Any, Any
    args = typing.get_args(element)
    if typing.get_origin(element) is not tuple or len(args) != 2:
        raise ConnectorDefinitionError(
            f"{where}: the annotation must be {_MUTATE_SHAPE}, got {element!r}"
        )
    mapping = args[1]
    if mapping is Any:
        return Any, Any
    origin = typing.get_origin(mapping) or mapping
    if origin not in (dict, collections.abc.Mapping, typing.Mapping):
        raise ConnectorDefinitionError(
            f"{where}: the second element of the annotation must be a dict, "
            f"as in {_MUTATE_SHAPE}; got {mapping!r}"
        )
    kv = typing.get_args(mapping)
    if not kv:
        return Any, Any
    return kv[0], _strip_optional(kv[1])


def target_connector(
    *,
    spec_cls: type[TargetSpec],
    persistent_key_type: Any = Any,
    setup_state_cls: Any = None,
) -> Callable[[type[T]], type[T]]:
    """Register a class as the connector of ``spec_cls``; the class is returned unchanged.

    The class is checked here, so a contract mistake is reported when the module is imported,
    naming the class and the method.
    """

    def decorate(connector_cls: type[T]) -> type[T]:
        if not (isinstance(spec_cls, type) and issubclass(spec_cls, TargetSpec)):
            raise ConnectorDefinitionError(
                f"{connector_cls.__qualname__}: @target_connector(spec_cls=...) expects a "
                f"subclass of cocotui.op.TargetSpec, got {spec_cls!r}"
            )
        methods: dict[str, BoundMethod] = {}
        for name in (*_PREFIX_METHODS, *_FIXED_ARITY_METHODS, "mutate"):
            fn = getattr(connector_cls, name, None)
            if fn is None:
                if name in _REQUIRED_METHODS:
                    raise ConnectorDefinitionError(
                        f"{_where(connector_cls, name)} is required for a target connector "
                        f"(class {connector_cls.__qualname__})"
                    )
                continue
            if not callable(fn):
                raise ConnectorDefinitionError(
                    f"{_where(connector_cls, name)} is not a function: {fn!r}"
                )
            if name in _PREFIX_METHODS:
                methods[name] = _validate_prefix_method(connector_cls, name, fn)
            elif name in _FIXED_ARITY_METHODS:
                methods[name] = _validate_fixed_method(connector_cls, name, fn)
        mutate = connector_cls.mutate  # type: ignore[attr-defined]
        key_type, value_type = _mutation_types(connector_cls, mutate)
        methods["mutate"] = BoundMethod(mutate, -1)
        registry.register(
            ConnectorKind(
                kind=spec_cls.__name__,
                spec_cls=spec_cls,
                connector_cls=connector_cls,
                persistent_key_type=persistent_key_type,
                setup_state_cls=setup_state_cls if setup_state_cls is not None else spec_cls,
                methods=methods,
                mutation_key_type=key_type,
                mutation_value_type=value_type,
            )
        )
        return connector_cls

    return decorate


__all__ = [
    "FUNCTION_INFO_ATTR",
    "NON_EXISTENCE",
    "NO_ORDINAL",
    "ArgRelationship",
    "ConnectorDefinitionError",
    "ConnectorKind",
    "DeclarationSpec",
    "ExecutorFunction",
    "FieldSchema",
    "FunctionInfo",
    "FunctionSpec",
    "IndexOptions",
    "OpArgs",
    "PartialSourceRow",
    "PartialSourceRowData",
    "SourceReadOptions",
    "SourceSpec",
    "TargetConfigurationError",
    "TargetSpec",
    "TargetStateCompatibility",
    "executor_class",
    "function",
    "function_info",
    "source_connector",
    "target_connector",
]
