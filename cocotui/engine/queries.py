"""Finding and running a flow's query handlers, for ``cocotui query``, ``cocotui ls`` and the
TUI's query box, with the results as JSON-able values and table cells."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from collections.abc import Sequence
from typing import Any

from cocotui.engine.errors import QueryHandlerNotFound
from cocotui.flow.model import Flow
from cocotui.query_handler import QueryHandler, QueryOutput

#: Vector values longer than this show as their first elements and their length in tables.
_VECTOR_PREVIEW = 3


@dataclasses.dataclass(frozen=True)
class FoundHandler:
    flow: str
    handler: QueryHandler

    @property
    def name(self) -> str:
        return f"{self.flow}.{self.handler.name}"


def all_handlers(flows: Sequence[Flow]) -> list[FoundHandler]:
    return [FoundHandler(f.name, h) for f in flows for h in f.query_handlers.values()]


def find_handler(flows: Sequence[Flow], name: str) -> FoundHandler:
    """The handler ``FLOW.HANDLER`` or ``HANDLER`` (when one flow alone has it)."""
    found = all_handlers(flows)
    exact = [h for h in found if h.name == name]
    matches = exact or [h for h in found if h.handler.name == name]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(h.name for h in found) or "none"
    if matches:
        raise QueryHandlerNotFound(
            f"query handler {name!r} is in several flows: give FLOW.HANDLER ({known})"
        )
    raise QueryHandlerNotFound(f"no query handler {name!r}; the app's handlers: {known}")


def handler_json(found: FoundHandler) -> dict[str, Any]:
    fields = found.handler.result_fields
    return {
        "name": found.handler.name,
        "result_fields": None if fields is None else dataclasses.asdict(fields),
    }


def flows_json(flows: Sequence[Flow]) -> list[dict[str, Any]]:
    """Each flow with its query handlers (``ls --json``'s ``flows``)."""
    return [
        {
            "name": flow.name,
            "query_handlers": [
                handler_json(FoundHandler(flow.name, h)) for h in flow.query_handlers.values()
            ],
        }
        for flow in flows
    ]


def json_value(value: Any) -> Any:
    """``value`` as JSON: NumPy arrays and scalars as lists and numbers, enums by value, dates
    and UUIDs as text, dataclasses as objects."""
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if isinstance(value, datetime.date | datetime.time | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def output_json(found: FoundHandler, query: str, output: QueryOutput[Any]) -> dict[str, Any]:
    return {
        "flow": found.flow,
        "handler": found.handler.name,
        "query": query,
        "results": json_value(output.results),
        "query_info": json_value(output.query_info),
        "result_fields": handler_json(found)["result_fields"],
    }


def cell_text(value: Any) -> str:
    """A result value in a table cell: long vectors shortened to a preview and a length."""
    plain = json_value(value)
    if isinstance(plain, list) and len(plain) > _VECTOR_PREVIEW:
        head = ", ".join(_number(v) for v in plain[:_VECTOR_PREVIEW])
        return f"[{head}, … {len(plain)} values]"
    if isinstance(plain, float):
        return _number(plain)
    return plain if isinstance(plain, str) else str(plain)


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def result_table(output: QueryOutput[Any]) -> tuple[list[str], list[list[str]]]:
    """Column names (in first-seen order) and rows of cell texts."""
    columns: list[str] = []
    for row in output.results:
        columns += [name for name in row if name not in columns]
    rows = [[cell_text(row.get(c)) if c in row else "" for c in columns] for row in output.results]
    return columns, rows
