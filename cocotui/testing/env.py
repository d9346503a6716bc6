"""The environment variables through which a test asks ``python -m cocotui.testing`` (its
CLI child process) to log connector calls and inject faults; only that entry point reads them."""

from __future__ import annotations

RECORD_ENV = "COCOTUI_TESTING_RECORD"
FAIL_ENV = "COCOTUI_TESTING_FAIL"
KILL_ENV = "COCOTUI_TESTING_KILL"
KINDS_ENV = "COCOTUI_TESTING_KINDS"

#: Variables that change what a CLI process does; never inherited from the test's environment.
SCRUBBED = (RECORD_ENV, FAIL_ENV, KILL_ENV, KINDS_ENV, "COCOTUI_STATE_DIR", "FORCE_COLOR")
