"""What running CocoIndex v0.3.39's own local examples unchanged on cocotui turned up
(``benchmarks/compare_v0_examples.py`` runs them on both engines): each test is a small program
written here that takes the same API path as the example did, so nothing is fetched."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from runtime_helpers import cli, write_program

from cocotui.flow import builder


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
