"""The one place in cocotui that names the package of its first-party connectors.

The repository keeps them in ``connectors/``; the wheel and an editable install both make that
directory importable as ``cocotui_connectors`` (``[tool.setuptools] package-dir`` in
pyproject.toml), a name that belongs to cocotui, not a top-level ``connectors`` any other
distribution may install too. The connectors import each other relatively, so no other module
spells the name (the entry points in pyproject.toml do, as they must)."""

from __future__ import annotations

import importlib
from types import ModuleType

PACKAGE = "cocotui_connectors"


def connector_module(name: str) -> ModuleType:
    """The first-party connector module ``name`` (``"files"``, ``"v0_postgres"``, …), imported on
    first use, so that its client library stays an optional extra until then."""
    return importlib.import_module(f"{PACKAGE}.{name}")
