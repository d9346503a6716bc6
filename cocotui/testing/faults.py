"""Injected faults: a connector method that fails on purpose, and the points where the
process is SIGKILLed (before or after a method, or in the middle of ``mutate``'s loop)."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class InjectedFailure(RuntimeError):
    """Raised instead of a connector method that ``fail=`` / ``COCOTUI_TESTING_FAIL`` names."""


@dataclasses.dataclass(frozen=True)
class KillPoint:
    """Where to SIGKILL the process: ``before``/``after`` a method, or after ``rows`` rows were
    handed to ``mutate``."""

    method: str
    when: str
    rows: int = 0

    @classmethod
    def parse(cls, text: str) -> KillPoint:
        method, _, when = text.partition(":")
        if when in ("before", "after"):
            return cls(method, when)
        if method == "mutate" and when.startswith("rows="):
            rows = int(when.removeprefix("rows="))
            if rows < 0:
                raise ValueError(f"kill point {text!r}: rows must be at least 0")
            return cls(method, "rows", rows)
        raise ValueError(
            f"kill point {text!r} must be METHOD:before, METHOD:after or mutate:rows=N"
        )


def kill_process() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class RowBudget:
    """Rows ``mutate`` may still take before the process is killed."""

    def __init__(self, rows: int) -> None:
        self.remaining = rows

    def take(self) -> None:
        if self.remaining <= 0:
            kill_process()
        self.remaining -= 1


class KillingRows(dict[Any, Any]):
    """A mutation dict that kills the process when the connector asks for one row too many."""

    def __init__(self, rows: Mapping[Any, Any], budget: RowBudget) -> None:
        super().__init__(rows)
        self._budget = budget

    def _metered(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            self._budget.take()
            yield item

    def __iter__(self) -> Iterator[Any]:
        return self._metered(super().__iter__())

    def keys(self) -> Any:
        return self._metered(super().keys())

    def values(self) -> Any:
        return self._metered(super().values())

    def items(self) -> Any:
        return self._metered(super().items())
