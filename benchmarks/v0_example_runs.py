"""Running an example's commands on one engine (the real CocoIndex v0, or cocotui), each with
its own database, state and log (used by ``compare_v0_examples.py``)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

#: A line saying a live run has started watching (cocotui) or finished its first pass (v0).
LIVE_READY = re.compile(r"live: watching|Live updater started|✅")
COMMAND_TIMEOUT = 1800.0
LIVE_DEADLINE = 300.0


@dataclass(frozen=True)
class Engine:
    name: str  # "v0" or "cocotui"
    python: str
    database: str
    env: dict[str, str]
    logs: Path

    @staticmethod
    def _env(database: str, hf_home: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            COCOINDEX_DATABASE_URL=database,
            HF_HOME=str(hf_home),
            HF_HUB_OFFLINE="1",
            COCOINDEX_DISABLE_USAGE_TRACKING="1",  # v0 would try to phone home
            PYTHONUNBUFFERED="1",
            TOKENIZERS_PARALLELISM="false",
        )
        return env

    @classmethod
    def v0(cls, venv: str, database: str, hf_home: Path, logs: Path) -> Engine:
        python = os.path.join(venv, "bin", "python")
        return cls("v0", python, database, cls._env(database, hf_home), logs)

    @classmethod
    def cocotui(cls, python: str, database: str, hf_home: Path, logs: Path) -> Engine:
        return cls("cocotui", python, database, cls._env(database, hf_home), logs)


class EngineRun:
    """One engine's copy of one example."""

    def __init__(self, engine: Engine, example_dir: Path) -> None:
        self.engine = engine
        self.example_dir = example_dir
        self.database = engine.database
        self.env = dict(engine.env)
        # Beside the example's tree, not in it: code_embedding indexes all of ``../..``.
        state = example_dir.parents[2] / f"{engine.name}-state"
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(mode=0o700)
        self.env["COCOTUI_STATE_DIR"] = str(state)
        engine.logs.mkdir(parents=True, exist_ok=True)
        self._count = 0

    @property
    def is_v0(self) -> bool:
        return self.engine.name == "v0"

    def _log(self, what: str) -> Path:
        self._count += 1
        label = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")
        return (
            self.engine.logs
            / f"{self.example_dir.name}-{self.engine.name}-{self._count:02d}-{label}.log"
        )

    def _run(self, command: list[str], what: str, stdin: str = "") -> tuple[bool, str]:
        log = self._log(what)
        started = time.monotonic()
        done = subprocess.run(
            command,
            cwd=self.example_dir,
            env=self.env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
        )
        log.write_text(
            f"$ {' '.join(command)}\n[exit {done.returncode}, {time.monotonic() - started:.1f} s]\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        print(
            f"  {self.example_dir.name} {self.engine.name}: {what} -> exit {done.returncode} "
            f"({time.monotonic() - started:.0f} s)",
            flush=True,
        )
        return done.returncode == 0, done.stdout

    def v0_update(self) -> None:
        """v0's batch update (``main`` as a module: v0 runs a file given by path as
        ``__main__``, which would start the example's own query loop)."""
        cocoindex = os.path.join(os.path.dirname(self.engine.python), "cocoindex")
        ok, _ = self._run([cocoindex, "update", "-f", "main"], "cocoindex update")
        if not ok:
            raise RuntimeError(f"v0 failed: see {self.engine.logs}")

    def cocotui(self, step: str) -> bool:
        command = {"plan": ["plan"], "apply": ["apply", "--yes"], "update": ["update"]}[step]
        ok, _ = self._run([self.engine.python, "-m", "cocotui", *command, "main.py"], step)
        return ok

    def main(self, stdin: str) -> str | None:
        """The example's ``python main.py`` (``cocotui run main.py``): its stdout, or None."""
        ok, stdout = self._run(self.main_command(), "main.py", stdin)
        return stdout if ok else None

    def query(self, handler: str, text: str) -> list[dict[str, Any]] | None:
        """``cocotui query main.py HANDLER TEXT --json``: the handler's results, or None."""
        command = [self.engine.python, "-m", "cocotui", "query", "main.py", handler, text]
        ok, stdout = self._run([*command, "--json"], "query")
        results: list[dict[str, Any]] = json.loads(stdout)["results"] if ok else None
        return results

    def main_command(self) -> list[str]:
        if self.is_v0:
            return [self.engine.python, "main.py"]
        return [self.engine.python, "-m", "cocotui", "run", "main.py"]

    def live_command(self) -> list[str]:
        if self.is_v0:
            cocoindex = os.path.join(os.path.dirname(self.engine.python), "cocoindex")
            return [cocoindex, "update", "-L", "-f", "main"]
        return [self.engine.python, "-m", "cocotui", "update", "--live", "main.py"]

    def start(self, command: list[str], what: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self._log(what)
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command,
                cwd=self.example_dir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return process, log


def live_run(
    run: EngineRun,
    change: Callable[[EngineRun], None],
    done: Callable[[], bool],
    main: bool = False,
) -> bool:
    """Start ``run``'s live command (or its ``main.py``), wait until it is ready, make
    ``change``, wait until ``done()``, then stop it with Ctrl-C. True when the change showed up
    and the process stopped cleanly."""
    command = run.main_command() if main else run.live_command()
    process, log = run.start(command, "main.py live" if main else "update live")
    started = time.monotonic()
    ready = _poll(lambda: bool(LIVE_READY.search(log.read_text(errors="replace"))), process)
    if ready:
        change(run)
    shown = ready and _poll(done, process)
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    clean = code in (0, 130, -signal.SIGINT)
    print(
        f"  {run.example_dir.name} {run.engine.name}: {' '.join(command[-3:])} -> ready "
        f"{ready}, change shown {shown}, exit {code} ({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    return shown and clean


def _poll(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + LIVE_DEADLINE
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def recreate_database(url: str) -> None:
    """Drop and create the database ``url`` names (connected to the server's ``postgres``)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
