"""Resolving an app's exports into desired targets: connector kind, persistent key, desired
setup record and mutate decoders. Every problem is reported naming the flow, target and field."""

from __future__ import annotations

import dataclasses
import traceback
from typing import Any

from cocotui import registry
from cocotui.engine_object import dump, load
from cocotui.engine_value import (
    KeyDecoder,
    ValueDecoder,
    field_types,
    key_decoder,
    value_decoder,
)
from cocotui.flow.loader import App, user_traceback
from cocotui.flow.model import Export, Flow
from cocotui.op import ConnectorKind, FieldSchema, IndexOptions, TargetStateCompatibility
from cocotui.state.setup_store import SetupRecord
from cocotui.values import ValueShapeError, canonical_json


class TargetError(ValueError):
    """An export that cannot be driven as declared."""


class ConnectorCallError(RuntimeError):
    """A connector method raised; carries the connector's own traceback."""

    def __init__(self, message: str, connector_traceback: str) -> None:
        super().__init__(message)
        self.connector_traceback = connector_traceback


def call_connector(kind: ConnectorKind, method: str, what: str, *args: Any) -> Any:
    try:
        return kind.methods[method].call(*args)
    except Exception as exc:
        raise ConnectorCallError(
            f"{what}: {kind.connector_cls.__qualname__}.{method}() raised "
            f"{type(exc).__name__}: {exc}",
            user_traceback(exc),
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


def schemas(export: Export) -> tuple[list[FieldSchema], list[FieldSchema]]:
    return (
        [FieldSchema(name) for name in export.primary_key_fields],
        [FieldSchema(name) for name in export.value_fields],
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
    for name in export.primary_key_fields:
        if name not in collected:
            raise TargetError(
                f"{where}: primary key field '{name}' is not collected (collected fields: "
                f"{', '.join(collected)})"
            )
    key_object = call_connector(kind, "get_persistent_key", where, spec, export.name)
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
            IndexOptions(list(export.primary_key_fields)),
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
    record = SetupRecord(state, export.primary_key_fields, export.value_fields)
    return DesiredTarget(flow, export, kind, key, record, decode_key, decode_value)


def resolve_targets(app: App) -> list[DesiredTarget]:
    """Every export of every flow, validated; duplicates of one (kind, key) are an error, also
    across flows (a target's identity does not include its flow or export name)."""
    targets: list[DesiredTarget] = []
    seen: dict[tuple[str, str], DesiredTarget] = {}
    for flow in app.flows:
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
    """What the stored version means for rows already exported (DESIGN §3)."""
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
