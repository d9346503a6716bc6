"""Helpers for testing target connectors: drive one directly as the engine does, check that
its side effects are idempotent, record every call it receives, and run apps through the real
CLI, with faults (a failure, or SIGKILL in the middle of ``mutate``) injected on request.

Everything here is plain Python (no Textual, no pytest dependency); assertion helpers raise
``AssertionError`` subclasses, so they work under any test runner.

Driving a connector directly::

    from cocotui.testing import ConnectorHarness, assert_idempotent

    harness = ConnectorHarness(SqliteTable)
    target = harness.target(SqliteTable(database=db, table="docs"),
                            key_fields=["filename"], value_fields=["text"])
    assert_idempotent(target.create, snapshot=lambda: dump(db))
    assert_idempotent(lambda: target.upsert({"a.md": {"text": "hi"}}), snapshot=lambda: dump(db))

Running an app as a user would, in fresh processes::

    runner = AppRunner(app_path, state_dir)
    runner.apply()                                  # cocotui apply --yes --json
    outcome = runner.update(kill="mutate:rows=3")   # SIGKILL after 3 rows reached mutate
    assert outcome.killed
    assert runner.update().ok                       # the re-run rolls forward

Recording calls in-process (the engine's own calls, or the harness's)::

    with record_calls(SqliteTable) as recorder:
        ...
    assert [c.method for c in recorder.calls] == [...]

Fault injection and call logs in subprocesses are driven by environment variables that only
``python -m cocotui.testing ARGS`` (a drop-in for ``python -m cocotui ARGS``) reads:

``COCOTUI_TESTING_RECORD``
    Append every connector call to this file as a JSON line (written and fsynced before the
    method runs, so a call is logged even when the process dies inside it).
``COCOTUI_TESTING_FAIL``
    Comma-separated method names that raise :class:`InjectedFailure` instead of running.
``COCOTUI_TESTING_KILL``
    ``METHOD:before`` / ``METHOD:after``: SIGKILL the process before or after the method runs;
    ``mutate:rows=N``: hand ``N`` rows to ``mutate`` (across calls), then SIGKILL the process
    when the connector asks for the next one — in the middle of its loop (and transaction).
``COCOTUI_TESTING_KINDS``
    Comma-separated connector kinds (spec class names) to instrument; all by default.

The package is a lazy facade (PEP 562): ``from cocotui.testing import X`` imports only the
module that defines ``X`` (``harness``, ``idempotency``, ``recording``, ``faults``, ``runner``,
``outcomes``), so a test that only runs apps does not load the connector registry.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocotui.testing.child import main as main
    from cocotui.testing.faults import InjectedFailure as InjectedFailure
    from cocotui.testing.faults import KillPoint as KillPoint
    from cocotui.testing.harness import (
        ConnectorHarness as ConnectorHarness,
    )
    from cocotui.testing.harness import (
        HarnessTarget as HarnessTarget,
    )
    from cocotui.testing.idempotency import (
        IdempotencyError as IdempotencyError,
    )
    from cocotui.testing.idempotency import (
        assert_idempotent as assert_idempotent,
    )
    from cocotui.testing.idempotency import (
        assert_unchanged as assert_unchanged,
    )
    from cocotui.testing.idempotency import (
        check_idempotency as check_idempotency,
    )
    from cocotui.testing.kinds import connector_kind as connector_kind
    from cocotui.testing.outcomes import (
        AppRun as AppRun,
    )
    from cocotui.testing.outcomes import (
        CliResult as CliResult,
    )
    from cocotui.testing.outcomes import (
        UpdateOutcome as UpdateOutcome,
    )
    from cocotui.testing.recording import (
        Call as Call,
    )
    from cocotui.testing.recording import (
        CallRecorder as CallRecorder,
    )
    from cocotui.testing.recording import (
        install_from_env as install_from_env,
    )
    from cocotui.testing.recording import (
        jsonable as jsonable,
    )
    from cocotui.testing.recording import (
        read_call_log as read_call_log,
    )
    from cocotui.testing.recording import (
        record_calls as record_calls,
    )
    from cocotui.testing.runner import AppRunner as AppRunner
    from cocotui.testing.runner import run_app as run_app

#: Public name -> the module of this package that defines it.
_HOMES = {
    "AppRun": "outcomes",
    "AppRunner": "runner",
    "Call": "recording",
    "CallRecorder": "recording",
    "CliResult": "outcomes",
    "ConnectorHarness": "harness",
    "HarnessTarget": "harness",
    "IdempotencyError": "idempotency",
    "InjectedFailure": "faults",
    "KillPoint": "faults",
    "UpdateOutcome": "outcomes",
    "assert_idempotent": "idempotency",
    "assert_unchanged": "idempotency",
    "check_idempotency": "idempotency",
    "connector_kind": "kinds",
    "install_from_env": "recording",
    "jsonable": "recording",
    "main": "child",
    "read_call_log": "recording",
    "record_calls": "recording",
    "run_app": "runner",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "AppRun",
    "AppRunner",
    "Call",
    "CallRecorder",
    "CliResult",
    "ConnectorHarness",
    "HarnessTarget",
    "IdempotencyError",
    "InjectedFailure",
    "KillPoint",
    "UpdateOutcome",
    "assert_idempotent",
    "assert_unchanged",
    "check_idempotency",
    "connector_kind",
    "install_from_env",
    "jsonable",
    "read_call_log",
    "record_calls",
    "run_app",
]
