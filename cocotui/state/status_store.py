"""The status store: what the app's exporter (the process running an update, one-shot or live)
is doing, published a few times a second to ``APP.status.json`` beside the app's state, so that
another process (``cocotui status``, a TUI) can show it; and each target's recent runs.

One JSON document, replaced atomically (``atomic_file``), readable by its owner only, of bounded
size: the latest run snapshot, the last :data:`HISTORY_SIZE` runs of at most
:data:`HISTORY_TARGETS` targets. Only the holder of the app's writer lock writes it. The run
snapshot is the engine's (``Snapshot.to_json()``): this layer stores it as given.

A file saying "running" is not believed on its word: the exporter may have been killed. It is
believed only while the app's writer lock is held by the process it names
(:func:`read_exporter_status`).
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import fcntl
import getpass
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cocotui.atomic_file import write_file_atomically
from cocotui.state.errors import StateError, state_access_error
from cocotui.state.paths import AppPaths

#: The version of the file's layout (``format``); a reader ignores a file of another one.
FORMAT = 1
#: Runs kept per target.
HISTORY_SIZE = 20
#: Targets whose runs are kept (those run longest ago are forgotten first).
HISTORY_TARGETS = 200


class Origin(enum.StrEnum):
    """What started the exporter."""

    CLI = "cli"
    TUI = "tui"
    API = "api"


class Outcome(enum.StrEnum):
    """How a run ended, as its exporter wrote it (``running`` until it ends)."""

    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    #: the exporter vanished without saying (killed, crashed, the machine went down)
    DIED = "died"


@dataclasses.dataclass(frozen=True)
class ExporterIdentity:
    pid: int
    host: str
    user: str
    #: wall clock
    started_at: float
    #: ``one-shot`` or ``live``
    mode: str
    origin: Origin

    @classmethod
    def of_this_process(cls, mode: str, origin: Origin) -> ExporterIdentity:
        return cls(os.getpid(), _host(), _user(), time.time(), mode, origin)

    @property
    def by(self) -> str:
        """Who ran it, in a few words: ``user@host pid N (cli)``."""
        return f"{self.user}@{self.host} pid {self.pid} ({self.origin})"


def _host() -> str:
    # What socket.gethostname() answers, without importing socket (a start-up cost).
    return os.uname().nodename


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container)
        return str(os.getuid())


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """One run of one target, kept in its history."""

    started_at: float
    elapsed: float
    inserted: int
    updated: int
    deleted: int
    errors: int
    outcome: Outcome
    mode: str
    by: str


@dataclasses.dataclass(frozen=True)
class ExporterStatus:
    """What the status file says, with the verdict on whether its exporter still runs."""

    exporter: ExporterIdentity
    #: the file's ``outcome``, except ``DIED`` when it says running and its process is gone
    outcome: Outcome
    #: when the exporter last wrote the file (wall clock)
    heartbeat: float
    finished_at: float | None
    #: why the run failed (``FAILED``)
    error: str | None
    #: the engine's run snapshot (``Snapshot.to_json()``)
    snapshot: Mapping[str, Any]
    #: target -> its last runs, oldest first
    history: Mapping[str, tuple[RunRecord, ...]]

    @property
    def running(self) -> bool:
        return self.outcome is Outcome.RUNNING


class StatusWriter:
    """Writes the status file of one run; its owner holds the app's writer lock."""

    def __init__(self, paths: AppPaths, exporter: ExporterIdentity) -> None:
        self.path = paths.status
        self.exporter = exporter
        self.history = _carried_history(paths)
        self._temp = self.path.with_name(f".{self.path.name}.tmp")

    def publish(self, snapshot: Mapping[str, Any]) -> None:
        """The run is going on; ``snapshot`` is where it stands."""
        self._write(Outcome.RUNNING, snapshot, None, None, durable=False)

    def finish(
        self,
        outcome: Outcome,
        snapshot: Mapping[str, Any],
        runs: Mapping[str, RunRecord],
        error: str | None = None,
    ) -> None:
        """The run ended with ``outcome``; ``runs`` go to their targets' histories."""
        for target, record in runs.items():
            self.history[target] = _bounded([*self.history.get(target, ()), record])
        self._write(outcome, snapshot, time.time(), error, durable=True)

    def _write(
        self,
        outcome: Outcome,
        snapshot: Mapping[str, Any],
        finished_at: float | None,
        error: str | None,
        *,
        durable: bool,
    ) -> None:
        document = {
            "format": FORMAT,
            "exporter": {**dataclasses.asdict(self.exporter), "origin": self.exporter.origin.value},
            "outcome": outcome.value,
            "heartbeat": time.time(),
            "finished_at": finished_at,
            "error": error,
            "snapshot": snapshot,
            "history": {
                target: [_record_json(r) for r in records]
                for target, records in _kept_targets(self.history).items()
            },
        }
        data = json.dumps(document, separators=(",", ":")).encode()
        try:
            write_file_atomically(
                self.path, data, private=True, temp=self._temp, sync_directory=durable
            )
        except OSError as exc:
            raise state_access_error(exc, self.path, "write status file") from None


def _bounded(records: list[RunRecord]) -> tuple[RunRecord, ...]:
    return tuple(records[-HISTORY_SIZE:])


def _kept_targets(
    history: Mapping[str, tuple[RunRecord, ...]],
) -> dict[str, tuple[RunRecord, ...]]:
    """The histories of the :data:`HISTORY_TARGETS` targets run most recently."""
    if len(history) <= HISTORY_TARGETS:
        return dict(history)
    latest = sorted(history, key=lambda t: history[t][-1].started_at if history[t] else 0.0)
    return {t: history[t] for t in latest[-HISTORY_TARGETS:]}


def _carried_history(paths: AppPaths) -> dict[str, tuple[RunRecord, ...]]:
    """The histories of the previous status file, with the previous run added when it died
    without saying so. A file that cannot be read starts them afresh: it holds no state a run
    depends on."""
    try:
        previous = read_exporter_status(paths)
    except StateError:
        return {}
    if previous is None:
        return {}
    history = dict(previous.history)
    if previous.outcome is Outcome.DIED:
        for target, record in _died_runs(previous).items():
            history[target] = _bounded([*history.get(target, ()), record])
    return history


def _died_runs(previous: ExporterStatus) -> dict[str, RunRecord]:
    """The run of ``previous`` (a dead exporter) per target, as far as it got."""
    exporter = previous.exporter
    targets = previous.snapshot.get("targets", {})
    if not isinstance(targets, Mapping):
        return {}
    return {
        str(name): RunRecord(
            started_at=exporter.started_at,
            elapsed=max(previous.heartbeat - exporter.started_at, 0.0),
            inserted=int(counts.get("inserted", 0)),
            updated=int(counts.get("updated", 0)),
            deleted=int(counts.get("deleted", 0)),
            errors=int(counts.get("errors", 0)),
            outcome=Outcome.DIED,
            mode=exporter.mode,
            by=exporter.by,
        )
        for name, counts in targets.items()
        if isinstance(counts, Mapping)
    }


def _record_json(record: RunRecord) -> dict[str, Any]:
    return {**dataclasses.asdict(record), "outcome": record.outcome.value}


# -- reading ------------------------------------------------------------------------------------


def read_exporter_status(paths: AppPaths) -> ExporterStatus | None:
    """The app's status file with a verdict on its exporter, or ``None`` if no run wrote one
    (or a cocotui with another file layout did). Raises :class:`StateError` for a file that
    cannot be read or parsed."""
    path = paths.status
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise state_access_error(exc, path, "read status file") from None
    except ValueError as exc:
        raise StateError(f"status file {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    try:
        status = _parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"status file {path} has an unexpected shape ({exc!r})") from None
    if status.outcome is Outcome.RUNNING and not _still_running(status.exporter, paths.lock):
        status = dataclasses.replace(status, outcome=Outcome.DIED)
    return status


def _parse(data: Mapping[str, Any]) -> ExporterStatus:
    who = data["exporter"]
    exporter = ExporterIdentity(
        pid=int(who["pid"]),
        host=str(who["host"]),
        user=str(who["user"]),
        started_at=float(who["started_at"]),
        mode=str(who["mode"]),
        origin=Origin(who["origin"]),
    )
    history = {
        str(target): tuple(_parse_record(r) for r in records)
        for target, records in data["history"].items()
    }
    finished_at, error, snapshot = data["finished_at"], data["error"], data["snapshot"]
    if not isinstance(snapshot, Mapping):
        raise TypeError("snapshot is not an object")
    return ExporterStatus(
        exporter=exporter,
        outcome=Outcome(data["outcome"]),
        heartbeat=float(data["heartbeat"]),
        finished_at=None if finished_at is None else float(finished_at),
        error=None if error is None else str(error),
        snapshot=snapshot,
        history=history,
    )


def _parse_record(data: Mapping[str, Any]) -> RunRecord:
    return RunRecord(
        started_at=float(data["started_at"]),
        elapsed=float(data["elapsed"]),
        inserted=int(data["inserted"]),
        updated=int(data["updated"]),
        deleted=int(data["deleted"]),
        errors=int(data["errors"]),
        outcome=Outcome(data["outcome"]),
        mode=str(data["mode"]),
        by=str(data["by"]),
    )


def _still_running(exporter: ExporterIdentity, lock: Path) -> bool:
    """Whether ``exporter`` still holds the app's writer lock. A process of this host that is
    gone is dead whatever the lock says; otherwise the lock must be held, and by it (the lock
    file names its holder)."""
    if exporter.host == _host() and not _process_exists(exporter.pid):
        return False
    holder = lock_holder(lock)
    return holder is not None and holder in (exporter.pid, 0)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def lock_holder(lock: Path) -> int | None:
    """The pid holding the writer lock ``lock`` (0 if it does not say), or ``None`` if it is
    free. Probes with a shared lock taken and dropped at once: a writer starting in that
    instant is told the state is busy, as it would be by any reader's probe."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None
        raise state_access_error(exc, lock, "open lock file") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 64, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def describe_exporter(paths: AppPaths) -> str | None:
    """The running exporter of the app in a few words, for a message saying who holds its
    lock: ``a live export (pid 123 on host, user ann, from the cli, since 2026-11-28
    08:12:03)``; ``None`` if no exporter runs (the lock is held for something else)."""
    try:
        status = read_exporter_status(paths)
    except StateError:
        return None
    if status is None or not status.running:
        return None
    who = status.exporter
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(who.started_at))
    kind = "a live export" if who.mode == "live" else "an update"
    return (
        f"{kind} (pid {who.pid} on {who.host}, user {who.user}, from the {who.origin}, "
        f"since {since})"
    )
