"""Memory of a first full update: rows stream from the listing through evaluation to the
target, so what the engine's process holds does not grow with the number of rows (issue 16's
peak RSS goal at 100k rows)."""

from __future__ import annotations

import tracemalloc

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui.engine.events import StopToken
from cocotui.engine.run_options import UpdateOptions
from cocotui.state import listing_pages


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


#: A target that keeps nothing, so that only the engine's own memory is measured.
NULL_TARGET = """
class NullTarget(cocoindex.op.TargetSpec):
    name: str


@cocoindex.op.target_connector(spec_cls=NullTarget)
class NullConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        return spec.name

    @staticmethod
    def describe(key):
        return key

    @staticmethod
    def apply_setup_change(key, previous, current):
        pass

    @staticmethod
    def mutate(*all_mutations):
        pass
"""


#: Small pages and batches, so that both measured runs are many of them.
PAGE_ROWS = BATCH_ROWS = 100
SMALL, LARGE = 1000, 6000


def _files(start: int, stop: int) -> dict[str, str]:
    return {f"f{i:05d}.txt": f"content {i}" for i in range(start, stop)}


def _first_update_peak(ws: Workspace) -> int:
    """Bytes of Python memory at the peak of a first full update (tracking forgotten). The
    observer keeps no event: only the engine's memory is measured."""
    for path in ws.state_dir.glob(f"{ws.tracking_file.name}*"):
        path.unlink()
    options = UpdateOptions(workers=1, batch_rows=BATCH_ROWS)
    with h.engine_of(ws) as engine:
        tracemalloc.start()
        try:
            result = engine.update(options, lambda event: None, StopToken())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.ok
    assert result.sources["Docs.documents"].added == len(list(ws.source_dir.iterdir()))
    return peak


def test_a_first_update_holds_no_memory_per_row(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing_pages, "PAGE_ROWS", PAGE_ROWS)
    h.write_files(ws, _files(0, SMALL))
    h.flow_app(
        ws,
        'out.export("t", NullTarget(name="null"), primary_key_fields=["filename"])',
        header=NULL_TARGET,
    )
    h.apply_all(ws)
    _first_update_peak(ws)  # imports and first calls, outside the measured runs
    small = _first_update_peak(ws)
    h.write_files(ws, _files(SMALL, LARGE))
    large = _first_update_peak(ws)
    per_row = (large - small) / (LARGE - SMALL)
    # Before rows streamed: ~380 bytes per row (the listing's rows and their tasks, all kept
    # for the whole pass); now a page of rows and a batch, whatever the source holds.
    assert per_row < 60, f"{per_row:.0f} bytes more per row"
