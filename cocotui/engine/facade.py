"""The one engine API that the CLI and the TUI call. Plain Python: it never prints."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from cocotui import registry
from cocotui.engine.apply import ApplyReport, apply_changes
from cocotui.engine.events import Observer, StopToken, TrackingLost, ignore
from cocotui.engine.monitor import RunMode
from cocotui.engine.plan import Action, Change, Plan, compute_drop_plan, compute_plan
from cocotui.engine.status import ExporterReport, Origin, StatusPublisher, read_exporter
from cocotui.engine.stored_keys import read_keys_as_today
from cocotui.engine.targets import DesiredTarget, describe, resolve_targets
from cocotui.engine.update import LiveOptions, UpdateOptions, UpdateResult, UpdateRun
from cocotui.flow.loader import App, app_stem, load_app
from cocotui.state.adopt import adopt_earlier_state
from cocotui.state.lock import WriterLock
from cocotui.state.owners import other_owners
from cocotui.state.paths import AppPaths, app_paths, check_state_dir
from cocotui.state.setup_store import TargetState, TomlSetupStore
from cocotui.state.tracking import SqliteTracking


@dataclasses.dataclass(frozen=True)
class TargetStatus:
    """One row of ``ls`` and of the TUI's targets table."""

    flow: str
    target: str
    kind: str
    key: Any
    description: str
    action: Action
    interrupted: bool
    orphaned: bool
    stored: TargetState | None
    desired: DesiredTarget | None
    #: The planned change behind this row (its previous/current states, verdict and reason).
    change: Change | None = None

    @property
    def name(self) -> str:
        return f"{self.flow}.{self.target}"

    @property
    def status(self) -> str:
        if self.orphaned:
            return "ORPHANED"
        if self.interrupted:
            return "INTERRUPTED"
        return self.action.status_word


class Engine:
    """An app's flows bound to its state."""

    #: Whether updates publish their status (:mod:`cocotui.engine.status`); turned off only by
    #: the benchmarks measuring what publishing costs (on an engine, or on the class).
    publish_status = True

    def __init__(self, app: App, paths: AppPaths) -> None:
        self.app = app
        self.paths = paths
        self.targets: list[DesiredTarget] = resolve_targets(app)
        self.store = TomlSetupStore(paths.setup_state, app.name, app.file)
        self.tracking = SqliteTracking(paths.tracking)
        self.lock = WriterLock.of(paths)
        #: Said to the user when the app's state from an older cocotui was left unadopted.
        self.state_notice = ""

    @classmethod
    def open(
        cls,
        app: str,
        *,
        app_name: str | None = None,
        state_dir: str | os.PathLike[str] | None = None,
    ) -> Engine:
        """Load ``app`` (a ``.py`` path or module name) and bind it to its state directory.
        A file app without state adopts its state from an earlier name (before names carried
        a digest, or before the project moved) if it can be this app's (see
        :mod:`cocotui.state.adopt`)."""
        loaded = load_app(app, app_name)
        return cls.bind(loaded, state_dir, adopt_from=app_stem(app) if app_name is None else None)

    @classmethod
    def bind(
        cls,
        app: App,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        adopt_from: str | None = None,
    ) -> Engine:
        """Bind an app whose flows are built (by :meth:`open`, or a program running its own
        flows) to its state directory. Without state, it adopts the state of the earlier name
        ``adopt_from``, if it can be this app's."""
        paths = app_paths(app.name, state_dir)
        check_state_dir(paths.directory)
        engine = cls(app, paths)
        if adopt_from is not None:
            desired = {t.identity for t in engine.targets}
            engine.state_notice = adopt_earlier_state(paths, adopt_from, desired)
        return engine

    def close(self) -> None:
        self.tracking.close()

    # -- setup ----------------------------------------------------------------------------------

    def plan(self) -> Plan:
        fingerprint = self.store.fingerprint()
        return compute_plan(
            self.app.name,
            fingerprint,
            self.targets,
            read_keys_as_today(self.store.load()),
            self.tracking.keys_held,
            other_owners(self.paths.setup_state),
        )

    def plan_drop(self, flows: Iterable[str] | None = None) -> Plan:
        fingerprint = self.store.fingerprint()
        state = read_keys_as_today(self.store.load())
        owners = other_owners(self.paths.setup_state)
        return compute_drop_plan(self.app.name, fingerprint, state, flows, owners)

    def flow_names(self) -> set[str]:
        """The app's flows and the flows of the targets its state still holds (a flow removed
        from the app can still be dropped)."""
        return {f.name for f in self.app.flows} | {t.flow for t in self.store.load().targets}

    def apply(
        self, plan: Plan, changes: Sequence[Change] | None = None, observer: Observer = ignore
    ) -> ApplyReport:
        """Apply ``changes`` (default: every pending change of ``plan``). Raises
        :class:`StalePlanError` if the state moved on since ``plan`` was computed."""
        with self.lock:
            return apply_changes(
                self.store,
                self.tracking,
                plan,
                plan.pending if changes is None else changes,
                observer,
            )

    def status(self) -> list[TargetStatus]:
        """Every desired and every stored target with its setup status."""
        plan = self.plan()
        state = self.store.load()
        desired = {t.identity: t for t in self.targets}
        rows = []
        for change in plan.changes:
            stored = state.find(change.identity)
            rows.append(
                TargetStatus(
                    flow=change.flow,
                    target=change.target,
                    kind=change.kind,
                    key=change.key,
                    description=change.description,
                    action=change.action,
                    interrupted=bool(stored and stored.staged),
                    orphaned=registry.get(change.kind) is None,
                    stored=stored,
                    desired=desired.get(change.identity),
                    change=change,
                )
            )
        return rows

    # -- data -----------------------------------------------------------------------------------

    def update(
        self,
        options: UpdateOptions | None = None,
        observer: Observer = ignore,
        stop: StopToken | None = None,
        *,
        origin: Origin = Origin.API,
    ) -> UpdateResult:
        """Export what changed in the sources to every target whose setup is up to date.
        Targets with a pending setup change are skipped and listed in the result. The run's
        status is published for other processes (see :meth:`exporter`); ``origin`` says what
        started it."""
        with self.lock, self._publishing(RunMode.ONE_SHOT, origin, observer) as observe:
            return self._update_run(options or UpdateOptions(), observe, stop).run()

    def run_live(
        self,
        options: LiveOptions | None = None,
        observer: Observer = ignore,
        stop: StopToken | None = None,
        *,
        origin: Origin = Origin.API,
    ) -> UpdateResult:
        """Like :meth:`update`, then keep going: watched file changes and interval re-lists
        are exported as they come, until ``stop`` is set."""
        from cocotui.engine.live import LiveRun  # imports the watcher: only for live runs

        options = options or LiveOptions()
        with self.lock, self._publishing(RunMode.LIVE, origin, observer) as observe:
            run = self._update_run(options, observe, stop)
            return LiveRun(run, options.watch).run_until_stopped(options.on_ready)

    @contextlib.contextmanager
    def _publishing(self, mode: RunMode, origin: Origin, observer: Observer) -> Iterator[Observer]:
        """The observer of a run that publishes its status while the block runs."""
        if not self.publish_status:
            yield observer
            return
        with StatusPublisher(self.paths, mode, origin) as publisher:
            yield publisher.observing(observer)

    def exporter(self) -> ExporterReport | None:
        """The app's exporter, in this process or another: running (its run as it goes), or
        the last one (how it ended; ``DIED`` if it vanished without saying); ``None`` if no
        run published a status yet."""
        return read_exporter(self.paths)

    def _update_run(
        self, options: UpdateOptions, observer: Observer, stop: StopToken | None
    ) -> UpdateRun:
        """A run over the targets whose setup is up to date; the caller holds the lock."""
        self.store.remove_stale_temp_files()  # left by a writer killed mid-write
        self._store_keys_as_today()
        plan = self.plan()
        ready = {c.identity for c in plan.changes if c.action is Action.NONE}
        active = [t for t in self.targets if t.identity in ready]
        skipped = [t.name for t in self.targets if t.identity not in ready]
        self._report_lost_tracking(active, observer)
        return UpdateRun(
            self.app, self.tracking, active, skipped, options, observer, stop or StopToken()
        )

    def _store_keys_as_today(self) -> None:
        """Persistent keys stored in an earlier form are rewritten in today's, their row
        tracking with them, before a run looks rows up by today's identities. Tracking moves
        first: a run stopped in between renames nothing the second time, and loses no rows."""
        state = self.store.load()
        before = [t.identity for t in state.targets]
        read_keys_as_today(state)
        renames = [(b, t.identity) for b, t in zip(before, state.targets, strict=True)]
        renames = [(old, new) for old, new in renames if old != new]
        if renames:
            self.tracking.rename_targets(renames)
            self.store.save(state)

    def _report_lost_tracking(self, active: list[DesiredTarget], observer: Observer) -> None:
        """Targets whose setup is applied but whose row tracking is gone (the database was
        removed or replaced): the run sends every row as new, but keys exported before whose
        source rows are gone by now are unknown, so they stay in the target. Said in the run
        that starts their tracking afresh (it registers them)."""
        unknown = set(self.tracking.unknown_targets([t.identity for t in active]))
        lost = [t for t in active if t.identity in unknown]
        if lost:
            observer(
                TrackingLost(
                    targets=tuple(t.name for t in lost),
                    flows=tuple(sorted({t.flow.name for t in lost})),
                    tracking=str(self.paths.tracking),
                )
            )

    def describe(self, target: DesiredTarget) -> str:
        return describe(target.kind, target.key)
