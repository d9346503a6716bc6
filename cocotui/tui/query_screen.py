"""The query box: pick one of the app's query handlers, type a query, see the results as a
table. The handler runs in a worker thread (it may embed the query or hit a database)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from cocotui.display import display_line, display_text, mask_secrets
from cocotui.engine.queries import FoundHandler, all_handlers, cell_text, result_table
from cocotui.flow.loader import user_traceback
from cocotui.flow.model import Flow
from cocotui.query_handler import QueryOutput


class QueryScreen(Screen[None]):
    DEFAULT_CSS = """
    QueryScreen #query-box { height: 1fr; }
    QueryScreen #query-info { height: auto; margin: 0 1; }
    QueryScreen #query-results { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Back", id="close")]

    def __init__(self, flows: Sequence[Flow]) -> None:
        super().__init__()
        self.handlers = {h.name: h for h in all_handlers(flows)}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="query-box"):
            options = [(display_line(name), name) for name in self.handlers]
            yield Select(options, id="query-handler", allow_blank=False, prompt="handler")
            yield Input(placeholder="query text, then Enter", id="query-text")
            yield Static(id="query-info")
            yield DataTable(id="query-results", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#query-text", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#query-text")
    def _submitted(self, event: Input.Submitted) -> None:
        selected = self.query_one("#query-handler", Select).value
        if not isinstance(selected, str) or not event.value.strip():
            return
        self.query_one("#query-info", Static).update(Text("running…", style="dim"))
        self._run(self.handlers[selected], event.value)

    @work(thread=True, exclusive=True, group="query")
    def _run(self, found: FoundHandler, query: str) -> None:
        try:
            output = found.handler.run(query)
        except Exception as exc:
            message = f"{found.name} failed:\n{user_traceback(exc)}"
            self.app.call_from_thread(self._show_error, mask_secrets(message))
            return
        self.app.call_from_thread(self._show, found, output)

    def _show_error(self, message: str) -> None:
        self.query_one("#query-results", DataTable).clear(columns=True)
        self.query_one("#query-info", Static).update(Text(display_text(message), style="red"))

    def _show(self, found: FoundHandler, output: QueryOutput[Any]) -> None:
        columns, rows = result_table(output)
        table = self.query_one("#query-results", DataTable)
        table.clear(columns=True)
        table.add_columns(*(display_line(c) for c in columns))
        for row in rows:
            table.add_row(*(display_line(mask_secrets(cell)) for cell in row))
        info = Text(f"{display_line(found.name)}: {len(rows)} result(s)")
        metric = output.query_info.similarity_metric
        if metric is not None:
            info.append(f"  similarity metric {metric.value}", style="dim")
        if output.query_info.embedding is not None:
            info.append(f"  query embedding {cell_text(output.query_info.embedding)}", style="dim")
        self.query_one("#query-info", Static).update(info)
