"""Finding the registered connector kind of a spec class, a connector class or a kind name."""

from __future__ import annotations

from collections.abc import Iterable

from cocotui import registry
from cocotui.op import ConnectorKind, TargetSpec


def connector_kind(connector: str | type) -> ConnectorKind:
    """The registered kind of a spec class, a connector class or a kind name (importing
    installed connector packages if needed)."""
    if isinstance(connector, str):
        kind = registry.get(connector)
    elif isinstance(connector, type) and issubclass(connector, TargetSpec):
        kind = registry.get(connector.__name__)
    else:
        kind = next((k for k in registry.all_kinds() if k.connector_cls is connector), None)
    if kind is None:
        raise LookupError(
            f"no connector is registered for {connector!r}; import the module that defines it"
        )
    return kind


def kind_names(connectors: Iterable[str | type]) -> set[str]:
    names = set()
    for connector in connectors:
        if isinstance(connector, str):
            names.add(connector)
        elif isinstance(connector, type) and issubclass(connector, TargetSpec):
            names.add(connector.__name__)
        else:
            names.add(connector_kind(connector).kind)
    return names
