"""Driving a connector directly, with the engine's calling conventions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cocotui.engine_object import dump, load
from cocotui.engine_value import key_decoder, value_decoder
from cocotui.flow.field_types import UNKNOWN
from cocotui.op import FieldSchema, IndexOptions, TargetSpec, TargetStateCompatibility
from cocotui.testing.kinds import connector_kind
from cocotui.values.toml_tags import decode, encode


def _fields(names: Sequence[str]) -> list[FieldSchema]:
    """Field schemas for bare names, typed as the engine types an undeclared value (Json)."""
    return [FieldSchema(name, UNKNOWN) for name in names]


def _stored(value: Any, where: str) -> Any:
    """``value`` as the engine stores it and reads it back (JSON-checked, TOML-encoded)."""
    return decode(encode(dump(value, where)))


class ConnectorHarness:
    """Calls a connector's methods exactly as the engine does: optional methods with the
    leading arguments they accept, ``async`` methods awaited, setup states and keys passed
    through the same JSON/TOML round trip as the state file, rows decoded per the annotation
    of ``mutate``."""

    def __init__(self, connector: str | type) -> None:
        self.kind = connector_kind(connector)

    def _call(self, method: str, *args: Any) -> Any:
        return self.kind.methods[method].call(*args)

    def has(self, method: str) -> bool:
        return method in self.kind.methods

    def persistent_key(self, spec: TargetSpec, target_name: str = "target") -> Any:
        key = self._call("get_persistent_key", spec, target_name)
        where = f"{self.kind.connector_cls.__qualname__}.get_persistent_key() result"
        return load(self.kind.persistent_key_type, _stored(key, where))

    def describe(self, key: Any) -> str:
        return str(self._call("describe", key)) if self.has("describe") else str(key)

    def setup_state(
        self, spec: TargetSpec, key_fields: Sequence[str], value_fields: Sequence[str]
    ) -> Any:
        """The desired setup state as ``apply_setup_change`` receives it."""
        if self.has("get_setup_state"):
            state = self._call(
                "get_setup_state",
                spec,
                _fields(key_fields),
                _fields(value_fields),
                IndexOptions(list(key_fields)),
            )
        else:
            state = spec
        stored = _stored(state, f"{self.kind.kind} setup state")
        return load(self.kind.setup_state_cls, stored)

    def compatibility(self, desired: Any, existing: Any) -> TargetStateCompatibility:
        """The connector's verdict (``PARTIALLY_COMPATIBLE`` without the method, as the engine
        assumes for any change)."""
        if _stored(desired, "desired") == _stored(existing, "existing"):
            return TargetStateCompatibility.COMPATIBLE
        if not self.has("check_state_compatibility"):
            return TargetStateCompatibility.PARTIALLY_COMPATIBLE
        result = self._call("check_state_compatibility", desired, existing)
        return TargetStateCompatibility(
            result.value if isinstance(result, TargetStateCompatibility) else result
        )

    def apply_setup_change(self, key: Any, previous: Any, current: Any) -> None:
        self._call("apply_setup_change", key, previous, current)

    def prepare(
        self,
        spec: TargetSpec,
        state: Any,
        key_fields: Sequence[str],
        value_fields: Sequence[str],
        key: Any = None,
    ) -> Any:
        if not self.has("prepare"):
            return spec
        return self._call("prepare", spec, state, _fields(key_fields), _fields(value_fields), key)

    def mutate(self, *batches: tuple[Any, Mapping[Any, Any]]) -> None:
        """``mutate(*batches)``: each batch is ``(prepared, {key: value | None})``, already in
        the shape the connector receives."""
        self.kind.methods["mutate"].call(*[(p, dict(rows)) for p, rows in batches])

    def target(
        self,
        spec: TargetSpec,
        key_fields: Sequence[str],
        value_fields: Sequence[str],
        name: str = "target",
    ) -> HarnessTarget:
        """One target of this kind, as an export with these fields would declare it."""
        return HarnessTarget(self, spec, tuple(key_fields), tuple(value_fields), name)


class HarnessTarget:
    """One target driven through its setup and data methods."""

    def __init__(
        self,
        harness: ConnectorHarness,
        spec: TargetSpec,
        key_fields: tuple[str, ...],
        value_fields: tuple[str, ...],
        name: str,
    ) -> None:
        self.harness = harness
        self.spec = spec
        self.key_fields = key_fields
        self.value_fields = value_fields
        self.name = name
        self.key = harness.persistent_key(spec, name)
        self.state = harness.setup_state(spec, key_fields, value_fields)
        where = f"{harness.kind.kind} target {name}"
        self._decode_key = key_decoder(harness.kind.mutation_key_type, key_fields, where)
        self._decode_value = value_decoder(harness.kind.mutation_value_type, value_fields, where)
        self._prepared: Any = None
        self._is_prepared = False

    def describe(self) -> str:
        return self.harness.describe(self.key)

    # -- setup ----------------------------------------------------------------------------------

    def create(self) -> None:
        """``apply_setup_change(key, None, state)``."""
        self.harness.apply_setup_change(self.key, None, self.state)

    def drop(self) -> None:
        """``apply_setup_change(key, state, None)``."""
        self.harness.apply_setup_change(self.key, self.state, None)

    def changed(
        self,
        spec: TargetSpec | None = None,
        *,
        key_fields: Sequence[str] | None = None,
        value_fields: Sequence[str] | None = None,
    ) -> HarnessTarget:
        """The same target with another spec or other fields (nothing is applied; see
        :meth:`change_to`). The persistent key must stay the same: a new key is a drop of this
        target and the creation of another."""
        other = HarnessTarget(
            self.harness,
            spec if spec is not None else self.spec,
            tuple(key_fields) if key_fields is not None else self.key_fields,
            tuple(value_fields) if value_fields is not None else self.value_fields,
            self.name,
        )
        if _stored(other.key, "key") != _stored(self.key, "key"):
            raise ValueError(
                f"the persistent key changed ({self.key!r} -> {other.key!r}): that is a drop "
                f"of one target and the creation of another"
            )
        return other

    def compatibility_of(self, desired: HarnessTarget) -> TargetStateCompatibility:
        return self.harness.compatibility(desired.state, self.state)

    def change_to(self, desired: HarnessTarget) -> None:
        """``apply_setup_change(key, this state, desired state)``."""
        self.harness.apply_setup_change(self.key, self.state, desired.state)

    # -- data -----------------------------------------------------------------------------------

    @property
    def prepared(self) -> Any:
        """What ``mutate`` receives for this target (``prepare`` runs once)."""
        if not self._is_prepared:
            self._prepared = self.harness.prepare(
                self.spec, self.state, self.key_fields, self.value_fields, self.key
            )
            self._is_prepared = True
        return self._prepared

    def _decoded(self, rows: Mapping[Any, Mapping[str, Any] | None]) -> dict[Any, Any]:
        decoded: dict[Any, Any] = {}
        for key, value in rows.items():
            parts = tuple(key) if len(self.key_fields) > 1 else (key,)
            decoded[self._decode_key(parts)] = (
                None if value is None else self._decode_value(dict(value))
            )
        return decoded

    def mutate(self, rows: Mapping[Any, Mapping[str, Any] | None]) -> None:
        """One ``mutate`` call for this target. Keys are a single field's value or a tuple of
        the key fields' values; values are dicts of the value fields (``None`` deletes), decoded
        as the engine decodes them for the connector's annotation."""
        self.harness.mutate((self.prepared, self._decoded(rows)))

    def upsert(self, rows: Mapping[Any, Mapping[str, Any]]) -> None:
        self.mutate(rows)

    def delete(self, *keys: Any) -> None:
        self.mutate(dict.fromkeys(keys))
