"""Issue 15, items 5, 7, 8 and 11: user code calling ``sys.exit``, file names that are not UTF-8,
non-regular files and symlinks leaving the source, and edits that keep size and mtime."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace
from test_live import LiveRun, running  # noqa: F401  (the ``running`` fixture)


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def failures(run: h.Recorded) -> dict[str, str]:
    return {e["row"]: e["error"] for e in run.named("row.failed")}


# -- item 5: SystemExit from user code --------------------------------------------------------

EXIT_HEADER = """
import sys

@cocoindex.op.function()
def check(text):
    if text == "exit":
        sys.exit(0)
    return len(text)
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_sys_exit_in_a_transform_fails_only_its_row(ws: Workspace, workers: int) -> None:
    # Enough rows for worker processes to be used with workers=2.
    files = {f"f{i:03}.md": f"row {i}" for i in range(300)} | {"quit.md": "exit"}
    h.write_files(ws, files)
    h.flow_app(
        ws,
        rows='doc["n"] = doc["content"].transform(check)',
        collect='filename=doc["filename"], n=doc["n"]',
        header=EXIT_HEADER,
    )
    h.apply_all(ws)

    run = h.update(ws, workers=workers)  # before the fix: SystemExit out of the engine
    assert failures(run) == {"quit.md": "SystemExit: sys.exit(0) was called"}
    assert run.named("run.finished")[0]["errors"] == 1
    assert len(h.store()) == 300 and "quit.md" not in h.store()


def test_sys_exit_in_a_connector_fails_its_rows(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.write_files(ws, {"a.md": "a", "b.md": "b"})
    h.flow_app(ws)
    h.apply_all(ws)
    mem = h.mem()
    original = mem._mutate

    def exiting_mutate(all_mutations: tuple[Any, ...]) -> None:
        if any("b.md" in mutations for _, mutations in all_mutations):
            raise SystemExit(3)
        original(all_mutations)

    monkeypatch.setattr(mem, "_mutate", exiting_mutate)
    run = h.update(ws)
    assert list(failures(run)) == ["b.md"]
    assert "sys.exit(3)" in failures(run)["b.md"]
    assert h.store() == {"a.md": {"content": "a"}}


# -- item 7: file names that are not UTF-8 ----------------------------------------------------


def bad_name(ws: Workspace) -> None:
    with open(os.fsencode(ws.source_dir) + b"/bad\xff.md", "wb") as f:
        f.write(b"bad")


def test_file_name_not_utf8_is_one_row_error_and_the_rest_is_exported(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "a", "sub/b.md": "b"})
    bad_name(ws)
    h.flow_app(ws)
    h.apply_all(ws)

    for _ in range(2):  # every run: the row is never tracked, so never forgotten
        run = h.update(ws)
        assert list(failures(run)) == ["bad\\xff.md"]  # named, with the byte escaped
        assert "not valid UTF-8" in failures(run)["bad\\xff.md"]
        assert run.result.sources["Docs.documents"].errors == 1
        assert h.store() == {"a.md": {"content": "a"}, "sub/b.md": {"content": "b"}}


def test_file_name_not_utf8_in_live_mode_is_a_row_error(
    ws: Workspace,
    running: Callable[..., LiveRun],  # noqa: F811
) -> None:
    h.write_files(ws, {"a.md": "a"})
    h.flow_app(ws)
    h.apply_all(ws)
    run = running(ws)
    bad_name(ws)
    run.barrier()  # before the fix, the run ended here
    run.wait_for(
        lambda: any(e["row"] == "bad\\xff.md" for e in run.named("row.failed")),
        "the row error of the bad name",
    )
    assert "a.md" in h.store()


def test_file_name_not_utf8_among_changed_paths_is_a_row_error(
    ws: Workspace,
    running: Callable[..., LiveRun],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """watchfiles itself fails on such a name (its re-list then finds it); a watcher that
    reports it must get the same row error."""
    from cocotui.engine import live as live_module

    h.write_files(ws, {"a.md": "a"})
    h.flow_app(ws)
    h.apply_all(ws)
    original = live_module.LiveRun._row_keys

    def with_bad_name(self: live_module.LiveRun, live: Any, paths: set[str]) -> set[str]:
        return original(self, live, paths) | {os.fsdecode(b"bad\xff.md")}

    monkeypatch.setattr(live_module.LiveRun, "_row_keys", with_bad_name)
    run = running(ws)
    run.barrier()  # its pass gets the bad name too (no such file: watchfiles would fail)
    assert "bad\\xff.md" in [e["row"] for e in run.named("row.failed")]


# -- item 8: non-regular files and symlinks ---------------------------------------------------


def test_symlink_leaving_the_source_is_not_followed(ws: Workspace) -> None:
    secret = ws.root / "secret.txt"
    secret.write_text("secret")
    h.write_files(ws, {"a.md": "a", "inside/real.md": "real"})
    (ws.source_dir / "innocent.txt").symlink_to(secret)
    (ws.source_dir / "outside_dir").symlink_to(ws.root)
    (ws.source_dir / "alias.md").symlink_to(ws.source_dir / "a.md")
    (ws.source_dir / "inside" / "loop").symlink_to(ws.source_dir)
    h.flow_app(ws)
    h.apply_all(ws)

    run = h.update(ws)
    assert run.result.ok
    assert h.store() == {
        "a.md": {"content": "a"},
        "alias.md": {"content": "a"},  # a link inside the source is followed
        "inside/real.md": {"content": "real"},
    }


def test_symlink_leaving_the_source_is_followed_with_the_option(ws: Workspace) -> None:
    secret = ws.root / "shared.txt"
    secret.write_text("shared")
    (ws.source_dir / "shared.txt").symlink_to(secret)
    h.flow_app(ws, source_args=", follow_external_symlinks=True")
    h.apply_all(ws)

    h.update(ws)
    assert h.store() == {"shared.txt": {"content": "shared"}}


def test_local_file_keeps_the_v0_positional_order_and_max_file_size(ws: Workspace) -> None:
    h.write_files(ws, {"small.bin": b"12", "big.bin": b"123456"})
    # CocoIndex v0: LocalFile(path, binary, included_patterns, excluded_patterns, max_file_size)
    h.write_app(
        ws,
        """
        @cocoindex.flow_def(name="Docs")
        def docs_flow(flow_builder, data_scope):
            data_scope["documents"] = flow_builder.add_source(
                cocoindex.sources.LocalFile(SOURCE, True, ["*.bin"], None, 4)
            )
            out = data_scope.add_collector()
            with data_scope["documents"].row() as doc:
                out.collect(filename=doc["filename"], content=doc["content"])
            out.export("t", MemTarget(resource="a"), primary_key_fields=["filename"])
        """,
    )
    h.apply_all(ws)
    h.update(ws)
    assert h.store() == {"small.bin": {"content": b"12"}}


def test_live_mode_skips_fifos_and_device_links(
    ws: Workspace,
    running: Callable[..., LiveRun],  # noqa: F811
) -> None:
    h.write_files(ws, {"a.md": "a"})
    h.flow_app(ws)
    h.apply_all(ws)
    run = running(ws)
    os.mkfifo(ws.source_dir / "pipe.md")
    (ws.source_dir / "zero.md").symlink_to("/dev/zero")
    (ws.source_dir / "passwd.md").symlink_to("/etc/passwd")
    # Before the fix, the pass blocked opening the FIFO (or read /dev/zero until out of memory)
    # and the barrier never arrived.
    run.barrier()
    assert h.store() == {"a.md": {"content": "a"}, "zz-barrier-1.md": {"content": "barrier"}}
    assert run.named("row.failed") == []


def test_read_row_never_blocks_on_a_fifo(ws: Workspace) -> None:
    from cocotui.sources import LocalFile

    os.mkfifo(ws.source_dir / "pipe")
    result: list[Any] = []
    reader = threading.Thread(
        target=lambda: result.append(LocalFile(str(ws.source_dir)).read_row("pipe")),
        daemon=True,
    )
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock the reader before failing
        os.close(os.open(ws.source_dir / "pipe", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("read_row blocked on a FIFO")
    assert result == [None]


# -- item 11: same size and mtime, different content ------------------------------------------


def test_edit_keeping_size_and_mtime_is_exported(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "one", "b.md": "bee"})
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)

    path = ws.source_dir / "a.md"
    before = path.stat()
    replacement = ws.root / "a.new"
    replacement.write_text("two")  # same size
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))  # touch -r / cp -p
    os.replace(replacement, path)
    assert (path.stat().st_mtime_ns, path.stat().st_size) == (before.st_mtime_ns, 3)

    run = h.update(ws)
    assert h.store()["a.md"] == {"content": "two"}
    assert run.result.sources["Docs.documents"].updated == 1


def test_in_place_edit_keeping_size_and_mtime_is_exported(ws: Workspace) -> None:
    """Written in place (same inode, as ``rsync -t --inplace``): the ctime still moves."""
    h.write_files(ws, {"a.md": "one"})
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)

    path = ws.source_dir / "a.md"
    before = path.stat()
    # The ctime has a clock tick's granularity: wait until the clock reads past it.
    while os.stat(ws.root).st_ctime_ns <= before.st_ctime_ns:
        os.utime(ws.root)
    path.write_text("two")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    h.update(ws)
    assert h.store() == {"a.md": {"content": "two"}}


def test_unchanged_rows_are_not_read_again(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stamp comparison stays in SQLite: a no-change run reads no file."""
    from cocotui.sources import LocalFile

    h.write_files(ws, {"a.md": "a", "b.md": "b"})
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)
    reads: list[str] = []
    original = LocalFile.read_row
    monkeypatch.setattr(
        LocalFile, "read_row", lambda self, key: reads.append(key) or original(self, key)
    )
    run = h.update(ws)
    assert reads == [] and run.result.sources["Docs.documents"].unchanged == 2
    with sqlite3.connect(next(ws.state_dir.glob("*.tracking.sqlite"))) as db:
        stamps = [s for (s,) in db.execute("SELECT stamp FROM source_rows")]
    assert all(len(bytes.fromhex(s)) == 32 for s in stamps)  # mtime, size, inode, ctime
