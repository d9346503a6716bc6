"""The errors the engine's callers show a user, in one place: the front ends catch these
without reaching into the state store, the tracking database or the app loader."""

from __future__ import annotations

from cocotui.engine.apply import ApplyError, StalePlanError
from cocotui.engine.metrics import MetricsError
from cocotui.engine.queries import QueryHandlerNotFound
from cocotui.engine.targets import ConnectorCallError, TargetError
from cocotui.flow.loader import AppLoadError
from cocotui.state.errors import StateError
from cocotui.state.lock import StateLockedError
from cocotui.state.tracking import TrackingError

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
    "StalePlanError",
    "StateError",
    "StateLockedError",
    "TargetError",
    "TrackingError",
    "user_message",
]
