"""Setup state: per target, the committed setup and the staged (possibly half-applied)
changes, kept in one human-readable TOML file per app.

The engine talks to :class:`SetupStore`; :class:`TomlSetupStore` is the local backend.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from pathlib import Path
from typing import Any, Protocol

from cocotui.atomic_file import write_file_atomically
from cocotui.state.errors import StateError as StateError  # re-exported for the store's users
from cocotui.state.errors import state_access_error
from cocotui.state.paths import make_state_dir
from cocotui.values.identity import canonical_json
from cocotui.values.toml_tags import decode, encode

SCHEMA_VERSION = 1
#: The last line of every state file. TOML cut short at a line boundary often still parses, so
#: a file without this line is refused as truncated rather than read as fewer targets.
END_MARKER = "# end of cocotui state"


@dataclasses.dataclass(frozen=True)
class SetupRecord:
    """One version of a target's setup: the connector-visible state plus the collected field
    split it was applied for (so key/value field changes show in a plan)."""

    state: Any
    key_fields: tuple[str, ...]
    value_fields: tuple[str, ...]
    #: ``export(..., setup_by_user=True)``: the user manages the resource; cocotui records
    #: this version but calls no setup method for it.
    setup_by_user: bool = False

    def same_as(self, other: SetupRecord | None) -> bool:
        return (
            other is not None
            and self.key_fields == other.key_fields
            and self.value_fields == other.value_fields
            and self.setup_by_user == other.setup_by_user
            and canonical_json(self.state) == canonical_json(other.state)
        )

    def same_state(self, other: SetupRecord | None) -> bool:
        return other is not None and canonical_json(self.state) == canonical_json(other.state)


@dataclasses.dataclass
class TargetState:
    flow: str
    kind: str
    key: Any
    export: str
    committed: SetupRecord | None = None
    #: Intents written before connector calls; ``None`` stands for a drop.
    staged: list[SetupRecord | None] = dataclasses.field(default_factory=list)
    description: str = ""
    applied_at: str | None = None
    last_error: str | None = None

    @property
    def key_id(self) -> str:
        return canonical_json(self.key)

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.flow, self.kind, self.key_id)

    @property
    def versions(self) -> list[SetupRecord]:
        """Every version the target may be in: committed, then staged upserts."""
        found = [self.committed] if self.committed is not None else []
        return found + [r for r in self.staged if r is not None]

    @property
    def surely_exists(self) -> bool:
        return self.committed is not None and all(r is not None for r in self.staged)


@dataclasses.dataclass
class AppState:
    app: str
    targets: list[TargetState] = dataclasses.field(default_factory=list)

    def find(self, identity: tuple[str, str, str]) -> TargetState | None:
        return next((t for t in self.targets if t.identity == identity), None)


class SetupStore(Protocol):
    def load(self) -> AppState: ...
    def save(self, state: AppState) -> None: ...
    def fingerprint(self) -> str: ...


# ---------------------------------------------------------------------------------------------
# TOML backend


def _record_to_toml(record: SetupRecord) -> dict[str, Any]:
    doc = {
        "state": encode(record.state),
        "key_fields": list(record.key_fields),
        "value_fields": list(record.value_fields),
    }
    if record.setup_by_user:
        doc["setup_by_user"] = True
    return doc


def _record_from_toml(data: dict[str, Any]) -> SetupRecord:
    return SetupRecord(
        decode(data["state"]),
        tuple(data["key_fields"]),
        tuple(data["value_fields"]),
        bool(data.get("setup_by_user", False)),
    )


def _target_to_toml(target: TargetState) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "flow": target.flow,
        "export": target.export,
        "kind": target.kind,
        "key_id": target.key_id,
        "key": encode(target.key),
        "description": target.description,
    }
    if target.applied_at:
        doc["applied_at"] = target.applied_at
    if target.last_error:
        doc["last_error"] = target.last_error
    if target.committed is not None:
        doc["committed"] = _record_to_toml(target.committed)
    doc["staged"] = [
        {"action": "drop"} if r is None else {"action": "upsert", **_record_to_toml(r)}
        for r in target.staged
    ]
    return doc


def _target_from_toml(data: dict[str, Any]) -> TargetState:
    staged: list[SetupRecord | None] = [
        None if s["action"] == "drop" else _record_from_toml(s) for s in data.get("staged", [])
    ]
    committed = data.get("committed")
    return TargetState(
        flow=data["flow"],
        kind=data["kind"],
        key=decode(data["key"]),
        export=data["export"],
        committed=_record_from_toml(committed) if committed is not None else None,
        staged=staged,
        description=data.get("description", ""),
        applied_at=data.get("applied_at"),
        last_error=data.get("last_error"),
    )


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace ``path``, readable by the owner only. Raises ``OSError``: the caller
    knows what the file is for and how to word the error."""
    write_file_atomically(path, data, private=True)


class TomlSetupStore:
    def __init__(self, path: Path, app: str, app_file: str | None = None) -> None:
        self.path = path
        self.app = app
        #: The app file this state belongs to, recorded so `ls` can show it.
        self.app_file = app_file

    def recorded_app_file(self) -> str | None:
        """The app file named in the stored state (``None``: not recorded, or no state)."""
        raw = self._read_bytes()
        try:
            doc = tomllib.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None  # load() reports a damaged file
        found = doc.get("app_file")
        return found if isinstance(found, str) else None

    def _read_bytes(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise state_access_error(exc, self.path, "read state file") from None

    def fingerprint(self) -> str:
        raw = self._read_bytes()
        return hashlib.sha256(raw or b"").hexdigest()[:16]

    def load(self) -> AppState:
        raw = self._read_bytes()
        if raw is None:
            return AppState(self.app)
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise StateError(
                f"state file {self.path} is not valid TOML ({exc}); cocotui will not overwrite "
                f"it: restore it from a backup or move it away"
            ) from None
        version = doc.get("schema_version")
        if version != SCHEMA_VERSION:
            newer = isinstance(version, int) and version > SCHEMA_VERSION
            raise StateError(
                f"state file {self.path} has schema_version {version!r}; this cocotui reads "
                f"version {SCHEMA_VERSION}"
                + ("; upgrade cocotui to use it" if newer else "; the file is not cocotui's")
            )
        if raw.rstrip().splitlines()[-1:] != [END_MARKER.encode()]:
            raise StateError(
                f"state file {self.path} is truncated (its last line {END_MARKER!r} is "
                f"missing); cocotui will not overwrite it: restore it from a backup, or if you "
                f"edited it by hand, end it with that line again"
            )
        try:
            targets = [_target_from_toml(t) for t in doc.get("targets", [])]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError(
                f"state file {self.path} is damaged ({type(exc).__name__}: {exc}); cocotui "
                f"will not overwrite it: fix it by hand or move it away"
            ) from None
        return AppState(doc.get("app", self.app), targets)

    def save(self, state: AppState) -> None:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "app": state.app,
            **({"app_file": self.app_file} if self.app_file else {}),
            "targets": [_target_to_toml(t) for t in state.targets],
        }
        import tomli_w  # only setup changes write the state: an update only reads it

        text = tomli_w.dumps(doc) + f"\n{END_MARKER}\n"
        make_state_dir(self.path.parent)
        try:
            write_private_file(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise state_access_error(exc, self.path, "write state file") from None
        self.remove_stale_temp_files()

    def remove_stale_temp_files(self) -> None:
        """Remove the temporary files of writers killed before their rename. Only call it
        holding the writer lock: then no other process is writing one."""
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
