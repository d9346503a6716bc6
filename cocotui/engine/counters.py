"""The counters a run keeps per target and per source (carried by events and the result)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class TargetCounters:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0
    in_flight: int = 0


@dataclasses.dataclass
class SourceCounters:
    listed: int = 0
    #: rows to go through: listed rows plus tracked rows that disappeared from the source
    total: int = 0
    done: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    errors: int = 0
    in_flight: int = 0
    elapsed: float = 0.0

    def add(self, other: SourceCounters) -> None:
        """Accumulate ``other`` (one pass) into these (the run's)."""
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
