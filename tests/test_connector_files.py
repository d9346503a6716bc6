"""The directory connector (``DirectoryTarget``): its lifecycle through the CLI, idempotency of
every method, roll-forward after a SIGKILL inside ``mutate``, untrusted keys, the written
content (``content_field``, bytes) and atomic writes."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from connector_helpers import (
    SAMPLE_FILES,
    assert_rolls_forward,
    source_files,
    update_killed_inside_mutate,
    write_app,
    write_sources,
)

from cocotui.op import TargetStateCompatibility
from cocotui.testing import (
    AppRunner,
    ConnectorHarness,
    HarnessTarget,
    assert_idempotent,
    assert_unchanged,
    check_idempotency,
)
from cocotui_connectors.files import (
    MANIFEST,
    TEMP_SUFFIX,
    DirectoryTarget,
    DirectoryTargetError,
    UnsafeKeyError,
)

IMPORTS = "from cocotui_connectors.files import DirectoryTarget"

Tree = dict[str, bytes | str | None]


def tree(directory: Path) -> Tree | None:
    """Everything under ``directory``: files as their bytes, symlinks as ``"-> target"``,
    directories as ``None``; ``None`` when the directory does not exist."""
    if not directory.is_dir():
        return None
    found: Tree = {}
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            found[name] = None
        else:
            found[name] = path.read_bytes()
    return found


def files(directory: Path) -> dict[str, str]:
    """The regular files under ``directory`` as text, without the target's manifest."""
    found = tree(directory)
    assert found is not None, f"{directory} does not exist"
    return {
        name: content.decode()
        for name, content in found.items()
        if isinstance(content, bytes) and name != MANIFEST
    }


def written(directory: Path) -> list[str]:
    """The names the target's manifest lists."""
    manifest = directory / MANIFEST
    if not manifest.exists():
        return []
    return [json.loads(line) for line in manifest.read_text().splitlines()]


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob(f"*{TEMP_SUFFIX}"))


def expected_files(source: Path, suffix: str = "") -> dict[str, str]:
    """What the directory must hold to equal ``source`` (one file per source file)."""
    return {name + suffix: content for name, content in source_files(source).items()}


def assert_equals_source(directory: Path, source: Path, suffix: str = "") -> None:
    """The directory holds exactly the source's files, lists exactly them in its manifest, and
    has no temporary file left."""
    assert files(directory) == expected_files(source, suffix)
    assert sorted(written(directory)) == sorted(expected_files(source, suffix))
    assert temp_files(directory) == []


# ---------------------------------------------------------------------------------------------
# Through the CLI


def spec(out: Path, suffix: str = "", content_field: str | None = None) -> str:
    field = f", content_field={content_field!r}" if content_field else ""
    return f"DirectoryTarget(directory={str(out)!r}, suffix={suffix!r}{field})"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[AppRunner, Path, Path]:
    """An app over ``source/`` exporting to the directory ``out/``; returns (runner, source,
    out)."""
    source = tmp_path / "source"
    write_sources(source, SAMPLE_FILES)
    out = tmp_path / "out"
    app = write_app(tmp_path / "app.py", imports=IMPORTS, spec=spec(out), source=source)
    return AppRunner(app, tmp_path / "state"), source, out


def _write(runner: AppRunner, source: Path, out: Path, suffix: str) -> None:
    write_app(Path(runner.app), imports=IMPORTS, spec=spec(out, suffix), source=source)


def test_lifecycle_through_the_cli(setup: tuple[AppRunner, Path, Path]) -> None:
    runner, source, out = setup

    # create: the directory, empty
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["kind"]) == ("create", "DirectoryTarget")
    assert change["key"] == str(out)
    assert change["description"] == f"Files in {out}"
    runner.apply()
    assert tree(out) == {}
    outcome = runner.update()
    assert outcome.ok, outcome.result.stderr
    assert outcome.counters("Docs.docs")["inserted"] == len(SAMPLE_FILES)
    assert_equals_source(out, source)
    assert (out / "docs").is_dir()

    # a new suffix names other files: NOT_COMPATIBLE, the old files go, every row is rewritten
    _write(runner, source, out, ".html")
    text = runner.command("plan").expect()
    assert "~ update Docs.docs" in text.stdout
    assert '~ suffix: "" → ".html"' in text.stdout
    assert "not compatible: row tracking is reset, every row is exported again" in text.stdout
    (change,) = runner.plan()["changes"]
    assert (change["action"], change["compatibility"]) == ("update", "not_compatible")
    assert change["current"]["suffix"] == ".html"
    runner.apply()
    assert tree(out) == {}  # old files, their subdirectory and the manifest removed
    outcome = runner.update()
    assert outcome.ok, outcome.result.stderr
    assert outcome.counters("Docs.docs")["inserted"] == len(SAMPLE_FILES)
    assert_equals_source(out, source, ".html")
    assert "a.txt.html" in files(out) and "a.txt" not in files(out)

    # source changes reach the directory
    write_sources(source, {"a.txt": "ALPHA", "docs/e.txt": None, "new.txt": "november"})
    outcome = runner.update()
    assert outcome.ok, outcome.result.stderr
    counters = outcome.counters("Docs.docs")
    assert [counters[c] for c in ("inserted", "updated", "deleted", "errors")] == [1, 1, 1, 0]
    assert_equals_source(out, source, ".html")

    # drop removes only the files this target wrote: the user's file, and so the directory
    # and the subdirectory holding it, stay
    (out / "docs" / "notes.md").write_text("mine")
    dropped = runner.drop()
    assert [c["action"] for c in dropped["applied"]] == ["drop"]
    assert tree(out) == {"docs": None, "docs/notes.md": b"mine"}
    assert runner.plan()["changes"][0]["action"] == "create"

    # without a foreign file, the directory goes too
    (out / "docs" / "notes.md").unlink()
    runner.apply()
    assert runner.update().ok
    assert_equals_source(out, source, ".html")
    runner.drop()
    assert not out.exists()


def test_moving_the_directory_drops_the_old_one_and_creates_the_new_one(
    setup: tuple[AppRunner, Path, Path], tmp_path: Path
) -> None:
    runner, source, out = setup
    runner.apply()
    assert runner.update().ok
    moved = tmp_path / "moved"
    write_app(Path(runner.app), imports=IMPORTS, spec=spec(moved), source=source)
    assert sorted(c["action"] for c in runner.plan()["changes"]) == ["create", "drop"]
    runner.apply()
    assert not out.exists()
    assert runner.update().ok
    assert_equals_source(moved, source)


@pytest.mark.parametrize("kill", ["mutate:rows=3", "mutate:before", "mutate:after"])
def test_a_run_killed_inside_mutate_rolls_forward(
    setup: tuple[AppRunner, Path, Path], kill: str, tmp_path: Path
) -> None:
    runner, source, out = setup
    runner.apply()
    assert runner.update().ok
    before = files(out)
    update_killed_inside_mutate(runner, source, kill, tmp_path / "calls.jsonl")
    assert files(out) != expected_files(source)
    if kill == "mutate:rows=3":  # killed after 3 files: the first call, and one row of the next
        assert files(out) != before
    assert_rolls_forward(runner, lambda: assert_equals_source(out, source))


HOSTILE_APP = """\
import cocotui as cocoindex
from cocotui_connectors.files import DirectoryTarget


@cocoindex.op.function()
def first_line(text: str) -> str:
    return text.split("\\n", 1)[0]


@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path={source!r}))
    out = data_scope.add_collector()
    with data_scope["files"].row() as f:
        out.collect(path=f["content"].transform(first_line), content=f["content"])
    out.export("docs", DirectoryTarget(directory={out!r}), primary_key_fields=["path"])
"""


def test_untrusted_keys_fail_their_rows_and_nothing_is_written_outside(tmp_path: Path) -> None:
    """Keys come from the files' first lines: the hostile ones fail, each with an error naming
    it; the others are written; nothing appears outside the directory."""
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    hostile = {
        "absolute.txt": str(tmp_path / "absolute-evil"),
        "dotdot.txt": "../dotdot-evil",
        "nested.txt": "sub/../../nested-evil",
        "nul.txt": "nul\x00evil",
        "symlink.txt": "link/symlink-evil",
    }
    good = {"good1.txt": "good/one", "good2.txt": "two"}
    source = tmp_path / "source"
    write_sources(
        source, {name: f"{key}\nbody of {name}" for name, key in {**hostile, **good}.items()}
    )
    app = tmp_path / "app.py"
    app.write_text(HOSTILE_APP.format(source=str(source), out=str(out)))
    runner = AppRunner(app, tmp_path / "state")
    runner.apply()

    outcome = runner.update()
    assert outcome.returncode == 1
    assert outcome.counters("Docs.docs")["inserted"] == len(good)
    failed = {f["row"]: f["error"] for f in outcome.failed_rows}
    assert sorted(failed) == sorted(hostile)
    for name, key in hostile.items():
        assert repr(key) in failed[name], failed[name]
        assert "UnsafeKeyError" in failed[name]
    assert files(out) == {
        "good/one": "good/one\nbody of good1.txt",
        "two": "two\nbody of good2.txt",
    }
    assert sorted(written(out)) == ["good/one", "two"]
    assert tree(outside) == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "app.py",
        "out",
        "outside",
        "source",
        "state",
    ]
    assert (out / "link").is_symlink()

    # the failed rows are retried (and fail again) on the next run; the good ones are done
    again = runner.update()
    assert again.returncode == 1
    assert sorted(f["row"] for f in again.failed_rows) == sorted(hostile)
    assert again.counters("Docs.docs")["inserted"] == 0


def test_several_value_fields_without_content_field_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "source"
    write_sources(source, {"a.txt": "alpha"})
    out = tmp_path / "out"
    app = write_app(
        tmp_path / "app.py", imports=IMPORTS, spec=spec(out), source=source, version="v2"
    )
    runner = AppRunner(app, tmp_path / "state")
    runner.apply()
    outcome = runner.update()
    assert outcome.returncode == 1
    (failure,) = outcome.failed_rows
    assert "value fields content, length" in failure["error"]
    assert "set DirectoryTarget.content_field" in failure["error"]
    assert files(out) == {}

    # naming the field fixes it: a NOT_COMPATIBLE change, and the row is written
    write_app(
        app, imports=IMPORTS, spec=spec(out, content_field="content"), source=source, version="v2"
    )
    (change,) = runner.plan()["changes"]
    assert change["compatibility"] == "not_compatible"
    runner.apply()
    outcome = runner.update()
    assert outcome.ok, outcome.result.stderr
    assert files(out) == {"a.txt": "alpha"}


BINARY_APP = """\
import cocotui as cocoindex
from cocotui_connectors.files import DirectoryTarget


@cocoindex.flow_def(name="Blobs")
def blobs_flow(flow_builder, data_scope):
    data_scope["files"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path={source!r}, binary=True)
    )
    out = data_scope.add_collector()
    with data_scope["files"].row() as f:
        out.collect(filename=f["filename"], content=f["content"])
    out.export("blobs", DirectoryTarget(directory={out!r}, suffix=".bin"),
               primary_key_fields=["filename"])
"""


def test_bytes_from_a_binary_source_are_written_verbatim(tmp_path: Path) -> None:
    blobs = {
        "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe",
        "nested/zeros": bytes(1000),
        "latin1.txt": "café\r\n".encode("latin-1"),
    }
    source = tmp_path / "source"
    for name, data in blobs.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    out = tmp_path / "out"
    app = tmp_path / "app.py"
    app.write_text(BINARY_APP.format(source=str(source), out=str(out)))
    runner = AppRunner(app, tmp_path / "state")
    runner.apply()
    outcome = runner.update()
    assert outcome.ok, outcome.result.stderr
    found = tree(out)
    assert found is not None
    assert {n: c for n, c in found.items() if isinstance(c, bytes) and n != MANIFEST} == {
        name + ".bin": data for name, data in blobs.items()
    }


@pytest.mark.parametrize(
    ("directory", "suffix", "message"),
    [
        ("''", "''", "must be a non-empty path"),
        ("'out\\x00'", "''", "must be a non-empty path"),
        ("OUT", "'.h\\x00tml'", "without NUL"),
    ],
)
def test_invalid_specs_are_reported_at_plan_time(
    tmp_path: Path, directory: str, suffix: str, message: str
) -> None:
    source = tmp_path / "source"
    write_sources(source, {"a.txt": "alpha"})
    app = write_app(
        tmp_path / "app.py",
        imports=IMPORTS,
        spec=f"DirectoryTarget(directory={directory}, suffix={suffix})".replace(
            "OUT", repr(str(tmp_path / "out"))
        ),
        source=source,
    )
    result = AppRunner(app, tmp_path / "state").command("plan")
    assert result.returncode == 1
    assert message in result.stderr


def test_a_relative_directory_is_resolved_against_the_working_directory(tmp_path: Path) -> None:
    source = tmp_path / "source"
    write_sources(source, {"a.txt": "alpha"})
    app = write_app(
        tmp_path / "app.py",
        imports=IMPORTS,
        spec="DirectoryTarget(directory='./build/../out/pages')",
        source=source,
    )
    runner = AppRunner(app, tmp_path / "state", cwd=tmp_path)
    (change,) = runner.plan()["changes"]
    assert change["key"] == str(tmp_path / "out" / "pages")
    runner.apply()
    assert runner.update().ok
    assert files(tmp_path / "out" / "pages") == {"a.txt": "alpha"}


# ---------------------------------------------------------------------------------------------
# Driving the connector directly


def _target(
    out: Path,
    suffix: str = "",
    content_field: str | None = None,
    values: tuple[str, ...] = ("text",),
) -> HarnessTarget:
    return ConnectorHarness(DirectoryTarget).target(
        DirectoryTarget(directory=str(out), suffix=suffix, content_field=content_field),
        ["path"],
        list(values),
    )


ROWS = {"a.txt": {"text": "one"}, "sub/b.txt": {"text": "two"}, "sub/deep/c": {"text": "3"}}


def test_every_method_is_idempotent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    target = _target(out)

    def snapshot() -> Tree | None:
        return tree(out)

    check_idempotency(target, ROWS, snapshot, missing_key="missing.txt")
    assert not out.exists()

    # Setup changes called twice: another suffix, then another content field.
    target.create()
    target.upsert(ROWS)
    html = target.changed(_target(out, ".html").spec)
    assert target.compatibility_of(html) is TargetStateCompatibility.NOT_COMPATIBLE
    assert html.compatibility_of(html) is TargetStateCompatibility.COMPATIBLE
    assert assert_idempotent(lambda: target.change_to(html), snapshot, label="new suffix") == {}
    assert_idempotent(lambda: html.upsert(ROWS), snapshot, label="upsert with the new suffix")
    assert files(out) == {"a.txt.html": "one", "sub/b.txt.html": "two", "sub/deep/c.html": "3"}
    assert_unchanged(html.create, snapshot, label="create over the existing directory")

    titled = html.changed(_target(out, ".html", "body").spec, value_fields=["title", "body"])
    assert html.compatibility_of(titled) is TargetStateCompatibility.NOT_COMPATIBLE
    assert_idempotent(lambda: html.change_to(titled), snapshot, label="new content field")
    rows = {"a": {"title": "A", "body": "<p>a</p>"}}
    assert_idempotent(lambda: titled.upsert(rows), snapshot, label="upsert a content field")
    assert files(out) == {"a.html": "<p>a</p>"}

    # Writing, then deleting, the same rows in one call and then again converges as well.
    mixed = {"a": None, "b": {"title": "B", "body": "b"}, "gone": None}
    assert_idempotent(lambda: titled.mutate(mixed), snapshot, label="mixed mutate")
    assert files(out) == {"b.html": "b"} and written(out) == ["b.html"]
    assert_idempotent(titled.drop, snapshot, label="drop")
    assert not out.exists()


def test_deleting_a_missing_file_and_creating_an_existing_directory_are_no_ops(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "theirs.txt").write_text("not ours")
    target = _target(out)

    def snapshot() -> Tree | None:
        return tree(out)

    assert_unchanged(target.create, snapshot, label="create an existing directory")
    assert_unchanged(lambda: target.delete("missing.txt"), snapshot, label="delete before any")
    target.upsert({"mine.txt": {"text": "ours"}})
    assert_unchanged(target.create, snapshot, label="create again")
    assert_unchanged(lambda: target.delete("missing.txt", "sub/missing"), snapshot)
    assert_unchanged(target.create, snapshot)
    assert files(out) == {"theirs.txt": "not ours", "mine.txt": "ours"}

    # a delete removes only the file; a drop keeps the directory while it holds another one
    target.delete("mine.txt")
    assert written(out) == []
    target.drop()
    assert tree(out) == {"theirs.txt": b"not ours"}

    # dropping where there is no directory does nothing, and creates nothing
    missing = _target(tmp_path / "missing" / "out")
    missing.drop()
    missing.drop()
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("/etc/passwd", "is an absolute path"),
        ("\\windows\\evil", "is an absolute path"),
        ("../evil", "contains a '..' part"),
        ("a/../../evil", "contains a '..' part"),
        ("a\\..\\..\\evil", "contains a '..' part"),
        ("..", "contains a '..' part"),
        ("nul\x00.txt", "contains a NUL character"),
        ("", "must be a non-empty string"),
        (".", "names the directory itself"),
        ("link/evil", "resolves outside"),
        ("link-file", "resolves outside"),
        (MANIFEST, "keeps for itself"),
        (".a.txt" + TEMP_SUFFIX, "keeps for itself"),
    ],
)
def test_unsafe_keys_are_refused(tmp_path: Path, key: str, message: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_text("outside")
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "link-file").symlink_to(outside / "file")
    before = tree(tmp_path)

    with pytest.raises(UnsafeKeyError) as raised:
        target.upsert({key: {"text": "pwned"}})
    assert repr(key) in str(raised.value) and message in str(raised.value)
    with pytest.raises(UnsafeKeyError):
        target.delete(key)
    assert tree(tmp_path) == before


def test_a_suffix_cannot_smuggle_a_path_out(tmp_path: Path) -> None:
    target = _target(tmp_path / "out", suffix="/../../evil")
    target.create()
    with pytest.raises(UnsafeKeyError, match=re.escape("contains a '..' part")):
        target.upsert({"a": {"text": "x"}})
    assert not (tmp_path / "evil").exists()


def test_a_symlink_inside_the_directory_is_replaced_not_written_through(tmp_path: Path) -> None:
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    (out / "real.txt").write_text("the user's")
    (out / "alias.txt").symlink_to("real.txt")
    target.upsert({"alias.txt": {"text": "ours"}})
    assert not (out / "alias.txt").is_symlink()
    assert files(out) == {"alias.txt": "ours", "real.txt": "the user's"}
    target.drop()
    assert tree(out) == {"real.txt": b"the user's"}


def test_keys_through_a_symlinked_subdirectory_inside_the_directory_are_allowed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    (out / "real").mkdir()
    (out / "alias").symlink_to("real", target_is_directory=True)
    target.upsert({"alias/x.txt": {"text": "x"}})
    assert (out / "real" / "x.txt").read_text() == "x"
    assert written(out) == ["real/x.txt"]


def test_content_field_selects_the_value_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    target = _target(out, content_field="body", values=("title", "body", "size"))
    target.create()
    target.upsert({"page": {"title": "T", "body": "the body", "size": 8}})
    assert files(out) == {"page": "the body"}


def test_a_content_field_that_is_not_a_value_field_is_an_error(tmp_path: Path) -> None:
    target = _target(tmp_path / "out", content_field="nope", values=("title", "body"))
    with pytest.raises(DirectoryTargetError, match=r"'nope' is not a value field .*title, body"):
        target.upsert({"page": {"title": "T", "body": "b"}})


def test_several_value_fields_need_content_field(tmp_path: Path) -> None:
    target = _target(tmp_path / "out", values=("title", "body"))
    target.create()
    with pytest.raises(
        DirectoryTargetError, match=r"value fields title, body; set .*content_field"
    ):
        target.upsert({"page": {"title": "T", "body": "b"}})
    assert files(tmp_path / "out") == {}


def test_str_is_written_as_utf8_and_bytes_verbatim(tmp_path: Path) -> None:
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    data = bytes(range(256))
    target.upsert({"text": {"text": "héllo ✓\n"}, "blob": {"text": data}})
    assert (out / "text").read_bytes() == "héllo ✓\n".encode()
    assert (out / "blob").read_bytes() == data


@pytest.mark.parametrize("value", [None, 42, ["a"], {"a": 1}])
def test_a_value_that_is_not_text_or_bytes_fails_its_row(tmp_path: Path, value: Any) -> None:
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    with pytest.raises(DirectoryTargetError, match="key 'bad': field 'text' must be str or bytes"):
        target.upsert({"bad": {"text": value}})
    assert tree(out) == {}


def test_writes_are_atomic_and_leave_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    target.upsert({"a.txt": {"text": "old"}, "sub/b.txt": {"text": "old"}})
    assert temp_files(out) == []

    # a write that fails before the rename leaves the old content, and no temporary file
    def failing_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        target.upsert({"a.txt": {"text": "new"}})
    monkeypatch.undo()
    assert files(out) == {"a.txt": "old", "sub/b.txt": "old"}
    assert temp_files(out) == []

    # a row naming a directory fails and leaves nothing behind either
    with pytest.raises(IsADirectoryError):
        target.upsert({"sub": {"text": "x"}})
    assert temp_files(out) == []


def test_a_temporary_file_left_by_a_killed_process_is_cleaned_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    target.upsert({"a.txt": {"text": "one"}, "b.txt": {"text": "two"}, "c.txt": {"text": "3"}})
    for name in ("a.txt", "b.txt", "c.txt"):  # as if killed in the middle of each write
        (out / f".{name}{TEMP_SUFFIX}").write_text("half a fi")
    target.upsert({"a.txt": {"text": "ONE"}})  # the next write of the file replaces it
    target.delete("b.txt")  # a delete removes it
    assert temp_files(out) == [f".c.txt{TEMP_SUFFIX}"]
    assert files(out) == {"a.txt": "ONE", "c.txt": "3", f".c.txt{TEMP_SUFFIX}": "half a fi"}
    target.drop()  # and so does the drop
    assert not out.exists()


def test_a_symlink_planted_at_the_temporary_name_is_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    (out / f".a.txt{TEMP_SUFFIX}").symlink_to(victim)
    target.upsert({"a.txt": {"text": "data"}})
    assert victim.read_text() == "precious"
    assert files(out) == {"a.txt": "data"} and temp_files(out) == []


def test_files_get_the_usual_permissions(tmp_path: Path) -> None:
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    umask = os.umask(0o022)
    try:
        target.upsert({"page.html": {"text": "<p>hi</p>"}})
    finally:
        os.umask(umask)
    assert stat.S_IMODE((out / "page.html").stat().st_mode) == 0o644


def test_the_manifest_records_any_file_name_exactly(tmp_path: Path) -> None:
    """One JSON string per line: a name with a newline is one name, so a drop cannot mistake
    its halves for the user's files."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a").write_text("user")
    (out / "b").write_text("user")
    target = _target(out)
    target.create()
    target.upsert({"a\nb": {"text": "ours"}, 'q"uote': {"text": "ours"}})
    assert written(out) == ["a\nb", 'q"uote']
    target.drop()
    assert tree(out) == {"a": b"user", "b": b"user"}


def test_a_drop_never_removes_what_a_tampered_manifest_points_outside(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    target = _target(out)
    target.create()
    target.upsert({"a.txt": {"text": "x"}})
    with open(out / MANIFEST, "a") as manifest:
        manifest.write(json.dumps("../victim") + "\n" + json.dumps(str(victim)) + "\n")
        manifest.write('"cut short by a kil')
    target.drop()
    assert victim.read_text() == "precious"
    assert not out.exists()


def test_describe_and_persistent_key(tmp_path: Path) -> None:
    target = _target(tmp_path / "out" / "." / "pages")
    assert target.key == str(tmp_path / "out" / "pages")
    assert target.describe() == f"Files in {tmp_path / 'out' / 'pages'}"
