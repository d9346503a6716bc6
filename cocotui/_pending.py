"""Names of CocoIndex v0's top-level API that cocotui does not provide yet (issue 11, items
3 to 5). Each is importable, so ``from cocoindex import X`` works, and raises
``NotImplementedError`` naming what is missing when it is called or instantiated."""

from __future__ import annotations

from typing import Any, NoReturn

_ITEMS = {
    3: "the programmatic runtime (init, Settings, Flow.setup/update, FlowLiveUpdater)",
    4: "the auth registry",
    5: "query handlers",
}


def _missing(name: str, item: int) -> NoReturn:
    raise NotImplementedError(
        f"cocoindex.{name} is not provided by cocotui yet (issue 11, item {item}: "
        f"{_ITEMS[item]}); use the cocotui CLI or terminal UI meanwhile"
    )


def _function(name: str, item: int) -> Any:
    def pending(*_args: Any, **_kwargs: Any) -> NoReturn:
        _missing(name, item)

    pending.__name__ = pending.__qualname__ = name
    return pending


def _class(name: str, item: int) -> Any:
    def __init__(self: Any, *_args: Any, **_kwargs: Any) -> None:
        _missing(name, item)

    return type(name, (), {"__init__": __init__, "__module__": __name__})


_FUNCTIONS = {
    "open_flow": 3,
    "add_flow_def": 3,
    "remove_flow": 3,
    "update_all_flows_async": 3,
    "setup_all_flows": 3,
    "drop_all_flows": 3,
    "settings": 3,
    "init": 3,
    "add_auth_entry": 4,
    "add_transient_auth_entry": 4,
    "ref_auth_entry": 4,
}
_CLASSES = {
    "EvaluateAndDumpOptions": 3,
    "FlowLiveUpdater": 3,
    "FlowLiveUpdaterOptions": 3,
    "FlowUpdaterStatusUpdates": 3,
    "DatabaseConnectionSpec": 3,
    "GlobalExecutionOptions": 3,
    "Settings": 3,
    "QueryHandlerResultFields": 5,
    "QueryInfo": 5,
    "QueryOutput": 5,
}
PENDING: dict[str, Any] = {
    **{name: _function(name, item) for name, item in _FUNCTIONS.items()},
    **{name: _class(name, item) for name, item in _CLASSES.items()},
}
globals().update(PENDING)  # importable as module attributes: ``from cocotui._pending import init``
