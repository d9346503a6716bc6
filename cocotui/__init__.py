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
    **dict.fromkeys(("init", "settings"), "lib"),
    **dict.fromkeys(("DatabaseConnectionSpec", "GlobalExecutionOptions", "Settings"), "setting"),
    **dict.fromkeys(("add_flow_def", "open_flow", "remove_flow"), "runtime.flows"),
    **dict.fromkeys(("drop_all_flows", "setup_all_flows"), "runtime.setup"),
    **dict.fromkeys(
        (
            "FlowLiveUpdater",
            "FlowLiveUpdaterOptions",
            "FlowUpdaterStatusUpdates",
            "update_all_flows",
            "update_all_flows_async",
        ),
        "runtime.updater",
    ),
    "EvaluateAndDumpOptions": "runtime.dump",
    **dict.fromkeys(("QueryHandlerResultFields", "QueryInfo", "QueryOutput"), "query_handler"),
    **dict.fromkeys(
        ("add_auth_entry", "add_transient_auth_entry", "ref_auth_entry"), "auth_registry"
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
    from cocotui.auth_registry import (
        AuthEntryReference,
        add_auth_entry,
        add_transient_auth_entry,
        ref_auth_entry,
    )
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
    from cocotui.lib import ServerSettings, init, settings, start_server, stop
    from cocotui.llm import LlmApiType, LlmSpec
    from cocotui.query_handler import QueryHandlerResultFields, QueryInfo, QueryOutput
    from cocotui.runtime.dump import EvaluateAndDumpOptions
    from cocotui.runtime.flows import add_flow_def, open_flow, remove_flow
    from cocotui.runtime.setup import drop_all_flows, setup_all_flows
    from cocotui.runtime.updater import (
        FlowLiveUpdater,
        FlowLiveUpdaterOptions,
        FlowUpdaterStatusUpdates,
        update_all_flows,
        update_all_flows_async,
    )
    from cocotui.setting import (
        DatabaseConnectionSpec,
        GlobalExecutionOptions,
        Settings,
        get_app_namespace,
    )
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
    "DatabaseConnectionSpec",
    "EvaluateAndDumpOptions",
    "FieldSchema",
    "Float32",
    "Float64",
    "Flow",
    "FlowBuilder",
    "FlowDef",
    "FlowLiveUpdater",
    "FlowLiveUpdaterOptions",
    "FlowUpdaterStatusUpdates",
    "FtsIndexDef",
    "GeneratedField",
    "GlobalExecutionOptions",
    "HnswVectorIndexMethod",
    "IndexOptions",
    "Int64",
    "IvfFlatVectorIndexMethod",
    "Json",
    "LlmApiType",
    "LlmSpec",
    "LocalDateTime",
    "OffsetDateTime",
    "QueryHandlerResultFields",
    "QueryInfo",
    "QueryOutput",
    "Range",
    "ServerSettings",
    "Settings",
    "Vector",
    "VectorIndexDef",
    "VectorSimilarityMetric",
    "__version__",
    "_engine",
    "add_auth_entry",
    "add_flow_def",
    "add_transient_auth_entry",
    "auth_registry",
    "cli",
    "drop_all_flows",
    "engine_type",
    "flow",
    "flow_def",
    "functions",
    "get_app_namespace",
    "index",
    "init",
    "lib",
    "llm",
    "op",
    "open_flow",
    "query_handler",
    "ref_auth_entry",
    "remove_flow",
    "setting",
    "settings",
    "setup_all_flows",
    "sources",
    "start_server",
    "stop",
    "storages",
    "targets",
    "transform_flow",
    "typing",
    "update_all_flows",
    "update_all_flows_async",
    "utils",
]
