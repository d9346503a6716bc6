"""v0's ``cocoindex.targets.chromadb``: the ChromaDB target (the connector is
``connectors/v0_chromadb.py``; it needs ``pip install 'cocotui[chromadb]'``)."""

from typing import Any

from cocotui import first_party

_connector = first_party.connector_module("v0_chromadb")
ChromaDB: Any = _connector.ChromaDB
ClientType: Any = _connector.ClientType
HnswConfig: Any = _connector.HnswConfig

__all__ = ["ChromaDB", "ClientType", "HnswConfig"]
