"""Events the engine reports to front ends (CLI renderers, the TUI, ``--json``), and the stop
token front ends use to ask a run to end at the next batch boundary."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Event:
    """``name`` is stable (documented in the README); ``data`` is JSON-serialisable."""

    name: str
    data: dict[str, Any]
    time: float = dataclasses.field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.name, "time": round(self.time, 6), **self.data}


Observer = Callable[[Event], None]


def ignore(_: Event) -> None:
    """An observer that drops every event."""


class StopToken:
    """Set by a front end; the engine checks it between batches."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def stop(self) -> None:
        self._event.set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)
