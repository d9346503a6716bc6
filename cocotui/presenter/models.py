"""The view models both front ends draw: every string in them is what a person may see,
secrets masked and terminal control characters escaped, so a front end only lays them out
and colours them (by :class:`Tone`)."""

from __future__ import annotations

import dataclasses
import enum

from cocotui.engine.actions import Action


class Tone(enum.Enum):
    """What a line means, for the front end to colour it: the CLI with ANSI codes, the TUI with
    Rich styles."""

    PLAIN = "plain"
    CREATE = "create"
    UPDATE = "update"
    DROP = "drop"
    #: Data is removed.
    DANGER = "danger"
    WARNING = "warning"
    #: An earlier change was interrupted.
    INTERRUPTED = "interrupted"
    HEADING = "heading"
    DIM = "dim"


#: The tone of a change's head and its diff lines.
ACTION_TONE = {
    Action.CREATE: Tone.CREATE,
    Action.UPDATE: Tone.UPDATE,
    Action.DROP: Tone.DROP,
    Action.NONE: Tone.DIM,
}


@dataclasses.dataclass(frozen=True)
class Line:
    text: str
    tone: Tone = Tone.PLAIN


@dataclasses.dataclass(frozen=True)
class ChangeView:
    """One planned setup change."""

    action: Action
    #: ``create``, ``update``, ``drop`` (``none`` for a target that is up to date).
    verb: str
    name: str
    description: str
    #: What the review shows under the change's head: kind and key, reason, what happens to
    #: the data, the spec diff, and a note when an interrupted change is rolled forward.
    details: tuple[Line, ...]

    @property
    def tone(self) -> Tone:
        return ACTION_TONE[self.action]


@dataclasses.dataclass(frozen=True)
class PlanView:
    app: str
    #: ``Plan: 1 to create, 0 to update, 0 to drop.`` or "No changes...".
    summary: str
    pending: tuple[ChangeView, ...]
    #: Targets whose setup is up to date.
    ready: tuple[str, ...]
    #: Said about up-to-date targets (one held by other apps too).
    warnings: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled block of a target's detail (its key, its stored setup...)."""

    title: str
    body: str
    tone: Tone = Tone.HEADING


@dataclasses.dataclass(frozen=True)
class TargetRow:
    """One row of ``ls`` and of the TUI's targets table, with the detail the TUI shows."""

    #: The raw ``FLOW.TARGET`` and flow names, never shown: what finds the target in the
    #: engine's and the run monitor's data (``name`` is what is shown).
    target_id: str
    flow_id: str
    name: str
    kind: str
    #: ``READY``, ``TO CREATE``, ... ``INTERRUPTED``, ``ORPHANED``.
    status: str
    description: str
    #: The persistent key on one line.
    key: str
    #: A setup change is pending.
    pending: bool
    #: Setup is stored for it (so there is something to drop).
    has_setup: bool
    #: The persistent key, the desired, committed and staged setups, the last setup error.
    setup: tuple[Section, ...]


@dataclasses.dataclass(frozen=True)
class AppHeader:
    name: str
    #: ``file /path/app.py`` or ``module package.app``.
    origin: str
    state_file: str


@dataclasses.dataclass(frozen=True)
class ConnectorView:
    kind: str
    origin: str
    optional_methods: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class ConnectorFailure:
    entry_point: str
    value: str
    error: str

    @property
    def last_line(self) -> str:
        lines = self.error.strip().splitlines()
        return lines[-1] if lines else ""


@dataclasses.dataclass(frozen=True)
class ConnectorsView:
    kinds: tuple[ConnectorView, ...]
    failures: tuple[ConnectorFailure, ...]


@dataclasses.dataclass(frozen=True)
class ApplyFailure:
    """An apply a connector (or the state) stopped."""

    target: str
    message: str
    traceback: str
    #: The change stays staged: the next apply rolls it forward.
    staged: bool
