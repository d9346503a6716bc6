"""The file watcher of live mode: a thread that reports changed paths under source directories.

It runs :func:`watchfiles.watch` (the public API, so watchfiles' own environment variables —
``WATCHFILES_FORCE_POLLING``, ``WATCHFILES_POLL_DELAY_MS``,
``WATCHFILES_IGNORE_PERMISSION_DENIED`` — and its WSL detection apply as documented there).
watchfiles' Rust loop looks for new events every *step* and hands them over once a look finds no
new ones, so a change reaches the engine 1-2 steps after it happened. Each look wakes a sleeping
thread, which is what live mode costs when idle: about 2 % of a core at the 1 ms step on the
benchmark machine, 0.5 % at 10 ms (see benchmarks/README.md), well under the 25 % the live mode
may cost. So the step is a fixed 1 ms by default, for the best latency at all times. The step of
one ``watch`` generator cannot change, and a new generator walks the whole tree again (0.3 s at
100k files) with a gap in which changes are missed; so a longer idle step, where wanted
(:data:`WATCH_IDLE_STEP_MS` above :data:`WATCH_STEP_MS`), is made by the stop event asked at every
look (:class:`_PacedStop`) waiting longer once nothing changed for :data:`WATCH_IDLE_AFTER_S`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import watchfiles

#: How often the watcher looks for new events while changes come (ms)...
WATCH_STEP_MS = 1
#: ...and once nothing changed for this long (s), this often (ms): the same by default, as idle
#: looks at 1 ms cost ~2 % of a core; the benchmark raises it to compare (``--idle-step``).
WATCH_IDLE_STEP_MS = 1
WATCH_IDLE_AFTER_S = 10.0
#: Events are handed over at the latest this long after the first one (ms) during a continuous
#: stream of them. Short: the engine coalesces a burst anyway while a pass runs.
WATCH_DEBOUNCE_MS = 20
#: One call into the Rust loop comes back after this long without events (ms), so the thread
#: sees a stop request even if watchfiles stopped asking the stop event.
WATCH_TIMEOUT_MS = 5000
#: After a watcher failure, it is set up again after this long, doubling up to the maximum (s).
WATCH_RETRY_S = 1.0
WATCH_RETRY_MAX_S = 30.0

#: Called with the changed absolute paths; returns whether the watch must be set up again (a
#: watched directory itself moved or was removed).
ChangesHandler = Callable[[set[str]], bool]


class _PacedStop:
    """The stop event handed to watchfiles, which asks it at every look. Besides saying
    whether to stop, it tells when the watch is set up (the first look comes right after) and
    stretches each look to the idle step once nothing changed for a while (waiting on the stop
    event itself, so that stopping is never delayed)."""

    def __init__(self, stop: threading.Event, on_watching: Callable[[], None]) -> None:
        self._stop = stop
        self._on_watching: Callable[[], None] | None = on_watching
        self.last_change = time.monotonic()

    def is_set(self) -> bool:
        if self._on_watching is not None:
            on_watching, self._on_watching = self._on_watching, None
            on_watching()
        pace_ms = WATCH_IDLE_STEP_MS - WATCH_STEP_MS
        if pace_ms <= 0 or time.monotonic() - self.last_change < WATCH_IDLE_AFTER_S:
            return self._stop.is_set()
        return self._stop.wait(pace_ms / 1000)


class DirectoryWatcher:
    """Watches directory trees (recursively) in a daemon thread until :meth:`stop`.

    ``on_changes`` receives the changed paths; ``on_error`` every failure of the watcher (e.g.
    a directory missing), after which the watch is set up again with a growing delay;
    ``on_restart`` is called whenever the watch was set up again, since what changed
    meanwhile is known only by listing.
    """

    def __init__(
        self,
        roots: Sequence[str],
        on_changes: ChangesHandler,
        on_error: Callable[[BaseException], None],
        on_restart: Callable[[], None],
    ) -> None:
        self.roots = list(roots)
        self._on_changes = on_changes
        self._on_error = on_error
        self._on_restart = on_restart
        self._stop = threading.Event()
        #: Set once watching (or once the first attempt failed).
        self.ready = threading.Event()
        self._retry_delay = WATCH_RETRY_S
        self._watch_started = False
        self._thread = threading.Thread(target=self._run, name="cocotui-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            self._watch_started = False
            try:
                if not self._watch_until_rewatch(restarted=not first):
                    return
            except Exception as exc:  # e.g. a source directory missing, or inotify limits
                self._on_error(exc)
                if self._watch_started:  # changes may be missed until it is set up again
                    self._on_restart()
                self.ready.set()
                if self._stop.wait(self._retry_delay):
                    return
                self._retry_delay = min(self._retry_delay * 2, WATCH_RETRY_MAX_S)
            first = False

    def _watch_until_rewatch(self, *, restarted: bool) -> bool:
        """Runs one watch; returns True when it must be set up again, False when stopped."""
        paced = _PacedStop(self._stop, lambda: self._watching(restarted))
        batches = watchfiles.watch(
            *self.roots,
            watch_filter=None,  # the sources' own excludes apply, in the handler
            debounce=WATCH_DEBOUNCE_MS,
            step=WATCH_STEP_MS,
            stop_event=paced,
            rust_timeout=WATCH_TIMEOUT_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
        )
        try:
            for changes in batches:
                if self._stop.is_set():
                    return False
                if changes:  # (empty after a timeout)
                    paced.last_change = time.monotonic()
                    self._retry_delay = WATCH_RETRY_S  # healthy again
                    if self._on_changes({path for _change, path in changes}):
                        return True
            return False
        finally:
            batches.close()

    def _watching(self, restarted: bool) -> None:
        self._watch_started = True
        if restarted:
            self._on_restart()
        self.ready.set()
