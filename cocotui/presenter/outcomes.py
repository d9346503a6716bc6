"""Errors, apply outcomes and hints as shown to a person."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from cocotui.engine.actions import Action
from cocotui.engine.errors import ApplyError, user_message
from cocotui.presenter import shown
from cocotui.presenter.models import ApplyFailure

if TYPE_CHECKING:
    from cocotui.engine.plan import Change


def present_apply_error(error: ApplyError) -> ApplyFailure:
    return ApplyFailure(
        target=shown.line(error.change.name),
        message=shown.text(str(error)),
        traceback=shown.text(error.connector_traceback),
        staged=error.staged,
    )


def error_message(error: BaseException) -> str:
    """What a front end says about an error it stops on: its message (a password in a URL
    masked), with the connector's traceback when the connector did not raise it on purpose."""
    return shown.text(user_message(error))


def target_name(name: str) -> str:
    """A target's ``FLOW.TARGET`` name as shown (from an event, say)."""
    return shown.line(name)


def message(text: str) -> str:
    """Free text for a person that no view model carries: a note from the engine (the state
    adopted from an earlier name), an OS error, a path."""
    return shown.text(text)


def command_line(verb: str, app: str, app_name: str | None, state_dir: str | None) -> str:
    """The ``cocotui`` command ``verb`` for the same app and state, as a user would type it
    (a hint that dropped ``--state-dir`` would look at another state)."""
    words = ["cocotui", verb, str(app)]
    for option, value in (("--app-name", app_name), ("--state-dir", state_dir)):
        if value:
            words += [option, str(value)]
    return shown.line(shlex.join(words))


def remaining_note(remaining: Iterable[Change], applied: Sequence[Change], review: str) -> str:
    """The changes a partial apply left for later, worded so they do not read as a failure:
    a dropped target the app still exports to is planned for creation again. ``review`` is
    the command that shows them."""
    done = {c.identity for c in applied}

    def one(change: Change) -> str:
        text = f"{change.name} ({change.action.status_word.lower()}"
        again = change.identity in done and change.action is Action.CREATE
        return text + (", as the app still exports to it)" if again else ")")

    return shown.line(
        f"Not part of this command, waiting for approval: {', '.join(map(one, remaining))}; "
        f"review them with `{review}`"
    )
