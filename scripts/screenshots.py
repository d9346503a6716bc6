"""Drive the real terminal UI with Textual's Pilot and save SVG screenshots of its main screens
into ``screenshots/`` (the README shows them).

* ``targets_pending.svg``: the bundled demo app on first start: its targets, a pending plan;
* ``plan_review.svg``: the plan screen (``p``) with a change's spec diff;
* ``confirm.svg``: the confirmation modal (``A``), Cancel focused;
* ``live_run.svg``: an update running (``u``) on a larger generated app: counters, progress,
  rates and the sparkline, the event log;
* ``detail.svg``: the same app after the run: the detail pane of a target with a failed row
  (its traceback) and its committed setup;
* ``help.svg``: the help screen (``?``);
* ``live_mode.svg``: live mode (``l``) on a smaller copy of that app after files were created,
  changed and deleted: the sources panel (phase, last pass, lag), counters, the sparkline;
* ``attached_export.svg``: the TUI opened on an app whose exporter (``cocotui update --live``)
  runs in another process: its counters, sources and sparkline, as if local;
* ``exporter_died.svg``: the same after that process was killed (``SIGKILL``).

Usage: ``python scripts/screenshots.py [--out screenshots] [--size 160x45]``. Everything runs
against a scratch directory (state, config, outputs), removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

#: A larger app for the live-run screens: generated articles, two targets of a connector that
#: takes a little time per batch (so that a run lasts a few seconds), one article that fails.
SHOWCASE_APP = '''\
"""Showcase app for the screenshots: articles indexed into two in-memory targets."""

import time

import cocotui

SOURCE = @@SOURCE@@
ROWS = {}


class MemoryIndex(cocotui.op.TargetSpec):
    name: str
    shards: int = 1


@cocotui.op.target_connector(spec_cls=MemoryIndex)
class MemoryIndexConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        return spec.name

    @staticmethod
    def describe(key):
        return f"in-memory index {key}"

    @staticmethod
    def apply_setup_change(key, previous, current):
        if current is None:
            ROWS.pop(key, None)
        else:
            ROWS.setdefault(key, {})

    @staticmethod
    def mutate(*all_mutations):
        time.sleep(@@DELAY@@)
        for spec, mutations in all_mutations:
            rows = ROWS.setdefault(spec.name, {})
            for key, value in mutations.items():
                if value is None:
                    rows.pop(key, None)
                else:
                    rows[key] = value


@cocotui.op.function(behavior_version=1)
def title_of(content: str) -> str:
    first = content.splitlines()[0]
    if "broken" in first:
        raise ValueError(f"cannot parse the title line {first!r}")
    return first.lstrip("# ")


@cocotui.op.function(behavior_version=1)
def word_count(content: str) -> int:
    return len(content.split())


@cocotui.flow_def(name="Articles")
def articles(flow_builder, data_scope):
    data_scope["articles"] = flow_builder.add_source(
        cocotui.sources.LocalFile(path=SOURCE, included_patterns=["*.md"])
    )
    titles = data_scope.add_collector()
    with data_scope["articles"].row() as article:
        article["title"] = article["content"].transform(title_of)
        article["words"] = article["content"].transform(word_count)
        titles.collect(
            filename=article["filename"], title=article["title"], words=article["words"]
        )
    titles.export("titles", MemoryIndex(name="titles"), primary_key_fields=["filename"])
    titles.export(
        "search", MemoryIndex(name="search", shards=4), primary_key_fields=["filename"]
    )
'''


def write_showcase(root: Path, articles: int, delay: float) -> Path:
    source = root / "articles"
    source.mkdir(parents=True)
    for i in range(articles):
        title = "broken title" if i == articles // 3 else f"Article {i}"
        words = " ".join(f"word{(i * 7 + j) % 101}" for j in range(40))
        (source / f"article-{i:05d}.md").write_text(f"# {title}\n\n{words}\n")
    app = root / "showcase.py"
    text = SHOWCASE_APP.replace("@@SOURCE@@", repr(str(source)))
    app.write_text(textwrap.dedent(text.replace("@@DELAY@@", repr(delay))))
    return app


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def save(app: Any, out: Path, name: str) -> None:
    path = out / f"{name}.svg"
    path.write_text(app.export_screenshot(title=f"cocotui — {name.replace('_', ' ')}"))
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


async def demo_screens(out: Path, size: tuple[int, int]) -> None:
    from cocotui.engine.facade import Engine
    from cocotui.tui.app import CocotuiApp

    engine = Engine.open("cocotui.demo.app")
    try:
        app = CocotuiApp(engine)
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(pilot)
            save(app, out, "targets_pending")
            app.clear_notifications()
            await pilot.press("p")
            await settle(pilot)
            save(app, out, "plan_review")
            await pilot.press("A")
            await settle(pilot)
            save(app, out, "confirm")
            await pilot.press("escape")
            await pilot.press("escape")
            await pilot.press("question_mark")
            await settle(pilot)
            save(app, out, "help")
    finally:
        engine.close()


async def showcase_screens(out: Path, size: tuple[int, int], scratch: Path) -> None:
    from cocotui.engine.facade import Engine
    from cocotui.engine.update import UpdateOptions
    from cocotui.tui.app import CocotuiApp

    app_file = write_showcase(scratch / "showcase", articles=3000, delay=0.12)
    engine = Engine.open(str(app_file))
    engine.apply(engine.plan())
    try:
        app = CocotuiApp(engine, update_options=UpdateOptions(batch_rows=100))
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("u")
            started = time.monotonic()
            # Mid-run: a few seconds of rates for the sparkline, the progress bar part-way.
            while time.monotonic() - started < 3.5 and app.stop_token is not None:
                await asyncio.sleep(0.25)
            app.poll_run()
            await settle(pilot)
            save(app, out, "live_run")
            await app.workers.wait_for_complete()
            await settle(pilot)
            app.clear_notifications()
            await pilot.press("down")  # the second target
            await settle(pilot)
            save(app, out, "detail")
    finally:
        engine.close()


#: The live screens' changes, in waves a second apart (so the sparkline has samples): articles
#: created, then changed, then deleted.
WAVES = 4


def change_articles(source: Path, wave: int) -> None:
    """Wave ``wave`` of changes: five new articles, three edited, two deleted. Written as
    editors do (a temporary file renamed), so that no pass reads a half-written article."""

    def write(name: str, text: str) -> None:
        temporary = source / f".{name}.tmp"
        temporary.write_text(text)
        temporary.replace(source / name)

    for i in range(5):
        write(f"new-{wave}-{i}.md", f"# New article {wave}.{i}\n\nfresh words\n")
    for i in range(3):
        number = wave * 10 + i
        write(f"article-{number:05d}.md", f"# Article {number}, edited\n\nedited words\n")
    for i in range(2):
        (source / f"article-{wave * 10 + 5 + i:05d}.md").unlink()


async def until(pilot: Any, condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def watching(snapshot: Any) -> bool:
    from cocotui.engine.monitor import Phase

    phases = [s.phase for s in snapshot.sources.values()]
    return bool(phases) and all(p is Phase.WATCHING for p in phases)


def exported(snapshot: Any, inserted: int) -> bool:
    return all(v.inserted >= inserted for v in snapshot.targets.values()) and bool(snapshot.targets)


async def play_waves(pilot: Any, source: Path, snapshot: Any, articles: int) -> None:
    """Change the articles wave by wave, each once the previous one reached the targets."""
    for wave in range(WAVES):
        change_articles(source, wave)
        inserted = articles - 1 + 5 * (wave + 1)  # the broken article never gets in
        await until(pilot, lambda n=inserted: exported(snapshot(), n), f"wave {wave}")
        await asyncio.sleep(1.0)


async def live_screens(out: Path, size: tuple[int, int], scratch: Path) -> None:
    from cocotui.engine.facade import Engine
    from cocotui.tui.app import CocotuiApp

    articles = 300
    # A state directory of its own: the showcase's targets are another app's here.
    os.environ["COCOTUI_STATE_DIR"] = str(scratch / "live-state")
    app_file = write_showcase(scratch / "live", articles=articles, delay=0.02)
    engine = Engine.open(str(app_file))
    engine.apply(engine.plan())
    try:
        app = CocotuiApp(engine)
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(pilot)
            await pilot.press("l")
            await until(pilot, lambda: watching(app.monitor.snapshot()), "live mode to watch")
            await play_waves(pilot, scratch / "live" / "articles", app.monitor.snapshot, articles)
            app.clear_notifications()
            app.poll_run()
            await settle(pilot)
            save(app, out, "live_mode")
            await pilot.press("s")
            await app.workers.wait_for_complete()
    finally:
        engine.close()


async def attached_screens(out: Path, size: tuple[int, int], scratch: Path) -> None:
    from cocotui.engine.facade import Engine
    from cocotui.tui.app import CocotuiApp

    articles = 300
    os.environ["COCOTUI_STATE_DIR"] = str(scratch / "attached-state")
    app_file = write_showcase(scratch / "attached", articles=articles, delay=0.02)
    engine = Engine.open(str(app_file))
    engine.apply(engine.plan())
    command = [sys.executable, "-m", "cocotui", "update", str(app_file), "--live"]
    exporter = subprocess.Popen(
        [*command, "--workers", "1"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        app = CocotuiApp(engine)
        async with app.run_test(size=size, notifications=True) as pilot:

            def followed() -> Any:
                report = app.exporter.report
                return report.snapshot if report is not None else None

            await until(pilot, lambda: followed() is not None, "the exporter")
            await until(pilot, lambda: watching(followed()), "the exporter to watch")
            await play_waves(pilot, scratch / "attached" / "articles", followed, articles)
            app.clear_notifications()
            await settle(pilot)
            save(app, out, "attached_export")
            exporter.send_signal(signal.SIGKILL)
            exporter.wait()
            await until(pilot, lambda: "DIED" in app.exporter.headline().plain, "the death")
            app.poll_run()
            await settle(pilot)
            save(app, out, "exporter_died")
    finally:
        if exporter.poll() is None:
            exporter.kill()
        exporter.wait()
        engine.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--size", default="160x45", help="terminal size, COLUMNSxROWS")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    # Paths are shown on screen: stable, readable names rather than random temporary ones.
    scratch = Path(tempfile.gettempdir()) / "cocotui-screenshots"
    demo_output = Path(tempfile.gettempdir()) / "cocotui-demo"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(demo_output, ignore_errors=True)
    os.environ["COCOTUI_DEMO_OUTPUT"] = str(demo_output)
    os.environ["COCOTUI_STATE_DIR"] = str(scratch / "state")
    os.environ["COCOTUI_CONFIG_DIR"] = str(scratch / "config")
    try:
        asyncio.run(demo_screens(out, (width, height)))
        asyncio.run(showcase_screens(out, (width, height), scratch))
        asyncio.run(live_screens(out, (width, height), scratch))
        asyncio.run(attached_screens(out, (width, height), scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(demo_output, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
