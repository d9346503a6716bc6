"""Query handlers, as CocoIndex v0's ``cocoindex.query_handler``: a flow's function that
answers a text query from the flow's targets (``@flow.query_handler()``), returning a
:class:`QueryOutput`. cocotui lists a flow's handlers (``cocotui ls``, the TUI's detail pane)
and runs them (``cocotui query``, the TUI's query box)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from cocotui.asyncbridge import await_if_needed
from cocotui.index import VectorSimilarityMetric


@dataclasses.dataclass
class QueryHandlerResultFields:
    """Which fields of the results hold embeddings and which the score."""

    embedding: list[str] = dataclasses.field(default_factory=list)
    score: str | None = None


@dataclasses.dataclass
class QueryHandlerInfo:
    result_fields: QueryHandlerResultFields | None = None


@dataclasses.dataclass
class QueryInfo:
    """About the query: its embedding and the metric results were ranked by."""

    embedding: Any = None  # a list of floats or a NumPy vector
    similarity_metric: VectorSimilarityMetric | None = None


R = TypeVar("R")


@dataclasses.dataclass
class QueryOutput(Generic[R]):
    """A handler's answer: ``results`` (dicts or dataclasses) and ``query_info``."""

    results: list[R]
    query_info: QueryInfo = dataclasses.field(default_factory=QueryInfo)


class QueryHandlerError(ValueError):
    """A handler that cannot be registered or did not return a :class:`QueryOutput`."""


@dataclasses.dataclass(frozen=True)
class QueryHandler:
    """A handler registered on a flow."""

    name: str
    fn: Callable[[str], Any]
    result_fields: QueryHandlerResultFields | None = None

    def run(self, query: str) -> QueryOutput[dict[str, Any]]:
        """Call the handler (awaiting it if it is async); results come back as dicts."""
        output = await_if_needed(self.fn(query))  # v0 accepts sync and async handlers
        if not isinstance(output, QueryOutput):
            raise QueryHandlerError(
                f"query handler {self.name!r} returned {type(output).__name__}, not a "
                f"QueryOutput(results=..., query_info=...)"
            )
        rows = [_as_row(self.name, result) for result in output.results]
        return QueryOutput(rows, output.query_info)


def _as_row(handler: str, result: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if isinstance(result, Mapping):
        return {str(k): v for k, v in result.items()}
    raise QueryHandlerError(
        f"query handler {handler!r} returned a result of type {type(result).__name__}; each "
        f"result must be a dict or a dataclass"
    )


__all__ = [
    "QueryHandler",
    "QueryHandlerError",
    "QueryHandlerInfo",
    "QueryHandlerResultFields",
    "QueryInfo",
    "QueryOutput",
]
