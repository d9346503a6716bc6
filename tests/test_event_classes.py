"""Event classes get their methods from :class:`~cocotui.engine.events.Event` rather than from
dataclass code generation (a start-up cost): they must behave as frozen keyword-only
dataclasses would, since observers compare, hash, print and copy events."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from cocotui.engine import events as ev
from cocotui.engine.counters import SourceCounters

EVENT_CLASSES = [
    cls
    for _, cls in inspect.getmembers(ev, inspect.isclass)
    if issubclass(cls, ev.Event) and cls is not ev.Event
]


def generated_twin(cls: type[ev.Event]) -> type[Any]:
    """A frozen keyword-only dataclass with ``cls``'s name and fields, methods generated."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    twin = dataclasses.make_dataclass(cls.__name__, fields, frozen=True, kw_only=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def sample_values(cls: type[ev.Event]) -> dict[str, Any]:
    values: dict[str, Any] = {"time": 12.5}
    for i, field in enumerate(dataclasses.fields(cls)):
        if field.name != "time":
            values[field.name] = ("source", i, ("a", "b"), ev.PassReason.WATCH)[i % 4]
    return values


def test_every_event_class_is_covered() -> None:
    assert len(EVENT_CLASSES) == 18


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_repr_equality_and_hash_are_the_generated_ones(cls: type[ev.Event]) -> None:
    values = sample_values(cls)
    event, twin = cls(**values), generated_twin(cls)(**values)
    assert repr(event) == repr(twin)
    assert event == cls(**values) and hash(event) == hash(cls(**values)) == hash(twin)
    changed = {**values, "time": 13.0}
    assert event != cls(**changed)
    assert event != twin  # another class, even with the same fields


def test_events_of_different_kinds_with_the_same_fields_differ() -> None:
    started = ev.ApplyChangeStarted(target="t", action="create", time=1.0)
    done = ev.ApplyChangeDone(target="t", action="create", time=1.0)
    assert started != done
    assert (started == done) is False


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_events_are_frozen(cls: type[ev.Event]) -> None:
    event = cls(**sample_values(cls))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.time = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del event.time  # type: ignore[misc]
    assert event.time == 12.5


def test_construction_takes_keywords_with_defaults_and_checks_them() -> None:
    before = ev.time.time()
    event = ev.RowFailed(source="F.s", row="r", keys=(), error="e", traceback="tb")
    assert event.targets == () and before <= event.time <= ev.time.time()
    with pytest.raises(TypeError, match="missing keyword argument 'row'"):
        ev.RowFailed(source="F.s", keys=(), error="e", traceback="tb")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword arguments 'rows'"):
        ev.SourceFailed(source="s", error="e", traceback="", rows=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ev.WatcherError("positional")  # type: ignore[misc]


def test_dataclass_helpers_work_on_events() -> None:
    counters = SourceCounters(added=2)
    event = ev.SourceFinished(source="F.s", counters=counters, time=3.0)
    assert dataclasses.replace(event, source="F.t") == ev.SourceFinished(
        source="F.t", counters=counters, time=3.0
    )
    assert dataclasses.asdict(event)["counters"]["added"] == 2
    assert [f.name for f in dataclasses.fields(event)] == ["time", "source", "counters"]
    match event:
        case ev.SourceFinished(source=source):
            assert source == "F.s"
