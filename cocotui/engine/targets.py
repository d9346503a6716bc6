"""Resolving an app's exports into desired targets: connector kind, persistent key, desired
setup record and mutate decoders. Every problem is reported naming the flow, target and field."""

from __future__ import annotations

import dataclasses
import traceback
from typing import Any

from cocotui import registry
from cocotui.engine.errors import ConnectorCallError, TargetError
from cocotui.engine.evaluate import describe_exception
from cocotui.engine_object import dump, load
from cocotui.engine_type import FieldSchema
from cocotui.engine_value import (
    KeyDecoder,
    ValueDecoder,
    field_types,
    key_decoder,
    value_decoder,
)
from cocotui.flow.loader import App, user_traceback
from cocotui.flow.model import Export, Flow
from cocotui.op import ConnectorKind, TargetConfigurationError, TargetStateCompatibility
from cocotui.state.setup_store import SetupRecord
from cocotui.values.identity import canonical_json
from cocotui.values.shapes import ValueShapeError


def _deliberate(exc: BaseException) -> bool:
    """Whether ``exc`` states a problem to fix outside the code (any other error may be a bug
    in the connector: its traceback shows where)."""
    return isinstance(exc, (OSError, TargetConfigurationError))


def call_connector(kind: ConnectorKind, method: str, what: str, *args: Any) -> Any:
    try:
        return kind.methods[method].call(*args)
    except (Exception, SystemExit) as exc:  # a connector's sys.exit() must not end cocotui
        raise ConnectorCallError(
            f"{what}: {kind.connector_cls.__qualname__}.{method}() raised "
            f"{describe_exception(exc)}",
            user_traceback(exc),
            _deliberate(exc),
        ) from exc


@dataclasses.dataclass(eq=False)
class DesiredTarget:
    flow: Flow
    export: Export
    kind: ConnectorKind
    key: Any
    record: SetupRecord
    decode_key: KeyDecoder
    decode_value: ValueDecoder

    @property
    def name(self) -> str:
        return f"{self.flow.name}.{self.export.name}"

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.flow.name, self.kind.kind, canonical_json(self.key))

    def state_object(self, state: Any) -> Any:
        return load(self.kind.setup_state_cls, state)

    def mutate_key(self, parts: tuple[Any, ...]) -> Any:
        """The key ``mutate`` receives for key parts: decoded, then in the connector's
        ``normalize_key`` form (so that a key tracked under another spelling is deleted as
        the one the target stores). Raises what decoding or the connector raises."""
        key = self.decode_key(parts)
        normalize = self.kind.methods.get("normalize_key")
        return key if normalize is None else normalize.call(key)

    def canonical_parts(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        """Key parts in the connector's ``normalize_key`` form: two spellings of one stored row
        become one tracked key. Parts the connector cannot take stay as they are (``mutate``
        then fails their row with its own error)."""
        normalize = self.kind.methods.get("normalize_key")
        if normalize is None:
            return parts
        try:
            key = self.decode_key(parts)
            normalized = normalize.call(key)
        except Exception:
            return parts
        if normalized == key:
            return parts
        return _parts_of(normalized, self.export.primary_key_fields)


def _parts_of(key: Any, fields: tuple[str, ...]) -> tuple[Any, ...]:
    """The key parts (in ``fields`` order) of a key as ``mutate`` receives it."""
    if isinstance(key, tuple) and not hasattr(key, "_fields"):
        return key
    if len(fields) > 1 or dataclasses.is_dataclass(key) or hasattr(key, "_fields"):
        return tuple(getattr(key, name) for name in fields)
    return (key,)


def schemas(export: Export) -> tuple[list[FieldSchema], list[FieldSchema]]:
    return export.key_fields_schema(), export.value_fields_schema()


def _check_fields(where: str, export: Export, collected: tuple[str, ...]) -> None:
    """Primary key and index fields must be collected fields."""
    named = [("primary key field", name) for name in export.primary_key_fields]
    named += [("vector index field", i.field_name) for i in export.vector_indexes]
    named += [("full-text index field", i.field_name) for i in export.fts_indexes]
    for what, name in named:
        if name not in collected:
            raise TargetError(
                f"{where}: {what} '{name}' is not collected (collected fields: "
                f"{', '.join(collected)})"
            )


def _resolve(flow: Flow, export: Export) -> DesiredTarget:
    where = f"target {flow.name}.{export.name}"
    spec = export.spec
    spec_name = type(spec).__name__
    kind = registry.get(spec_name)
    if kind is None:
        raise TargetError(
            f"{where}: no connector is registered for spec class {spec_name}; decorate a "
            f"connector class with @op.target_connector(spec_cls={spec_name})"
        )
    if not isinstance(spec, kind.spec_cls):
        raise TargetError(
            f"{where}: spec class {type(spec).__module__}.{spec_name} is not the one its "
            f"connector {kind.origin} was registered for"
        )
    try:
        spec_state = dump(spec, spec_name)
    except ValueShapeError as exc:
        raise TargetError(f"{where}: {exc}") from None
    collected = export.collector.field_names
    if collected is None:
        raise TargetError(f"{where}: its collector never collects anything")
    _check_fields(where, export, collected)
    key_object = call_connector(kind, "get_persistent_key", where, spec, export.name, flow.name)
    try:
        key = dump(key_object, f"{kind.connector_cls.__qualname__}.get_persistent_key() result")
    except ValueShapeError as exc:
        raise TargetError(f"{where}: {exc}") from None
    key_schema, value_schema = schemas(export)
    if "get_setup_state" in kind.methods:
        setup_state = call_connector(
            kind,
            "get_setup_state",
            where,
            spec,
            key_schema,
            value_schema,
            export.index_options(),
        )
        cls = kind.setup_state_cls
        if isinstance(cls, type) and not isinstance(setup_state, cls):
            raise TargetError(
                f"{where}: {kind.connector_cls.__qualname__}.get_setup_state() must return an "
                f"instance of {cls.__qualname__}, got {type(setup_state).__name__}"
            )
        what = f"{kind.connector_cls.__qualname__}.get_setup_state() result"
    else:
        cls = kind.setup_state_cls
        if isinstance(cls, type) and not isinstance(spec, cls):
            raise TargetError(
                f"{where}: {kind.connector_cls.__qualname__} declares setup_state_cls="
                f"{cls.__qualname__} but has no get_setup_state() returning one"
            )
        setup_state = spec
        what = spec_name
    try:
        state = spec_state if setup_state is spec else dump(setup_state, what)
        mutate = f"{where}: {kind.connector_cls.__qualname__}.mutate()"
        decode_key = key_decoder(kind.mutation_key_type, export.primary_key_fields, mutate)
        decode_value = value_decoder(
            kind.mutation_value_type, export.value_fields, mutate, field_types(value_schema)
        )
    except ValueShapeError as exc:
        raise TargetError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None
    record = SetupRecord(
        state, export.primary_key_fields, export.value_fields, export.setup_by_user
    )
    return DesiredTarget(flow, export, kind, key, record, decode_key, decode_value)


def _check_declarations(flow: Flow) -> None:
    """v0 hands each ``declare()``d spec to the connector of the target kind its ``kind``
    names; a custom (``@op.target_connector``) connector takes none, as in v0."""
    for spec in flow.declarations:
        kind = getattr(spec, "kind", None) or type(spec).__name__
        where = f"flow {flow.name}: declaration {type(spec).__name__}"
        if registry.get(kind) is None:
            raise TargetError(f"{where}: no target connector of kind {kind} is registered")
        raise TargetError(
            f"{where}: the target connector of kind {kind} is a custom connector, and custom "
            f"target connectors take no declarations (as in CocoIndex v0)"
        )


def resolve_targets(app: App) -> list[DesiredTarget]:
    """Every export of every flow, validated; duplicates of one (kind, key) are an error, also
    across flows (a target's identity does not include its flow or export name)."""
    targets: list[DesiredTarget] = []
    seen: dict[tuple[str, str], DesiredTarget] = {}
    for flow in app.flows:
        _check_declarations(flow)
        for export in flow.exports:
            target = _resolve(flow, export)
            kind_key = (target.kind.kind, target.identity[2])
            other = seen.get(kind_key)
            if other is not None:
                raise TargetError(
                    f"targets {other.name} and {target.name} are both {target.kind.kind} with "
                    f"persistent key {target.identity[2]}; a target must be exported once"
                )
            seen[kind_key] = target
            targets.append(target)
    return targets


_ORDER = [
    TargetStateCompatibility.COMPATIBLE,
    TargetStateCompatibility.PARTIALLY_COMPATIBLE,
    TargetStateCompatibility.NOT_COMPATIBLE,
]


def worst(verdicts: list[TargetStateCompatibility]) -> TargetStateCompatibility:
    return max(verdicts, key=_ORDER.index, default=TargetStateCompatibility.COMPATIBLE)


def compatibility(target: DesiredTarget, stored: SetupRecord) -> TargetStateCompatibility:
    """What the stored version means for rows already exported (docs/architecture.md, "Setup
    changes and exported rows")."""
    desired = target.record
    if desired.key_fields != stored.key_fields:
        return TargetStateCompatibility.NOT_COMPATIBLE
    verdict = TargetStateCompatibility.COMPATIBLE
    if not desired.same_state(stored):
        verdict = TargetStateCompatibility.PARTIALLY_COMPATIBLE
        if "check_state_compatibility" in target.kind.methods:
            result = call_connector(
                target.kind,
                "check_state_compatibility",
                f"target {target.name}",
                target.state_object(desired.state),
                target.state_object(stored.state),
            )
            try:
                verdict = TargetStateCompatibility(
                    result.value if isinstance(result, TargetStateCompatibility) else result
                )
            except ValueError:
                raise TargetError(
                    f"target {target.name}: check_state_compatibility() must return a "
                    f"TargetStateCompatibility, got {result!r}"
                ) from None
    if desired.value_fields != stored.value_fields:
        verdict = worst([verdict, TargetStateCompatibility.PARTIALLY_COMPATIBLE])
    return verdict


def describe(kind: ConnectorKind | None, key: Any) -> str:
    """``describe(key)`` when the connector has it (a failure is shown, not raised)."""
    if kind is None or "describe" not in kind.methods:
        return str(key)
    try:
        return str(kind.methods["describe"].call(load(kind.persistent_key_type, key)))
    except Exception as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return f"{key} (describe() failed: {last})"
