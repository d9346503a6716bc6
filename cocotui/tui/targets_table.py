"""The targets table: one row per target with its setup status and the live counters of the
running update, its columns fitted to the width it has."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from rich.text import Text
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable

from cocotui.engine.monitor import Snapshot, TargetView
from cocotui.presenter import TargetRow

STATUS_LABELS = {
    "READY": Text("ready", style="green"),
    "TO CREATE": Text("+ to create", style="bold green"),
    "TO UPDATE": Text("~ to update", style="bold yellow"),
    "TO DELETE": Text("- to delete", style="bold red"),
    "INTERRUPTED": Text("! interrupted", style="bold magenta"),
    "ORPHANED": Text("orphaned", style="dim red"),
}
COUNTER_COLUMNS = ("inserted", "updated", "deleted", "errors")
#: Cells of padding DataTable adds around every column.
CELL_PADDING = 2
COUNTER_WIDTH = 8
RATE_WIDTH = 7
STATUS_WIDTH = 13
#: The narrowest the flexible Description / Key columns get before the table scrolls sideways.
MIN_DESCRIPTION = 16
MIN_KEY = 10


class ColumnWidths(NamedTuple):
    name: int
    kind: int
    description: int
    key: int


def column_widths(rows: Sequence[TargetRow], available: int) -> ColumnWidths:
    """Widths that fit the table into ``available`` cells when possible: the name and kind
    columns fit their content, Description and Key share what is left (60/40)."""
    name = min(32, max([len("Target"), *(len(r.name) for r in rows)]))
    kind = min(24, max([len("Kind"), *(len(r.kind) for r in rows)]))
    fixed = name + kind + STATUS_WIDTH + len(COUNTER_COLUMNS) * COUNTER_WIDTH + RATE_WIDTH
    columns = 6 + len(COUNTER_COLUMNS)  # name, status, counters, rate, kind, description, key
    left = available - fixed - columns * CELL_PADDING
    description = max(MIN_DESCRIPTION, left * 3 // 5)
    key = max(MIN_KEY, left - description)
    return ColumnWidths(name, kind, description, key)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def rate_text(view: TargetView, running: bool) -> str:
    """The rate of the current one-second window; a finished run's last one is stale."""
    return f"{view.rate:.0f}" if running else "0"


class TargetsTable(DataTable[str | Text]):
    """The targets table; tells the app when its width changes so columns can be refitted."""

    class Resized(Message):
        def __init__(self, table: TargetsTable) -> None:
            super().__init__()
            self.table = table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The ``target_id`` of each row, in table order.
        self.ids: list[str] = []
        self._widths: ColumnWidths | None = None
        #: The counter cells as last drawn.
        self._shown: dict[tuple[str, str], str] = {}

    def on_resize(self, event: Resize) -> None:
        self.post_message(self.Resized(self))

    def needs_refit(self, rows: Sequence[TargetRow]) -> bool:
        return column_widths(rows, self.scrollable_content_region.width) != self._widths

    def _fit_columns(self, rows: Sequence[TargetRow]) -> ColumnWidths:
        """(Re)build the columns when the widths that fit the table changed."""
        widths = column_widths(rows, self.scrollable_content_region.width)
        if widths != self._widths:
            self._widths = widths
            self.clear(columns=True)
            # Live counters come right after the status so they stay visible when the table
            # has to scroll sideways.
            self.add_column("Target", key="name", width=widths.name)
            self.add_column("Status", key="status", width=STATUS_WIDTH)
            for column in COUNTER_COLUMNS:
                self.add_column(column.capitalize(), key=column, width=COUNTER_WIDTH)
            self.add_column("Rate/s", key="rate", width=RATE_WIDTH)
            self.add_column("Kind", key="kind", width=widths.kind)
            self.add_column("Description", key="description", width=widths.description)
            self.add_column("Key", key="key", width=widths.key)
        return widths

    def show_rows(
        self,
        rows: Sequence[TargetRow],
        snapshot: Snapshot,
        *,
        visible: Sequence[TargetRow],
        running: bool,
        selected: str | None,
    ) -> None:
        """Redraw the ``visible`` rows, keeping ``selected`` selected (the columns fit all the
        ``rows``, so that filtering does not resize them)."""
        widths = self._fit_columns(rows)
        self.clear()
        self._shown.clear()
        for row in visible:
            view = snapshot.targets.get(row.target_id)
            counters = [str(getattr(view, c)) if view else "" for c in COUNTER_COLUMNS]
            self.add_row(
                Text(_clip(row.name, widths.name)),
                STATUS_LABELS[row.status],
                *counters,
                rate_text(view, running) if view else "",
                Text(_clip(row.kind, widths.kind)),
                Text(_clip(row.description, widths.description)),
                Text(_clip(row.key, widths.key)),
                key=row.target_id,
            )
        self.ids = [r.target_id for r in visible]
        if selected in self.ids:
            self.move_cursor(row=self.ids.index(selected))

    def show_counters(self, snapshot: Snapshot, *, running: bool) -> None:
        """Redraw only the counter cells that changed."""
        visible = set(self.ids)
        for target_id, view in snapshot.targets.items():
            if target_id not in visible:
                continue
            cells = {c: str(getattr(view, c)) for c in COUNTER_COLUMNS}
            cells["rate"] = rate_text(view, running)
            for column, value in cells.items():
                if self._shown.get((target_id, column)) != value:
                    self._shown[(target_id, column)] = value
                    self.update_cell(target_id, column, value)

    def forget_counters(self) -> None:
        """A new run starts: every counter cell is drawn again."""
        self._shown.clear()

    @property
    def selected_id(self) -> str | None:
        index = self.cursor_row
        if self.row_count == 0 or not 0 <= index < len(self.ids):
            return None
        return self.ids[index]
