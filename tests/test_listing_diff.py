"""A full listing compared with tracking (cocotui/engine/listing_diff.py): what a run looks at
again and what it deletes, for the changes a stamp must catch and the listings a custom source
may produce."""

from __future__ import annotations

import os

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine.listing_diff import ListingComparison, compare_listing
from cocotui.state.tracked_rows import ListingDiff, TrackedRow


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def exported(ws: Workspace, files: dict[str, str]) -> None:
    h.write_files(ws, files)
    h.flow_app(ws)
    h.apply_all(ws)
    assert h.update(ws).result.ok
    h.mem().CALLS.clear()


def to_process(run: h.Recorded) -> int:
    [listed] = run.named("source.listed")
    return int(listed["to_process"])


def diff(
    rows: list[tuple[str, str]], tracked: dict[str, str | None]
) -> tuple[ListingComparison, ListingDiff]:
    """The comparison, and the diff it gives against tracking holding ``tracked`` (the row
    ids numbered in key order)."""
    found = compare_listing(rows, dict(tracked))
    rows_of = {
        key: TrackedRow(i, stamp, None, None) for i, (key, stamp) in enumerate(tracked.items())
    }
    wanted = {key: rows_of[key] for key in found.keys_to_read() if key in rows_of}
    return found, found.diff(wanted)


# -- the comparison ---------------------------------------------------------------------------


def test_unchanged_rows_need_nothing_and_the_rest_is_sorted_by_key() -> None:
    tracked: dict[str, str | None] = {"a": "1", "b": "2", "c": "3", "gone2": "9", "gone1": "9"}
    found, listing = diff([("c", "3"), ("new", "1"), ("a", "1"), ("b", "2*")], tracked)
    assert found == ListingComparison(
        changed=[("b", "2*"), ("new", "1")],
        gone=["gone1", "gone2"],
        untrackable=[],
        tracked_listed=3,
    )
    assert listing.listed == 4
    assert [(key, stamp, row and row.id) for key, stamp, row in listing.changed] == [
        ("b", "2*", 1),
        ("new", "1", None),
    ]
    assert [(key, row.id) for key, row in listing.gone] == [("gone1", 4), ("gone2", 3)]


def test_a_row_tracked_with_other_logic_is_changed_whatever_its_stamp() -> None:
    found, listing = diff([("a", "1"), ("b", "2")], {"a": None, "b": "2", "c": None})
    assert (found.changed, found.gone, listing.listed) == ([("a", "1")], ["c"], 2)


def test_a_key_listed_twice_counts_once_with_its_last_stamp() -> None:
    # A custom source may list a key twice: it is one row, never both unchanged and changed.
    rows = [("a", "1"), ("a", "1*"), ("new", "1"), ("new", "2"), ("b", "2"), ("b", "2")]
    found, listing = diff(rows, {"a": "1", "b": "2"})
    # "b" was found unchanged, then listed again: looked at again (a read, never a miss).
    assert found.changed == [("a", "1*"), ("b", "2"), ("new", "2")]
    assert [row is None for _, _, row in listing.changed] == [False, False, True]
    assert (listing.listed, listing.gone) == (3, [])


def test_a_key_that_is_not_text_is_reported_and_never_counted() -> None:
    bad = "caf\udce9.md"  # a file name in Latin-1, decoded with surrogateescape
    found, listing = diff([(bad, "1"), ("ok", "1")], {"ok": "1"})
    assert (found.untrackable, found.changed, listing.listed) == ([bad], [], 1)


# -- what the stamp of a LocalFile catches ----------------------------------------------------


def test_mtime_one_nanosecond_later_is_looked_at_again(ws: Workspace) -> None:
    exported(ws, {"a.md": "alpha", "b.md": "beta"})
    path = ws.source_dir / "a.md"
    before = path.stat()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1))

    run = h.update(ws)
    assert to_process(run) == 1
    assert h.mutate_calls() == []  # read again, found the same: nothing sent
    assert to_process(h.update(ws)) == 0  # and its new stamp recorded


def test_content_rewritten_with_same_size_and_mtime_is_sent(ws: Workspace) -> None:
    exported(ws, {"a.md": "alpha", "b.md": "beta"})
    path = ws.source_dir / "a.md"
    before = path.stat()
    path.write_text("ALPHA")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    h.update(ws)
    assert h.sent() == {"a.md": {"content": "ALPHA"}}


def test_file_replaced_by_a_directory_is_deleted_and_its_files_added(ws: Workspace) -> None:
    exported(ws, {"a.md": "alpha", "b.md": "beta"})
    (ws.source_dir / "a.md").unlink()
    h.write_files(ws, {"a.md/inner.md": "inner"})

    run = h.update(ws)
    assert h.sent() == {"a.md": None, "a.md/inner.md": {"content": "inner"}}
    source = run.result.sources["Docs.documents"]
    assert (source.added, source.deleted, source.unchanged) == (1, 1, 1)


def test_empty_files_are_rows_and_their_first_content_is_sent(ws: Workspace) -> None:
    exported(ws, {"empty.md": "", "b.md": "beta"})
    assert h.store()["empty.md"] == {"content": ""}
    path = ws.source_dir / "empty.md"
    before = path.stat()

    assert to_process(h.update(ws)) == 0
    path.write_text("now")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    h.update(ws)
    assert h.sent() == {"empty.md": {"content": "now"}}


def test_a_reexport_looks_at_every_row_and_still_deletes_the_gone_ones(ws: Workspace) -> None:
    exported(ws, {"a.md": "alpha", "b.md": "beta", "c.md": "gamma"})
    (ws.source_dir / "c.md").unlink()

    run = h.update(ws, reexport=True)
    assert to_process(run) == 2
    assert h.sent() == {"a.md": {"content": "alpha"}, "b.md": {"content": "beta"}, "c.md": None}
    assert to_process(h.update(ws)) == 0  # tracked as before: nothing to look at


def test_every_file_deleted_deletes_every_row(ws: Workspace) -> None:
    exported(ws, {"a.md": "alpha", "sub/b.md": "beta"})
    (ws.source_dir / "a.md").unlink()
    (ws.source_dir / "sub" / "b.md").unlink()

    run = h.update(ws)
    assert h.sent() == {"a.md": None, "sub/b.md": None}
    assert run.result.sources["Docs.documents"].deleted == 2
    assert h.store() == {}
