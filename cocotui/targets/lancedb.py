"""v0's ``cocoindex.targets.lancedb``: the LanceDB target and its query helper (the connector is
``connectors.v0_lancedb``; it needs ``pip install 'cocotui[lancedb]'``)."""

from connectors.v0_lancedb import DatabaseOptions, LanceDB, connect_async

__all__ = ["DatabaseOptions", "LanceDB", "connect_async"]
