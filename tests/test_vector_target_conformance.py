"""What every vector database target does alike, run over each (ChromaDB, LanceDB and Qdrant on
their local stores): nearest-row queries, roll-forward after a kill inside ``mutate``, and a
vector of the wrong size failing its row only. What differs lives in ``test_target_<name>.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from connector_helpers import SAMPLE_FILES, assert_rolls_forward, update_killed_inside_mutate
from vector_target_helpers import DIM, embedding
from vector_target_kinds import KINDS, VectorTargetKind

from cocotui_connectors.v0_qdrant import close_clients


@pytest.fixture(params=KINDS, ids=[kind.name for kind in KINDS])
def kind(request: pytest.FixtureRequest) -> Iterator[VectorTargetKind]:
    yield request.param
    close_clients()  # Qdrant's local mode allows one client per directory: release it


def test_a_vector_query_returns_the_nearest_row(tmp_path: Path, kind: VectorTargetKind) -> None:
    runner = kind.runner(tmp_path, SAMPLE_FILES)
    runner.apply()
    assert runner.update().ok
    for name, content in SAMPLE_FILES.items():
        assert kind.nearest(tmp_path / kind.store, embedding(content)) == name


@pytest.mark.parametrize("kill", ["mutate:rows=3", "mutate:before", "mutate:after"])
def test_a_run_killed_inside_mutate_rolls_forward(
    tmp_path: Path, kind: VectorTargetKind, kill: str
) -> None:
    store, docs = tmp_path / kind.store, tmp_path / "docs"
    runner = kind.runner(tmp_path, SAMPLE_FILES)
    runner.apply()
    assert runner.update().ok
    update_killed_inside_mutate(runner, docs, kill, tmp_path / "calls.jsonl")
    assert_rolls_forward(runner, lambda: kind.assert_equals_source(store, docs))


def test_a_vector_of_the_wrong_dimension_is_a_row_error_and_loses_nothing(
    tmp_path: Path, kind: VectorTargetKind
) -> None:
    store, docs = tmp_path / kind.store, tmp_path / "docs"
    runner = kind.runner(tmp_path, SAMPLE_FILES)
    runner.apply()
    assert runner.update().ok
    before = kind.stored(store)
    outcome = kind.runner(tmp_path, {"b.txt": "BRAVO"}, length=7).update()
    assert not outcome.ok
    message = outcome.result.stdout + outcome.result.stderr
    assert "dimension 7" in message and f"is {DIM}" in message, message
    if kind.error_names_row:
        assert "b.txt" in message, message
    assert kind.stored(store) == before
    assert kind.runner(tmp_path, {}).update().ok
    kind.assert_equals_source(store, docs)
