"""Command palette entries for every action and every target."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Provider

if TYPE_CHECKING:
    from cocotui.tui.app import CocotuiApp

ACTIONS = [
    ("Plan: review pending setup changes", "plan"),
    ("Update: export changed rows", "update"),
    ("Live mode: export changes as they happen, until stopped", "live"),
    ("Stop the running update or live mode", "stop"),
    ("Drop the selected target", "drop"),
    ("Filter targets", "filter"),
    ("Refresh targets", "refresh"),
    ("Query: run a query handler of the app", "query"),
    ("Save an SVG screenshot", "save_svg"),
    ("Help: keys and status words", "help"),
]


class CocotuiCommands(Provider):
    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        app: CocotuiApp = self.app  # type: ignore[assignment]
        entries: list[tuple[str, Callable[[], object], str]] = [
            (title, partial(app.run_action, action), f"action: {action}")
            for title, action in ACTIONS
            if app.check_action(action, ()) is True
        ]
        for row in app.rows:
            entries.append(
                (
                    f"Target: {row.name} ({row.status.lower()})",
                    partial(app.select_target, row.target_id),
                    row.description,
                )
            )
        return entries

    async def discover(self) -> AsyncGenerator[DiscoveryHit, None]:
        for title, callback, help_text in self._entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> AsyncGenerator[Hit, None]:
        matcher = self.matcher(query)
        for title, callback, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
