"""One physical target reached twice (issue 15, items 2 and 3): two spellings of one
``DirectoryTarget`` file name within an app, and two apps exporting to one directory. Every case
runs the real CLI in fresh processes, as a user would."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cocotui.testing import AppRunner

#: Each source file's content is the key it is written under; the file holds the source's name.
KEYED_BY_CONTENT = """\
import cocotui as cocoindex
from connectors.files import DirectoryTarget


@cocoindex.flow_def(name="Notes")
def notes_flow(flow_builder, data_scope):
    data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path="src"))
    out = data_scope.add_collector()
    with data_scope["files"].row() as f:
        out.collect(name=f["content"], source=f["filename"])
    out.export("notes", DirectoryTarget(directory="out"), primary_key_fields=["name"])
"""


def keyed_app(root: Path, keys: dict[str, str]) -> AppRunner:
    """An app in ``root`` whose source files (name -> key) each write the file of their key."""
    (root / "src").mkdir(parents=True)
    for name, key in keys.items():
        (root / "src" / name).write_text(key)
    (root / "app.py").write_text(KEYED_BY_CONTENT)
    return AppRunner(root / "app.py", root / "state")


@pytest.mark.parametrize(
    "spelling", ["./notes/today", "notes//today", "notes/today/", "./notes/./today"]
)
def test_two_spellings_of_one_file_are_one_key(tmp_path: Path, spelling: str) -> None:
    runner = keyed_app(tmp_path, {"a.txt": "notes/today", "b.txt": spelling})
    runner.apply()

    first = runner.command("update")
    assert first.returncode == 0, first.stderr
    assert "notes/today" in first.stderr and "produced by several source rows" in first.stderr
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        ".cocotui-written",
        "today",
    ]

    (tmp_path / "src" / "a.txt").unlink()
    runner.command("update").expect()
    # The other row still produces the file: it stays, with that row's content.
    assert (tmp_path / "out" / "notes" / "today").read_text() == "b.txt"
    runner.command("update").expect()
    assert (tmp_path / "out" / "notes" / "today").read_text() == "b.txt"

    (tmp_path / "src" / "b.txt").unlink()
    runner.command("update").expect()
    assert not (tmp_path / "out" / "notes" / "today").exists()


def test_a_key_respelled_by_its_row_rewrites_the_same_file(tmp_path: Path) -> None:
    """Tracking holds the old spelling: its delete is the new spelling's file, and must not
    remove what the new spelling just wrote."""
    runner = keyed_app(tmp_path, {"a.txt": "notes//today"})
    runner.apply()
    runner.command("update").expect()
    (tmp_path / "src" / "a.txt").write_text("./notes/today")
    runner.command("update").expect()
    assert (tmp_path / "out" / "notes" / "today").read_text() == "a.txt"


TWO_APPS = textwrap.dedent(
    """\
    import cocotui as cocoindex
    from connectors.files import DirectoryTarget


    @cocoindex.flow_def(name="Docs")
    def docs_flow(flow_builder, data_scope):
        data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path={source!r}))
        out = data_scope.add_collector()
        with data_scope["files"].row() as f:
            out.collect(filename=f["filename"], content=f["content"])
        out.export("files", DirectoryTarget(directory="../out"), primary_key_fields=["filename"])
    """
)
