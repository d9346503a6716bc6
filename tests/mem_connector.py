"""In-memory recording connectors for the data-path tests (``tests/test_update_*.py``).

``update_helpers`` copies this file beside each test app, which imports it; the test reads the
module back from ``sys.modules`` (see ``update_helpers.mem``). Every call is appended to
:data:`CALLS` with its arguments as the engine passed them (no conversion), and ``mutate`` keeps
the rows of each resource in :data:`STORE`, so tests can compare target contents.

For runs in a subprocess: ``MEM_LOG`` names a file to which every ``mutate`` / ``prepare`` call
is appended as a JSON line, and ``MEM_FAIL_KEYS`` (comma-separated) makes ``mutate`` fail for a
batch holding any of those keys, as :data:`FAIL_KEYS` does in-process.
``MEM_KILL_AFTER_MUTATE=N`` kills the process with SIGKILL right after the N-th ``mutate`` call
has applied its mutations.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from typing import Any

import cocotui as cocoindex

#: (method, args) of every call, oldest first.
CALLS: list[tuple[str, tuple[Any, ...]]] = []
#: resource -> {key: value}, as the mutations left it.
STORE: dict[str, dict[Any, Any]] = {}
#: A batch holding any of these keys (as mutate receives them) fails before doing anything.
FAIL_KEYS: set[Any] = set()
#: What ``CompatTarget``'s connector answers to ``check_state_compatibility``.
COMPAT = cocoindex.op.TargetStateCompatibility.PARTIALLY_COMPATIBLE


class MemFailure(RuntimeError):
    """Raised by ``mutate`` for a key in ``FAIL_KEYS``."""


def reset() -> None:
    CALLS.clear()
    STORE.clear()
    FAIL_KEYS.clear()


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _jsonable(v) for k, v in value.items()}
        return [[_jsonable(k), _jsonable(v)] for k, v in value.items()]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _record(method: str, *args: Any) -> None:
    CALLS.append((method, args))
    log = os.environ.get("MEM_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"method": method, "args": _jsonable(args)}) + "\n")


def _failing_keys() -> set[Any]:
    from_env = {k for k in os.environ.get("MEM_FAIL_KEYS", "").split(",") if k}
    return FAIL_KEYS | from_env


def _spec_of(prepared: Any) -> Any:
    return prepared.spec if isinstance(prepared, Prepared) else prepared


_mutate_count = 0


def _mutate(all_mutations: tuple[Any, ...]) -> None:
    global _mutate_count
    _mutate_count += 1
    failing = _failing_keys()
    for _, mutations in all_mutations:
        bad = [k for k in mutations if k in failing]
        if bad:
            raise MemFailure(f"cannot write key {bad[0]!r}")
    for prepared, mutations in all_mutations:
        rows = STORE.setdefault(_spec_of(prepared).resource, {})
        for key, value in mutations.items():
            if value is None:
                rows.pop(key, None)
            else:
                rows[key] = value
    if os.environ.get("MEM_KILL_AFTER_MUTATE") == str(_mutate_count):
        os.kill(os.getpid(), signal.SIGKILL)  # applied, but the engine never hears back


def _setup(key: Any, previous: Any, current: Any) -> None:
    _record("apply_setup_change", key, previous, current)
    if current is None:
        STORE.pop(key, None)


class MemTarget(cocoindex.op.TargetSpec):
    resource: str
    version: int = 1


@dataclasses.dataclass
class Prepared:
    spec: Any
    number: int


_prepared_count = 0


@cocoindex.op.target_connector(spec_cls=MemTarget)
class MemConnector:
    @staticmethod
    def get_persistent_key(spec: MemTarget, target_name: str) -> str:
        return spec.resource

    @staticmethod
    def apply_setup_change(key: str, previous: MemTarget | None, current: MemTarget | None) -> None:
        _setup(key, previous, current)

    @staticmethod
    def prepare(spec: MemTarget) -> Prepared:
        global _prepared_count
        _prepared_count += 1
        _record("prepare", spec)
        return Prepared(spec, _prepared_count)

    @staticmethod
    def mutate(*all_mutations: tuple[Prepared, dict[Any, Any]]) -> None:
        _record("mutate", *all_mutations)
        _mutate(all_mutations)


class OtherTarget(cocoindex.op.TargetSpec):
    """A second connector kind, without ``prepare``."""

    resource: str


@cocoindex.op.target_connector(spec_cls=OtherTarget)
class OtherConnector:
    @staticmethod
    def get_persistent_key(spec: OtherTarget, target_name: str) -> str:
        return spec.resource

    @staticmethod
    def apply_setup_change(
        key: str, previous: OtherTarget | None, current: OtherTarget | None
    ) -> None:
        _setup(key, previous, current)

    @staticmethod
    def mutate(*all_mutations: tuple[OtherTarget, dict[Any, Any]]) -> None:
        _record("mutate", *all_mutations)
        _mutate(all_mutations)


class CompatTarget(cocoindex.op.TargetSpec):
    """A kind whose connector judges compatibility itself (answer: :data:`COMPAT`)."""

    resource: str
    version: int = 1


@cocoindex.op.target_connector(spec_cls=CompatTarget)
class CompatConnector:
    @staticmethod
    def get_persistent_key(spec: CompatTarget, target_name: str) -> str:
        return spec.resource

    @staticmethod
    def apply_setup_change(
        key: str, previous: CompatTarget | None, current: CompatTarget | None
    ) -> None:
        _setup(key, previous, current)
        if previous is not None and COMPAT is cocoindex.op.TargetStateCompatibility.NOT_COMPATIBLE:
            STORE.pop(key, None)  # the connector clears old data, as docs/architecture.md says

    @staticmethod
    def check_state_compatibility(
        desired: CompatTarget, existing: CompatTarget
    ) -> cocoindex.op.TargetStateCompatibility:
        return COMPAT

    @staticmethod
    def mutate(*all_mutations: tuple[CompatTarget, dict[Any, Any]]) -> None:
        _record("mutate", *all_mutations)
        _mutate(all_mutations)


class AsyncTarget(cocoindex.op.TargetSpec):
    """A kind whose methods are all ``async def``."""

    resource: str


@cocoindex.op.target_connector(spec_cls=AsyncTarget)
class AsyncConnector:
    @staticmethod
    async def get_persistent_key(spec: AsyncTarget, target_name: str) -> str:
        return spec.resource

    @staticmethod
    async def apply_setup_change(
        key: str, previous: AsyncTarget | None, current: AsyncTarget | None
    ) -> None:
        _setup(key, previous, current)

    @staticmethod
    async def prepare(spec: AsyncTarget) -> Prepared:
        _record("prepare", spec)
        return Prepared(spec, -1)

    @staticmethod
    async def mutate(*all_mutations: tuple[Prepared, dict[str, dict[str, Any] | None]]) -> None:
        _record("mutate", *all_mutations)
        _mutate(all_mutations)
