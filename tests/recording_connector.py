"""A connector that records every call it receives, for tests that drive the CLI in subprocesses.

Test apps import this module (``conftest.py`` copies it beside the app file). It is configured
through environment variables so that one app file can behave differently per CLI run:

``COCOTUI_TEST_LOG``
    Every call is appended to this file as one JSON line: ``{"method": ..., "args": [...]}``
    (``args`` as JSON values: specs as dicts, tuples as lists, dict mutations as ``[key, value]``
    pairs). Written and fsynced *before* the method acts, so a call is logged even if the
    process dies inside it.
``COCOTUI_TEST_RESOURCES``
    A directory standing for the "physical" targets: ``apply_setup_change`` writes the current
    spec to ``<key>.json`` there (or removes it on a drop), ``mutate`` keeps ``<key>.rows.json``.
``COCOTUI_TEST_FAIL``
    Comma-separated method names (``apply_setup_change``, ``mutate``, ...) that raise
    :class:`RecordedFailure` after recording the call and before doing any work. A name may be
    qualified as ``apply_setup_change:drop`` / ``:create`` / ``:update`` to fail only that case.
``COCOTUI_TEST_KILL``
    ``METHOD:before`` or ``METHOD:after``: the process kills itself with SIGKILL before or after
    the method does its work (after recording the call either way).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path
from typing import Any

import cocotui as cocoindex
from cocotui.testing.recording import jsonable  # the harness's own JSON form of arguments

LOG_ENV = "COCOTUI_TEST_LOG"
RESOURCES_ENV = "COCOTUI_TEST_RESOURCES"
FAIL_ENV = "COCOTUI_TEST_FAIL"
KILL_ENV = "COCOTUI_TEST_KILL"


class RecordedFailure(RuntimeError):
    """Raised by a method that ``COCOTUI_TEST_FAIL`` names."""


def _case(previous: Any, current: Any) -> str:
    if current is None:
        return "drop"
    return "create" if previous is None else "update"


def record(method: str, *args: Any, case: str | None = None) -> None:
    """Log the call, then fail or die if the environment asks for it."""
    log = os.environ.get(LOG_ENV)
    if log:
        line = json.dumps({"method": method, "args": [jsonable(a) for a in args]}) + "\n"
        with open(log, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
    failing = {name.strip() for name in os.environ.get(FAIL_ENV, "").split(",") if name.strip()}
    if method in failing or (case is not None and f"{method}:{case}" in failing):
        raise RecordedFailure(f"{method} failed on purpose (COCOTUI_TEST_FAIL)")
    _maybe_kill(method, "before")


def _maybe_kill(method: str, point: str) -> None:
    if os.environ.get(KILL_ENV) == f"{method}:{point}":
        os.kill(os.getpid(), signal.SIGKILL)


def _resource(key: Any, suffix: str) -> Path | None:
    directory = os.environ.get(RESOURCES_ENV)
    if not directory:
        return None
    name = json.dumps(jsonable(key), sort_keys=True).strip('"').replace("/", "_")
    return Path(directory) / f"{name}{suffix}"


class RecordingTarget(cocoindex.op.TargetSpec):
    """A target that records calls. The persistent key is ``resource`` (not the export name)."""

    resource: str
    version: int = 1
    options: dict[str, Any] | None = None


@dataclasses.dataclass
class Prepared:
    """What ``prepare`` returns; ``mutate`` receives it instead of the spec."""

    spec: RecordingTarget


def _apply_setup_change(key: Any, previous: Any, current: Any) -> None:
    path = _resource(key, ".json")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if current is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(json.dumps(jsonable(current), sort_keys=True))


def _mutate(all_mutations: tuple[Any, ...]) -> None:
    for prepared, mutations in all_mutations:
        spec = prepared.spec if isinstance(prepared, Prepared) else prepared
        path = _resource(spec.resource, ".rows.json")
        if path is None:
            continue
        rows: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        for key, value in mutations.items():
            text = json.dumps(jsonable(key), sort_keys=True)
            if value is None:
                rows.pop(text, None)
            else:
                rows[text] = jsonable(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, sort_keys=True))


@cocoindex.op.target_connector(spec_cls=RecordingTarget)
class RecordingConnector:
    @staticmethod
    def get_persistent_key(spec: RecordingTarget, target_name: str) -> str:
        record("get_persistent_key", spec, target_name)
        return spec.resource

    @staticmethod
    def describe(key: str) -> str:
        record("describe", key)
        return f"recording resource {key}"

    @staticmethod
    def apply_setup_change(
        key: str, previous: RecordingTarget | None, current: RecordingTarget | None
    ) -> None:
        record("apply_setup_change", key, previous, current, case=_case(previous, current))
        _apply_setup_change(key, previous, current)
        _maybe_kill("apply_setup_change", "after")

    @staticmethod
    def prepare(spec: RecordingTarget) -> Prepared:
        record("prepare", spec)
        return Prepared(spec)

    @staticmethod
    def mutate(*all_mutations: tuple[Prepared, dict[Any, dict[str, Any] | None]]) -> None:
        record("mutate", *all_mutations)
        _mutate(all_mutations)
        _maybe_kill("mutate", "after")


class AsyncRecordingTarget(cocoindex.op.TargetSpec):
    """Like :class:`RecordingTarget`, but every connector method is ``async def``."""

    resource: str
    version: int = 1


@cocoindex.op.target_connector(spec_cls=AsyncRecordingTarget)
class AsyncRecordingConnector:
    @staticmethod
    async def get_persistent_key(spec: AsyncRecordingTarget, target_name: str) -> str:
        record("get_persistent_key", spec, target_name)
        return spec.resource

    @staticmethod
    async def describe(key: str) -> str:
        record("describe", key)
        return f"async recording resource {key}"

    @staticmethod
    async def apply_setup_change(
        key: str, previous: AsyncRecordingTarget | None, current: AsyncRecordingTarget | None
    ) -> None:
        record("apply_setup_change", key, previous, current, case=_case(previous, current))
        _apply_setup_change(key, previous, current)

    @staticmethod
    async def mutate(
        *all_mutations: tuple[AsyncRecordingTarget, dict[Any, dict[str, Any] | None]],
    ) -> None:
        record("mutate", *all_mutations)
        _mutate(all_mutations)
