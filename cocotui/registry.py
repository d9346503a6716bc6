"""Connector kinds: those registered by ``@op.target_connector`` and those installed as
``cocotui.connectors`` entry points (imported lazily, their import errors kept for display)."""

from __future__ import annotations

import dataclasses
import traceback
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cocotui.op import ConnectorKind

ENTRY_POINT_GROUP = "cocotui.connectors"

_kinds: dict[str, ConnectorKind] = {}


class DuplicateConnectorError(ValueError):
    """Two different connector classes claim the same spec class name."""


@dataclasses.dataclass(frozen=True)
class PluginFailure:
    """An installed connector package that could not be imported."""

    entry_point: str
    value: str
    error: str


_plugin_failures: list[PluginFailure] = []
_plugins_loaded = False


def _same_definition(a: ConnectorKind, b: ConnectorKind) -> bool:
    """True when ``b`` is ``a`` defined again by re-importing the same module."""

    def where(cls: type) -> tuple[str, str]:
        return cls.__module__, cls.__qualname__

    return where(a.spec_cls) == where(b.spec_cls) and where(a.connector_cls) == where(
        b.connector_cls
    )


def register(kind: ConnectorKind) -> None:
    existing = _kinds.get(kind.kind)
    if existing is not None and not _same_definition(existing, kind):
        raise DuplicateConnectorError(
            f"{kind.connector_cls.__qualname__}: a connector for a spec class named "
            f"'{kind.kind}' is already registered by {existing.origin}; spec class names "
            f"identify connector kinds and must be unique"
        )
    _kinds[kind.kind] = kind


def load_plugins() -> list[PluginFailure]:
    """Import every installed ``cocotui.connectors`` entry point once; return the failures."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        # Imported here: importlib.metadata costs ~25 ms, and most runs never need it.
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except Exception:
                _plugin_failures.append(PluginFailure(ep.name, ep.value, traceback.format_exc()))
    return list(_plugin_failures)


def get(kind: str) -> ConnectorKind | None:
    """The connector of ``kind``, importing installed connector packages if needed."""
    if kind not in _kinds:
        load_plugins()
    return _kinds.get(kind)


def all_kinds() -> list[ConnectorKind]:
    return [_kinds[name] for name in sorted(_kinds)]
