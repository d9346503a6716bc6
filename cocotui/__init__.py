"""cocotui: run and operate custom export targets of incremental indexing flows.

``import cocotui as cocoindex`` gives the CocoIndex v0 API used by target connectors and flows;
inside an app that cocotui loads, ``import cocoindex`` does too (see
:mod:`cocotui.cocoindex_alias`). Submodules and names are imported on first use (PEP 562), so
``import cocotui`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: v0's public submodules (``storages`` is the old name of ``targets``).
_SUBMODULES = {
    "_engine": "_engine",
    "auth_registry": "auth_registry",
    "cli": "cli",
    "engine_type": "engine_type",
    "flow": "flow",
    "functions": "functions",
    "index": "index",
    "lib": "lib",
    "llm": "llm",
    "op": "op",
    "query_handler": "query_handler",
    "setting": "setting",
    "sources": "sources",
    "storages": "targets",
    "targets": "targets",
    "typing": "typing",
    "utils": "utils",
}
#: Top-level names, by the submodule that defines them.
_NAMES = {
    **dict.fromkeys(
        ("DataCollector", "DataScope", "DataSlice", "FlowBuilder", "FlowDef", "flow_def"),
        "flow.builder",
    ),
    "Flow": "flow.builder",
    "GeneratedField": "flow.model",
    "transform_flow": "flow.transform_flows",
    **dict.fromkeys(("LlmApiType", "LlmSpec"), "llm"),
    **dict.fromkeys(("ServerSettings", "start_server", "stop"), "lib"),
    "get_app_namespace": "setting",
    #: v0 names of issue 11's items 3-5, which raise NotImplementedError until they exist.
    **dict.fromkeys(
        (
            "DatabaseConnectionSpec",
            "EvaluateAndDumpOptions",
            "FlowLiveUpdater",
            "FlowLiveUpdaterOptions",
            "FlowUpdaterStatusUpdates",
            "GlobalExecutionOptions",
            "QueryHandlerResultFields",
            "QueryInfo",
            "QueryOutput",
            "Settings",
            "add_auth_entry",
            "add_flow_def",
            "add_transient_auth_entry",
            "drop_all_flows",
            "init",
            "open_flow",
            "ref_auth_entry",
            "remove_flow",
            "settings",
            "setup_all_flows",
            "update_all_flows_async",
        ),
        "_pending",
    ),
    "FieldSchema": "engine_type",
    **dict.fromkeys(
        (
            "FtsIndexDef",
            "HnswVectorIndexMethod",
            "IndexOptions",
            "IvfFlatVectorIndexMethod",
            "VectorIndexDef",
            "VectorSimilarityMetric",
        ),
        "index",
    ),
    **dict.fromkeys(
        (
            "Float32",
            "Float64",
            "Int64",
            "Json",
            "LocalDateTime",
            "OffsetDateTime",
            "Range",
            "Vector",
        ),
        "typing",
    ),
    "AuthEntryReference": "auth_registry",
}
_RENAMED = {"Flow": "FlowDef"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{_SUBMODULES[name]}")
    elif name in _NAMES:
        source = importlib.import_module(f"{__name__}.{_NAMES[name]}")
        module = getattr(source, _RENAMED.get(name, name))
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = module  # later lookups skip this function
    return module


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES, *_NAMES])


if TYPE_CHECKING:
    from cocotui import (
        _engine,
        auth_registry,
        cli,
        engine_type,
        flow,
        functions,
        index,
        lib,
        llm,
        op,
        query_handler,
        setting,
        sources,
        targets,
        typing,
        utils,
    )
    from cocotui import targets as storages
    from cocotui.auth_registry import AuthEntryReference
    from cocotui.engine_type import FieldSchema
    from cocotui.flow.builder import (
        DataCollector,
        DataScope,
        DataSlice,
        FlowBuilder,
        FlowDef,
        flow_def,
    )
    from cocotui.flow.builder import FlowDef as Flow
    from cocotui.flow.model import GeneratedField
    from cocotui.flow.transform_flows import transform_flow
    from cocotui.index import (
        FtsIndexDef,
        HnswVectorIndexMethod,
        IndexOptions,
        IvfFlatVectorIndexMethod,
        VectorIndexDef,
        VectorSimilarityMetric,
    )
    from cocotui.lib import ServerSettings, start_server, stop
    from cocotui.llm import LlmApiType, LlmSpec
    from cocotui.setting import get_app_namespace
    from cocotui.typing import (
        Float32,
        Float64,
        Int64,
        Json,
        LocalDateTime,
        OffsetDateTime,
        Range,
        Vector,
    )

__all__ = [
    "AuthEntryReference",
    "DataCollector",
    "DataScope",
    "DataSlice",
    "FieldSchema",
    "Float32",
    "Float64",
    "Flow",
    "FlowBuilder",
    "FlowDef",
    "FtsIndexDef",
    "GeneratedField",
    "HnswVectorIndexMethod",
    "IndexOptions",
    "Int64",
    "IvfFlatVectorIndexMethod",
    "Json",
    "LlmApiType",
    "LlmSpec",
    "LocalDateTime",
    "OffsetDateTime",
    "Range",
    "ServerSettings",
    "Vector",
    "VectorIndexDef",
    "VectorSimilarityMetric",
    "__version__",
    "_engine",
    "auth_registry",
    "cli",
    "engine_type",
    "flow",
    "flow_def",
    "functions",
    "get_app_namespace",
    "index",
    "lib",
    "llm",
    "op",
    "query_handler",
    "setting",
    "sources",
    "start_server",
    "stop",
    "storages",
    "targets",
    "transform_flow",
    "typing",
    "utils",
]
