"""Helpers for the data-path tests (``test_update_*.py``): apps over ``LocalFile`` that export to
the in-memory connectors of ``mem_connector.py``, driven in-process through the Engine API."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import Workspace

from cocotui.engine.events import Event, StopToken
from cocotui.engine.facade import Engine
from cocotui.engine.update import UpdateOptions, UpdateResult

MEM_MODULE = Path(__file__).resolve().parent / "mem_connector.py"

APP_HEADER = """\
import dataclasses
from typing import Any, NamedTuple

import cocotui as cocoindex
import mem_connector
from mem_connector import AsyncTarget, CompatTarget, MemTarget, OtherTarget
"""


def prepare(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Put ``mem_connector.py`` beside the app and start from an empty source directory.

    Bytecode is not written, so an app rewritten within the same second (same size) is never
    loaded from a stale cache."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    shutil.copy(MEM_MODULE, ws.root / MEM_MODULE.name)
    for path in ws.source_dir.iterdir():
        path.unlink()
    return ws


def mem() -> ModuleType:
    """The ``mem_connector`` module the loaded app uses."""
    return sys.modules["mem_connector"]


def write_app(ws: Workspace, body: str, header: str = "") -> Path:
    """An app file: the standard imports, ``header``, then ``body`` (``SOURCE`` is the path of
    the source directory as a string literal)."""
    text = APP_HEADER + textwrap.dedent(header) + "\n" + textwrap.dedent(body)
    ws.app.write_text(text.replace("SOURCE", repr(str(ws.source_dir))))
    return ws.app


def flow_app(
    ws: Workspace,
    exports: str = 'out.export("t", MemTarget(resource="a"), primary_key_fields=["filename"])',
    *,
    collect: str = 'filename=doc["filename"], content=doc["content"]',
    rows: str = "",
    header: str = "",
    source_args: str = "",
) -> Path:
    """One flow ``Docs`` over ``LocalFile(SOURCE)``: per file, ``rows`` statements, then
    ``out.collect(collect)``; then the ``exports`` statements."""

    def indent(text: str, prefix: str) -> str:
        return textwrap.indent(textwrap.dedent(text).strip(), prefix)

    body = "\n".join(
        [
            '@cocoindex.flow_def(name="Docs")',
            "def docs_flow(flow_builder, data_scope):",
            '    data_scope["documents"] = flow_builder.add_source(',
            f"        cocoindex.sources.LocalFile(path=SOURCE{source_args})",
            "    )",
            "    out = data_scope.add_collector()",
            '    with data_scope["documents"].row() as doc:',
            *([indent(rows, " " * 8)] if rows.strip() else []),
            f"        out.collect({collect})",
            indent(exports, " " * 4),
            "",
        ]
    )
    return write_app(ws, body, header)


def write_files(ws: Workspace, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = ws.source_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def open_engine(ws: Workspace) -> Engine:
    return Engine.open(str(ws.app), state_dir=ws.state_dir)


def apply_all(ws: Workspace) -> None:
    """Open the app and apply every pending setup change."""
    engine = open_engine(ws)
    try:
        engine.apply(engine.plan())
    finally:
        engine.close()


@contextmanager
def engine_of(ws: Workspace) -> Iterator[Engine]:
    engine = open_engine(ws)
    try:
        yield engine
    finally:
        engine.close()


class Recorded:
    """What one update run did: its result and events."""

    def __init__(self, result: UpdateResult, events: list[Event]) -> None:
        self.result = result
        self.events = events

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e.data for e in self.events if e.name == name]


def update(ws: Workspace, *, stop_after_batches: int | None = None, **options: Any) -> Recorded:
    """Run ``Engine.update`` once (a fresh engine, as a new process would); the mem connector's
    calls are cleared first. ``stop_after_batches`` sets the stop token from the observer after
    that many ``batch.applied`` events."""
    events: list[Event] = []
    stop = StopToken()

    def observer(event: Event) -> None:
        events.append(event)
        json.dumps(event.to_json())  # every event must be JSON-serialisable
        if (
            stop_after_batches is not None
            and event.name == "batch.applied"
            and len([e for e in events if e.name == "batch.applied"]) >= stop_after_batches
        ):
            stop.stop()

    with engine_of(ws) as engine:
        mem().CALLS.clear()
        result = engine.update(UpdateOptions(**options), observer, stop)
    return Recorded(result, events)


def calls(method: str) -> list[tuple[Any, ...]]:
    return [args for name, args in mem().CALLS if name == method]


def mutate_calls() -> list[tuple[Any, ...]]:
    return calls("mutate")


def spec_of(prepared: Any) -> Any:
    return getattr(prepared, "spec", prepared)


def sent(resource: str | None = None) -> dict[Any, Any]:
    """Every ``{key: value | None}`` sent in this run (for ``resource``, else for all), merged
    in call order."""
    merged: dict[Any, Any] = {}
    for args in mutate_calls():
        for prepared, mutations in args:
            if resource is None or spec_of(prepared).resource == resource:
                merged.update(mutations)
    return merged


def store(resource: str = "a") -> dict[Any, Any]:
    return dict(mem().STORE.get(resource, {}))


def content_rows(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """The rows a default flow app exports for ``files``."""
    return {name: {"content": content} for name, content in files.items()}


def content_transform_app(ws: Workspace, field: str, transform: str, *, header: str = "") -> Path:
    """:func:`flow_app` with one transformed field per file: ``field`` is
    ``content.transform(transform)`` (Python source), collected beside the file name."""
    return flow_app(
        ws,
        rows=f'doc["{field}"] = doc["content"].transform({transform})',
        collect=f'filename=doc["filename"], {field}=doc["{field}"]',
        header=header,
    )


def chunk_transform_app(ws: Workspace, field: str, transform: str, *, header: str = "") -> Path:
    """One flow ``Docs`` over ``LocalFile(SOURCE)``: each file split at ``|`` into chunks, and
    per chunk ``field`` = ``text.transform(transform)`` (Python source), collected beside the
    file name and the chunk's text (the primary key)."""
    body = f"""
@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        doc["chunks"] = doc["content"].transform(
            cocoindex.functions.SplitBySeparators(separators_regex=[r"[|]"])
        )
        with doc["chunks"].row() as chunk:
            chunk["{field}"] = chunk["text"].transform({transform})
            out.collect(filename=doc["filename"], text=chunk["text"], {field}=chunk["{field}"])
    out.export("t", MemTarget(resource="a"), primary_key_fields=["filename", "text"])
"""
    return write_app(ws, body, header)
