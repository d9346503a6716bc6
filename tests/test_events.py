"""Typed engine events: each kind's ``--json`` line has exactly the fields the README documents,
and the human lines come from one formatter that masks and escapes what it is given."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from cocotui.engine import event_text
from cocotui.engine import events as ev
from cocotui.engine.counters import SourceCounters, TargetCounters

README = Path(__file__).resolve().parent.parent / "README.md"

SAMPLES: list[ev.Event] = [
    ev.RunStarted(app="a", targets=("F.t",), skipped=(), reexport=False),
    ev.SourceListed(source="F.s", rows=3, to_process=1, gone=0),
    ev.BatchApplied(
        source="F.s", rows=1, committed=1, done=3, total=3, targets={"F.t": TargetCounters()}
    ),
    ev.MutateStarted(
        source="F.s", connector="K", rows=1, targets={"F.t": TargetCounters(in_flight=2)}
    ),
    ev.MutateFinished(
        source="F.s", connector="K", ok=True, elapsed=0.5, targets={"F.t": TargetCounters()}
    ),
    ev.RowFailed(source="F.s", row="r", keys=("k",), error="boom", traceback=""),
    ev.KeyDuplicate(target="F.t", key="k", rows=("a", "b"), same_row=False),
    ev.SourceFailed(source="F.s", error="gone", traceback=""),
    ev.SourceFinished(source="F.s", counters=SourceCounters(listed=3)),
    ev.RunFinished(
        elapsed=1.0,
        stopped=False,
        errors=0,
        skipped=(),
        targets={"F.t": TargetCounters()},
        sources={"F.s": SourceCounters()},
    ),
]


def _documented_fields() -> dict[str, list[str]]:
    """The ``update --json`` table of the README: event -> its fields, in order."""
    rows = re.findall(r"^\| `([a-z_.]+)` \| (.+) \|$", README.read_text(), re.MULTILINE)
    return {
        kind: re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", fields)) for kind, fields in rows
    }


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.kind)
def test_json_lines_have_exactly_the_documented_fields(event: ev.Event) -> None:
    line = event.to_json()
    assert list(line) == ["event", "time", *_documented_fields()[event.kind]]
    assert line["event"] == event.kind


def test_every_kind_is_distinct() -> None:
    kinds = [cls.kind for cls in _subclasses(ev.Event)]
    assert "" not in kinds and len(kinds) == len(set(kinds)) == 18


def _subclasses(cls: type[Any]) -> list[type[Any]]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_subclasses(sub))]


def test_counters_are_copied_when_the_event_is_made() -> None:
    counters = SourceCounters(added=1)
    event = ev.SourceFinished(source="F.s", counters=dataclasses.replace(counters))
    counters.added = 5
    assert event.to_json()["added"] == 1


def test_live_pass_reports_its_own_elapsed_time_rounded() -> None:
    counters = SourceCounters(done=2, elapsed=9.0)
    line = ev.LivePassFinished(
        source="F.s", reason="watch", counters=counters, elapsed=0.12345678
    ).to_json()
    assert line["elapsed"] == 0.123457
    assert list(line)[:4] == ["event", "time", "source", "reason"]


def test_summary_lines_mask_and_escape_once_in_the_formatter() -> None:
    counters = SourceCounters(added=1, updated=2, deleted=3, unchanged=4, errors=0, elapsed=0.5)
    event = ev.SourceFinished(source="F.pg://me:hunter2@db\x1b[2J", counters=counters)
    line = event_text.source_summary(event)
    assert "hunter2" not in line and "\x1b" not in line
    assert line.endswith(": 1 added, 2 updated, 3 deleted, 4 unchanged, 0 errors [0.500s]")
    assert event_text.describe_event(event).endswith("0 errors [0.50s]")
    failure = ev.RowFailed(
        source="F.s", row="a\nb", keys=(), error="password=hunter2", traceback=""
    )
    assert event_text.row_failure(failure) == "error: row a\\x0ab of F.s: password=********"
