"""Files in a directory: one file per row, named ``<key><suffix>``, holding one value field.

Setup creates the directory; a drop removes the files this target wrote (listed in a manifest
kept in the directory) and then the directory if nothing else is left in it. Every method is
idempotent: writing a file that exists replaces it atomically, deleting a missing one is a no-op.

Keys are untrusted text: a key that is absolute, contains ``..`` or a NUL, or would resolve
outside the directory fails its row instead of writing anywhere else.

Example::

    collector.export(
        "pages",
        DirectoryTarget(directory="out/html", suffix=".html"),
        primary_key_fields=["filename"],
    )
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any

import cocotui

MANIFEST = ".cocotui-written"


class DirectoryTarget(cocotui.op.TargetSpec):
    """Writes each row's value to ``<directory>/<key><suffix>``."""

    directory: str
    suffix: str = ""
    #: The value field written to the file; may be omitted when there is only one.
    content_field: str | None = None


@dataclasses.dataclass(frozen=True)
class PreparedDirectory:
    root: Path
    suffix: str
    content_field: str | None


class UnsafeKeyError(ValueError):
    """A key that would write outside the target directory."""


def safe_path(root: Path, key: Any, suffix: str) -> Path:
    """``root/<key><suffix>``, refusing any key that could escape ``root``."""
    if not isinstance(key, str) or not key:
        raise UnsafeKeyError(f"key {key!r} must be a non-empty string (a relative file path)")
    name = key + suffix
    parts = name.replace("\\", "/").split("/")
    if "\x00" in name or name.startswith("/") or ".." in parts or os.path.isabs(name):
        raise UnsafeKeyError(f"key {key!r} is not a safe relative path")
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()):
        raise UnsafeKeyError(f"key {key!r} resolves outside {root}")
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _content(value: dict[str, Any], field: str | None) -> bytes:
    if field is None:
        if len(value) != 1:
            raise ValueError(
                f"the row has value fields {', '.join(value)}; set DirectoryTarget.content_field "
                f"to the one to write"
            )
        (content,) = value.values()
    else:
        content = value[field]
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    raise TypeError(f"file content must be str or bytes, got {type(content).__name__}")


def _written(root: Path) -> list[str]:
    try:
        return (root / MANIFEST).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _remove_written(root: Path) -> None:
    """Remove the files this target wrote, then directories left empty."""
    for name in dict.fromkeys(_written(root)):
        path = root / name
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    (root / MANIFEST).unlink(missing_ok=True)


@cocotui.op.target_connector(spec_cls=DirectoryTarget)
class DirectoryTargetConnector:
    @staticmethod
    def get_persistent_key(spec: DirectoryTarget, target_name: str) -> str:
        return str(Path(spec.directory).expanduser().absolute())

    @staticmethod
    def describe(key: str) -> str:
        return f"Files in {key}"

    @staticmethod
    def check_state_compatibility(
        desired: DirectoryTarget, existing: DirectoryTarget
    ) -> cocotui.op.TargetStateCompatibility:
        # Another suffix or field names other files: old ones are removed, all rows rewritten.
        if (desired.suffix, desired.content_field) != (existing.suffix, existing.content_field):
            return cocotui.op.TargetStateCompatibility.NOT_COMPATIBLE
        return cocotui.op.TargetStateCompatibility.COMPATIBLE

    @staticmethod
    def apply_setup_change(
        key: str, previous: DirectoryTarget | None, current: DirectoryTarget | None
    ) -> None:
        root = Path(key)
        if current is None:
            _remove_written(root)
            if root.is_dir() and not any(root.iterdir()):
                root.rmdir()
            return
        if previous is not None and (previous.suffix, previous.content_field) != (
            current.suffix,
            current.content_field,
        ):
            _remove_written(root)
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def prepare(spec: DirectoryTarget) -> PreparedDirectory:
        return PreparedDirectory(
            Path(spec.directory).expanduser().absolute(), spec.suffix, spec.content_field
        )

    @staticmethod
    def mutate(*all_mutations: tuple[PreparedDirectory, dict[str, dict[str, Any] | None]]) -> None:
        for target, rows in all_mutations:
            names = []
            for key, value in rows.items():
                path = safe_path(target.root, key, target.suffix)
                if value is None:
                    path.unlink(missing_ok=True)
                    continue
                data = _content(value, target.content_field)
                names.append(path.relative_to(target.root.resolve()).as_posix())
                _write_atomically(path, data)
            if names:
                # Recorded after writing: a crash in between is re-sent by the engine.
                with open(target.root / MANIFEST, "a", encoding="utf-8") as manifest:
                    manifest.write("".join(f"{name}\n" for name in names))
