"""The spec + executor style of functions (``op.FunctionSpec`` with ``@op.executor_class``) and
``async def`` functions (issue 10, item 6)."""

from __future__ import annotations

import inspect
import typing

import pytest
import update_helpers as h
from conftest import Workspace

from cocotui import op
from cocotui.flow.loader import AppLoadError
from cocotui.op_function import (
    FunctionDefinitionError,
    function_identity,
    resolve_transform,
)
from cocotui.value_types import MISSING, function_return_annotation


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


EXECUTOR_HEADER = """
class Decorate(cocoindex.op.FunctionSpec):
    prefix: str
    suffix: str = "!"

@cocoindex.op.executor_class(behavior_version=1)
class DecorateExecutor:
    spec: Decorate

    def prepare(self):
        mem_connector.CALLS.append(("exec_prepare", (self.spec.prefix,)))
        self.ready = True

    def __call__(self, text: str) -> str:
        assert self.ready
        mem_connector.CALLS.append(("decorate", (text,)))
        return self.spec.prefix + text + self.spec.suffix
"""


def executor_app(ws: Workspace, spec: str = 'Decorate(prefix="<")') -> None:
    h.flow_app(
        ws,
        rows=f'doc["decorated"] = doc["content"].transform({spec})',
        collect='filename=doc["filename"], decorated=doc["decorated"]',
        header=EXECUTOR_HEADER,
    )


def test_executor_runs_with_its_spec_and_is_prepared_once(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "alpha", "b.md": "beta", "c.md": "gamma"})
    executor_app(ws)
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    assert h.store() == {
        "a.md": {"decorated": "<alpha!"},
        "b.md": {"decorated": "<beta!"},
        "c.md": {"decorated": "<gamma!"},
    }
    assert h.calls("exec_prepare") == [("<",)]
    assert len(h.calls("decorate")) == 3


def test_changed_spec_reevaluates_rows(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "alpha", "b.md": "beta"})
    executor_app(ws)
    h.apply_all(ws)
    assert h.update(ws).result.ok
    assert h.update(ws).result.ok
    assert h.calls("decorate") == []  # nothing changed

    executor_app(ws, 'Decorate(prefix="<", suffix="?")')
    h.update(ws)
    assert h.sent() == {"a.md": {"decorated": "<alpha?"}, "b.md": {"decorated": "<beta?"}}


def test_two_uses_of_one_spec_class_get_their_own_executor(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "alpha"})
    h.flow_app(
        ws,
        rows='doc["x"] = doc["content"].transform(Decorate(prefix="1"))\n'
        'doc["y"] = doc["x"].transform(Decorate(prefix="2", suffix=""))',
        collect='filename=doc["filename"], y=doc["y"]',
        header=EXECUTOR_HEADER,
    )
    h.apply_all(ws)
    assert h.update(ws).result.ok
    assert h.store() == {"a.md": {"y": "21alpha!"}}
    assert sorted(h.calls("exec_prepare")) == [("1",), ("2",)]


ASYNC_HEADER = """
import asyncio

class Pause(cocoindex.op.FunctionSpec):
    seconds: float

@cocoindex.op.executor_class()
class PauseExecutor:
    spec: Pause

    async def prepare(self):
        await asyncio.sleep(0)
        mem_connector.CALLS.append(("exec_prepare", ()))

    async def __call__(self, text: str) -> str:
        await asyncio.sleep(self.spec.seconds)
        return text[::-1]

@cocoindex.op.function()
async def count_words(text: str) -> int:
    await asyncio.sleep(0)
    return len(text.split())
"""


def test_async_executor_and_async_function_run(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "one two", "b.md": "three"})
    h.flow_app(
        ws,
        rows='doc["reversed"] = doc["content"].transform(Pause(seconds=0))\n'
        'doc["words"] = doc["content"].transform(count_words)',
        collect='filename=doc["filename"], reversed=doc["reversed"], words=doc["words"]',
        header=ASYNC_HEADER,
    )
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    assert h.store() == {
        "a.md": {"reversed": "owt eno", "words": 2},
        "b.md": {"reversed": "eerht", "words": 1},
    }
    assert h.calls("exec_prepare") == [()]


def test_failing_prepare_fails_the_rows_with_its_traceback(ws: Workspace) -> None:
    header = EXECUTOR_HEADER.replace(
        "self.ready = True", 'raise RuntimeError("no model for " + self.spec.prefix)'
    )
    h.write_files(ws, {"a.md": "alpha"})
    h.content_transform_app(ws, "decorated", 'Decorate(prefix="<")', header=header)
    h.apply_all(ws)
    run = h.update(ws)
    [failure] = run.named("row.failed")
    assert "no model for <" in failure["error"]
    assert 'raise RuntimeError("no model for " + self.spec.prefix)' in failure["traceback"]


class Scale(op.FunctionSpec):
    factor: int


@op.executor_class(cache=True, behavior_version=7, gpu=True)
class ScaleExecutor:
    spec: Scale

    def __call__(self, value: int, *, offset: int = 0) -> list[int]:
        return [value * self.spec.factor + offset]


def test_executor_is_a_callable_with_the_call_signature_and_options() -> None:
    fn = resolve_transform(Scale(factor=3))
    assert fn(2, offset=1) == [7]
    assert str(inspect.signature(fn)) == "(value: int, *, offset: int = 0) -> list[int]"
    assert typing.get_type_hints(fn)["return"] == list[int]
    assert function_return_annotation(fn) == list[int]
    info = op.function_info(fn)
    assert (info.cache, info.behavior_version, info.gpu) == (True, 7, True)
    assert function_identity(fn).endswith("ScaleExecutor[Scale(factor=3)]")


def test_plain_function_return_annotation() -> None:
    @op.function()
    def length(text: str) -> int:
        return len(text)

    assert function_return_annotation(length) is int
    assert function_return_annotation(lambda x: x) is MISSING


def test_executor_without_spec_annotation_is_refused() -> None:
    with pytest.raises(FunctionDefinitionError, match="must declare `spec: SomeFunctionSpec`"):

        @op.executor_class()
        class NoSpec:
            def __call__(self, x: int) -> int:
                return x


def test_executor_spec_must_be_a_function_spec() -> None:
    with pytest.raises(FunctionDefinitionError, match=r"subclass of op\.FunctionSpec"):

        @op.executor_class()
        class WrongSpec:
            spec: int

            def __call__(self, x: int) -> int:
                return x


def test_executor_without_call_is_refused() -> None:
    with pytest.raises(FunctionDefinitionError, match=r"must define __call__"):

        @op.executor_class()
        class NoCall:
            spec: Scale


def test_spec_without_executor_is_a_load_error_naming_it(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "alpha"})
    h.content_transform_app(
        ws, "x", "Orphan(n=1)", header="class Orphan(cocoindex.op.FunctionSpec):\n    n: int\n"
    )
    with pytest.raises(AppLoadError, match=r"no @op\.executor_class is registered.*Orphan"):
        h.apply_all(ws)


def test_flow_builder_transform_takes_a_spec_and_several_inputs(ws: Workspace) -> None:
    header = """
    class Join(cocoindex.op.FunctionSpec):
        separator: str

    @cocoindex.op.executor_class()
    class JoinExecutor:
        spec: Join

        def __call__(self, left: str, right: str) -> str:
            return left + self.spec.separator + right
    """
    h.write_files(ws, {"a.md": "alpha"})
    h.flow_app(
        ws,
        rows='doc["joined"] = flow_builder.transform(Join(separator="="), doc["filename"], '
        'right=doc["content"])',
        collect='filename=doc["filename"], joined=doc["joined"]',
        header=header,
    )
    h.apply_all(ws)
    assert h.update(ws).result.ok
    assert h.store() == {"a.md": {"joined": "a.md=alpha"}}
