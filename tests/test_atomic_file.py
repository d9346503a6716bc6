"""The one atomic-write helper (cocotui.atomic_file), used by the state store, the settings file
and the files connector."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cocotui.atomic_file import write_file_atomically
from cocotui.state.setup_store import write_private_file


def test_short_writes_still_write_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.write may write less than asked (signals, some filesystems): the rest must follow.
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:3])))
    path = tmp_path / "state.toml"
    write_private_file(path, b"0123456789" * 10)
    assert path.read_bytes() == b"0123456789" * 10


def test_private_files_are_the_owners_only(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "app.toml"
    write_private_file(path, b"x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.txt"
    write_file_atomically(path, b"old")

    def no_space(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", no_space)
    with pytest.raises(OSError, match="No space left"):
        write_file_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_symlink_at_the_temporary_name_is_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    temp = tmp_path / ".out.txt.tmp"
    temp.symlink_to(victim)
    write_file_atomically(tmp_path / "out.txt", b"data", temp=temp)
    assert victim.read_bytes() == b"untouched"
    assert (tmp_path / "out.txt").read_bytes() == b"data"
    assert not temp.exists()
