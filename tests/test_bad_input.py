"""Bad input catalogue (issue 7, item 3): malformed connectors, bad specs and names, broken apps,
damaged state and tracking files, connectors that raise in every method or return the wrong
type, untrusted keys, a source directory that vanishes. Every case is run through the real CLI
and must end with one clear ``error:`` line (exit 1, none of cocotui's own traceback frames;
the user's traceback may follow) and leave the state, the row tracking and the targets as they
were — or, where the failure is a connector's in the middle of a change, with the same pending
change, which the next run completes.

Decision on duplicate keys within one source row: the last value collected wins and a
``key.duplicate`` warning (``same_row: true``) is emitted; it is not an error.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    LOG_ENV,
    RECORDING_MODULE,
    RESOURCES_ENV,
    CliResult,
    ExportDecl,
    Workspace,
    app_source,
    export,
)
from connector_source import connector_source, spec_source, static

import cocotui
from cocotui import registry
from cocotui.flow.loader import is_internal_file
from cocotui.op import ConnectorDefinitionError
from cocotui.sources import LocalFile

# ---------------------------------------------------------------------------------------------
# Workspaces: a template applied and updated once per module, copied for each test. Apps read
# their source as "../source" (relative to the app directory, the CLI's working directory), so
# a copy is self-contained.

SOURCE = Path("../source")
FILES = {"a.txt": "alpha", "b.txt": "beta"}

FAULTY = """
import dataclasses
import json
import os
from pathlib import Path


class FaultyTarget(cocoindex.op.TargetSpec):
    resource: str
    version: int = 1


@dataclasses.dataclass
class FaultyState:
    resource: str
    version: int


class Opaque:
    pass


def fault(method):
    name, _, mode = os.environ.get("FAULT", "").partition(":")
    return (mode or "raise") if name == method else None


def maybe_raise(method):
    if fault(method) == "raise":
        raise RuntimeError(f"{method} broke on purpose")


def resource_file(key, suffix):
    return Path(os.environ["COCOTUI_TEST_RESOURCES"]) / f"{key}{suffix}"


@cocoindex.op.target_connector(spec_cls=FaultyTarget, setup_state_cls=FaultyState)
class FaultyConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        maybe_raise("get_persistent_key")
        wrong = {"set": {spec.resource}, "object": Opaque(), "bytes": b"f"}
        return wrong.get(fault("get_persistent_key"), spec.resource)

    @staticmethod
    def get_setup_state(spec, key_fields_schema, value_fields_schema):
        maybe_raise("get_setup_state")
        if fault("get_setup_state") == "wrong-type":
            return {"resource": spec.resource, "version": spec.version}
        return FaultyState(spec.resource, spec.version)

    @staticmethod
    def describe(key):
        maybe_raise("describe")
        return f"faulty resource {key}"

    @staticmethod
    def check_state_compatibility(desired, existing):
        maybe_raise("check_state_compatibility")
        if fault("check_state_compatibility") == "garbage":
            return "maybe"
        return cocoindex.op.TargetStateCompatibility.PARTIALLY_COMPATIBLE

    @staticmethod
    def apply_setup_change(key, previous, current):
        maybe_raise("apply_setup_change")
        path = resource_file(key, ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        if current is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(json.dumps(dataclasses.asdict(current)))

    @staticmethod
    def prepare(spec):
        maybe_raise("prepare")
        return spec

    @staticmethod
    def mutate(*all_mutations):
        maybe_raise("mutate")
        for spec, rows in all_mutations:
            path = resource_file(spec.resource, ".rows.json")
            stored = json.loads(path.read_text()) if path.exists() else {}
            for key, value in rows.items():
                if value is None:
                    stored.pop(key, None)
                else:
                    stored[key] = value
            path.write_text(json.dumps(stored, sort_keys=True))
"""

FAULTY_EXPORT = ExportDecl(
    "out", 'FaultyTarget(resource="f", version=int(os.environ.get("FAULTY_VERSION", "1")))'
)

#: Keys come from the file content (stripped): the files connector gets untrusted keys.
FILES_APP = """\
import cocotui as cocoindex
from cocotui_connectors.files import DirectoryTarget


@cocoindex.op.function
def strip(text):
    return text.strip()


@cocoindex.flow_def(name="Docs")
def docs(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path="../source"))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        out.collect(name=doc["content"].transform(strip), text=doc["filename"])
    out.export("files", DirectoryTarget(directory="../out"), primary_key_fields=["name"])
"""


def _workspace(root: Path) -> Workspace:
    return Workspace(
        root=root / "app",
        state_dir=root / "state",
        source_dir=root / "source",
        resources=root / "resources",
        log=root / "calls.jsonl",
    )


def _build(root: Path, app: str, files: dict[str, str]) -> Workspace:
    ws = _workspace(root)
    ws.root.mkdir(parents=True)
    shutil.copy(RECORDING_MODULE, ws.root / RECORDING_MODULE.name)
    ws.app.write_text(app)
    for name, content in files.items():
        ws.write_source_file(name, content)
    assert ws.apply().returncode == 0
    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 0, result.stderr
    return ws


RECORDING_APP = app_source({"Docs": [export("out", resource="a")]}, source_dir=SOURCE)
FAULTY_APP = app_source({"Docs": [FAULTY_EXPORT]}, source_dir=SOURCE, header="import os\n" + FAULTY)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("templates")
    built = {}
    for name, app, files in (
        ("recording", RECORDING_APP, FILES),
        ("faulty", FAULTY_APP, FILES),
    ):
        _build(base / name, app, files)
        built[name] = base / name
    return built


def _restamp(ws: Workspace) -> None:
    """Row stamps hold each file's inode and ctime, which a copy does not keep: record the
    copies' stamps, as if the template had been built here."""
    source = LocalFile(str(ws.source_dir))
    with contextlib.closing(sqlite3.connect(ws.tracking_file)) as db, db:
        for row_id, key in db.execute("SELECT id, row_key FROM source_rows").fetchall():
            db.execute("UPDATE source_rows SET stamp = ? WHERE id = ?", (source.stamp(key), row_id))


def _copy(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "w"
    shutil.copytree(template, root, symlinks=True)
    ws = _workspace(root)
    # The state is named after the app's path: give the copy's app the template's state.
    template_name = _workspace(template).state_name
    for path in ws.state_dir.glob(f"{template_name}.*"):
        path.rename(ws.state_dir / f"{ws.state_name}{path.name[len(template_name) :]}")
    _restamp(ws)
    monkeypatch.setenv(LOG_ENV, str(ws.log))
    monkeypatch.setenv(RESOURCES_ENV, str(ws.resources))
    return ws


@pytest.fixture
def ws(templates: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A recording-connector app, applied and updated: ``a.txt`` and ``b.txt`` exported."""
    return _copy(templates["recording"], tmp_path, monkeypatch)


@pytest.fixture
def faulty(
    templates: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    """An app whose connector fails as ``FAULT=method[:mode]`` says, applied and updated."""
    return _copy(templates["faulty"], tmp_path, monkeypatch)


@pytest.fixture
def files_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A files-connector app whose keys are the source files' contents (built for each test:
    the target's persistent key is its absolute directory)."""
    ws = _build(tmp_path / "w", FILES_APP, {"one.txt": "one\n", "two.txt": "sub/two\n"})
    monkeypatch.setenv(LOG_ENV, str(ws.log))
    monkeypatch.setenv(RESOURCES_ENV, str(ws.resources))
    return ws


# ---------------------------------------------------------------------------------------------
# What every case checks


def tracking_dump(path: Path) -> Any:
    """The tracking database's rows (or its bytes, if it is not a database)."""
    if not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            return {
                table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
                for table in ("meta", "targets", "source_rows", "target_keys")
            }
    except sqlite3.DatabaseError:
        return path.read_bytes()


def snapshot(ws: Workspace) -> dict[str, Any]:
    """Everything a failed command must leave as it was: the state file, the row tracking
    and what the targets hold."""
    resources = {}
    for directory in (ws.resources, ws.root.parent / "out"):
        if directory.is_dir():
            for path in sorted(directory.rglob("*")):
                if path.is_file():
                    resources[str(path)] = path.read_bytes()
    state = ws.state_file.read_bytes() if ws.state_file.is_file() else None
    return {"state": state, "tracking": tracking_dump(ws.tracking_file), "targets": resources}


def assert_clear_error(result: CliResult, *parts: str) -> str:
    """Exit 1, stderr starting with the one ``error:`` line, no frame of cocotui's engine (a
    public helper the connector called, such as ``cocotui.atomic_file``, may show)."""
    assert result.returncode == 1, result
    assert result.stderr.startswith("error: "), result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    frames = re.findall(r'File "([^"]+)"', result.stderr)
    assert [f for f in frames if is_internal_file(f)] == [], result.stderr
    for part in parts:
        assert part in result.stderr, (part, result.stderr)
    return result.stderr


@contextlib.contextmanager
def untouched(ws: Workspace) -> Iterator[None]:
    before = snapshot(ws)
    yield
    assert snapshot(ws) == before


def assert_refused(ws: Workspace, *parts: str) -> str:
    """The app does not load: ``plan`` and ``apply`` both stop with one clear error naming
    ``parts`` (nothing on stdout), and leave everything as it was. Returns apply's stderr."""
    with untouched(ws):
        for result in (ws.cli("plan", ws.app), ws.apply()):
            stderr = assert_clear_error(result, *parts)
            assert result.stdout == "", result.stdout
    return stderr


def pending(ws: Workspace, **env: str | None) -> list[tuple[str, str]]:
    plan = ws.plan_json(**env)
    return sorted((c["target"], c["action"]) for c in plan["changes"] if c["action"] != "none")


# ---------------------------------------------------------------------------------------------
# Malformed connectors (the app does not import: nothing runs)

BAD_SPEC = spec_source("BadSpec")

#: case -> (the connector's source, what the error says). Each case breaks one member.
MALFORMED = {
    "no mutate": (
        connector_source("BadSpec", "BadConnector", mutate=None),
        "BadConnector.mutate() is required",
    ),
    "no get_persistent_key": (
        connector_source("BadSpec", "BadConnector", get_persistent_key=None),
        "BadConnector.get_persistent_key() is required",
    ),
    "no apply_setup_change": (
        connector_source("BadSpec", "BadConnector", apply_setup_change=None),
        "BadConnector.apply_setup_change() is required",
    ),
    "mutate not variadic": (
        connector_source(
            "BadSpec", "BadConnector", mutate=static("def mutate(spec, rows):\n    pass")
        ),
        "BadConnector.mutate(*all_mutations) must have exactly one parameter",
    ),
    "instance method": (
        connector_source(
            "BadSpec",
            "BadConnector",
            apply_setup_change="def apply_setup_change(self, key, previous, current):\n    pass",
        ),
        "@staticmethod missing?",
    ),
    "spec_cls not a TargetSpec": (
        connector_source("dict", "BadConnector"),
        "expects a subclass of cocotui.op.TargetSpec",
    ),
    "required keyword-only parameter": (
        connector_source(
            "BadSpec",
            "BadConnector",
            apply_setup_change=static(
                "def apply_setup_change(key, previous, current, *, force):\n    pass"
            ),
        ),
        "required keyword-only parameter 'force'",
    ),
    "optional method with too many parameters": (
        connector_source(
            "BadSpec",
            "BadConnector",
            describe=static("def describe(key, extra, more):\n    return key"),
        ),
        "BadConnector.describe() declares 3 parameters",
    ),
    "method that is not a function": (
        connector_source("BadSpec", "BadConnector", get_persistent_key='get_persistent_key = "r"'),
        "BadConnector.get_persistent_key() is not a function",
    ),
    "all_mutations annotation not a tuple": (
        connector_source(
            "BadSpec",
            "BadConnector",
            mutate=static("def mutate(*all_mutations: int):\n    pass"),
        ),
        "BadConnector.mutate(*all_mutations): the annotation must be tuple[",
    ),
    "two connectors for one spec class": (
        connector_source("BadSpec", "Twice").replace(
            "@cocoindex.op.target_connector(spec_cls=BadSpec)\n", ""
        )
        + """
cocoindex.op.target_connector(spec_cls=BadSpec)(Twice)
cocoindex.op.target_connector(spec_cls=BadSpec)(type("Again", (Twice,), {}))
""",
        "BadSpec",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_connector(ws: Workspace, case: str) -> None:
    body, message = MALFORMED[case]
    ws.write_raw_app(
        app_source(
            {"Docs": [ExportDecl("out", "BadSpec(resource='a')")]},
            source_dir=SOURCE,
            header=BAD_SPEC + "\n" + body,
        )
    )
    # The user's traceback points at the line that registers the connector.
    lines = ws.app.read_text().splitlines()
    culprit = max(n for n, line in enumerate(lines, 1) if "target_connector(" in line)
    assert_refused(ws, message, str(ws.app), f'File "{ws.app}", line {culprit}')


@pytest.fixture
def own_registry() -> Iterator[None]:
    """Kinds registered by the test are forgotten afterwards."""
    kinds = dict(registry._kinds)
    yield
    registry._kinds.clear()
    registry._kinds.update(kinds)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_connector_is_refused_when_decorated(own_registry: None, case: str) -> None:
    """The same cases in-process: the decorator raises (a ``ValueError``, the contract's own
    ``ConnectorDefinitionError`` unless a second class claims a spec class) and registers
    nothing it refused."""
    body, message = MALFORMED[case]
    namespace: dict[str, Any] = {"__name__": "malformed_app", "cocoindex": cocotui}
    exec(compile(BAD_SPEC, "<spec>", "exec", dont_inherit=True), namespace)
    twice = case == "two connectors for one spec class"
    with pytest.raises(ValueError if twice else ConnectorDefinitionError) as caught:
        exec(compile(body, "<connector>", "exec", dont_inherit=True), namespace)
    assert message in str(caught.value)
    registered = registry.get("BadSpec")
    if twice:
        assert registered is not None and registered.connector_cls.__name__ == "Twice"
    else:
        assert registered is None


# ---------------------------------------------------------------------------------------------
# Setup states a connector declares but does not deliver

SETUP_STATE_HEADER = """
import dataclasses

class StateSpec(cocoindex.op.TargetSpec):
    resource: str

@dataclasses.dataclass
class Declared:
    resource: str
"""


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (
            static("def get_setup_state(spec):\n    return {'resource': 1}"),
            "get_setup_state() must return an instance of Declared, got dict",
        ),
        (None, "declares setup_state_cls=Declared but has no get_setup_state()"),
    ],
    ids=["get_setup_state returns the wrong type", "setup_state_cls without get_setup_state"],
)
def test_declared_setup_state_not_delivered(
    ws: Workspace, method: str | None, message: str
) -> None:
    connector = connector_source(
        "StateSpec", "StateConnector", setup_state_cls="Declared", get_setup_state=method
    )
    ws.write_raw_app(
        app_source(
            {"Docs": [ExportDecl("out", "StateSpec(resource='s')")]},
            source_dir=SOURCE,
            header=SETUP_STATE_HEADER + connector,
        )
    )
    assert_refused(ws, "Docs.out", message)


# ---------------------------------------------------------------------------------------------
# Spec fields that are not JSON


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            "{'when': datetime.datetime(2024, 1, 2)}",
            "options['when'] holds a value of type datetime",
        ),
        ("{'s': {1, 2}}", "options['s'] holds a value of type set"),
        ("{'b': b'raw'}", "options['b'] holds a value of type bytes"),
        ("{'o': object()}", "options['o'] holds a value of type object"),
        ("{(1, 2): 'tuple key'}", "options has a dict key (1, 2) of type tuple"),
        ("{'f': print}", "options['f'] holds a value of type builtin_function_or_method"),
    ],
    ids=["datetime", "set", "bytes", "object", "tuple dict key", "function"],
)
def test_spec_field_that_is_not_json(ws: Workspace, options: str, message: str) -> None:
    ws.write_raw_app(
        app_source(
            {"Docs": [ExportDecl("out", f"RecordingTarget(resource='a', options={options})")]},
            source_dir=SOURCE,
            header="import datetime",
        )
    )
    assert_refused(ws, "Docs.out", f"RecordingTarget.{message}")


def test_spec_class_field_that_is_not_json(ws: Workspace) -> None:
    ws.write_raw_app(
        app_source(
            {"Docs": [export("out", "WhenTarget", resource="a")]},
            source_dir=SOURCE,
            header="import datetime\n\n"
            + spec_source(
                "WhenTarget",
                "resource: str",
                "when: datetime.datetime = datetime.datetime(2024, 1, 2)",
            )
            + connector_source("WhenTarget", "WhenConnector"),
        )
    )
    assert_refused(ws, "Docs.out", "WhenTarget.when holds a value of type datetime")


# ---------------------------------------------------------------------------------------------
# Invalid names


@pytest.mark.parametrize(
    ("flow", "target", "message"),
    [
        ("bad-flow", "out", "Flow name 'bad-flow'"),
        ("F" * 65, "out", "is longer than 64 characters"),
        ("Docs", "out put", "Target name 'out put'"),
        ("Docs", "__hidden", "must not start with '__'"),
        ("Docs", "", "Target name must be a non-empty string"),
    ],
    ids=["flow with a dash", "flow too long", "target with a space", "target with __", "empty"],
)
def test_invalid_names(ws: Workspace, flow: str, target: str, message: str) -> None:
    text = app_source({"Placeholder": [export("placeholder", resource="a")]}, source_dir=SOURCE)
    text = text.replace("name='Placeholder'", f"name={flow!r}").replace(
        "'placeholder'", repr(target)
    )
    ws.write_raw_app(text)
    assert_refused(ws, message, str(ws.app))


def test_invalid_app_name(ws: Workspace) -> None:
    with untouched(ws):
        assert_clear_error(
            ws.cli("apply", ws.app, "--yes", "--app-name", "../escape"), "app name '../escape'"
        )


# ---------------------------------------------------------------------------------------------
# Flow declarations that cannot be exported


ROWS_CONNECTOR = (
    """
import dataclasses

@dataclasses.dataclass
class Row:
    content: str
    title: str

"""
    + spec_source("RowsTarget")
    + connector_source(
        "RowsTarget",
        "RowsConnector",
        mutate=static(
            "def mutate(*all_mutations: tuple[RowsTarget, dict[str, Row | None]]):\n    pass"
        ),
    )
)

COLLECTS_NOTHING = """\
import cocotui as cocoindex
from recording_connector import RecordingTarget

@cocoindex.flow_def(name="Docs")
def docs(flow_builder, data_scope):
    data_scope["documents"] = flow_builder.add_source(
        cocoindex.sources.LocalFile(path="../source"))
    out = data_scope.add_collector()
    out.export("out", RecordingTarget(resource="a"), primary_key_fields=["filename"])
"""

#: case -> (the app's flows, extra definitions, what the error says)
DECLARATIONS: dict[str, tuple[dict[str, list[ExportDecl]], str, tuple[str, ...]]] = {
    "primary key field never collected": (
        {"Docs": [ExportDecl("out", "RecordingTarget(resource='a')", primary_key_fields=["id"])]},
        "",
        ("Docs.out", "primary key field 'id' is not collected"),
    ),
    "no primary key fields": (
        {"Docs": [ExportDecl("out", "RecordingTarget(resource='a')", primary_key_fields=[])]},
        "",
        ("primary_key_fields must be given",),
    ),
    "one target exported twice in a flow": (
        {"Docs": [export("out", resource="a"), export("again", resource="a")]},
        "",
        ("Docs.out and Docs.again", "exported once", '"a"'),
    ),
    "one target exported by two flows": (
        {"A": [export("one", resource="same")], "B": [export("two", resource="same")]},
        "",
        ("A.one and B.two", "exported once", '"same"'),
    ),
    "spec class without a connector": (
        {"Docs": [ExportDecl("out", "Orphan(resource='a')")]},
        spec_source("Orphan"),
        ("no connector is registered for spec class Orphan",),
    ),
    "value dataclass field never collected": (
        {"Docs": [export("out", "RowsTarget", resource="a")]},
        ROWS_CONNECTOR,
        ("Docs.out", "'title'", "Row"),
    ),
}


@pytest.mark.parametrize("case", list(DECLARATIONS))
def test_flow_declaration_that_cannot_be_exported(ws: Workspace, case: str) -> None:
    flows, header, parts = DECLARATIONS[case]
    ws.write_raw_app(app_source(flows, source_dir=SOURCE, header=header))
    assert_refused(ws, *parts)


def test_collector_that_collects_nothing(ws: Workspace) -> None:
    ws.write_raw_app(COLLECTS_NOTHING)
    assert_refused(ws, "Docs.out")


# ---------------------------------------------------------------------------------------------
# Duplicate keys within one source row: the last value wins, with a warning


def test_duplicate_key_within_one_source_row(ws: Workspace) -> None:
    ws.write_raw_app(
        """\
        import cocotui as cocoindex
        from recording_connector import RecordingTarget

        @cocoindex.op.function
        def versions(text):
            return [{"text": text + " (first)"}, {"text": text}]

        @cocoindex.flow_def(name="Docs")
        def docs(flow_builder, data_scope):
            data_scope["documents"] = flow_builder.add_source(
                cocoindex.sources.LocalFile(path="../source"))
            out = data_scope.add_collector()
            with data_scope["documents"].row() as doc:
                doc["versions"] = doc["content"].transform(versions)
                with doc["versions"].row() as version:
                    out.collect(filename=doc["filename"], content=version["text"])
            out.export("out", RecordingTarget(resource="a"), primary_key_fields=["filename"])
        """
    )
    ws.write_source_file("c.txt", "gamma")
    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 0, result.stderr
    warning = (
        "warning: key ('c.txt',) of target Docs.out is collected more than once from source "
        "row c.txt; the last value collected is kept"
    )
    assert warning in result.stderr
    assert "error" not in result.stderr
    rows = json.loads((ws.resources / "a.rows.json").read_text())
    assert rows['"c.txt"'] == {"content": "gamma"}  # the last one
    events = [
        json.loads(line)
        for line in ws.cli("update", ws.app, "--json", "--reexport").stdout.splitlines()
    ]
    duplicates = [e for e in events if e["event"] == "key.duplicate"]
    assert {(e["rows"][0], e["same_row"]) for e in duplicates} == {
        ("a.txt", True),
        ("b.txt", True),
        ("c.txt", True),
    }


# ---------------------------------------------------------------------------------------------
# Apps that fail to load


USER_TRACEBACK = """\
import cocotui as cocoindex


def load_settings():
    return {}["missing"]


SETTINGS = load_settings()
"""

#: case -> (the app's source, what the error says; ``{app}`` is the app's path)
LOAD_FAILURES = {
    "raises": ("import cocotui\nraise OSError('no disk')\n", ("OSError: no disk",)),
    "raises in a function": (
        USER_TRACEBACK,
        (
            "KeyError: 'missing'",
            'File "{app}", line 5, in load_settings',
            'File "{app}", line 8, in <module>',
        ),
    ),
    "syntax error": (
        "import cocotui\n\ndef broken(:\n    pass\n",
        ("SyntaxError", "{app}", "line 3"),
    ),
    "no flows": ("import cocotui\n", ("defines no flow",)),
    "missing import": (
        "import no_such_module_anywhere\n",
        ("No module named 'no_such_module_anywhere'",),
    ),
    "sys.exit": ("import sys\nsys.exit(3)\n", ("called sys.exit(3) while being imported",)),
    "bare sys.exit": ("import sys\nsys.exit()\n", ("called sys.exit(None) while being imported",)),
    "flow raises": (
        "import cocotui\n\n@cocotui.flow_def(name='Docs')\ndef docs(fb, ds):\n"
        "    raise ValueError('cannot build')\n",
        ("error while building flow 'Docs'",),
    ),
}


@pytest.mark.parametrize("case", list(LOAD_FAILURES))
def test_app_that_fails_to_load(ws: Workspace, case: str) -> None:
    source, parts = LOAD_FAILURES[case]
    ws.write_raw_app(source)
    stderr = assert_refused(ws, *(part.format(app=ws.app) for part in parts))
    # Only the user's frames are shown, not the import machinery that ran the app.
    assert "importlib" not in stderr and "loader.py" not in stderr, stderr


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_app_file_missing_or_module_unknown(ws: Workspace, command: str) -> None:
    yes = ["--yes"] if command == "apply" else []
    with untouched(ws):
        assert_clear_error(ws.cli(command, ws.root / "nope.py", *yes), str(ws.root / "nope.py"))
        assert_clear_error(
            ws.cli(command, "no_such_app_module", *yes), "cannot find app 'no_such_app_module'"
        )


# ---------------------------------------------------------------------------------------------
# A damaged state file: refused, named, never overwritten


STATE_DAMAGE = {
    "truncated": (lambda raw: raw[: len(raw) // 2], "will not overwrite it"),
    "cut before its end marker": (
        lambda raw: raw[: raw.rindex(b"# end of cocotui state")],
        "truncated",
    ),
    "not TOML": (lambda raw: raw.replace(b'flow = "Docs"', b'flow = "Docs', 1), "not valid TOML"),
    "not UTF-8": (lambda raw: b"\xff\xfe" + raw, "not valid TOML"),
    "a required key removed": (lambda raw: raw.replace(b'flow = "Docs"\n', b"", 1), "damaged"),
    "a wrong type": (lambda raw: raw.replace(b"staged = []", b'staged = "x"', 1), "damaged"),
    "an unknown value tag": (
        lambda raw: re.sub(rb'\nkey = "a"', b'\nkey = { "$" = "weird" }', raw, count=1),
        "unknown encoded value tag",
    ),
    "a newer schema version": (
        lambda raw: raw.replace(b"schema_version = 1", b"schema_version = 99", 1),
        "upgrade cocotui",
    ),
    "no schema version": (
        lambda raw: raw.replace(b"schema_version = 1\n", b"", 1),
        "the file is not cocotui's",
    ),
}


@pytest.mark.parametrize("case", list(STATE_DAMAGE))
def test_damaged_state_file(ws: Workspace, case: str) -> None:
    damage, message = STATE_DAMAGE[case]
    damaged = damage(ws.state_file.read_bytes())
    assert damaged != ws.state_file.read_bytes()
    ws.state_file.write_bytes(damaged)
    with untouched(ws):
        for command in (("apply", ws.app, "--yes"), ("update", ws.app), ("plan", ws.app)):
            assert_clear_error(ws.cli(*command), str(ws.state_file), message)


def test_state_file_that_cannot_be_read(ws: Workspace) -> None:
    # Tests run as root, where chmod 000 does not stop a read: a directory in its place does.
    saved = ws.state_file.read_bytes()
    ws.state_file.unlink()
    ws.state_file.mkdir()
    with untouched(ws):
        assert_clear_error(ws.apply(), f"cannot read state file {ws.state_file}")
    ws.state_file.rmdir()
    ws.state_file.write_bytes(saved)
    assert pending(ws) == []


def test_state_directory_that_is_a_file(ws: Workspace) -> None:
    blocker = ws.root.parent / "not-a-directory"
    blocker.write_text("a file")
    result = ws.cli("apply", ws.app, "--yes", "--state-dir", blocker)
    assert_clear_error(result, str(blocker), "Not a directory")
    assert blocker.read_text() == "a file"


# ---------------------------------------------------------------------------------------------
# The tracking database: locked by another process, corrupt, newer, not a file


def test_tracking_database_locked_by_another_writer(ws: Workspace) -> None:
    ws.write_source_file("c.txt", "gamma")
    holder = sqlite3.connect(ws.tracking_file, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        holder.execute("UPDATE meta SET value = value")
        before = snapshot(ws)
        assert_clear_error(
            ws.cli("update", ws.app, "--workers", "1"), str(ws.tracking_file), "locked"
        )
        assert snapshot(ws)["targets"] == before["targets"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert '"c.txt"' in json.loads((ws.resources / "a.rows.json").read_text())


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("garbage", "is unusable"),
        ("newer", "has schema version 2"),
        ("directory", "is unusable"),
    ],
)
def test_tracking_database_unusable(ws: Workspace, damage: str, message: str) -> None:
    ws.write_source_file("c.txt", "gamma")
    if damage == "garbage":
        ws.tracking_file.write_bytes(b"this is not a database\x00" * 200)
    elif damage == "newer":
        with contextlib.closing(sqlite3.connect(ws.tracking_file)) as db, db:
            db.execute("UPDATE meta SET value = '2' WHERE name = 'schema_version'")
    else:
        ws.tracking_file.unlink()
        ws.tracking_file.mkdir()
    with untouched(ws):
        assert_clear_error(
            ws.cli("update", ws.app, "--workers", "1"), str(ws.tracking_file), message
        )


# ---------------------------------------------------------------------------------------------
# A connector raising in each method, or returning the wrong type


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("get_persistent_key", "FaultyConnector.get_persistent_key() raised RuntimeError"),
        ("get_setup_state", "FaultyConnector.get_setup_state() raised RuntimeError"),
        ("get_setup_state:wrong-type", "must return an instance of FaultyState, got dict"),
        ("get_persistent_key:set", "holds a value of type set"),
        ("get_persistent_key:object", "holds a value of type Opaque"),
        ("get_persistent_key:bytes", "holds a value of type bytes"),
    ],
    ids=lambda value: value.split(" ")[0],
)
def test_connector_fails_while_the_app_loads(faulty: Workspace, fault: str, message: str) -> None:
    with untouched(faulty):
        for command in ("plan", "apply", "update"):
            args = [command, faulty.app] + (["--yes"] if command == "apply" else [])
            stderr = assert_clear_error(faulty.cli(*args, FAULT=fault), "Docs.out", message)
            assert stderr.startswith("error: target Docs.out: "), stderr
            if ":" not in fault:  # the connector's own traceback follows, in the app's file
                assert "broke on purpose" in stderr
                assert f'File "{faulty.app}"' in stderr, stderr


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            "check_state_compatibility",
            "FaultyConnector.check_state_compatibility() raised RuntimeError",
        ),
        ("check_state_compatibility:garbage", "must return a TargetStateCompatibility"),
    ],
    ids=["raises", "returns garbage"],
)
def test_connector_fails_while_planning(faulty: Workspace, fault: str, message: str) -> None:
    with untouched(faulty):
        for command in ("plan", "apply"):
            args = [command, faulty.app] + (["--yes"] if command == "apply" else [])
            assert_clear_error(faulty.cli(*args, FAULT=fault, FAULTY_VERSION="2"), message)


def test_connector_describe_fails(faulty: Workspace) -> None:
    """``describe`` is only a label: its failure is shown in its place, nothing fails."""
    with untouched(faulty):
        result = faulty.cli("ls", faulty.app, FAULT="describe")
        assert result.returncode == 0, result.stderr
        assert "describe() failed: RuntimeError: describe broke on purpose" in result.stdout


def test_connector_apply_setup_change_fails(faulty: Workspace) -> None:
    before = snapshot(faulty)
    result = faulty.cli(
        "apply", faulty.app, "--yes", FAULT="apply_setup_change", FAULTY_VERSION="2"
    )
    assert_clear_error(result, "FaultyConnector.apply_setup_change() raised RuntimeError")
    assert "stays staged" in result.stderr
    after = snapshot(faulty)
    assert after["targets"] == before["targets"] and after["tracking"] == before["tracking"]
    # The same change is pending, and rolls forward once the connector works.
    assert pending(faulty, FAULTY_VERSION="2") == [("out", "update")]
    assert faulty.cli("apply", faulty.app, "--yes", FAULTY_VERSION="2").returncode == 0
    assert json.loads((faulty.resources / "f.json").read_text())["version"] == 2
    assert pending(faulty, FAULTY_VERSION="2") == []


@pytest.mark.parametrize("method", ["prepare", "mutate"])
def test_connector_fails_on_the_data_path(faulty: Workspace, method: str) -> None:
    faulty.write_source_file("a.txt", "alpha, changed")
    with untouched(faulty):
        result = faulty.cli("update", faulty.app, "--workers", "1", FAULT=method)
        assert_clear_error(
            result, "error: row a.txt of Docs.documents", f"{method} broke on purpose"
        )
    result = faulty.cli("update", faulty.app, "--workers", "1")
    assert result.returncode == 0, result.stderr  # retried, and written
    rows = json.loads((faulty.resources / "f.rows.json").read_text())
    assert rows["a.txt"] == {"content": "alpha, changed"}


# ---------------------------------------------------------------------------------------------
# Untrusted keys for the files connector: the row fails, nothing is written outside


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("../escape", "contains a '..' part"),
        ("sub/../../escape", "contains a '..' part"),
        ("/tmp/cocotui-absolute-key", "is an absolute path"),
        (".cocotui-written", "names a file the target keeps for itself"),
        ("link/escape", "resolves outside"),
    ],
    ids=["parent", "nested parent", "absolute", "manifest", "symlink"],
)
def test_untrusted_key_for_the_files_connector(files_ws: Workspace, key: str, message: str) -> None:
    ws = files_ws
    out = ws.root.parent / "out"
    outside = ws.root.parent / "outside"
    outside.mkdir()
    (out / "link").symlink_to(outside)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    ws.write_source_file("evil.txt", key + "\n")
    ws.write_source_file("fine.txt", "fine\n")
    result = ws.cli("update", ws.app, "--workers", "1")
    assert_clear_error(result, "error: row evil.txt of Docs.documents", repr(key), message)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after.pop(out / "fine") == b"fine.txt"  # the other row is written
    after.pop(out / ".cocotui-written")
    before.pop(out / ".cocotui-written")
    assert after == before
    assert list(outside.iterdir()) == []
    assert not Path("/tmp/cocotui-absolute-key").exists()
    assert not (ws.root.parent / "escape").exists()


def test_key_too_long_for_the_filesystem(files_ws: Workspace) -> None:
    """The row fails; its name, recorded before the write, must not block the drop (or the
    delete of the row) later: found by this catalogue, the drop failed for good."""
    ws = files_ws
    key = "x" * 300
    ws.write_source_file("long.txt", key + "\n")
    result = ws.cli("update", ws.app, "--workers", "1")
    assert_clear_error(result, "error: row long.txt of Docs.documents", "File name too long")
    (ws.source_dir / "long.txt").unlink()
    result = ws.cli("update", ws.app, "--workers", "1")
    assert result.returncode == 0, result.stderr
    result = ws.cli("drop", ws.app, "--yes")
    assert result.returncode == 0, result.stderr
    assert not (ws.root.parent / "out").exists()


# ---------------------------------------------------------------------------------------------
# A source directory that is missing, or vanishes during a run: nothing is deleted

VANISHING = (
    """
import os
from pathlib import Path

"""
    + spec_source("VanishTarget")
    + connector_source(
        "VanishTarget",
        "VanishConnector",
        mutate=static(
            """
            def mutate(*all_mutations):
                path = Path(os.environ["COCOTUI_TEST_RESOURCES"]) / "vanish.json"
                rows = json.loads(path.read_text()) if path.exists() else {}
                for _, mutations in all_mutations:
                    for key, value in mutations.items():
                        if value is None:
                            rows.pop(key, None)
                        else:
                            rows[key] = value
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(rows))
                if os.environ.get("VANISH"):  # the source is unmounted under the running update
                    source = Path("../source")
                    if source.exists():
                        source.rename("../source-unmounted")
            """
        ),
    )
)


def test_source_directory_missing(ws: Workspace) -> None:
    shutil.move(ws.source_dir, ws.root.parent / "elsewhere")
    with untouched(ws):
        assert_clear_error(
            ws.cli("update", ws.app, "--workers", "1"), "Docs.documents", "cannot list rows"
        )


def test_source_directory_vanishes_during_a_run(ws: Workspace) -> None:
    ws.write_raw_app(
        app_source(
            {"Docs": [ExportDecl("out", "VanishTarget(resource='v')")]},
            source_dir=SOURCE,
            header="import json\n" + VANISHING,
        )
    )
    files = {f"f{i:02d}.txt": f"file {i}" for i in range(40)}
    for name, content in files.items():
        ws.write_source_file(name, content)
    assert ws.apply().returncode == 0
    assert ws.cli("update", ws.app, "--workers", "1").returncode == 0
    stored = json.loads((ws.resources / "vanish.json").read_text())
    assert len(stored) == 42
    for name in files:  # every file changes: the next run reads them all again
        ws.write_source_file(name, files[name] + " (v2)")

    result = ws.cli("update", ws.app, "--workers", "1", "--batch-rows", "5", VANISH="1")
    assert result.returncode == 1
    assert "vanished during the run; not deleted" in result.stderr
    assert "Traceback" not in result.stderr
    after = json.loads((ws.resources / "vanish.json").read_text())
    assert set(after) == set(stored)  # nothing deleted
    # Back in place: the next run finishes the job.
    (ws.root.parent / "source-unmounted").rename(ws.source_dir)
    assert ws.cli("update", ws.app, "--workers", "1").returncode == 0
    final = json.loads((ws.resources / "vanish.json").read_text())
    assert final == {
        **{n: {"content": c} for n, c in FILES.items()},
        **{n: {"content": c + " (v2)"} for n, c in files.items()},
    }
