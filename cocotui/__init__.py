"""cocotui: run and operate custom export targets of incremental indexing flows.

``import cocotui as cocoindex`` gives the CocoIndex v0 API used by target connectors and flows.
"""

from cocotui import op, sources
from cocotui.flow.builder import (
    DataCollector,
    DataScope,
    DataSlice,
    FlowBuilder,
    FlowDef,
    flow_def,
)
from cocotui.op import FieldSchema, IndexOptions

__version__ = "0.1.0"

Flow = FlowDef

__all__ = [
    "DataCollector",
    "DataScope",
    "DataSlice",
    "FieldSchema",
    "Flow",
    "FlowBuilder",
    "IndexOptions",
    "__version__",
    "flow_def",
    "op",
    "sources",
]
