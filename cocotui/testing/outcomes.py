"""What a ``cocotui`` process run by :class:`~cocotui.testing.AppRunner` left: its exit code
and output, and for ``update --json`` the events and counters read from them."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
from typing import Any


@dataclasses.dataclass(frozen=True)
class CliResult:
    """A finished ``cocotui`` process."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    def json(self) -> Any:
        """stdout as one JSON document (``--json`` of plan, apply, drop, ls, connectors)."""
        return json.loads(self.stdout)

    def events(self) -> list[dict[str, Any]]:
        """stdout as JSON lines (``update --json``); a line cut short by a kill is skipped."""
        found = []
        for line in self.stdout.splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                found.append(json.loads(line))
        return found

    def expect(self, *returncodes: int) -> CliResult:
        """``self``, or an ``AssertionError`` showing the output when the exit code is not one
        of ``returncodes`` (default 0)."""
        if self.returncode not in (returncodes or (0,)):
            raise AssertionError(
                f"cocotui {' '.join(self.args)} exited {self.returncode}\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
            )
        return self


@dataclasses.dataclass(frozen=True)
class UpdateOutcome:
    """A finished ``cocotui update --json``."""

    result: CliResult

    @property
    def returncode(self) -> int:
        return self.result.returncode

    @property
    def ok(self) -> bool:
        return self.result.returncode == 0

    @property
    def killed(self) -> bool:
        return self.result.killed

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.result.events()

    def of(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]

    @property
    def finished(self) -> dict[str, Any] | None:
        """The ``run.finished`` event (``None`` if the run did not finish)."""
        found = self.of("run.finished")
        return found[-1] if found else None

    @property
    def failed_rows(self) -> list[dict[str, Any]]:
        return self.of("row.failed")

    @property
    def mutations(self) -> int:
        """Rows inserted, updated and deleted in every target: 0 when the run sent nothing."""
        finished = self.finished
        if finished is None:
            raise AssertionError(f"the run did not finish:\n{self.result.stderr}")
        return sum(
            c["inserted"] + c["updated"] + c["deleted"] for c in finished["targets"].values()
        )

    def counters(self, target: str) -> dict[str, int]:
        """The final counters of ``target`` (``Flow.export``)."""
        finished = self.finished
        if finished is None:
            raise AssertionError(f"the run did not finish:\n{self.result.stderr}")
        counters: dict[str, int] = finished["targets"][target]
        return counters


@dataclasses.dataclass(frozen=True)
class AppRun:
    """What :func:`run_app` did: the applied setup changes and the update."""

    apply: dict[str, Any]
    update: UpdateOutcome
