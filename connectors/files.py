"""Files in a directory: one file per row, named ``<key><suffix>``, holding one value field.

Setup **creates** the directory. A **change** of ``suffix`` or ``content_field`` is
``NOT_COMPATIBLE``: the files written before are removed and every row is written again. A
**drop** removes the files this target wrote, the subdirectories that leaves empty, and then the
directory if nothing else is left in it: files the target did not write are never touched.

What the target wrote is listed in a manifest in the directory (``.cocotui-written``, one JSON
string per line). A name is recorded *before* its file is written, and removed from the list
after its file is deleted, so the manifest never misses a file the target may have written, even
when the process is killed in between.

The manifest is the directory's, not an app's: the connector contract gives a connector no way
to tell two apps apart, so two apps exporting to one directory would share it, and either app's
drop would remove the other's files. cocotui does not let that happen for apps that share a
state directory (the default): the second app's create is refused, naming the first, and a drop
of a directory another app also holds releases it without removing anything. Apps with state
directories of their own cannot see each other: give each its own directory.

Every method is idempotent. A file is written atomically: to ``.<name>.cocotui-tmp`` next to it,
flushed to disk, then renamed over ``<name>``, so a reader sees the old content or the new, never
a part. The temporary name is derived from the file's, so one left behind by a killed process is
replaced by the next write of that file, or removed by its delete or the drop. Deleting a file
that is missing, or creating a directory that exists, does nothing.

Keys are single ``str`` paths relative to the directory (``/`` separates subdirectories, created
as needed). The file holds the value field ``content_field``, or the only value field when it is
omitted (with several, ``prepare`` fails, and so every row, with an error saying to set it): a
``str`` is written as UTF-8, ``bytes`` as they are; any other value fails its row.

Keys naming the same file are one key: empty and ``.`` parts are dropped (``normalize_key``),
so ``./notes//today/`` is ``notes/today``; the engine tracks that form, and reports two source
rows producing two spellings of one file as a duplicate.

Keys are untrusted text (e.g. file names from a source): a key that is not a non-empty string, is
absolute, contains a ``..`` part or a NUL, resolves outside the directory (through a symlink), or
names one of the target's own files, fails its row with an error naming the key. Nothing is ever
written, or removed, outside the directory; a symlink at a file's own name is replaced by the
file, never written through.

Example::

    collector.export(
        "pages",
        DirectoryTarget(directory="out/html", suffix=".html"),
        primary_key_fields=["filename"],
    )
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import cocotui
from cocotui.atomic_file import write_file_atomically

#: The manifest of the files a target wrote, in its directory.
MANIFEST = ".cocotui-written"
#: Appended to ``.<name>`` for the temporary file a write goes through.
TEMP_SUFFIX = ".cocotui-tmp"


class DirectoryTarget(cocotui.op.TargetSpec):
    """Writes each row's value to ``<directory>/<key><suffix>``."""

    #: Where files are written; created (with its parents) by setup. The persistent key is its
    #: absolute path.
    directory: str
    #: Appended to each key to form the file name, e.g. ``".html"``.
    suffix: str = ""
    #: The value field written to the file; may be omitted when there is only one.
    content_field: str | None = None


@dataclasses.dataclass(frozen=True)
class PreparedDirectory:
    """What ``mutate`` receives: the resolved directory, the suffix, the field to write."""

    root: Path
    suffix: str
    content_field: str


class DirectoryTargetError(ValueError):
    """A spec, field or value that the directory target cannot write."""


class UnsafeKeyError(DirectoryTargetError):
    """A key that does not name a file of the target directory."""


# ---------------------------------------------------------------------------------------------
# Names and paths


def _directory(spec: DirectoryTarget) -> str:
    """The spec's directory as an absolute, normalised path; the spec is checked on the way."""
    directory = spec.directory
    if not isinstance(directory, str) or not directory or "\x00" in directory:
        raise DirectoryTargetError(
            f"DirectoryTarget.directory must be a non-empty path, got {directory!r}"
        )
    if not isinstance(spec.suffix, str) or "\x00" in spec.suffix:
        raise DirectoryTargetError(
            f"DirectoryTarget.suffix must be a string without NUL, got {spec.suffix!r}"
        )
    return os.path.abspath(Path(directory).expanduser())


def _content_field(spec: DirectoryTarget, value_fields: list[str]) -> str:
    """The value field whose content is written: ``content_field``, or the only value field."""
    if spec.content_field is not None:
        if spec.content_field not in value_fields:
            raise DirectoryTargetError(
                f"DirectoryTarget.content_field {spec.content_field!r} is not a value field of "
                f"the export (it has: {', '.join(value_fields) or 'none'})"
            )
        return spec.content_field
    if len(value_fields) != 1:
        raise DirectoryTargetError(
            f"the export has value fields {', '.join(value_fields) or '(none)'}; set "
            f"DirectoryTarget.content_field to the one to write"
        )
    return value_fields[0]


def _is_reserved(relative: str) -> bool:
    """Whether a path relative to the directory is one of the target's own files."""
    return relative == MANIFEST or relative.endswith(TEMP_SUFFIX)


def safe_path(root: Path, key: object, suffix: str) -> Path:
    """The file of ``key``: ``root/<key><suffix>``, where ``root`` is a resolved directory.

    Its parent directories are resolved; its last part is not, so a write replaces a symlink
    there instead of writing through it, and a delete removes the link. Raises
    :class:`UnsafeKeyError` for any key that does not name a file inside ``root``: one that is
    absolute, has a ``..`` part or a NUL, reaches outside through a symlink, or names the
    directory itself or one of the target's own files."""
    if not isinstance(key, str) or not key:
        raise UnsafeKeyError(f"key {key!r} must be a non-empty string (a relative file path)")
    name = f"{normalize_key(key)}{suffix}"
    if "\x00" in name:
        raise UnsafeKeyError(f"key {key!r} contains a NUL character")
    if name.startswith(("/", "\\")) or os.path.isabs(name):
        raise UnsafeKeyError(f"key {key!r} is an absolute path")
    if ".." in name.replace("\\", "/").split("/"):
        raise UnsafeKeyError(f"key {key!r} contains a '..' part")
    lexical = root / name
    if lexical == root:
        raise UnsafeKeyError(f"key {key!r} names the directory itself")
    path = lexical.parent.resolve() / lexical.name
    if not path.parent.is_relative_to(root) or not path.resolve().is_relative_to(root):
        raise UnsafeKeyError(f"key {key!r} resolves outside {root} (through a symlink)")
    if _is_reserved(path.relative_to(root).as_posix()):
        raise UnsafeKeyError(f"key {key!r} names a file the target keeps for itself")
    return path


def normalize_key(key: object) -> object:
    """``key`` with its empty and ``.`` parts dropped (``./a//b/`` is ``a/b``): the spelling of
    a file name that the engine tracks. Anything :func:`safe_path` refuses is left as it is,
    so that its row fails with that error."""
    if not isinstance(key, str) or key.startswith("/"):
        return key
    if "//" not in key and "./" not in key and not key.endswith(("/", "/.")):
        return key  # the common case, already normal: spare the split
    normalized = "/".join(part for part in key.split("/") if part not in ("", "."))
    return normalized or key


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_SUFFIX}")


# ---------------------------------------------------------------------------------------------
# Files


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with a file holding ``data``, through a temporary file this connector
    recognises (and cleans up) by its name."""
    # Not the directory: one fsync per row, as before (a power cut may still lose the rename).
    write_file_atomically(path, data, temp=_temp_path(path), sync_directory=False)


def _remove(path: Path) -> None:
    """Remove ``path`` and a temporary file left for it (no-op when missing, or when the
    filesystem cannot name it: a name too long, or under a file, was never written)."""
    for candidate in (path, _temp_path(path)):
        try:
            candidate.unlink(missing_ok=True)
        except OSError as exc:
            if exc.errno not in (errno.ENAMETOOLONG, errno.ENOTDIR):
                raise


def _remove_empty_parents(path: Path, root: Path) -> None:
    parent = path.parent
    while parent != root and parent.is_relative_to(root):
        try:
            parent.rmdir()
        except OSError:  # not empty (or already gone)
            return
        parent = parent.parent


def _content(key: str, value: dict[str, Any], field: str) -> bytes:
    content = value.get(field)
    if isinstance(content, str):
        return content.encode("utf-8")
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    raise DirectoryTargetError(
        f"key {key!r}: field '{field}' must be str or bytes to be written to a file, "
        f"got {type(content).__name__}"
    )


# ---------------------------------------------------------------------------------------------
# The manifest


def _read_manifest(root: Path) -> dict[str, None]:
    """The names recorded in ``root``'s manifest, in order, as an ordered set. A line that is
    not a JSON string (e.g. cut short by a kill) is skipped."""
    try:
        text = (root / MANIFEST).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}
    names: dict[str, None] = {}
    for line in text.splitlines():
        try:
            name = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(name, str):
            names[name] = None
    return names


def _manifest_lines(names: Iterable[str]) -> bytes:
    return "".join(json.dumps(name) + "\n" for name in names).encode("utf-8")


class _Manifest:
    """A directory's manifest during one ``mutate`` batch. A new name is appended (and handed to
    the OS, which a killed process cannot lose) before its file is written; deleted names are
    taken out at the end, by rewriting the manifest atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.names = _read_manifest(root)
        self._appending: BinaryIO | None = None
        self._forgotten = False

    def record(self, name: str) -> None:
        if name in self.names:
            return
        if self._appending is None:
            self.root.mkdir(parents=True, exist_ok=True)
            self._appending = open(self.root / MANIFEST, "ab")  # noqa: SIM115 (closed in close())
        self._appending.write(_manifest_lines([name]))
        self._appending.flush()
        self.names[name] = None

    def forget(self, name: str) -> None:
        if name in self.names:
            del self.names[name]
            self._forgotten = True

    def close(self) -> None:
        if self._appending is not None:
            with self._appending:
                os.fsync(self._appending.fileno())
            self._appending = None
        if self._forgotten:
            _write_atomically(self.root / MANIFEST, _manifest_lines(self.names))
            self._forgotten = False


def _remove_written(root: Path) -> None:
    """Remove the files the manifest lists (never anything outside ``root``), the
    subdirectories left empty, then the manifest."""
    if not root.is_dir():
        return
    resolved = root.resolve()
    for name in _read_manifest(root):
        try:
            path = safe_path(resolved, name, "")
        except UnsafeKeyError:
            continue  # not a name this target can have written: leave it alone
        _remove(path)
        _remove_empty_parents(path, resolved)
    _remove(root / MANIFEST)


def _apply(target: PreparedDirectory, rows: dict[str, dict[str, Any] | None]) -> None:
    """Write and delete the files of one ``mutate`` batch, keeping the manifest up to date."""
    root = target.root
    manifest = _Manifest(root)
    try:
        for key, value in rows.items():
            path = safe_path(root, key, target.suffix)
            name = path.relative_to(root).as_posix()
            if value is None:
                _remove(path)
                _remove_empty_parents(path, root)
                manifest.forget(name)
            else:
                data = _content(key, value, target.content_field)
                manifest.record(name)  # before the file: a kill never leaves it unlisted
                _write_atomically(path, data)
    finally:
        manifest.close()


# ---------------------------------------------------------------------------------------------
# The connector


def _writes_other_files(previous: DirectoryTarget, current: DirectoryTarget) -> bool:
    return (previous.suffix, previous.content_field) != (current.suffix, current.content_field)


@cocotui.op.target_connector(spec_cls=DirectoryTarget)
class DirectoryTargetConnector:
    @staticmethod
    def get_persistent_key(spec: DirectoryTarget, target_name: str) -> str:
        return _directory(spec)

    @staticmethod
    def describe(key: str) -> str:
        return f"Files in {key}"

    @staticmethod
    def normalize_key(key: str) -> object:
        return normalize_key(key)

    @staticmethod
    def check_state_compatibility(
        desired: DirectoryTarget, existing: DirectoryTarget
    ) -> cocotui.op.TargetStateCompatibility:
        # Another suffix or field means other files: old ones are removed, all rows rewritten.
        if _writes_other_files(existing, desired):
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
        if previous is not None and _writes_other_files(previous, current):
            _remove_written(root)
        root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def prepare(
        spec: DirectoryTarget,
        setup_state: DirectoryTarget,
        key_fields_schema: list[cocotui.FieldSchema],
        value_fields_schema: list[cocotui.FieldSchema],
    ) -> PreparedDirectory:
        field = _content_field(spec, [f.name for f in value_fields_schema])
        root = Path(_directory(spec)).resolve()
        return PreparedDirectory(root=root, suffix=spec.suffix, content_field=field)

    @staticmethod
    def mutate(*all_mutations: tuple[PreparedDirectory, dict[str, dict[str, Any] | None]]) -> None:
        for target, rows in all_mutations:
            _apply(target, rows)
