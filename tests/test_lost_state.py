"""Lost state (issue 15, item 6): the setup state file or the row tracking database removed
while the targets still hold exported rows. Re-creating the targets keeps deleting what row
tracking knows; starting tracking afresh says what stays behind and how to clean it. Through
the CLI, as a user would."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from cocotui.testing import AppRunner

#: The issue's base app: files and a SQLite table, keyed by file name.
APP = """\
import cocotui as cocoindex
from cocotui_connectors.files import DirectoryTarget
from cocotui_connectors.sqlite import SqliteTable


@cocoindex.flow_def(name="Docs")
def docs_flow(flow_builder, data_scope):
    data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path="src"))
    out = data_scope.add_collector()
    with data_scope["files"].row() as f:
        out.collect(filename=f["filename"], content=f["content"])
    out.export("files", DirectoryTarget(directory="out"), primary_key_fields=["filename"])
    out.export("rows", SqliteTable(database="out.db", table="t"), primary_key_fields=["filename"])
"""


@pytest.fixture
def exported(tmp_path: Path) -> AppRunner:
    """The base app with ``t1.txt`` and ``t2.txt`` applied and exported once."""
    (tmp_path / "src").mkdir()
    for name in ("t1.txt", "t2.txt"):
        (tmp_path / "src" / name).write_text(f"content of {name}")
    (tmp_path / "app.py").write_text(APP)
    runner = AppRunner(tmp_path / "app.py", tmp_path / "state")
    runner.apply()
    runner.command("update").expect()
    return runner


def exported_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "out").iterdir() if not p.name.startswith("."))


def exported_rows(root: Path) -> list[str]:
    with closing(sqlite3.connect(root / "out.db")) as db:
        return sorted(name for (name,) in db.execute("SELECT filename FROM t"))


def remove(state_dir: Path, pattern: str) -> None:
    removed = list(state_dir.glob(pattern))
    assert removed, f"no {pattern} in {state_dir}"
    for path in removed:
        path.unlink()


def plan_reasons(runner: AppRunner) -> dict[str, str]:
    return {c["target"]: c["reason"] for c in runner.plan()["changes"]}


def test_targets_created_again_after_the_state_file_was_removed_keep_their_rows_tracked(
    exported: AppRunner, tmp_path: Path
) -> None:
    # As the corrupt-state error advises: move the state file away.
    remove(tmp_path / "state", "*.toml")
    (tmp_path / "src" / "t1.txt").unlink()

    plan = plan_reasons(exported)
    assert all("row tracking holds 2 key(s)" in reason for reason in plan.values()), plan
    exported.apply()
    update = exported.command("update").expect()
    assert "1 deleted" in update.stdout

    assert exported_files(tmp_path) == ["t2.txt"]
    assert exported_rows(tmp_path) == ["t2.txt"]


def test_a_removed_tracking_database_is_reported_with_what_stays_and_the_cleanup(
    exported: AppRunner, tmp_path: Path
) -> None:
    remove(tmp_path / "state", "*.sqlite*")
    (tmp_path / "src" / "t1.txt").unlink()

    update = exported.command("update").expect()
    warning = update.stderr
    assert "row tracking" in warning and "Docs.files" in warning and "Docs.rows" in warning
    assert "stay in the target" in warning
    assert f"cocotui drop {exported.app} Docs --yes" in warning
    # What the warning says: t1.txt was not deleted, as nothing knows it was exported.
    assert exported_files(tmp_path) == ["t1.txt", "t2.txt"]

    # The cleanup it gives leaves the targets equal to the source.
    app, state = exported.app, exported.state_dir
    exported.cli("drop", app, "Docs", "--state-dir", state, "--yes").expect()
    exported.apply()
    exported.command("update").expect()
    assert exported_files(tmp_path) == ["t2.txt"]
    assert exported_rows(tmp_path) == ["t2.txt"]


def test_the_lost_tracking_event_is_in_the_json_stream(exported: AppRunner, tmp_path: Path) -> None:
    remove(tmp_path / "state", "*.sqlite*")
    outcome = exported.update()
    assert outcome.ok
    [lost] = outcome.of("tracking.lost")
    assert lost["targets"] == ["Docs.files", "Docs.rows"] and lost["flows"] == ["Docs"]
    # Said once: the run registered the targets with the new database.
    assert exported.update().of("tracking.lost") == []


def test_a_setup_change_applied_after_the_tracking_database_was_removed_still_reports_it(
    exported: AppRunner, tmp_path: Path
) -> None:
    """Applying a change that keeps the rows (a new SQLite column) must not register the target
    with the new database as if its tracking were intact: the next update still says so."""
    remove(tmp_path / "state", "*.sqlite*")
    app = tmp_path / "app.py"
    app.write_text(
        app.read_text()
        .replace('content=f["content"])', 'content=f["content"], note=f["filename"])')
        .replace(
            'DirectoryTarget(directory="out")',
            'DirectoryTarget(directory="out", content_field="content")',
        )
    )
    exported.apply()
    lost = exported.update().of("tracking.lost")
    assert [event["targets"] for event in lost] == [["Docs.rows"]]
