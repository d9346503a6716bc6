"""Shared helpers: a temporary state directory, app files over ``cocotui.sources.LocalFile``
that export to the recording connector (``recording_connector.py``), and running the CLI in a
fresh subprocess, as a user would."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from cocotui.flow.loader import default_app_name

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
RECORDING_MODULE = TESTS_DIR / "recording_connector.py"

LOG_ENV = "COCOTUI_TEST_LOG"
RESOURCES_ENV = "COCOTUI_TEST_RESOURCES"
FAIL_ENV = "COCOTUI_TEST_FAIL"
KILL_ENV = "COCOTUI_TEST_KILL"

#: Environment variables that would change what the CLI does; never inherited by subprocesses.
_SCRUBBED = (
    "COCOTUI_STATE_DIR",
    LOG_ENV,
    RESOURCES_ENV,
    FAIL_ENV,
    KILL_ENV,
    "NO_COLOR",
    "FORCE_COLOR",
)


class CliResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def base_env(**overrides: str | None) -> dict[str, str]:
    """The environment of a CLI subprocess: ours without cocotui/test settings, plus overrides
    (``None`` removes a variable)."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(
    *args: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> CliResult:
    """``python -m cocotui ARGS`` in a fresh process; stdin is not a terminal."""
    proc = subprocess.run(
        [sys.executable, "-m", "cocotui", *map(str, args)],
        env=dict(env) if env is not None else base_env(),
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


# ---------------------------------------------------------------------------------------------
# App templating


@dataclasses.dataclass(frozen=True)
class ExportDecl:
    """One ``collector.export(...)`` of a templated flow.

    ``spec`` is Python source for the spec expression, or keyword arguments of ``spec_cls``.
    """

    name: str
    spec: Mapping[str, Any] | str = dataclasses.field(default_factory=dict)
    spec_cls: str = "RecordingTarget"
    primary_key_fields: Sequence[str] = ("filename",)

    def spec_source(self) -> str:
        if isinstance(self.spec, str):
            return self.spec
        kwargs = ", ".join(f"{k}={v!r}" for k, v in self.spec.items())
        return f"{self.spec_cls}({kwargs})"


def export(name: str, spec_cls: str = "RecordingTarget", **spec: Any) -> ExportDecl:
    """Shorthand: ``export("out", resource="a", version=2)``."""
    return ExportDecl(name, spec, spec_cls)


def flow_source(
    flow_name: str,
    exports: Sequence[ExportDecl],
    *,
    source_dir: str | os.PathLike[str],
    collect: str = 'filename=doc["filename"], content=doc["content"]',
    rows: str = "",
) -> str:
    """Source of one ``@flow_def`` over ``LocalFile(source_dir)``: every file is collected with
    ``collect`` (extra per-row statements in ``rows``) and exported to each of ``exports``."""
    ident = flow_name.lower()
    body = [
        f"@cocoindex.flow_def(name={flow_name!r})",
        f"def {ident}_flow(flow_builder, data_scope):",
        "    data_scope['documents'] = flow_builder.add_source(",
        f"        cocoindex.sources.LocalFile(path={str(source_dir)!r})",
        "    )",
        "    collector = data_scope.add_collector()",
        "    with data_scope['documents'].row() as doc:",
        *(f"        {line}" for line in textwrap.dedent(rows).strip().splitlines()),
        f"        collector.collect({collect})",
    ]
    for decl in exports:
        body.append(
            f"    collector.export({decl.name!r}, {decl.spec_source()}, "
            f"primary_key_fields={list(decl.primary_key_fields)!r})"
        )
    return "\n".join(body) + "\n"


def app_source(
    flows: Mapping[str, Sequence[ExportDecl]],
    *,
    source_dir: str | os.PathLike[str],
    header: str = "",
    **flow_kwargs: Any,
) -> str:
    """A whole app file: imports, ``header`` (extra definitions), then one flow per entry."""
    parts = [
        "import cocotui as cocoindex",
        "from recording_connector import AsyncRecordingTarget, RecordingTarget",
        "",
        textwrap.dedent(header).strip(),
        "",
    ]
    for name, exports in flows.items():
        parts.append(flow_source(name, exports, source_dir=source_dir, **flow_kwargs))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# A workspace: app file, source directory, state directory, call log


@dataclasses.dataclass
class Workspace:
    """Everything one test's CLI runs share. ``app`` is ``<root>/demo_app.py`` (app name
    ``demo_app``); its sibling ``recording_connector.py`` is the recording connector."""

    root: Path
    state_dir: Path
    source_dir: Path
    resources: Path
    log: Path
    app_name: str = "demo_app"

    @property
    def app(self) -> Path:
        return self.root / f"{self.app_name}.py"

    @property
    def state_name(self) -> str:
        """The app's default state name (its file stem plus a digest of its path)."""
        return default_app_name(str(self.app))

    @property
    def state_file(self) -> Path:
        return self.state_dir / f"{self.state_name}.toml"

    @property
    def tracking_file(self) -> Path:
        return self.state_dir / f"{self.state_name}.tracking.sqlite"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / f"{self.state_name}.lock"

    def env(self, **overrides: str | None) -> dict[str, str]:
        return base_env(
            COCOTUI_STATE_DIR=str(self.state_dir),
            **{LOG_ENV: str(self.log), RESOURCES_ENV: str(self.resources)},
            **overrides,
        )

    # -- the app -------------------------------------------------------------------------------

    def write_app(
        self,
        *exports: ExportDecl,
        flows: Mapping[str, Sequence[ExportDecl]] | None = None,
        header: str = "",
        **flow_kwargs: Any,
    ) -> Path:
        """Write the app: one flow ``Docs`` with ``exports``, or the given ``flows``."""
        chosen = flows if flows is not None else {"Docs": exports}
        self.app.write_text(
            app_source(chosen, source_dir=self.source_dir, header=header, **flow_kwargs)
        )
        return self.app

    def write_raw_app(self, source: str) -> Path:
        self.app.write_text(textwrap.dedent(source))
        return self.app

    def write_source_file(self, name: str, content: str) -> Path:
        path = self.source_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        return path

    # -- running -------------------------------------------------------------------------------

    def cli(
        self, *args: str | os.PathLike[str], input: str | None = None, **env: str | None
    ) -> CliResult:
        """Run ``cocotui ARGS`` in a fresh process; keyword arguments override the environment
        (``fail="apply_setup_change"`` and ``kill="apply_setup_change:after"`` are shorthands)."""
        overrides: dict[str, str | None] = {}
        for name, value in env.items():
            if name == "fail":
                overrides[FAIL_ENV] = value
            elif name == "kill":
                overrides[KILL_ENV] = value
            else:
                overrides[name] = value
        return run_cli(*args, env=self.env(**overrides), cwd=self.root, input=input)

    def apply(self, *extra: str, **env: str | None) -> CliResult:
        return self.cli("apply", self.app, "--yes", *extra, **env)

    def plan_json(self, **env: str | None) -> dict[str, Any]:
        result = self.cli("plan", self.app, "--json", **env)
        assert result.returncode == 0, result.stderr
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    # -- what happened -------------------------------------------------------------------------

    def calls(self, *methods: str) -> list[dict[str, Any]]:
        """Recorded calls (of ``methods`` only, if given), oldest first."""
        if not self.log.exists():
            return []
        found = [json.loads(line) for line in self.log.read_text().splitlines() if line]
        return [c for c in found if not methods or c["method"] in methods]

    def setup_calls(self) -> list[list[Any]]:
        """``[key, previous, current]`` of every ``apply_setup_change`` call."""
        return [c["args"] for c in self.calls("apply_setup_change")]

    def side_effect_calls(self) -> list[dict[str, Any]]:
        return self.calls("apply_setup_change", "mutate")

    def clear_calls(self) -> None:
        self.log.unlink(missing_ok=True)

    def take_setup_calls(self) -> list[list[Any]]:
        """The setup calls since the last ``take``/``clear``, clearing the log."""
        found = self.setup_calls()
        self.clear_calls()
        return found

    def state(self) -> dict[str, Any]:
        """The raw TOML state document (``{}`` when there is none)."""
        if not self.state_file.exists():
            return {}
        return tomllib.loads(self.state_file.read_text())

    def stored_targets(self) -> list[dict[str, Any]]:
        targets: list[dict[str, Any]] = self.state().get("targets", [])
        return targets

    def resource(self, key: str) -> dict[str, Any] | None:
        path = self.resources / f"{key}.json"
        if not path.exists():
            return None
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh state directory, also set as ``COCOTUI_STATE_DIR`` for in-process engines."""
    directory = tmp_path / "state"
    directory.mkdir(mode=0o700)  # as cocotui creates it: it refuses one others can write to
    monkeypatch.setenv("COCOTUI_STATE_DIR", str(directory))
    for name in (LOG_ENV, RESOURCES_ENV, FAIL_ENV, KILL_ENV):
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def workspace(tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A temp app directory with the recording connector, a source directory with one file,
    and the call log / resources directory set in the environment of in-process engines too."""
    root = tmp_path / "app"
    root.mkdir()
    shutil.copy(RECORDING_MODULE, root / RECORDING_MODULE.name)
    ws = Workspace(
        root=root,
        state_dir=state_dir,
        source_dir=tmp_path / "source",
        resources=tmp_path / "resources",
        log=tmp_path / "calls.jsonl",
    )
    ws.write_source_file("a.txt", "alpha")
    monkeypatch.setenv(LOG_ENV, str(ws.log))
    monkeypatch.setenv(RESOURCES_ENV, str(ws.resources))
    return ws


@pytest.fixture(autouse=True)
def in_process_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test may load apps in this process (directly or through a helper): restore
    ``sys.modules``, ``sys.path``, the connector registry and the flows defined afterwards, so
    that apps of different tests do not see each other."""
    from cocotui import registry
    from cocotui.flow import builder

    modules = set(sys.modules)
    path = list(sys.path)
    kinds = dict(registry._kinds)
    defined = {k: list(v) for k, v in builder._defined.items()}
    yield
    # Forget the modules imported from directories the app loader put on sys.path (the app and
    # its siblings); cocotui's own modules and libraries stay loaded.
    app_dirs = tuple(str(Path(p).resolve()) + os.sep for p in set(sys.path) - set(path) if p)
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None)
        if file and str(Path(file).resolve()).startswith(app_dirs):
            del sys.modules[name]
    sys.path[:] = path
    registry._kinds.clear()
    registry._kinds.update(kinds)
    builder._defined.clear()
    builder._defined.update(defined)


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Temporary state, config and demo output directories for the TUI tests; apps loaded as in
    a new process. (test_ux_defects.py defines its own, with a home directory.)"""
    from snapshot import isolated_imports  # Textual comes with it: only for tests that ask

    paths = {
        "state": tmp_path / "state",
        "config": tmp_path / "config",
        "demo": tmp_path / "demo-output",
        "app": tmp_path / "app",
        "source": tmp_path / "source",
    }
    monkeypatch.setenv("COCOTUI_STATE_DIR", str(paths["state"]))
    monkeypatch.setenv("COCOTUI_CONFIG_DIR", str(paths["config"]))
    monkeypatch.setenv("COCOTUI_DEMO_OUTPUT", str(paths["demo"]))
    monkeypatch.chdir(tmp_path)
    with isolated_imports(tmp_path):
        yield paths
