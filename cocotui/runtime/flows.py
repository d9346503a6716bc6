"""v0's calls that define and forget flows without the decorator."""

from __future__ import annotations

from cocotui.flow.builder import FlowDef, FlowFunction, flow_def, flows_defined_in


def open_flow(name: str, fl_def: FlowFunction) -> FlowDef:
    """Define the flow ``name`` from ``fl_def``, as ``@flow_def(name=name)`` would; a flow of
    that name already defined by the same module is an error, as in v0."""
    if any(f.name == name for f in flows_defined_in(fl_def.__module__)):
        raise KeyError(f"flow {name!r} is already defined in {fl_def.__module__}")
    return flow_def(name)(fl_def)


def add_flow_def(name: str, fl_def: FlowFunction) -> FlowDef:
    """v0's deprecated name of :func:`open_flow`."""
    return open_flow(name, fl_def)


def remove_flow(fl: FlowDef) -> None:
    """v0's deprecated name of ``fl.close()``."""
    fl.close()
