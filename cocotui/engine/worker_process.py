"""Transform worker processes, worker side (started by :mod:`cocotui.engine.worker_pool`): load
the app, then evaluate each chunk of rows read from the task pipe and write its outcomes back,
until the pipe closes. Only the app and the evaluator are imported here: no CLI, TUI, state
store or pool."""

from __future__ import annotations

import os
import pickle
from typing import IO, Any

from cocotui.engine.evaluate import FlowEvaluator
from cocotui.engine.workers import evaluate_rows
from cocotui.flow.loader import load_app
from cocotui.flow.model import Flow


def _reply(done: bool, value: Any) -> bytes:
    try:
        return pickle.dumps((done, value), pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an outcome or an exception that cannot be pickled
        error = RuntimeError(f"cannot send a chunk's outcomes back from a worker: {exc!r}")
        return pickle.dumps((False, error), pickle.HIGHEST_PROTOCOL)


def serve(tasks: IO[bytes], outcomes_fd: int) -> None:
    """Answer the chunks read from ``tasks`` until it closes (or the parent stops reading)."""
    app_ref, app_name = pickle.load(tasks)
    flows: dict[str, tuple[Flow, FlowEvaluator]] = {
        flow.name: (flow, FlowEvaluator(flow)) for flow in load_app(app_ref, app_name).flows
    }
    outcomes = os.fdopen(outcomes_fd, "wb", buffering=0)
    while True:
        try:
            flow_name, source_index, rows = pickle.load(tasks)
        except EOFError:
            return
        flow, evaluator = flows[flow_name]
        try:
            reply = _reply(True, evaluate_rows(evaluator, flow.sources[source_index], rows))
        except Exception as exc:
            reply = _reply(False, exc)
        try:
            _write(outcomes, reply)
        except BrokenPipeError:  # the parent closed the pool, or died
            return


def _write(pipe: IO[bytes], data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = pipe.write(view)
        view = view[written or 0 :]
