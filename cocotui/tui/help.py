"""``?``: what every key does."""

from __future__ import annotations

from typing import ClassVar

from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
# cocotui

cocotui shows the targets of an app, the setup changes waiting for approval, and runs updates.
`Esc`, `q` or `?` closes this help.

| key | action |
|---|---|
| `p` | review pending setup changes (plan) |
| `u` | run an update: export what changed in the sources |
| `l` | live mode (`cocotui update --live`): export changes as they happen, until stopped |
| `s` | stop the running update or live mode at the next batch boundary |
| `d` | drop the selected target (its name must be typed to confirm) |
| `/` | filter the targets table; `Esc` clears it |
| `r` | reload targets and their status |
| `k` | query box: run one of the app's query handlers, results as a table |
| `F8` | save an SVG screenshot (in any screen; a notification says where) |
| `Ctrl+P` | command palette: every action and every target |
| `?` | this help |
| `q` | quit (a running update is stopped cleanly first) |

In the plan: `space` toggles a change, `a` applies the selected ones, `A` applies all,
`r` re-plans, `Esc` goes back. Confirmation defaults to *Cancel*: `y` applies, `n` or `Esc`
cancels (a drop needs its target name typed, then `Enter`). After an apply, the targets are
back in view and `u` exports to them.

Status words (the same as `cocotui ls`): **ready**, **+ to create**, **~ to update**,
**- to delete**,
**! interrupted** (a change was staged but not committed: apply rolls it forward),
**orphaned** (no connector is registered for its kind).

Live mode (`l`) shows, above the log, one line per source: *watching*, *catching up* or
*re-listing*, its last pass and the lag of the last change. When another process exports this
app (`cocotui update --live` in a service or another terminal), the TUI follows it the same way
under "live export running (pid …)", says "DIED" if that process vanished, and `u`, `l`, apply
and drop say which process holds the app's lock.

The detail pane shows the selected target: its persistent key, the desired, committed and
staged setup as stored in TOML, its last run and last error, its recent runs. Themes:
`Ctrl+P`, then "Change theme"; the choice is saved in `config.toml` under the user config
directory.
With `--read-only`, applying, dropping and updating are disabled.

Every action has a CLI twin: `cocotui ls|plan|apply|update|drop APP`.
"""


class HelpScreen(ModalScreen[None]):
    """Rendered with Rich's Markdown in one Static over an opaque background: opening it
    repaints the whole screen, and this keeps that fast while an export runs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Markdown(HELP), id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)
