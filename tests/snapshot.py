"""Support for the TUI tests (``test_tui*.py``): in-house SVG snapshots of screens, and running
the real app in-process against temporary directories.

Snapshots: pytest-textual-snapshot needs pytest < 9, so screens are compared here with
``App.export_screenshot()``, normalised, against ``tests/tui_snapshots/<name>.svg``. Run with
``UPDATE_SNAPSHOTS=1`` to (re)write the stored files, then look at them before committing
(convert to PNG with ``cairosvg`` to view them). CI refuses ``UPDATE_SNAPSHOTS``: there it would
turn every snapshot test into a pass. A screen that differs is saved as ``<name>.failed.svg``
under the temporary directory (outside the source tree), and its path is in the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import os
import re
import sys
import tempfile
import textwrap
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from cocotui import registry
from cocotui.engine.monitor import RunMonitor
from cocotui.flow import builder

SNAPSHOT_DIR = Path(__file__).resolve().parent / "tui_snapshots"
FAILED_DIR = Path(tempfile.gettempdir()) / "cocotui-failed-snapshots"
UPDATE_ENV = "UPDATE_SNAPSHOTS"
SIZE = (160, 45)

T = TypeVar("T")


# -- snapshots ----------------------------------------------------------------------------------


def normalise(svg: str) -> str:
    """``svg`` without what differs between runs: the per-export CSS class prefix, elapsed
    times (``0.07s``) and timestamps (``last applied ...``). Replacements keep the text width
    for the usual values, so the layout of the rest does not shift."""
    svg = re.sub(r"\bterminal-\d+-", "terminal-", svg)
    svg = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:\+00:00|Z)?", "<timestamp>", svg)
    return re.sub(r"(?<![\w.#-])\d+\.\d+s\b", "0.00s", svg)


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def screenshot(pilot: Pilot[Any]) -> str:
    """The app's screen as normalised SVG, once pending messages and animations are done."""
    await settle(pilot)
    return normalise(pilot.app.export_screenshot(title="cocotui"))


def assert_snapshot(name: str, svg: str) -> None:
    """Compare ``svg`` with ``tui_snapshots/<name>.svg`` (write it when ``UPDATE_SNAPSHOTS=1``
    or when it does not exist yet, failing in the latter case so that it gets reviewed)."""
    path = SNAPSHOT_DIR / f"{name}.svg"
    if os.environ.get(UPDATE_ENV) == "1":
        if os.environ.get("CI"):
            raise AssertionError(f"{UPDATE_ENV}=1 is refused under CI: it would pass anything")
        SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        return
    if not path.exists():
        SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
        raise AssertionError(f"no stored snapshot {path.name}: written now; review it and rerun")
    stored = path.read_text(encoding="utf-8")
    if stored == svg:
        return
    FAILED_DIR.mkdir(parents=True, exist_ok=True)
    failed = FAILED_DIR / f"{name}.failed.svg"
    failed.write_text(svg, encoding="utf-8")
    diff = "".join(
        list(
            difflib.unified_diff(
                text_lines(stored), text_lines(svg), "stored", "actual", n=1, lineterm="\n"
            )
        )[:60]
    )
    raise AssertionError(
        f"screen differs from {path.name} (actual saved as {failed}; "
        f"rerun with {UPDATE_ENV}=1 to accept it)\ntext that differs:\n{diff}"
    )


def text_lines(svg: str) -> list[str]:
    """The visible text of an exported screen, one line per <text> element (for diffs)."""
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    return [t.replace("&#160;", " ") + "\n" for t in texts]


# -- running the app ----------------------------------------------------------------------------


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an async test scenario (the project does not use pytest-asyncio)."""
    return asyncio.run(asyncio.wait_for(scenario(), timeout=30))


class StillMonitor(RunMonitor):
    """A monitor whose rates stay at 0: rates depend on wall-clock time, snapshots must not."""

    def _roll_rates(self) -> None:
        pass


def cells(app: App[Any]) -> dict[str, dict[str, str]]:
    """The targets table as text: target name -> column key -> cell text."""
    table: DataTable[Any] = app.query_one("#targets", DataTable)
    result: dict[str, dict[str, str]] = {}
    for row_key in table.rows:
        assert row_key.value is not None
        result[row_key.value] = {
            str(column.value): str(table.get_cell(row_key, column)) for column in table.columns
        }
    return result


def detail_text(app: App[Any]) -> str:
    """The detail pane's text (the selected target)."""
    parts = (app.query_one(f"#{name}", Static).render() for name in DETAIL_PARTS)
    return "".join(str(part) for part in parts)


DETAIL_PARTS = ("detail", "detail-run", "detail-setup")


def notifications(app: App[Any]) -> list[tuple[str, str, str]]:
    """(severity, title, message) of every notification the app has shown."""
    return [(n.severity, n.title, n.message) for n in app._notifications]


def no_blinking_cursor(monkeypatch: Any) -> None:
    """Input cursors blink on a timer: keep them steadily on for screenshots."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


# -- isolation ----------------------------------------------------------------------------------

#: Modules that read the environment at import time or register connector kinds: imported
#: afresh by every test, and put back as they were afterwards.
FRESH_MODULES = ("cocotui.demo.app", "cocotui_connectors.files")


@contextlib.contextmanager
def isolated_imports(*app_dirs: Path) -> Iterator[None]:
    """Load apps as if in a new process: the demo app and the connectors it registers are
    imported again (so ``COCOTUI_DEMO_OUTPUT`` is read again), the connector registry starts
    empty, and modules imported from ``app_dirs`` are forgotten afterwards."""
    saved_modules = {name: sys.modules.get(name) for name in FRESH_MODULES}
    saved_path = list(sys.path)
    saved_kinds = dict(registry._kinds)
    saved_failures = list(registry._plugin_failures)
    saved_loaded = registry._plugins_loaded
    saved_defined = {k: list(v) for k, v in builder._defined.items()}
    before = set(sys.modules)
    for name in FRESH_MODULES:
        sys.modules.pop(name, None)
    registry._kinds.clear()
    registry._plugin_failures.clear()
    registry._plugins_loaded = True  # no installed plugin but those the apps import
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            module: ModuleType | None = sys.modules.get(name)
            where = str(getattr(module, "__file__", "") or "")
            if name in FRESH_MODULES or any(where.startswith(str(d)) for d in app_dirs):
                del sys.modules[name]
        for name, module in saved_modules.items():
            if module is not None:
                sys.modules[name] = module
        sys.path[:] = saved_path
        registry._kinds.clear()
        registry._kinds.update(saved_kinds)
        registry._plugin_failures[:] = saved_failures
        registry._plugins_loaded = saved_loaded
        builder._defined.clear()
        builder._defined.update(saved_defined)


# -- a recording app ----------------------------------------------------------------------------

RECORDER = '''\
"""A connector that records what it receives, for the TUI tests."""

import threading

import cocotui

#: ("apply_setup_change", key, previous is None, current is None) and
#: ("mutate", target name, row key, is a delete), in call order.
CALLS = []
#: Method names that raise (after being recorded).
FAIL = set()
#: When set, ``mutate`` waits for this event before doing anything.
GATE = None
#: Set when ``mutate`` is entered.
IN_MUTATE = threading.Event()


class TuiTarget(cocotui.op.TargetSpec):
    name: str
    version: int = 1


@cocotui.op.target_connector(spec_cls=TuiTarget)
class TuiConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        return spec.name

    @staticmethod
    def describe(key):
        return f"recorded resource {key}"

    @staticmethod
    def apply_setup_change(key, previous, current):
        CALLS.append(("apply_setup_change", key, previous is None, current is None))
        if "apply_setup_change" in FAIL:
            raise RuntimeError(f"cannot set up {key}: permission denied")

    @staticmethod
    def mutate(*all_mutations):
        IN_MUTATE.set()
        if GATE is not None:
            GATE.wait(20)
        if "mutate" in FAIL:
            raise RuntimeError("mutate failed")
        for spec, mutations in all_mutations:
            for key, value in mutations.items():
                CALLS.append(("mutate", spec.name, key, value is None))
'''

APP = """\
import cocotui
from tui_recorder import TuiTarget


@cocotui.flow_def(name="Docs")
def docs(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(cocotui.sources.LocalFile(path=SOURCE))
    collector = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        collector.collect(filename=doc["filename"], content=doc["content"])
    collector.export("first", TuiTarget(name="alpha"), primary_key_fields=["filename"])
    collector.export("second", TuiTarget(name="beta"), primary_key_fields=["filename"])
"""


def write_recording_app(root: Path, source: Path) -> Path:
    """``root/tui_app.py``: flow ``Docs`` over the files of ``source``, exported to two
    targets (``first`` → resource ``alpha``, ``second`` → ``beta``) of the recording
    connector in ``root/tui_recorder.py``."""
    root.mkdir(parents=True, exist_ok=True)
    source.mkdir(parents=True, exist_ok=True)
    (root / "tui_recorder.py").write_text(RECORDER)
    app = root / "tui_app.py"
    app.write_text(textwrap.dedent(APP).replace("SOURCE", repr(str(source))))
    return app


def recorder() -> Any:
    """The recording connector module the loaded app uses."""
    return sys.modules["tui_recorder"]
