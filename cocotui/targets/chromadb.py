"""v0's ``cocoindex.targets.chromadb``: the ChromaDB target (the connector is
``connectors.v0_chromadb``; it needs ``pip install 'cocotui[chromadb]'``)."""

from connectors.v0_chromadb import ChromaDB, ClientType, HnswConfig

__all__ = ["ChromaDB", "ClientType", "HnswConfig"]
