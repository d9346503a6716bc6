"""Custom sources (CocoIndex v0 compatible): an ``op.SourceSpec`` subclass and a connector class
decorated with ``@op.source_connector(spec_cls=..., key_type=..., value_type=...)``.

The connector's static ``create(spec)`` returns an object with ``list(options?)`` (yielding
``PartialSourceRow(key, PartialSourceRowData(ordinal=..., content_version_fp=...))``) and
``get_value(key, options?)`` (returning ``PartialSourceRowData(value=...)``, or
``value=NON_EXISTENCE`` for a row that is gone); ``provides_ordinal()`` is optional. Any of these
may be ``async``. A source row's fields are the key's fields (``_key`` for a key that is not a
struct) followed by the value's fields.

In a flow, a spec becomes a :class:`CustomSource`, which the engine drives as it drives
``LocalFile``: a listing gives each row a version stamp from its ordinal and content version
fingerprint, and only rows whose stamp changed are read. A row listed with neither is read on
every run, and evaluated only when its value changed. Rows no longer listed, or whose
``get_value`` says ``NON_EXISTENCE``, are deleted.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import inspect
import json
import pickle
import threading
import typing
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Generic, Literal, TypeVar

from cocotui.asyncbridge import await_if_needed, iterate
from cocotui.sources import ListedRow
from cocotui.specs import SpecMeta
from cocotui.values.shapes import struct_fields

K = TypeVar("K")
V = TypeVar("V")
C = TypeVar("C", bound=type)

#: The field name of a key that is not a struct (v0's ``KEY_FIELD_NAME``).
KEY_FIELD_NAME = "_key"
NON_EXISTENCE: Literal["NON_EXISTENCE"] = "NON_EXISTENCE"
NO_ORDINAL: Literal["NO_ORDINAL"] = "NO_ORDINAL"


class SourceSpec(metaclass=SpecMeta):
    """Base class of custom source specs: subclasses are dataclasses."""


class SourceConnectorError(ValueError):
    """A source connector breaks the contract (at decoration time or when it is used)."""


@dataclasses.dataclass
class SourceReadOptions:
    """Hints given to ``list()`` and ``get_value()`` about what the engine needs."""

    include_ordinal: bool = False
    include_content_version_fp: bool = False
    include_value: bool = False


@dataclasses.dataclass
class PartialSourceRowData(Generic[V]):
    value: V | Literal["NON_EXISTENCE"] | None = None
    ordinal: int | Literal["NO_ORDINAL"] | None = None
    content_version_fp: bytes | None = None


@dataclasses.dataclass
class PartialSourceRow(Generic[K, V]):
    key: K
    data: PartialSourceRowData[V]


#: What the engine asks for: listings only version rows; reads want everything.
_LIST_OPTIONS = SourceReadOptions(include_ordinal=True, include_content_version_fp=True)
_READ_OPTIONS = SourceReadOptions(True, True, True)


# ---------------------------------------------------------------------------------------------
# Field layout and key text


def _struct_types(tp: Any) -> dict[str, Any] | None:
    """The field types of a dataclass or NamedTuple class, in order, else ``None``."""
    if not isinstance(tp, type):
        return None
    if dataclasses.is_dataclass(tp):
        names = [f.name for f in dataclasses.fields(tp)]
    elif issubclass(tp, tuple) and hasattr(tp, "_fields"):
        names = list(tp._fields)
    else:
        return None
    try:
        hints = typing.get_type_hints(tp)
    except Exception:  # an unresolvable forward reference: untyped fields
        hints = {}
    return {name: hints.get(name, Any) for name in names}


def _encode_part(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, uuid.UUID | datetime.date | datetime.time):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    return value


def _decode_part(tp: Any, value: Any) -> Any:
    if isinstance(value, dict) and "$bytes" in value:
        return bytes.fromhex(value["$bytes"])
    for kind in (datetime.datetime, datetime.date, datetime.time):
        if tp is kind:
            return kind.fromisoformat(value)
    if tp is uuid.UUID:
        return uuid.UUID(value)
    return value


@dataclasses.dataclass(frozen=True)
class _KeyCodec:
    """Row keys as the engine's key text: a ``str`` key as it is, others as JSON."""

    key_type: Any
    #: The key's fields and their types (one ``_key`` field for a key that is not a struct).
    fields: dict[str, Any]
    is_struct: bool

    def encode(self, key: Any) -> str:
        if self.key_type is str:
            if not isinstance(key, str):
                raise SourceConnectorError(f"a row key must be a str, got {key!r}")
            return key
        parts = list(struct_fields(key).values()) if self.is_struct else [key]  # type: ignore[union-attr]
        return json.dumps([_encode_part(p) for p in parts], separators=(",", ":"))

    def decode(self, text: str) -> Any:
        if self.key_type is str:
            return text
        parts = [
            _decode_part(tp, v)
            for tp, v in zip(self.fields.values(), json.loads(text), strict=True)
        ]
        if not self.is_struct:
            return parts[0]
        return self.key_type(**dict(zip(self.fields, parts, strict=True)))

    def fields_of(self, key: Any) -> dict[str, Any]:
        fields = struct_fields(key) if self.is_struct else None
        return fields if fields is not None else {KEY_FIELD_NAME: key}


# ---------------------------------------------------------------------------------------------
# Registration


@dataclasses.dataclass(frozen=True)
class SourceConnectorKind:
    spec_cls: type[SourceSpec]
    #: The decorated class (``Any``: its ``create`` is checked when registered).
    connector_cls: Any
    key: _KeyCodec
    value_type: type
    value_fields: dict[str, Any]

    @property
    def field_types(self) -> dict[str, Any]:
        """Every field of a row with its annotated type: key fields, then value fields."""
        return {**self.key.fields, **self.value_fields}


_connectors: dict[type, SourceConnectorKind] = {}


def source_connector(
    *, spec_cls: type[SourceSpec], key_type: Any = Any, value_type: Any = Any
) -> Callable[[C], C]:
    """Register a class as the connector of ``spec_cls``; the class is returned unchanged."""
    if not (isinstance(spec_cls, type) and issubclass(spec_cls, SourceSpec)):
        raise SourceConnectorError(
            f"@op.source_connector(spec_cls=...) expects a subclass of op.SourceSpec, got "
            f"{spec_cls!r}"
        )

    def register(connector_cls: C) -> C:
        where = f"@op.source_connector on {connector_cls.__qualname__}"
        if not callable(getattr(connector_cls, "create", None)):
            raise SourceConnectorError(f"{where}: a static method create(spec) is required")
        value_fields = _struct_types(value_type)
        if value_fields is None:
            raise SourceConnectorError(
                f"{where}: value_type must be a dataclass or NamedTuple (the row's value "
                f"fields), got {value_type!r}"
            )
        key_fields = _struct_types(key_type)
        is_struct = key_fields is not None
        codec = _KeyCodec(key_type, key_fields or {KEY_FIELD_NAME: key_type}, is_struct)
        clash = sorted(set(codec.fields) & set(value_fields))
        if clash:
            raise SourceConnectorError(
                f"{where}: field(s) {', '.join(clash)} are both in the key and in the value"
            )
        _connectors[spec_cls] = SourceConnectorKind(
            spec_cls, connector_cls, codec, value_type, value_fields
        )
        return connector_cls

    return register


# ---------------------------------------------------------------------------------------------
# The source the engine drives


@dataclasses.dataclass(frozen=True)
class _PrefixMethod:
    """A method called with as many leading arguments as it declares (v0's rule)."""

    method: Callable[..., Any]
    arity: int

    @classmethod
    def of(cls, obj: Any, name: str) -> _PrefixMethod:
        method = getattr(obj, name, None)
        if not callable(method):
            raise SourceConnectorError(
                f"the object create() returned ({type(obj).__qualname__}) has no {name}() method"
            )
        return cls(method, len(inspect.signature(method).parameters))

    def __call__(self, *available: Any) -> Any:
        return await_if_needed(self.method(*available[: self.arity]))


@dataclasses.dataclass(frozen=True)
class _Reader:
    """The data methods of what the connector's ``create(spec)`` returned."""

    list: _PrefixMethod
    get_value: _PrefixMethod


def _stamp(data: PartialSourceRowData[Any], nonce: str) -> str:
    """A row's version stamp; ``nonce`` (new for each listing) for a row listed without any
    version, so that it is read again every time."""
    parts = []
    if isinstance(data.ordinal, int) and not isinstance(data.ordinal, bool):
        parts.append(f"o{data.ordinal}")
    if isinstance(data.content_version_fp, bytes):
        parts.append(f"f{data.content_version_fp.hex()}")
    return ":".join(parts) if parts else f"?{nonce}"


@dataclasses.dataclass(eq=False)
class CustomSource:
    """A custom source spec in a flow. Its ``repr`` (the spec's) is part of the flow's logic
    fingerprint, so a change of the spec re-evaluates the rows."""

    spec: SourceSpec
    kind: SourceConnectorKind = dataclasses.field(repr=False)
    _reader: _Reader | None = dataclasses.field(default=None, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return tuple(self.kind.key.fields)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.kind.field_types)

    @property
    def field_types(self) -> dict[str, Any]:
        return self.kind.field_types

    def describe(self) -> str:
        return repr(self.spec)

    def reader(self) -> _Reader:
        """The connector's ``create(spec)``, called once per process, on first use."""
        with self._lock:
            if self._reader is None:
                executor = await_if_needed(self.kind.connector_cls.create(self.spec))
                self._reader = _Reader(
                    _PrefixMethod.of(executor, "list"), _PrefixMethod.of(executor, "get_value")
                )
            return self._reader

    def list_rows(self) -> Iterator[ListedRow]:
        listed = self.reader().list(_LIST_OPTIONS)
        nonce = uuid.uuid4().hex
        for row in iterate(listed):
            if not isinstance(row, PartialSourceRow):
                raise SourceConnectorError(
                    f"{self.kind.connector_cls.__qualname__}.list() must yield "
                    f"op.PartialSourceRow, got {row!r:.80}"
                )
            yield ListedRow(self.kind.key.encode(row.key), _stamp(row.data, nonce))

    def _get(self, key: str) -> PartialSourceRowData[Any] | None:
        data = self.reader().get_value(self.kind.key.decode(key), _READ_OPTIONS)
        if not isinstance(data, PartialSourceRowData):
            raise SourceConnectorError(
                f"{self.kind.connector_cls.__qualname__}.get_value() must return "
                f"op.PartialSourceRowData, got {data!r:.80}"
            )
        gone = isinstance(data.value, str) and data.value == NON_EXISTENCE
        return None if gone else data

    def stamp(self, key: str) -> str | None:
        data = self._get(key)
        return None if data is None else _stamp(data, uuid.uuid4().hex)

    def read_row(self, key: str) -> dict[str, Any] | None:
        data = self._get(key)
        if data is None:
            return None
        value = data.value
        fields = value if isinstance(value, dict) else struct_fields(value)
        if fields is None:
            raise SourceConnectorError(
                f"{self.kind.connector_cls.__qualname__}.get_value({key}) returned a value of "
                f"type {type(value).__name__}; expected {self.kind.value_type.__name__}"
            )
        return {**self.kind.key.fields_of(self.kind.key.decode(key)), **fields}

    def row_fingerprint(self, row: dict[str, Any]) -> bytes:
        """A fingerprint of every field of the row (a ``content`` field is only one of them)."""
        try:
            data = pickle.dumps(row, protocol=5)
        except Exception:  # an unpicklable value: its repr is the next best thing
            data = repr(row).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(data, digest_size=16).digest()


def as_source(spec: Any) -> Any:
    """What ``add_source()`` records: a ``SourceSpec`` instance becomes a
    :class:`CustomSource`; anything else is returned as it is."""
    if not isinstance(spec, SourceSpec):
        return spec
    kind = _connectors.get(type(spec))
    if kind is None:
        raise SourceConnectorError(
            f"add_source({type(spec).__name__}(...)): no @op.source_connector is registered "
            f"for the source spec {type(spec).__qualname__}"
        )
    return CustomSource(spec, kind)
