"""What a caller tells an update run, and what it gets back: apart from the run itself so that
the CLI can declare its arguments and read results without importing the engine's data path."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cocotui.engine.counters import SourceCounters, TargetCounters

DEFAULT_BATCH_ROWS = 1000
DEFAULT_BATCH_BYTES = 32 * 1024 * 1024


@dataclasses.dataclass
class UpdateOptions:
    reexport: bool = False
    #: Processes evaluating rows; ``None``: as many as CPUs, started only when the rows'
    #: measured work outweighs starting them (see :mod:`cocotui.engine.workers`).
    workers: int | None = 1
    batch_rows: int = DEFAULT_BATCH_ROWS
    batch_bytes: int = DEFAULT_BATCH_BYTES


@dataclasses.dataclass
class LiveOptions(UpdateOptions):
    """Options of a live run (:meth:`cocotui.engine.facade.Engine.run_live`)."""

    #: Watch file sources for changes; when false, only ``refresh_interval`` re-lists find them.
    watch: bool = True
    #: Called once the initial catch-up pass is done.
    on_ready: Callable[[], None] | None = None


@dataclasses.dataclass
class UpdateResult:
    targets: dict[str, TargetCounters]
    sources: dict[str, SourceCounters]
    skipped: list[str]
    stopped: bool
    elapsed: float

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.sources.values())

    @property
    def ok(self) -> bool:
        return self.errors == 0 and not self.skipped and not self.stopped
