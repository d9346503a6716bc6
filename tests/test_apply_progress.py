"""Apply progress reaches both front ends through the presenter, dispatched on the typed apply
events: one view model per step of a change, safe to show."""

from __future__ import annotations

import pytest

from cocotui import presenter
from cocotui.cli.output import JsonOutput, Output
from cocotui.engine.events import (
    ApplyChangeDone,
    ApplyChangeFailed,
    ApplyChangeStarted,
    SourceListed,
)
from cocotui.presenter import ApplyProgress, ChangeState, present_apply_event

TARGET = "docs.index"


def test_each_apply_event_is_one_step_of_its_change() -> None:
    started = present_apply_event(ApplyChangeStarted(target=TARGET, action="create"))
    done = present_apply_event(ApplyChangeDone(target=TARGET, action="create"))
    failed = present_apply_event(ApplyChangeFailed(target=TARGET, error="boom", traceback="tb"))
    assert started == ApplyProgress(TARGET, TARGET, ChangeState.RUNNING, action="create")
    assert done == ApplyProgress(TARGET, TARGET, ChangeState.DONE, action="create")
    assert failed == ApplyProgress(TARGET, TARGET, ChangeState.FAILED, error="boom")


def test_other_events_are_no_apply_progress() -> None:
    assert present_apply_event(SourceListed(source="files", rows=1, to_process=1, gone=0)) is None


def test_a_failure_is_shown_with_its_password_masked_and_controls_escaped() -> None:
    error = "cannot connect to postgresql://me:hunter2@db/x\x1b[2J"
    step = present_apply_event(ApplyChangeFailed(target="a\x1b[31m", error=error, traceback=""))
    assert step is not None
    assert step.target == "a\x1b[31m"  # the plan's own name, to find the change by
    shown = step.shown_target + step.error
    assert "hunter2" not in shown and "\x1b" not in shown
    assert "postgresql://me:" in step.error


def test_text_output_says_each_change_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    output = Output()
    output.progress(ApplyChangeStarted(target=TARGET, action="create"))
    output.progress(ApplyChangeDone(target=TARGET, action="create"))
    output.progress(ApplyChangeStarted(target="docs.other", action="drop"))
    output.progress(ApplyChangeFailed(target="docs.other", error="boom", traceback=""))
    output.progress(SourceListed(source="files", rows=1, to_process=1, gone=0))
    assert capsys.readouterr().out == "docs.index: create... done\ndocs.other: drop... failed\n"


def test_json_output_says_nothing_while_applying(capsys: pytest.CaptureFixture[str]) -> None:
    JsonOutput().progress(ApplyChangeStarted(target=TARGET, action="create"))
    assert capsys.readouterr().out == ""


def test_the_states_are_the_words_shown() -> None:
    assert [str(s) for s in presenter.ChangeState] == ["running", "done", "failed"]
