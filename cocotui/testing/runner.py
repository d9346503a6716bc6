"""Running apps through the real CLI, each command in a fresh process, with connector calls
logged and faults (a failure, a SIGKILL) injected on request."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cocotui.testing.env import FAIL_ENV, KILL_ENV, RECORD_ENV, SCRUBBED
from cocotui.testing.faults import KillPoint
from cocotui.testing.outcomes import AppRun, CliResult, UpdateOutcome


class AppRunner:
    """Runs ``cocotui`` commands on one app and state directory, each in a fresh process, as a
    user would (through ``python -m cocotui.testing``, which behaves exactly like
    ``python -m cocotui`` unless faults or a call log are asked for)."""

    def __init__(
        self,
        app: str | os.PathLike[str],
        state_dir: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        app_name: str | None = None,
        workers: int = 1,
        timeout: float = 120.0,
        python: str = sys.executable,
    ) -> None:
        self.app = str(app)
        self.state_dir = str(state_dir)
        self.env = dict(env or {})
        self.cwd = str(cwd) if cwd is not None else str(Path(self.app).parent)
        self.app_name = app_name
        self.workers = workers
        self.timeout = timeout
        self.python = python

    @property
    def state_file(self) -> Path:
        """The app's setup state file (to check, say, that no secret is stored in it)."""
        from cocotui.flow.loader import default_app_name

        return Path(self.state_dir) / f"{self.app_name or default_app_name(self.app)}.toml"

    def _environment(self, overrides: Mapping[str, str | None]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(self.env)
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def cli(
        self,
        *args: str | os.PathLike[str],
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
        record: str | os.PathLike[str] | None = None,
        fail: Iterable[str] = (),
        kill: str | None = None,
    ) -> CliResult:
        """``cocotui ARGS`` (no app or state directory added); ``record``, ``fail`` and
        ``kill`` instrument the connectors of that process (see :mod:`cocotui.testing`)."""
        overrides: dict[str, str | None] = dict(env or {})
        if record is not None:
            overrides[RECORD_ENV] = str(record)
        if fail:
            overrides[FAIL_ENV] = ",".join(fail)
        if kill is not None:
            KillPoint.parse(kill)
            overrides[KILL_ENV] = kill
        argv = tuple(str(a) for a in args)
        proc = subprocess.run(
            [self.python, "-m", "cocotui.testing", *argv],
            env=self._environment(overrides),
            cwd=self.cwd,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        return CliResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def _app_args(self) -> list[str]:
        args = [self.app, "--state-dir", self.state_dir]
        if self.app_name:
            args += ["--app-name", self.app_name]
        return args

    def command(self, command: str, *args: str, **options: Any) -> CliResult:
        """``cocotui COMMAND APP --state-dir DIR ARGS``."""
        return self.cli(command, *self._app_args(), *args, **options)

    def plan(self, **options: Any) -> dict[str, Any]:
        """``plan --json`` (must succeed)."""
        plan: dict[str, Any] = self.command("plan", "--json", **options).expect().json()
        return plan

    def ls(self, **options: Any) -> dict[str, Any]:
        listing: dict[str, Any] = self.command("ls", "--json", **options).expect().json()
        return listing

    def apply(self, *targets: str, expect: Sequence[int] = (0,), **options: Any) -> dict[str, Any]:
        """``apply --yes --json [--target T]...``; the exit code must be one of ``expect``."""
        args = ["--yes", "--json"]
        for target in targets:
            args += ["--target", target]
        result = self.command("apply", *args, **options).expect(*expect)
        applied: dict[str, Any] = result.json()
        return applied

    def drop(self, *flows: str, expect: Sequence[int] = (0,), **options: Any) -> dict[str, Any]:
        """``drop FLOW... --yes --json``; the exit code must be one of ``expect``."""
        result = self.command("drop", *flows, "--yes", "--json", **options).expect(*expect)
        dropped: dict[str, Any] = result.json()
        return dropped

    def update(self, *args: str, reexport: bool = False, **options: Any) -> UpdateOutcome:
        """``update --json --workers N [--reexport] ARGS`` (any exit code; see ``.ok``)."""
        extra = ["--json", "--workers", str(self.workers), *args]
        if reexport:
            extra.append("--reexport")
        return UpdateOutcome(self.command("update", *extra, **options))


def run_app(
    app: str | os.PathLike[str],
    state_dir: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    **runner_options: Any,
) -> AppRun:
    """Apply the app's pending setup changes, then update its targets, in fresh processes."""
    runner = AppRunner(app, state_dir, env=env, **runner_options)
    applied = runner.apply()
    return AppRun(applied, runner.update())
