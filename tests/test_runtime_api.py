"""The programmatic runtime of CocoIndex v0 (issue 11, item 3): ``cocoindex.init()``,
``Settings``, ``flow.setup()/update()/drop()``, ``FlowLiveUpdater`` and the other calls, on the
same state, lock and consent rules as the CLI, and ``cocotui run main.py`` for programs that
run themselves."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest
from runtime_helpers import cli, popen_run, statuses, write_program

import cocotui as cocoindex
from cocotui.flow import builder
from cocotui.flow.loader import app_module_name, load_app
from cocotui.runtime.setup import SetupConsentError
from cocotui.runtime.updater import FlowSetupPendingError

T = TypeVar("T")
SHOUTED = "Shout.shouted"


@pytest.fixture
def root(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch, in_process_app: None
) -> Path:
    directory = tmp_path / "prog"
    directory.mkdir()
    monkeypatch.chdir(directory)  # the program's paths are relative, as in v0's examples
    # Only the program's flows are defined in this process (other test modules define theirs
    # at import): `*_all_flows` act on every flow defined.
    monkeypatch.setattr(builder, "_defined", {})
    return directory


def load(root: Path, **program: Any) -> ModuleType:
    """The program imported in this process, as a module cocotui loaded (not run as main)."""
    path = write_program(root, **program)
    load_app(str(path))
    return sys.modules[app_module_name(path)]


def bounded(fn: Callable[[], T], timeout: float = 60) -> T:
    """``fn()`` in a thread, failing the test instead of hanging when it does not return."""
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    thread.start()
    thread.join(timeout)
    assert result, f"{fn} did not return within {timeout}s"
    return result[0]


def outputs(root: Path, out: str = "out") -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / out).iterdir())}


# -- setup ------------------------------------------------------------------------------------


def test_setup_in_process_makes_cocotui_ls_show_ready(root: Path, state_dir: Path) -> None:
    app = load(root)
    assert statuses(root, state_dir) == {SHOUTED: "TO CREATE"}
    app.shout_flow.setup()
    assert statuses(root, state_dir) == {SHOUTED: "READY"}
    assert (root / "out").is_dir()


def test_setup_reports_to_stdout_and_is_idempotent(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = load(root)
    app.shout_flow.setup(report_to_stdout=True)
    assert capsys.readouterr().out == "+ Shout.shouted (directory out) applied: new\n"
    app.shout_flow.setup(report_to_stdout=True)
    assert capsys.readouterr().out == "Setup is up to date.\n"


def test_setup_applies_creates_but_leaves_drops_to_cocotui_apply(
    root: Path, state_dir: Path
) -> None:
    load(root).shout_flow.setup()
    moved = load(root, out="out2")  # the persistent key changes: create out2, drop out
    with pytest.raises(SetupConsentError) as raised:
        moved.shout_flow.setup()
    assert "Shout.shouted (directory out): drop" in str(raised.value)
    assert "review and apply them with `cocotui apply " in str(raised.value)
    assert (root / "out2").is_dir() and (root / "out").is_dir()
    listed = json.loads(cli(root, state_dir, "ls", "main.py", "--json").stdout)["targets"]
    assert sorted((t["key"], t["status"]) for t in listed) == [
        ("out", "TO DELETE"),
        ("out2", "READY"),
    ]


def test_drop_removes_the_targets_and_setup_brings_them_back(root: Path, state_dir: Path) -> None:
    app = load(root)
    app.shout_flow.setup()
    app.shout_flow.drop()
    assert not (root / "out").exists()
    assert statuses(root, state_dir) == {SHOUTED: "TO CREATE"}
    app.shout_flow.setup()
    assert statuses(root, state_dir) == {SHOUTED: "READY"}


def test_setup_all_and_drop_all_flows(root: Path, state_dir: Path) -> None:
    load(root)
    cocoindex.setup_all_flows()
    assert statuses(root, state_dir) == {SHOUTED: "READY"}
    cocoindex.drop_all_flows()
    assert statuses(root, state_dir) == {SHOUTED: "TO CREATE"}


def test_async_forms(root: Path, state_dir: Path) -> None:
    flow = load(root).shout_flow

    async def scenario() -> Any:
        await flow.setup_async()
        stats = await flow.update_async()
        await flow.drop_async()
        return stats

    stats = asyncio.run(scenario())
    assert stats.sources["Shout.documents"].added == 2
    assert statuses(root, state_dir) == {SHOUTED: "TO CREATE"}


# -- update -----------------------------------------------------------------------------------


def test_update_exports_and_the_cli_finds_nothing_left_to_do(root: Path, state_dir: Path) -> None:
    flow = load(root).shout_flow
    flow.setup()
    stats = flow.update()
    assert (stats.sources["Shout.documents"].added, stats.sources["Shout.documents"].errors) == (
        2,
        0,
    )
    assert outputs(root) == {"a.txt": "HELLO WORLD\n", "b.txt": "GOODBYE\n"}
    run = cli(root, state_dir, "update", "main.py", "--json")
    finished = [json.loads(line) for line in run.stdout.splitlines()][-1]
    assert finished["sources"]["Shout.documents"]["unchanged"] == 2
    assert finished["sources"]["Shout.documents"]["added"] == 0


def test_update_before_setup_says_to_set_up_first(root: Path) -> None:
    flow = load(root).shout_flow
    with pytest.raises(FlowSetupPendingError, match=r"call flow.setup\(\) or run `cocotui apply"):
        flow.update()


SECOND_FLOW = """
@cocoindex.flow_def(name="Copy")
def copy_flow(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
    data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path="data"))
    out = data_scope.add_collector()
    with data_scope["files"].row() as doc:
        out.collect(filename=doc["filename"], text=doc["content"])
    out.export("copied", TextFileTarget(directory="copy"), primary_key_fields=["filename"])
"""


def test_update_all_flows_async_updates_every_flow_of_the_app(root: Path) -> None:
    load(root, after_flow=SECOND_FLOW)
    cocoindex.setup_all_flows()
    options = cocoindex.FlowLiveUpdaterOptions(live_mode=False)
    stats = asyncio.run(cocoindex.update_all_flows_async(options))
    assert {name: list(s.sources) for name, s in stats.items()} == {
        "Shout": ["Shout.documents"],
        "Copy": ["Copy.files"],
    }
    assert stats["Copy"].sources["Copy.files"].added == 2
    assert outputs(root, "copy") == {"a.txt": "hello world\n", "b.txt": "goodbye\n"}


def test_live_updater_reports_status_updates_until_aborted(root: Path) -> None:
    flow = load(root).shout_flow
    flow.setup()
    options = cocoindex.FlowLiveUpdaterOptions(live_mode=True, print_stats=False)
    with cocoindex.FlowLiveUpdater(flow, options) as updater:
        first = bounded(updater.next_status_updates)
        assert first.updated_sources == ["Shout.documents"]
        assert first.active_sources == ["Shout.documents"]
        (root / "data" / "c.txt").write_text("new one\n")
        # The next updates may come from a pass that started before the file was written:
        # wait (boundedly) for the one that exported it.
        for _ in range(10):
            second = bounded(updater.next_status_updates)
            assert second.updated_sources == ["Shout.documents"]
            if "c.txt" in outputs(root):
                break
        updater.abort()
        last = bounded(updater.next_status_updates)
        assert last.active_sources == []
    assert outputs(root)["c.txt"] == "NEW ONE\n"
    assert updater.update_stats().sources["Shout.documents"].added == 3


def test_a_one_pass_updater_ends_by_itself(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = load(root).shout_flow
    flow.setup()
    options = cocoindex.FlowLiveUpdaterOptions(live_mode=False, print_stats=True)
    updater = cocoindex.FlowLiveUpdater(flow, options)
    with pytest.raises(RuntimeError, match="not started"):
        updater.wait()
    updater.start()
    bounded(updater.wait)
    assert bounded(updater.next_status_updates).active_sources == []
    assert "Shout.documents: 2 source rows processed: 2 added" in capsys.readouterr().out


def test_evaluate_and_dump_writes_rows_without_touching_targets(
    root: Path, state_dir: Path
) -> None:
    flow = load(root).shout_flow
    flow.evaluate_and_dump(cocoindex.EvaluateAndDumpOptions(output_dir=str(root / "dump")))
    dumped = json.loads((root / "dump" / "documents@a.txt.json").read_text())
    assert dumped == {"shouted": [{"filename": "a.txt", "text": "HELLO WORLD\n"}]}
    assert not (root / "out").exists()
    assert statuses(root, state_dir) == {SHOUTED: "TO CREATE"}


def test_open_flow_defines_a_flow_once(root: Path, state_dir: Path) -> None:
    app = load(root)
    other = cocoindex.open_flow("Again", app.shout_flow.fn)
    with pytest.raises(KeyError, match="already defined"):
        cocoindex.open_flow("Again", app.shout_flow.fn)
    assert other.name == "Again" and other.full_name == "Again"
    other.close()
    assert [f.name for f in cocoindex.flow.builder.flows_defined_in(app.__name__)] == ["Shout"]


# -- settings ---------------------------------------------------------------------------------


def test_init_ignores_a_database_with_a_one_line_notice(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cocotui import lib

    monkeypatch.setattr(lib, "_settings_fn", None)
    monkeypatch.delenv("COCOINDEX_APP_NAMESPACE", raising=False)
    database = cocoindex.DatabaseConnectionSpec(url="postgresql://u:pw@localhost/db")
    cocoindex.init(cocoindex.Settings(database=database))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "database settings are ignored" in err
    assert "pw" not in err
    cocoindex.init(cocoindex.Settings())
    assert capsys.readouterr().err == ""


def test_settings_hook_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from cocotui import lib

    monkeypatch.setattr(lib, "_settings_fn", None)
    monkeypatch.setenv("COCOINDEX_SOURCE_MAX_INFLIGHT_ROWS", "7")
    monkeypatch.delenv("COCOINDEX_DATABASE_URL", raising=False)
    from_env = cocoindex.Settings.from_env()
    assert from_env.global_execution_options == cocoindex.GlobalExecutionOptions(7, None)
    monkeypatch.setenv("COCOINDEX_APP_NAMESPACE", "")

    @cocoindex.settings()
    def my_settings() -> cocoindex.Settings:
        return cocoindex.Settings(app_namespace="Team")

    cocoindex.init()
    assert cocoindex.get_app_namespace(trailing_delimiter=".") == "Team."
    monkeypatch.setenv("COCOINDEX_SOURCE_MAX_INFLIGHT_ROWS", "many")
    with pytest.raises(ValueError, match="COCOINDEX_SOURCE_MAX_INFLIGHT_ROWS"):
        cocoindex.Settings.from_env()


# -- cocotui run ------------------------------------------------------------------------------

V0_MAIN = """
print("argv", sys.argv[1:])
shout_flow.setup(report_to_stdout=True)
stats = shout_flow.update(print_stats=False)
print(stats)
"""


def test_cocotui_run_runs_the_program_as_main_on_the_clis_state(
    root: Path, state_dir: Path
) -> None:
    write_program(root, V0_MAIN)
    result = cli(root, state_dir, "run", "main.py", "--flag", "x")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "argv ['--flag', 'x']",
        "+ Shout.shouted (directory out) applied: new",
        "Shout.documents: 2 source rows processed: 2 added, 0 updated, 0 deleted, "
        "0 unchanged, 0 errors",
    ]
    assert statuses(root, state_dir) == {SHOUTED: "READY"}
    again = cli(root, state_dir, "run", "main.py")
    assert "2 unchanged" in again.stdout


def test_cocotui_run_passes_on_the_programs_exit_code_and_errors(
    root: Path, state_dir: Path
) -> None:
    write_program(root, "sys.exit(3)")
    assert cli(root, state_dir, "run", "main.py").returncode == 3
    write_program(root, "raise RuntimeError('boom')")
    failed = cli(root, state_dir, "run", "main.py")
    assert failed.returncode == 1
    assert "RuntimeError: boom" in failed.stderr and 'main.py", line' in failed.stderr


LIVE_MAIN = """
shout_flow.setup(report_to_stdout=True)
with cocoindex.FlowLiveUpdater(
    shout_flow, cocoindex.FlowLiveUpdaterOptions(print_stats=True)
) as updater:
    print("Live updater started.", flush=True)
    try:
        updater.wait()
    except KeyboardInterrupt:
        print("Stopping live updater...", flush=True)
"""


def test_a_live_updates_program_runs_until_ctrl_c(root: Path, state_dir: Path) -> None:
    write_program(root, LIVE_MAIN)
    proc = popen_run(root, state_dir)
    try:
        assert proc.stdout is not None
        lines = []
        while "Live updater started." not in lines:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            lines.append(line.rstrip("\n"))
        while not (root / "out" / "b.txt").exists():  # the initial pass, then Ctrl-C
            bounded(lambda: proc.stdout.readline() if proc.stdout else "")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Stopping live updater..." in out
    assert statuses(root, state_dir) == {SHOUTED: "READY"}
