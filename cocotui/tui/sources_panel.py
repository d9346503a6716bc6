"""The sources panel of a live run, local or attached: one line per source with its phase
(watching, catching up, re-listing), its last pass (when, how long, what it exported) and the
lag of the last change it exported."""

from __future__ import annotations

import time

from rich.text import Text

from cocotui import presenter
from cocotui.engine.monitor import PassView, Phase, Snapshot, SourceView

PHASE_STYLES = {
    Phase.WATCHING: "green",
    Phase.CATCHING_UP: "bold yellow",
    Phase.LISTING: "bold yellow",
    Phase.RELISTING: "bold yellow",
    Phase.FINISHED: "dim",
    Phase.IDLE: "dim",
}


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def pass_text(last: PassView) -> str:
    """``last pass 08:12:03 (watch, 12 ms): 1 inserted, 0 updated, 0 deleted``."""
    when = time.strftime("%H:%M:%S", time.localtime(last.finished_at))
    why = f"{last.reason}, " if last.reason is not None else ""
    text = (
        f"last pass {when} ({why}{_duration(last.elapsed)}): {last.inserted} inserted, "
        f"{last.updated} updated, {last.deleted} deleted"
    )
    return text + (f", {last.errors} error(s)" if last.errors else "")


def source_line(name: str, view: SourceView, width: int, *, alive: bool = True) -> Text:
    """One source; when its exporter is no longer ``alive``, its phase is what it last was."""
    text = Text()
    text.append(f"{presenter.target_name(name):<{width}}  ", style="bold")
    if alive or view.phase in (Phase.FINISHED, Phase.IDLE):
        text.append(f"{view.phase.value:<11}", style=PHASE_STYLES.get(view.phase, ""))
    else:
        text.append(f"was {view.phase.value:<11}", style="dim")
    if view.phase in (Phase.CATCHING_UP, Phase.LISTING, Phase.RELISTING) and view.total:
        text.append(f" {view.done}/{view.total}")
    if view.last_pass is not None:
        text.append(f"  {pass_text(view.last_pass)}")
    if view.lag is not None:
        text.append(f"  lag {_duration(view.lag)}", style="cyan")
    if view.last_error:
        text.append(f"  last error: {presenter.message(view.last_error)}", style="red")
    return text


def sources_text(snapshot: Snapshot, *, alive: bool = True) -> Text:
    """Every source of ``snapshot``, one line each (empty without sources)."""
    width = max((len(name) for name in snapshot.sources), default=0)
    items = sorted(snapshot.sources.items())
    lines = [source_line(n, v, width, alive=alive) for n, v in items]
    return Text("\n").join(lines)
