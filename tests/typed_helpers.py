"""Helpers for the typed-contract tests (``test_field_types.py``, ``test_index_options.py``):
apps over ``LocalFile`` exporting to ``typed_connector.VecTable``, driven in-process."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import update_helpers as h
from conftest import Workspace

from cocotui.engine.plan import Plan
from cocotui.engine_type import FieldSchema

TYPED_MODULE = Path(__file__).resolve().parent / "typed_connector.py"

TYPED_HEADER = """\
import datetime
import uuid
from typing import Literal, Optional

import numpy as np
from numpy.typing import NDArray

from typed_connector import VecTable
"""


def typed_app(
    ws: Workspace,
    *,
    header: str = "",
    rows: str = "",
    collect: str = 'filename=doc["filename"], content=doc["content"]',
    export_args: str = "",
    key: str = "filename",
    source_args: str = "",
) -> None:
    """One flow ``Docs`` exporting ``collect`` to ``VecTable(table="docs")`` keyed by ``key``;
    ``export_args`` are more keyword arguments of ``export``."""
    shutil.copy(TYPED_MODULE, ws.root / TYPED_MODULE.name)
    h.flow_app(
        ws,
        f'out.export("t", VecTable(table="docs"), primary_key_fields=[{key!r}]{export_args})',
        rows=rows,
        collect=collect,
        header=TYPED_HEADER + header,
        source_args=source_args,
    )


def connector() -> Any:
    """The ``typed_connector`` module the loaded app uses."""
    return sys.modules["typed_connector"]


def plan(ws: Workspace) -> Plan:
    with h.engine_of(ws) as engine:
        return engine.plan()


def apply(ws: Workspace) -> Plan:
    with h.engine_of(ws) as engine:
        planned = engine.plan()
        engine.apply(planned)
        return planned


def last_schemas(ws: Workspace) -> tuple[list[FieldSchema], list[FieldSchema]]:
    """The key and value field schemas of the last ``get_setup_state`` call of a plan."""
    plan(ws)
    keys, values, _ = connector().SETUP_CALLS[-1]
    return keys, values


def field_types(ws: Workspace) -> dict[str, str]:
    """Every exported field's type as v0 prints it, e.g. ``{"content": "Str"}``."""
    keys, values = last_schemas(ws)
    return {f.name: str(f.value_type) for f in (*keys, *values)}
