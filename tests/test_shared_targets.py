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
from cocotui_connectors.files import DirectoryTarget


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
    from cocotui_connectors.files import DirectoryTarget


    @cocoindex.flow_def(name="Docs")
    def docs_flow(flow_builder, data_scope):
        data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path={source!r}))
        out = data_scope.add_collector()
        with data_scope["files"].row() as f:
            out.collect(filename=f["filename"], content=f["content"])
        out.export("files", DirectoryTarget(directory="../out"), primary_key_fields=["filename"])
    """
)


def two_apps(root: Path) -> tuple[AppRunner, AppRunner]:
    """``one/app.py`` and ``two/app.py`` (app names ``one`` and ``two``, one state directory),
    each over its own source, both exporting to ``out``."""
    runners = []
    for name in ("one", "two"):
        (root / name / "src").mkdir(parents=True)
        (root / name / "src" / f"{name}.txt").write_text(f"written by {name}")
        (root / name / "app.py").write_text(TWO_APPS.format(source="src"))
        runners.append(AppRunner(root / name / "app.py", root / "state", app_name=name))
    return runners[0], runners[1]


def exported(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (root / "out").iterdir() if not p.name.startswith(".")}


def test_a_second_app_exporting_to_the_same_directory_is_refused(tmp_path: Path) -> None:
    one, two = two_apps(tmp_path)
    one.apply()
    one.command("update").expect()

    [change] = two.plan()["changes"]
    assert change["reason"].startswith("new; refused: also exported by app one (target Docs.files")
    refused = two.command("apply", "--yes").expect(1)
    assert "also exported by app one" in refused.stderr and "Nothing applied" in refused.stderr
    # Its target stays to create, so update does not write to the directory.
    assert two.command("update").returncode == 2
    assert exported(tmp_path) == {"one.txt": "written by one"}
    assert [c["action"] for c in two.plan()["changes"]] == ["create"]


def test_dropping_one_of_two_apps_sharing_a_directory_keeps_the_other_apps_files(
    tmp_path: Path,
) -> None:
    one, two = two_apps(tmp_path)
    one.apply()
    one.command("update").expect()
    # Two apps that already share the directory: set up before cocotui checked owners (here:
    # app two set up in a state directory of its own, then moved beside app one's).
    elsewhere = AppRunner(two.app, tmp_path / "elsewhere", app_name="two")
    elsewhere.apply()
    elsewhere.command("update").expect()
    for path in (tmp_path / "elsewhere").glob("two.*"):
        path.rename(tmp_path / "state" / path.name)
    assert exported(tmp_path) == {"one.txt": "written by one", "two.txt": "written by two"}
    # Each app's plan warns of the other.
    for runner, other in ((one, "two"), (two, "one")):
        warning = f"warning: Docs.files: also exported by app {other} (target Docs.files"
        assert warning in runner.command("plan").expect().stdout

    dropping = one.command("drop", "--yes").expect()
    assert "released" in dropping.stdout
    # Nothing is removed from under app two; app one's own file stays too (it is released,
    # and the directory cannot tell which app wrote which file).
    assert exported(tmp_path) == {"one.txt": "written by one", "two.txt": "written by two"}
    two.command("update").expect()
    assert exported(tmp_path)["two.txt"] == "written by two"

    # App two still owns its rows: deleting its source deletes its file.
    (tmp_path / "two" / "src" / "two.txt").unlink()
    two.command("update").expect()
    assert "two.txt" not in exported(tmp_path)
