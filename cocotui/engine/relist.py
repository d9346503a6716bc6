"""The re-list of live mode, as a scan that finds which rows may have changed.

An interval re-list (``refresh_interval``) is the safety net for changes the watcher did not
report. Most of the time it finds nothing, so it only compares: the source's listing (for a
``LocalFile``, ``stat`` per file, no content read) against the stamps tracking holds, a row
at a time in Python, with no write to the tracking database. What differs — rows new, with
another stamp or logic, or gone — is a *suspect*, handed to a keyed pass that looks at each
one again, as for a path the watcher reported. That keyed pass is what keeps the re-list
correct while watched changes are handled between its steps: a row created and tracked by a
watch pass after the scan went past its directory is a suspect "gone", and the keyed pass
finds it still there.

The scan advances in steps of :data:`SCAN_STEP_ROWS` rows, so that the live loop can run
watched changes between steps (a re-list never delays them by more than a step).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator

from cocotui.sources import ListedRow
from cocotui.state.tracking import TrackedRow

#: Rows listed per step; a step of a ``LocalFile`` takes a few milliseconds.
SCAN_STEP_ROWS = 500


class RelistScan:
    """Compares ``rows`` (a source's listing) with ``tracked`` (tracking's rows of the source)
    step by step; once :attr:`done`, :attr:`suspects` holds every row key to look at again."""

    def __init__(
        self, rows: Iterable[ListedRow], tracked: dict[str, TrackedRow], logic_fp: bytes
    ) -> None:
        self._rows: Iterator[ListedRow] = iter(rows)
        #: tracked rows not listed yet (what is left at the end is gone)
        self._unlisted = tracked
        self._logic_fp = logic_fp
        self.suspects: set[str] = set()
        self.listed = 0
        self.done = False
        #: CPU time the scan itself took (this thread's, steps only: s)
        self.cpu = 0.0

    def step(self, rows: int = SCAN_STEP_ROWS) -> bool:
        """Compare up to ``rows`` more rows; returns whether the scan is done. A failure of the
        listing propagates (the caller reports it)."""
        started = time.thread_time()
        seen = 0
        unlisted, logic_fp, suspects = self._unlisted, self._logic_fp, self.suspects
        for key, stamp in itertools.islice(self._rows, rows):
            seen += 1
            row = unlisted.pop(key, None)
            if row is None or row.stamp != stamp or row.logic_fp != logic_fp:
                suspects.add(key)
        self.listed += seen
        if seen < rows:
            suspects.update(unlisted)  # tracked but not listed: gone, unless found again
            unlisted.clear()
            self.done = True
        self.cpu += time.thread_time() - started
        return self.done
