"""What running CocoIndex v0.3.39's own local examples unchanged on cocotui turned up
(``benchmarks/compare_v0_examples.py`` runs them on both engines): each test is a small program
written here that takes the same API path as the example did, so nothing is fetched."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from runtime_helpers import cli, write_program

from cocotui.flow import builder
from cocotui.functions import SplitRecursively
from cocotui.op_function import resolve_transform as executor


@pytest.fixture
def root(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch, in_process_app: None
) -> Path:
    directory = tmp_path / "prog"
    directory.mkdir()
    monkeypatch.setattr(builder, "_defined", {})
    return directory


def test_update_info_stats_are_v0s_counters_per_source(root: Path, state_dir: Path) -> None:
    """code_embedding's ``_main`` prints ``flow.update().stats``: v0's dict keyed by the
    source's name, with v0's counter names."""
    write_program(
        root,
        main="""
        shout_flow.setup()
        update_info = shout_flow.update()
        print("Updated index: ", update_info.stats)
        """,
    )
    first = cli(root, state_dir, "run", "main.py")
    assert first.returncode == 0, first.stderr
    second = cli(root, state_dir, "run", "main.py")
    assert second.returncode == 0, second.stderr

    def printed(stdout: str) -> object:
        line = next(x for x in stdout.splitlines() if x.startswith("Updated index: "))
        return ast.literal_eval(line.removeprefix("Updated index: ").strip())

    counters = {
        "num_no_change": 0,
        "num_insertions": 2,
        "num_deletions": 0,
        "num_updates": 0,
        "num_reprocesses": 0,
        "num_errors": 0,
        "processing": {"num_starts": 0, "num_ends": 0},
    }
    assert printed(first.stdout) == {"documents": counters}
    unchanged = {**counters, "num_insertions": 0, "num_no_change": 2}
    assert printed(second.stdout) == {"documents": unchanged}


def _paragraph(words: int, stem: str) -> str:
    return " ".join(f"{stem}{i}" for i in range(words))


#: A module like v0's ``functions/colpali.py``: a class whose docstring is larger than a chunk.
LONG_DOCSTRING_MODULE = f'''import dataclasses


class Settings:
    """Settings of a small service that keeps its configuration in one place.

    {_paragraph(40, "alpha")}

    {_paragraph(30, "beta")}

    Fields:
        host: {_paragraph(12, "gamma")}
        port: {_paragraph(12, "delta")}

    Notes:
        {_paragraph(30, "eps")}
    """

    host: str = "127.0.0.1"


@dataclasses.dataclass
class Request:
    """One request."""

    path: str
    body: bytes = b""

    def size(self) -> int:
        return len(self.path) + len(self.body)
'''


def test_python_is_split_on_the_syntax_tree_v0_parses() -> None:
    """code_embedding's chunks of ``colpali.py`` differed from v0's: the language pack's Python
    grammar leaves out the ``expression_statement`` around a docstring that v0's
    tree-sitter-python 0.23.6 has, so boundaries sat one level shallower. The locations below
    are what CocoIndex 0.3.39 returns for this text (its ``SplitRecursively`` in a
    ``transform_flow``, language "python", code_embedding's sizes)."""
    split = executor(SplitRecursively())
    table = split(
        LONG_DOCSTRING_MODULE,
        language="python",
        chunk_size=1000,
        min_chunk_size=300,
        chunk_overlap=300,
    )
    assert [key.location for key in table] == [(0, 405), (116, 1037), (849, 1249)]
