"""The errors the engine's callers show a user, in one place: the front ends catch these
without reaching into the state store, the tracking database or the app loader.

Defined here, not beside the code that raises them, so that importing them (every CLI command
does, to catch them) costs nothing: the modules that raise them are heavy and are imported only
by the commands that need them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cocotui.flow.errors import AppLoadError
from cocotui.state.errors import StateError, StateLockedError, TrackingError

if TYPE_CHECKING:
    from cocotui.engine.plan import Change


class StalePlanError(RuntimeError):
    """The state changed since the plan was computed; plan again."""


class ApplyError(RuntimeError):
    """A connector failed while applying a change; the staged intent stays in place."""

    def __init__(
        self, change: Change, message: str, connector_traceback: str, *, staged: bool = True
    ) -> None:
        super().__init__(message)
        self.change = change
        self.connector_traceback = connector_traceback
        #: False when the change was refused before anything was staged.
        self.staged = staged


class TargetError(ValueError):
    """An export that cannot be driven as declared."""


class ConnectorCallError(RuntimeError):
    """A connector method raised; carries the connector's own traceback."""

    def __init__(self, message: str, connector_traceback: str, deliberate: bool = False) -> None:
        super().__init__(message)
        self.connector_traceback = connector_traceback
        #: The message is meant for the user (a missing setting, an unreachable host): the
        #: traceback is only noise for them.
        self.deliberate = deliberate


class QueryHandlerNotFound(ValueError):
    """No handler (or more than one) answers to the name given."""


class MetricsError(Exception):
    """A metrics address that is malformed or cannot be served."""


#: Errors a front end shows as one clear message (the user's traceback inside, if any)
#: rather than as cocotui's own traceback: they come from the app, its state or a connector.
USER_ERRORS: tuple[type[Exception], ...] = (
    AppLoadError,
    TargetError,
    StateError,
    TrackingError,
    StateLockedError,
    StalePlanError,
    ConnectorCallError,
    QueryHandlerNotFound,
    MetricsError,
    ValueError,
)


def user_message(error: BaseException) -> str:
    """What to tell a user about ``error`` (unmasked: the presenter masks it): its message,
    with the connector's traceback when the connector did not raise it on purpose."""
    message = str(error)
    if isinstance(error, ConnectorCallError) and not error.deliberate:
        message += "\n" + error.connector_traceback
    return message


__all__ = [
    "USER_ERRORS",
    "AppLoadError",
    "ApplyError",
    "ConnectorCallError",
    "MetricsError",
    "QueryHandlerNotFound",
    "StalePlanError",
    "StateError",
    "StateLockedError",
    "TargetError",
    "TrackingError",
    "user_message",
]
