"""Query handlers (issue 11, item 5): ``@flow.query_handler`` / ``flow.add_query_handler``,
listed by ``cocotui ls --json`` and the TUI's detail pane, run by ``cocotui query`` and by the
TUI's query box."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_helpers import cli, ls_json, write_program
from textual.widgets import DataTable, Input, Static

from cocotui.engine.facade import Engine
from cocotui.engine.queries import QueryHandlerNotFound, find_handler
from cocotui.flow.loader import app_module_name
from cocotui.query_handler import QueryHandlerError
from cocotui.tui.app import CocotuiApp
from cocotui.tui.query_screen import QueryScreen

EXTRA_HANDLERS = """
async def count_matches(query: str) -> cocoindex.QueryOutput:
    return cocoindex.QueryOutput(results=[Count(query, len(os.listdir(OUT)))])

@dataclasses.dataclass
class Count:
    query: str
    files: int

shout_flow.add_query_handler("count", count_matches)

@shout_flow.query_handler(name="fails")
def fails(query: str) -> cocoindex.QueryOutput:
    raise ConnectionError("the index is down")

@shout_flow.query_handler(name="broken")
def broken(query: str) -> list[str]:
    return [query]
"""


@pytest.fixture
def program(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch, in_process_app: None
) -> Iterator[Path]:
    """The program, set up and updated through ``cocotui run`` (the files the handlers read
    exist), with the working directory in it (its paths are relative, as v0's examples')."""
    root = tmp_path / "prog"
    root.mkdir()
    write_program(root, "shout_flow.setup()\nshout_flow.update()", after_flow=EXTRA_HANDLERS)
    result = cli(root, state_dir, "run", "main.py")
    assert result.returncode == 0, result.stderr
    monkeypatch.chdir(root)
    yield root


def test_ls_json_lists_each_flows_query_handlers(program: Path, state_dir: Path) -> None:
    flows = ls_json(program, state_dir)["flows"]
    assert flows == [
        {
            "name": "Shout",
            "query_handlers": [
                {"name": "search", "result_fields": {"embedding": ["embedding"], "score": "score"}},
                {"name": "count", "result_fields": None},
                {"name": "fails", "result_fields": None},
                {"name": "broken", "result_fields": None},
            ],
        }
    ]


def test_cocotui_query_prints_the_results_as_a_table(program: Path, state_dir: Path) -> None:
    result = cli(program, state_dir, "query", "main.py", "search", "hello")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Shout.search: 1 result(s) for 'hello'"
    assert lines[1].split() == ["filename", "text", "score", "embedding"]
    assert lines[2].split("  ")[0] == "a.txt"
    assert "HELLO WORLD" in lines[2] and "[12, 1, 2, … 4 values]" in lines[2]
    assert lines[3] == (
        "query embedding: [0.25, 0.5, 0.75, … 4 values]; similarity metric: CosineSimilarity"
    )


def test_cocotui_query_json_gives_results_and_query_info(program: Path, state_dir: Path) -> None:
    result = cli(program, state_dir, "query", "main.py", "Shout.search", "bye", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "format_version": 1,
        "flow": "Shout",
        "handler": "search",
        "query": "bye",
        "results": [
            {"filename": "b.txt", "text": "GOODBYE", "score": 0.5, "embedding": [8.0, 1, 2, 3]}
        ],
        "query_info": {
            "embedding": [0.25, 0.5, 0.75, 1.0],
            "similarity_metric": "CosineSimilarity",
        },
        "result_fields": {"embedding": ["embedding"], "score": "score"},
    }


def test_async_handlers_and_dataclass_results(program: Path, state_dir: Path) -> None:
    result = cli(program, state_dir, "query", "main.py", "count", "x", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"] == [{"query": "x", "files": 2}]


def test_an_unknown_handler_names_the_known_ones(program: Path, state_dir: Path) -> None:
    result = cli(program, state_dir, "query", "main.py", "Shout.nope", "x")
    assert result.returncode == 1
    assert "no query handler 'Shout.nope'" in result.stderr
    assert "Shout.search, Shout.count, Shout.fails, Shout.broken" in result.stderr


def test_a_handler_not_returning_query_output_is_an_error(program: Path, state_dir: Path) -> None:
    result = cli(program, state_dir, "query", "main.py", "broken", "x")
    assert result.returncode == 1
    assert "returned list, not a QueryOutput" in result.stderr


def test_a_failing_handler_shows_its_own_traceback(program: Path, state_dir: Path) -> None:
    result = cli(program, state_dir, "query", "main.py", "fails", "x")
    assert result.returncode == 1
    assert result.stderr.startswith("error: query handler Shout.fails failed:")
    assert 'main.py", line' in result.stderr
    assert "ConnectionError: the index is down" in result.stderr
    assert "cocotui/" not in result.stderr


def test_handlers_of_several_flows_need_the_flow_name(program: Path) -> None:
    engine = Engine.open("main.py")
    try:
        flows = engine.app.flows
        other = type(flows[0])(**{**flows[0].__dict__, "name": "Other"})
        with pytest.raises(QueryHandlerNotFound, match="several flows"):
            find_handler([*flows, other], "search")
        assert find_handler([*flows, other], "Other.search").flow == "Other"
    finally:
        engine.close()
    with pytest.raises(QueryHandlerError, match="callable"):
        sys.modules[app_module_name(program / "main.py")].shout_flow.add_query_handler("x", 3)


def test_tui_query_box_shows_the_results_as_a_table(program: Path) -> None:
    engine = Engine.open("main.py")
    app = CocotuiApp(engine)

    async def scenario() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            detail = app.query_one("#detail", Static)
            assert "query handlers search, count, fails, broken" in str(detail.render())
            await pilot.press("k")
            await pilot.pause()
            assert isinstance(app.screen, QueryScreen)
            box = app.screen.query_one("#query-text", Input)
            assert box.has_focus
            await pilot.press(*"hello", "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            table = app.screen.query_one("#query-results", DataTable)
            assert [str(c.label) for c in table.columns.values()] == [
                "filename",
                "text",
                "score",
                "embedding",
            ]
            assert [table.get_row_at(i) for i in range(table.row_count)] == [
                ["a.txt", "HELLO WORLD", "0.5", "[12, 1, 2, … 4 values]"]
            ]
            info = str(app.screen.query_one("#query-info", Static).render())
            assert "Shout.search: 1 result(s)" in info and "CosineSimilarity" in info
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, QueryScreen)

    try:
        asyncio.run(scenario())
    finally:
        engine.close()
