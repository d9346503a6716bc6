"""v0's ``cocoindex.targets.lancedb``: the LanceDB target and its query helper (the connector is
``connectors/v0_lancedb.py``; it needs ``pip install 'cocotui[lancedb]'``)."""

from typing import Any

from cocotui import first_party

_connector = first_party.connector_module("v0_lancedb")
DatabaseOptions: Any = _connector.DatabaseOptions
LanceDB: Any = _connector.LanceDB
connect_async: Any = _connector.connect_async

__all__ = ["DatabaseOptions", "LanceDB", "connect_async"]
