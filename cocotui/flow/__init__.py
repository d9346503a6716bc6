"""The flow DSL (``cocotui.flow.builder``), its model, and loading apps. As CocoIndex v0's
``cocoindex.flow``, this package also gives the DSL's names, imported on first use."""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "DataCollector": "builder",
    "DataScope": "builder",
    "DataSlice": "builder",
    "Flow": "builder",
    "FlowBuilder": "builder",
    "flow_def": "builder",
    "GeneratedField": "model",
    "TransformFlow": "transform_flows",
    "transform_flow": "transform_flows",
}


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_NAMES[name]}")
    value = getattr(module, "FlowDef" if name == "Flow" else name)
    globals()[name] = value
    return value


__all__ = list(_NAMES)
