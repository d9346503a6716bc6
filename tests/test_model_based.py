"""Model-based testing (issue 7, item 2): hypothesis drives random sequences of source edits and
deletes, spec changes, exports added / removed / renamed, persistent-key and primary-key
changes, value-field changes, connector failures (injected, then healed) and runs (apply +
update), through the Engine API in-process. After every run each target must equal a simple
reference model: per export, ``{key: value}`` as the source files and the flow imply — except,
while a failure is injected, what the failure kept from being written, which must be exactly
what the target held before.

The connector (``model_target.py``, written beside the app) keeps its rows in memory and
converges on the desired setup as a well-behaved connector must: a resource whose primary key
fields change is emptied, a dropped one removed.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cocotui.engine.apply import ApplyError
from cocotui.engine.facade import Engine
from cocotui.engine.update import UpdateOptions

CONNECTOR = '''\
"""An in-memory connector for the model-based test (see test_model_based.py)."""

import dataclasses
from typing import Any

import cocotui as cocoindex

#: resource -> {key: value dict}: what the "physical" targets hold.
STORE: dict[str, dict[Any, dict[str, Any]]] = {}
#: resource -> primary key fields the resource is laid out for.
LAYOUT: dict[str, tuple[str, ...]] = {}
#: Method names that raise; ``FAIL_FILES``: mutate raises for a batch touching these files.
FAIL: set[str] = set()
FAIL_FILES: set[str] = set()
#: (method, resource) of every side-effecting call.
CALLS: list[tuple[str, Any]] = []


class Injected(RuntimeError):
    pass


class ModelTarget(cocoindex.op.TargetSpec):
    resource: str
    version: int = 1


@dataclasses.dataclass(frozen=True)
class ModelState:
    resource: str
    version: int
    key_fields: list[str]
    value_fields: list[str]


def _filename(key: Any) -> str:
    return key[-1] if isinstance(key, tuple) else key


@cocoindex.op.target_connector(spec_cls=ModelTarget, setup_state_cls=ModelState)
class ModelConnector:
    @staticmethod
    def get_persistent_key(spec: ModelTarget, target_name: str) -> str:
        return spec.resource

    @staticmethod
    def get_setup_state(spec, key_fields_schema, value_fields_schema) -> ModelState:
        return ModelState(
            spec.resource,
            spec.version,
            [f.name for f in key_fields_schema],
            [f.name for f in value_fields_schema],
        )

    @staticmethod
    def check_state_compatibility(desired: ModelState, existing: ModelState):
        if desired.key_fields != existing.key_fields:
            return cocoindex.op.TargetStateCompatibility.NOT_COMPATIBLE
        return cocoindex.op.TargetStateCompatibility.PARTIALLY_COMPATIBLE

    @staticmethod
    def apply_setup_change(key: str, previous, current) -> None:
        CALLS.append(("apply_setup_change", key))
        if "apply_setup_change" in FAIL:
            raise Injected(f"cannot set up {key}")
        if current is None:
            STORE.pop(key, None)
            LAYOUT.pop(key, None)
            return
        # Converge on what is there, whatever ``previous`` says.
        if LAYOUT.get(key) != tuple(current.key_fields):
            STORE[key] = {}
            LAYOUT[key] = tuple(current.key_fields)
        STORE.setdefault(key, {})

    @staticmethod
    def prepare(spec: ModelTarget) -> ModelTarget:
        CALLS.append(("prepare", spec.resource))
        if "prepare" in FAIL:
            raise Injected(f"cannot prepare {spec.resource}")
        return spec

    @staticmethod
    def mutate(*all_mutations: tuple[ModelTarget, dict[Any, dict[str, Any] | None]]) -> None:
        CALLS.append(("mutate", [spec.resource for spec, _ in all_mutations]))
        if "mutate" in FAIL:
            raise Injected("mutate fails")
        for spec, rows in all_mutations:
            bad = [k for k in rows if _filename(k) in FAIL_FILES]
            if bad:
                raise Injected(f"cannot write {bad[0]!r}")
        for spec, rows in all_mutations:
            assert spec.resource in STORE, f"mutate on {spec.resource}, which was never set up"
            target = STORE[spec.resource]
            for key, value in rows.items():
                if value is None:
                    target.pop(key, None)
                else:
                    target[key] = dict(value)
'''

APP = """\
import json
from pathlib import Path

import cocotui as cocoindex
from model_target import ModelTarget

CONFIG = json.loads((Path(__file__).resolve().parent / "config.json").read_text())


@cocoindex.op.function
def upper(text):
    return text.upper()


@cocoindex.op.function
def first(name):
    return name[:1]


@cocoindex.flow_def(name="Model")
def model_flow(flow_builder, data_scope):
    source = cocoindex.sources.LocalFile(path=CONFIG["source"])
    data_scope["files"] = flow_builder.add_source(source)
    out = data_scope.add_collector()
    with data_scope["files"].row() as f:
        fields = {"filename": f["filename"], "first": f["filename"].transform(first),
                  "content": f["content"]}
        if CONFIG["upper"]:
            fields["upper"] = f["content"].transform(upper)
        out.collect(**fields)
    for e in CONFIG["exports"]:
        out.export(e["name"], ModelTarget(resource=e["resource"], version=e["version"]),
                   primary_key_fields=e["keys"])
"""

NAMES = ["a.txt", "b.txt", "c.md", "d/e.txt", "d/f.txt", "g.txt"]
CONTENTS = ["", "x", "y", "hello", "Hello, World", "ünïcödé", "two\nlines\n", "x" * 40]
EXPORT_NAMES = ["t1", "t2", "t3"]
RESOURCES = ["r1", "r2", "r3"]
KEY_CHOICES = [("filename",), ("first", "filename")]
FAILURES = ["apply_setup_change", "mutate", "prepare", *(f"file:{n}" for n in NAMES[:3])]


#: What the runs of a test went through (checked at its end, so the test cannot pass vacuously).
STATS: dict[str, int] = {}


def count(what: str) -> None:
    STATS[what] = STATS.get(what, 0) + 1


def connector() -> ModuleType:
    return sys.modules["model_target"]


def make_machine(app_dir: Path) -> type[RuleBasedStateMachine]:
    class EngineModel(RuleBasedStateMachine):
        """The engine against a reference model of what each target should hold."""

        def __init__(self) -> None:
            super().__init__()
            self.work = Path(tempfile.mkdtemp(prefix="model-", dir=app_dir.parent))
            self.source = self.work / "source"
            self.source.mkdir()
            self.state_dir = self.work / "state"
            #: The reference model: the source files and the app's exports.
            self.files: dict[str, str] = {}
            self.exports: list[dict[str, Any]] = []
            self.upper = False
            #: resource -> the setup the connector was last successfully given.
            self.setup: dict[str, tuple[Any, ...]] = {}
            self.failure: str | None = None
            self.clock = 1_700_000_000_000_000_000
            self.runs = 0
            count("examples")
            if "model_target" in sys.modules:
                module = connector()
                for table in (module.STORE, module.LAYOUT, module.FAIL, module.FAIL_FILES):
                    table.clear()
            self._write_config()

        def teardown(self) -> None:
            shutil.rmtree(self.work, ignore_errors=True)

        # -- the world ---------------------------------------------------------------------

        def _write_config(self) -> None:
            config = {"source": str(self.source), "upper": self.upper, "exports": self.exports}
            (app_dir / "config.json").write_text(json.dumps(config))

        def _write(self, name: str, content: str) -> None:
            path = self.source / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8", newline="")
            # Each write gets a later modification time: two writes within one tick of the
            # filesystem clock would otherwise look alike when their sizes are equal.
            self.clock += 1_000_000
            os.utime(path, ns=(self.clock, self.clock))
            self.files[name] = content

        def _delete(self, name: str) -> None:
            if name in self.files:
                (self.source / name).unlink()
                del self.files[name]

        @initialize(
            files=st.dictionaries(st.sampled_from(NAMES), st.sampled_from(CONTENTS), max_size=4),
            keys=st.sampled_from(KEY_CHOICES),
            two=st.booleans(),
            failure=st.none() | st.sampled_from(FAILURES),
        )
        def start(
            self, files: dict[str, str], keys: tuple[str, ...], two: bool, failure: str | None
        ) -> None:
            for name, content in files.items():
                self._write(name, content)
            self.exports = [{"name": "t1", "resource": "r1", "version": 1, "keys": keys}]
            if two:
                self.exports.append(
                    {"name": "t2", "resource": "r2", "version": 1, "keys": ("filename",)}
                )
            self._write_config()
            self.run()
            self.failure = failure  # half the examples start with a failing connector

        @rule(
            edits=st.lists(
                st.tuples(st.sampled_from(NAMES), st.none() | st.sampled_from(CONTENTS)),
                min_size=1,
                max_size=4,
            )
        )
        def edit_sources(self, edits: list[tuple[str, str | None]]) -> None:
            """Files written (``content``) or deleted (``None``)."""
            for name, content in edits:
                if content is None:
                    self._delete(name)
                else:
                    self._write(name, content)

        @rule(
            change=st.sampled_from(
                ["add", "remove", "rename", "spec", "persistent key", "primary key"]
            ),
            data=st.data(),
        )
        def change_exports(self, change: str, data: st.DataObject) -> None:
            """An export added, removed or renamed; its spec, persistent key or primary key
            fields changed."""
            names = {e["name"] for e in self.exports}
            resources = {e["resource"] for e in self.exports}
            free_names = [n for n in EXPORT_NAMES if n not in names]
            free_resources = [r for r in RESOURCES if r not in resources]
            if change == "add" or not self.exports:
                if free_names and free_resources:
                    self.exports.append(
                        {
                            "name": data.draw(st.sampled_from(free_names)),
                            "resource": data.draw(st.sampled_from(free_resources)),
                            "version": 1,
                            "keys": data.draw(st.sampled_from(KEY_CHOICES)),
                        }
                    )
            elif change == "remove":
                del self.exports[data.draw(st.integers(0, len(self.exports) - 1))]
            else:
                export = data.draw(st.sampled_from(self.exports))
                if change == "rename" and free_names:
                    export["name"] = data.draw(st.sampled_from(free_names))
                elif change == "spec":
                    export["version"] += 1
                elif change == "persistent key" and free_resources:
                    export["resource"] = data.draw(st.sampled_from(free_resources))
                elif change == "primary key":
                    export["keys"] = data.draw(st.sampled_from(KEY_CHOICES))
            self._write_config()

        @rule()
        def toggle_value_field(self) -> None:
            """A value field collected, or no longer."""
            self.upper = not self.upper
            self._write_config()

        @rule(failure=st.sampled_from(FAILURES))
        def inject_failure(self, failure: str) -> None:
            self.failure = failure

        @precondition(lambda self: self.failure is not None)
        @rule()
        def heal(self) -> None:
            self.failure = None

        # -- the reference model -----------------------------------------------------------

        def _fields(self) -> list[str]:
            return ["filename", "first", "content", *(["upper"] if self.upper else [])]

        def _desired_setup(self, export: dict[str, Any]) -> tuple[Any, ...]:
            keys = tuple(export["keys"])
            values = tuple(f for f in self._fields() if f not in keys)
            return (export["version"], keys, values)

        def _row_key(self, export: dict[str, Any], name: str) -> Any:
            return name if tuple(export["keys"]) == ("filename",) else (name[:1], name)

        def expected(self, export: dict[str, Any]) -> dict[Any, dict[str, Any]]:
            rows = {}
            keys = tuple(export["keys"])
            for name, content in self.files.items():
                fields = {"filename": name, "first": name[:1], "content": content}
                if self.upper:
                    fields["upper"] = content.upper()
                rows[self._row_key(export, name)] = {
                    f: v for f, v in fields.items() if f in self._fields() and f not in keys
                }
            return rows

        # -- a run -------------------------------------------------------------------------

        def _arm(self, module: ModuleType) -> None:
            module.FAIL.clear()
            module.FAIL_FILES.clear()
            if self.failure is None:
                return
            if self.failure.startswith("file:"):
                module.FAIL_FILES.add(self.failure.removeprefix("file:"))
            else:
                module.FAIL.add(self.failure)

        @rule()
        def run(self) -> None:
            """``apply`` then ``update``, as a fresh process would; then compare."""
            self.runs += 1
            engine = Engine.open(str(app_dir / "model_app.py"), state_dir=self.state_dir)
            try:
                module = connector()
                self._arm(module)
                before = copy.deepcopy(module.STORE)
                desired = {e["resource"]: self._desired_setup(e) for e in self.exports}
                pending = {r for r, s in desired.items() if self.setup.get(r) != s}
                pending |= set(self.setup) - set(desired)
                plan = engine.plan()
                planned = {c.key for c in plan.pending}
                assert planned == pending, (planned, pending)
                try:
                    engine.apply(plan)
                    applied = True
                except ApplyError as exc:
                    applied = False
                    assert self.failure == "apply_setup_change" and pending
                    # The change that failed is staged: the resource may be in either state,
                    # so the next apply rolls it forward (even back to where it was).
                    assert exc.change.key in pending
                    self.setup[exc.change.key] = ("uncertain",)
                count("runs")
                count(f"failure {self.failure}" if self.failure else "healthy runs")
                if pending:
                    count("runs with setup changes" if applied else "failed applies")
                if applied:
                    self.setup = desired
                    pending = set()
                after_apply = copy.deepcopy(module.STORE)
                result = engine.update(UpdateOptions(batch_rows=2))
                assert sorted(result.skipped) == sorted(
                    f"Model.{e['name']}" for e in self.exports if e["resource"] in pending
                )
                self._check(module.STORE, before, after_apply, pending)
                if any(store for store in module.STORE.values()):
                    count("runs with rows in a target")
                if self.failure is None:
                    assert result.errors == 0
                    self._check_tracking(engine)
                    module.CALLS.clear()
                    again = engine.update()
                    assert again.errors == 0
                    assert [c for c in module.CALLS if c[0] == "mutate"] == []
            finally:
                engine.close()
                module = sys.modules.get("model_target")
                if module is not None:
                    module.FAIL.clear()
                    module.FAIL_FILES.clear()

        def _check(
            self,
            store: dict[str, dict[Any, Any]],
            before: dict[str, dict[Any, Any]],
            after_apply: dict[str, dict[Any, Any]],
            pending: set[str],
        ) -> None:
            desired = {e["resource"]: e for e in self.exports}
            for resource in sorted(set(RESOURCES)):
                export = desired.get(resource)
                if resource in pending:
                    # The apply failed: nothing of this resource changed.
                    assert store.get(resource) == before.get(resource), resource
                    continue
                if export is None:
                    assert resource not in store, f"{resource} should have been dropped"
                    continue
                want = self.expected(export)
                if self.failure in ("mutate", "prepare"):
                    want = after_apply.get(resource, {})
                elif self.failure is not None and self.failure.startswith("file:"):
                    failing = self.failure.removeprefix("file:")
                    key = self._row_key(export, failing)
                    want = dict(want)
                    want.pop(key, None)
                    kept = after_apply.get(resource, {}).get(key)
                    if kept is not None:
                        want[key] = kept
                assert store.get(resource) == want, (resource, export, self.failure)

        def _check_tracking(self, engine: Engine) -> None:
            for target in engine.targets:
                count = engine.tracking.key_count(target.identity)
                assert count == len(self.files), (target.name, count, len(self.files))

    return EngineModel


def _app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "model_target.py").write_text(CONNECTOR)
    (app_dir / "model_app.py").write_text(textwrap.dedent(APP))
    return app_dir


def test_model_replays_an_interrupted_drop_then_a_recreate(
    tmp_path: Path, in_process_app: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sequence the crash torture found (and random sequences rarely hit): a drop fails in
    the connector, a source file is deleted, the export comes back. The target may still hold
    the deleted file's row: it must be deleted, not forgotten."""
    machine = make_machine(_app_dir(tmp_path, monkeypatch))()
    try:
        machine.start(
            files={"a.txt": "x", "b.txt": "y"}, keys=("filename",), two=False, failure=None
        )
        removed = machine.exports.pop()
        machine._write_config()
        machine.inject_failure("apply_setup_change")
        machine.run()  # the drop fails: staged
        machine.edit_sources([("a.txt", None)])
        machine.heal()
        machine.exports.append(removed)
        machine._write_config()
        machine.run()  # created again: a.txt's row must be gone
        assert connector().STORE["r1"] == {"b.txt": {"first": "b", "content": "y"}}
    finally:
        machine.teardown()


def test_engine_matches_the_reference_model(
    tmp_path: Path, in_process_app: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = make_machine(_app_dir(tmp_path, monkeypatch))
    STATS.clear()
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=int(os.environ.get("MODEL_EXAMPLES", "30")),
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print(f"model-based runs: {STATS}")
    for what in ("healthy runs", "runs with setup changes", "runs with rows in a target"):
        assert STATS.get(what, 0) >= 10, STATS
    assert sum(n for what, n in STATS.items() if what.startswith("failure")) >= 3, STATS
