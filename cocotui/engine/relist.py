"""The re-list of live mode, as a scan that finds which rows may have changed.

An interval re-list (``refresh_interval``) is the safety net for changes the watcher did not
report. Most of the time it finds nothing, so it only compares: the source's listing (for a
``LocalFile``, ``stat`` per file, no content read) against the stamps tracking holds, a row
at a time in Python, with no write to the tracking database. What differs — rows new, with
another stamp or logic, or gone — is a *suspect*, handed to a keyed pass that looks at each
one again, as for a path the watcher reported. That keyed pass is what keeps the re-list
correct while watched changes are handled between its steps: whatever a watch pass changed in
tracking meanwhile, a suspect is judged against the file and tracking as they are then, and a
row that is not a suspect had the same stamp in the file and in tracking at some moment during
the scan (a later change is the watcher's, or the next re-list's).

The scan goes in steps — first tracking's stamps, :data:`LOAD_STEP_ROWS` rows a step, then the
listing, :data:`SCAN_STEP_ROWS` rows a step — so that the live loop can run watched changes
between steps: a re-list never delays them by more than a step (a few milliseconds).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator

from cocotui.sources import Listed

#: Tracked rows read per step (a slice of the tracking database, in key order).
LOAD_STEP_ROWS = 2000
#: Rows listed per step; a step of a ``LocalFile`` takes a few milliseconds.
SCAN_STEP_ROWS = 500

#: ``load(after, limit)``: up to ``limit`` tracked (row key, stamp, logic fingerprint) in key
#: order, from the first key after ``after`` (``None``: from the start).
StampLoader = Callable[[str | None, int], list[tuple[str, str | None, bytes | None]]]


class RelistScan:
    """Compares ``rows`` (a source's listing) with the stamps ``load`` reads from tracking,
    step by step; once :attr:`done`, :attr:`suspects` holds every row key to look at again."""

    def __init__(self, rows: Iterable[Listed], load: StampLoader, logic_fp: bytes) -> None:
        self._rows: Iterator[Listed] = iter(rows)
        self._load = load
        self._loaded = False
        self._last_loaded: str | None = None
        #: tracked (stamp, logic) of the rows not listed yet (what is left at the end is gone)
        self._unlisted: dict[str, tuple[str | None, bytes | None]] = {}
        self._logic_fp = logic_fp
        self.suspects: set[str] = set()
        self.listed = 0
        self.done = False
        #: CPU time the scan itself took (this thread's, steps only: s)
        self.cpu = 0.0

    def step(self) -> bool:
        """One step; returns whether the scan is done. A failure of the listing propagates
        (the caller reports it)."""
        started = time.thread_time()
        if self._loaded:
            self._list_step(SCAN_STEP_ROWS)
        else:
            self._load_step(LOAD_STEP_ROWS)
        self.cpu += time.thread_time() - started
        return self.done

    def _load_step(self, limit: int) -> None:
        stamps = self._load(self._last_loaded, limit)
        for key, stamp, logic_fp in stamps:
            self._unlisted[key] = (stamp, logic_fp)
        if stamps:
            self._last_loaded = stamps[-1][0]
        self._loaded = len(stamps) < limit

    def _list_step(self, limit: int) -> None:
        seen = 0
        unlisted, logic_fp, suspects = self._unlisted, self._logic_fp, self.suspects
        for key, stamp in itertools.islice(self._rows, limit):
            seen += 1
            if unlisted.pop(key, None) != (stamp, logic_fp):
                suspects.add(key)
        self.listed += seen
        if seen < limit:
            suspects.update(unlisted)  # tracked but not listed: gone, unless found again
            unlisted.clear()
            self.done = True
