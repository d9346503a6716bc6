"""The TUI's drawings of the presenter's views: a target's detail, connector kinds, and a
planned change (its one-line summary and its full review)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text

from cocotui import presenter
from cocotui.presenter import ChangeView, ConnectorsView, TargetRow, Tone
from cocotui.presenter.exporter import RunLine

#: The Rich style of each tone.
TONE_STYLES = {
    Tone.PLAIN: "",
    Tone.CREATE: "green",
    Tone.UPDATE: "yellow",
    Tone.DROP: "red",
    Tone.DANGER: "bold red",
    Tone.WARNING: "bold yellow",
    Tone.INTERRUPTED: "magenta",
    Tone.HEADING: "bold",
    Tone.DIM: "dim",
}
#: A change's head, by tone (bold: it names the change).
HEAD_STYLES = {Tone.CREATE: "bold green", Tone.UPDATE: "bold yellow", Tone.DROP: "bold red"}
#: A section title, by tone.
SECTION_STYLES = {Tone.INTERRUPTED: "bold magenta", Tone.DANGER: "bold red", Tone.DIM: "dim"}


def target_text(row: TargetRow, status: Text, query_handlers: Iterable[str] = ()) -> Text:
    """What a target is: its name, description, kind and ``status`` label, and the query
    handlers of its flow."""
    text = Text()
    text.append(f"{row.name}\n", style="bold")
    text.append(f"{row.description}\n\n")
    text.append("kind ", style="dim")
    text.append(f"{row.kind}\n")
    text.append("status ", style="dim")
    text.append_text(status)
    text.append_text(query_handlers_text(query_handlers))
    return text


def query_handlers_text(handlers: Iterable[str]) -> Text:
    """The query handlers of a target's flow, if it has any."""
    names = ", ".join(presenter.target_name(name) for name in handlers)
    if not names:
        return Text()
    return Text.assemble("\n", ("query handlers ", "dim"), f"{names} (k to query)")


def setup_text(row: TargetRow, runs: Sequence[RunLine] = ()) -> Text:
    """A target's persistent key and stored setup, its last setup error, and its recent
    ``runs``."""
    text = Text()
    for section in row.setup:
        text.append(f"\n{section.title}\n", style=SECTION_STYLES.get(section.tone, "bold"))
        text.append(section.body)
    text.append_text(runs_text(runs))
    return text


def runs_text(runs: Sequence[RunLine]) -> Text:
    """A target's recent runs, the latest first: when, mode, time, counts, how it ended, by
    whom."""
    text = Text()
    if runs:
        text.append("\nrecent runs\n", style="bold")
    for run in reversed(runs):
        text.append(f"{run.when}  ", style="dim")
        text.append(f"{run.text}\n", style=TONE_STYLES[run.tone])
        # On a line of its own: a pid's width must not decide where the line above wraps.
        text.append(f"    by {run.by}\n", style="dim")
    return text


def connectors_text(view: ConnectorsView) -> Text:
    text = Text()
    text.append("connector kinds\n", style="bold")
    for kind in view.kinds:
        optional = ", ".join(kind.optional_methods) or "no optional methods"
        text.append(f"{kind.kind}", style="bold")
        text.append(f"  {kind.origin}\n", style="dim")
        text.append(f"  optional: {optional}\n")
    for failure in view.failures:
        text.append(f"{failure.entry_point} failed to load\n", style="bold red")
        text.append(failure.last_line + "\n")
    return text


def change_summary(change: ChangeView, status: str = "") -> Text:
    """One line: the action, the target, its status word and its description."""
    text = Text()
    head = HEAD_STYLES.get(change.tone, "dim")
    text.append(f"{change.action.symbol} {change.verb:<6} ", head)
    text.append(change.name, "bold")
    text.append(f"  [{change.action.status_word}] ", "cyan")
    text.append(change.description)
    if status:
        style = {"running": "yellow", "done": "green", "failed": "bold red"}.get(status, "")
        text.append(f"  {status}", style)
    return text


def change_detail(change: ChangeView) -> Text:
    """The full review of one change: the same lines ``cocotui plan`` shows under it."""
    text = change_summary(change)
    text.append("\n\n")
    for line in change.details:
        text.append(f"{line.text}\n", TONE_STYLES[line.tone])
    return text
