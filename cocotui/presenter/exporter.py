"""The app's exporter (the process running its updates, here or elsewhere) as ``cocotui status``
shows it: a verdict, a headline, a row per source and per target, each target's recent runs;
and its ``--json`` document. Strings are masked and escaped like every view."""

from __future__ import annotations

import dataclasses
import enum
import time
from typing import Any

from cocotui.display import display_line, mask_text
from cocotui.engine.monitor import PassView, Snapshot, SourceView, TargetView
from cocotui.engine.status import ExporterReport, Outcome, RunRecord
from cocotui.presenter.documents import Document, versioned
from cocotui.presenter.models import Tone


class Health(enum.StrEnum):
    """The verdict on an app's exporter (``cocotui status`` exits with :attr:`exit_code`)."""

    #: no exporter runs, and the last one ended by itself (or none ever ran)
    IDLE = "idle"
    #: an exporter runs and reports no error
    HEALTHY = "healthy"
    #: an exporter runs but reports errors
    ERRORS = "errors"
    #: the last exporter died (killed, crashed) or ended on an error
    DIED = "died"

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


_EXIT_CODES = {Health.IDLE: 0, Health.HEALTHY: 0, Health.ERRORS: 3, Health.DIED: 4}


@dataclasses.dataclass(frozen=True)
class SourceLine:
    name: str
    phase: str
    progress: str
    last_pass: str
    lag: str
    last_error: str


@dataclasses.dataclass(frozen=True)
class TargetLine:
    name: str
    inserted: int
    updated: int
    deleted: int
    errors: int
    rate: str
    last_error: str


@dataclasses.dataclass(frozen=True)
class RunLine:
    """One run of a target's history."""

    target: str
    when: str
    text: str
    tone: Tone
    #: who ran it: ``user@host pid N (origin)``
    by: str


@dataclasses.dataclass(frozen=True)
class ExporterView:
    health: Health
    #: ``live export running (pid 12 on host, user ann, from the cli, since ...)``
    headline: str
    tone: Tone
    #: heartbeat, error count, the error a failed run ended on
    notes: tuple[str, ...]
    sources: tuple[SourceLine, ...]
    targets: tuple[TargetLine, ...]
    history: tuple[RunLine, ...]


def health(report: ExporterReport | None) -> Health:
    if report is None:
        return Health.IDLE
    if report.outcome in (Outcome.DIED, Outcome.FAILED):
        return Health.DIED
    if report.outcome is Outcome.RUNNING:
        return Health.ERRORS if report.snapshot.errors else Health.HEALTHY
    return Health.IDLE


_HEADLINE_TONE = {
    Health.IDLE: Tone.DIM,
    Health.HEALTHY: Tone.CREATE,
    Health.ERRORS: Tone.WARNING,
    Health.DIED: Tone.DANGER,
}


def clock(when: float) -> str:
    """A wall-clock time as shown: local, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def present_exporter(report: ExporterReport | None, now: float | None = None) -> ExporterView:
    verdict = health(report)
    if report is None:
        return ExporterView(verdict, "idle: no update has run yet", Tone.DIM, (), (), (), ())
    now = time.time() if now is None else now
    snap = report.snapshot
    return ExporterView(
        health=verdict,
        headline=_headline(report),
        tone=_HEADLINE_TONE[verdict],
        notes=_notes(report, now),
        sources=tuple(_source_line(n, v) for n, v in sorted(snap.sources.items())),
        targets=tuple(_target_line(n, v) for n, v in sorted(snap.targets.items())),
        history=tuple(
            _run_line(target, record)
            for target, records in sorted(report.history.items())
            for record in records
        ),
    )


def _headline(report: ExporterReport) -> str:
    who = report.exporter
    kind = "live export" if who.mode == "live" else "update"
    place = f"pid {who.pid} on {who.host}, user {who.user}, from the {who.origin}"
    outcome = report.outcome
    if outcome is Outcome.RUNNING:
        state = "running"
    elif outcome is Outcome.DIED:
        state = "DIED (killed or crashed; it did not finish)"
    else:
        state = outcome.value
    return display_line(f"{kind} {state} ({place}, since {clock(who.started_at)})")


def _notes(report: ExporterReport, now: float) -> tuple[str, ...]:
    status = report.status
    notes = []
    if report.outcome is Outcome.RUNNING:
        notes.append(f"last heartbeat {seconds(max(now - status.heartbeat, 0.0))} ago")
    elif status.finished_at is not None:
        notes.append(f"ended {clock(status.finished_at)}")
    else:
        notes.append(f"last heard of {clock(status.heartbeat)}")
    if report.snapshot.errors:
        notes.append(f"{report.snapshot.errors} error(s) in this run")
    if status.error:
        notes.append(display_line(f"ended on: {status.error}"))
    return tuple(notes)


def _pass_text(last: PassView | None) -> str:
    if last is None:
        return "-"
    reason = "update" if last.reason is None else last.reason.value
    return (
        f"{clock(last.finished_at)[11:]} {reason} {seconds(last.elapsed)}: "
        f"+{last.inserted} ~{last.updated} -{last.deleted}"
        + (f" !{last.errors}" if last.errors else "")
    )


def _source_line(name: str, view: SourceView) -> SourceLine:
    return SourceLine(
        name=display_line(name),
        phase=view.phase.value,
        progress=f"{view.done}/{view.total}",
        last_pass=_pass_text(view.last_pass),
        lag="-" if view.lag is None else seconds(view.lag),
        last_error=display_line(view.last_error or ""),
    )


def _target_line(name: str, view: TargetView) -> TargetLine:
    return TargetLine(
        name=display_line(name),
        inserted=view.inserted,
        updated=view.updated,
        deleted=view.deleted,
        errors=view.errors,
        rate=f"{view.rate:.1f}/s",
        last_error=display_line(view.last_error or ""),
    )


_OUTCOME_TONE = {
    Outcome.FINISHED: Tone.PLAIN,
    Outcome.STOPPED: Tone.DIM,
    Outcome.RUNNING: Tone.PLAIN,
    Outcome.FAILED: Tone.DANGER,
    Outcome.DIED: Tone.DANGER,
}


def _run_line(target: str, record: RunRecord) -> RunLine:
    text = (
        f"{record.mode} {seconds(record.elapsed)} +{record.inserted} ~{record.updated} "
        f"-{record.deleted} !{record.errors} {record.outcome.value}"
    )
    tone = Tone.WARNING if record.errors and record.outcome is Outcome.FINISHED else None
    return RunLine(
        display_line(target),
        clock(record.started_at),
        display_line(text),
        tone or _OUTCOME_TONE[record.outcome],
        display_line(record.by),
    )


# -- --json -------------------------------------------------------------------------------------


def status_document(app: str, report: ExporterReport | None) -> Document:
    """``cocotui status --json`` (documented in the README)."""
    verdict = health(report)
    if report is None:
        return versioned(
            app=app,
            health=verdict.value,
            status="idle",
            exporter=None,
            heartbeat=None,
            finished_at=None,
            error=None,
            run=None,
            history={},
        )
    status = report.status
    return versioned(
        app=app,
        health=verdict.value,
        status=report.outcome.value,
        exporter={
            **dataclasses.asdict(report.exporter),
            "origin": report.exporter.origin.value,
        },
        heartbeat=status.heartbeat,
        finished_at=status.finished_at,
        error=None if status.error is None else mask_text(status.error),
        run=_run_json(report.snapshot),
        history={
            target: [{**dataclasses.asdict(r), "outcome": r.outcome.value} for r in records]
            for target, records in report.history.items()
        },
    )


def _run_json(snapshot: Snapshot) -> dict[str, Any]:
    """The run snapshot, its error messages masked (they may spell out a secret)."""
    run = snapshot.to_json()
    for section in ("sources", "targets"):
        for view in run[section].values():
            if view["last_error"] is not None:
                view["last_error"] = mask_text(view["last_error"])
    run["last_error"] = {name: mask_text(error) for name, error in run["last_error"].items()}
    return run
