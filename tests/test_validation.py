"""Every contract and flow validation error names its culprit (issue 2, items 2 and 3).

No ``from __future__ import annotations`` here: the connectors below annotate ``mutate`` with
classes local to a test, which string annotations could not resolve.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Workspace, export

import cocotui
from cocotui import op, registry
from cocotui.op import ConnectorDefinitionError, TargetSpec, target_connector


class ValSpec(TargetSpec):
    path: str


def _decorate(cls: type, spec_cls: Any = ValSpec) -> type:
    decorated: type = target_connector(spec_cls=spec_cls)(cls)
    return decorated


@pytest.fixture(autouse=True)
def _restore_registry() -> Any:
    kinds = dict(registry._kinds)
    yield
    registry._kinds.clear()
    registry._kinds.update(kinds)


def _key(spec: ValSpec, target_name: str) -> str:
    return spec.path


def _setup(key: str, previous: Any, current: Any) -> None:
    return None


def _mutate(*all_mutations: Any) -> None:
    return None


def connector_class(name: str, **methods: Callable[..., Any] | None) -> type:
    """A connector class with the three required methods, overridden or removed (``None``)."""
    body: dict[str, Any] = {
        "get_persistent_key": staticmethod(_key),
        "apply_setup_change": staticmethod(_setup),
        "mutate": staticmethod(_mutate),
    }
    for method, fn in methods.items():
        if fn is None:
            body.pop(method, None)
        else:
            body[method] = staticmethod(fn)
    return type(name, (), body)


def assert_names(exc: pytest.ExceptionInfo[BaseException], *parts: str) -> None:
    message = str(exc.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# ---------------------------------------------------------------------------------------------
# Connector contract, at decoration time (the cases an app can also hit, a required method
# missing or a required keyword-only parameter, are in test_bad_input.py's MALFORMED table,
# checked both when decorated and through the CLI)


def test_a_valid_connector_registers() -> None:
    cls = _decorate(connector_class("GoodConnector"))
    kind = registry.get("ValSpec")
    assert kind is not None
    assert kind.connector_cls is cls
    assert kind.optional_methods == []


def test_mutate_with_two_parameters() -> None:
    def mutate(first: Any, *rest: Any) -> None:
        return None

    with pytest.raises(ConnectorDefinitionError) as exc:
        _decorate(connector_class("TwoParamConnector", mutate=mutate))
    assert_names(exc, "TwoParamConnector", "mutate", "*all_mutations")


def test_mutate_with_a_plain_parameter() -> None:
    def mutate(all_mutations: Any) -> None:
        return None

    with pytest.raises(ConnectorDefinitionError) as exc:
        _decorate(connector_class("PlainParamConnector", mutate=mutate))
    assert_names(exc, "PlainParamConnector", "mutate", "'all_mutations'", "*all_mutations")


def test_mutate_as_instance_method_hints_at_staticmethod() -> None:
    class SelfConnector:
        get_persistent_key = staticmethod(_key)
        apply_setup_change = staticmethod(_setup)

        def mutate(self, *all_mutations: Any) -> None:
            return None

    with pytest.raises(ConnectorDefinitionError) as exc:
        _decorate(SelfConnector)
    assert_names(exc, "SelfConnector", "mutate", "@staticmethod")


def _mutate_list(*all_mutations: list[int]) -> None:
    return None


def _mutate_tuple_of_list(*all_mutations: tuple[ValSpec, list[int]]) -> None:
    return None


def _mutate_three(*all_mutations: tuple[ValSpec, dict[str, Any], int]) -> None:
    return None


@pytest.mark.parametrize(
    ("mutate", "culprit"),
    [
        (_mutate_list, "list[int]"),
        (_mutate_tuple_of_list, "list[int]"),
        (_mutate_three, "tuple["),
    ],
    ids=["list", "tuple-of-list", "three-tuple"],
)
def test_bad_all_mutations_annotation(mutate: Callable[..., None], culprit: str) -> None:
    with pytest.raises(ConnectorDefinitionError) as exc:
        _decorate(connector_class("BadAnnotationConnector", mutate=mutate))
    assert_names(exc, "BadAnnotationConnector", "mutate", culprit, "dict[")


def _mutate_good(*all_mutations: tuple[ValSpec, dict[str, dict[str, Any] | None]]) -> None:
    return None


def _mutate_any(*all_mutations: Any) -> None:
    return None


def _mutate_unannotated(*all_mutations):  # type: ignore[no-untyped-def]
    return None


@pytest.mark.parametrize("mutate", [_mutate_good, _mutate_any, _mutate_unannotated])
def test_good_all_mutations_annotations(mutate: Callable[..., None]) -> None:
    _decorate(connector_class("GoodAnnotationConnector", mutate=mutate))
    assert registry.get("ValSpec") is not None


def _kwonly(spec: Any, *, extra: int = 0) -> Any:
    return None


def _varargs(spec: Any, *args: Any) -> Any:
    return None


def _varkw(spec: Any, **kwargs: Any) -> Any:
    return None


@pytest.mark.parametrize("method", ["get_persistent_key", "prepare", "describe", "get_setup_state"])
@pytest.mark.parametrize(
    ("fn", "culprit"),
    [(_kwonly, "'extra' is a keyword-only"), (_varargs, "'args'"), (_varkw, "'kwargs'")],
    ids=["keyword-only", "varargs", "varkw"],
)
def test_optional_method_parameter_kinds(method: str, fn: Callable[..., Any], culprit: str) -> None:
    with pytest.raises(ConnectorDefinitionError) as exc:
        _decorate(connector_class("KindsConnector", **{method: fn}))
    assert_names(exc, "KindsConnector", f"{method}()", culprit)


def _four(a: Any, b: Any, c: Any, d: Any) -> Any:
    return None


def _five(a: Any, b: Any, c: Any, d: Any, e: Any) -> Any:
    return None


def _six(a: Any, b: Any, c: Any, d: Any, e: Any, f: Any) -> Any:
    return None


@pytest.mark.parametrize(
    ("method", "fn", "available"),
    [
        ("get_persistent_key", _four, "at most 3"),
        ("describe", lambda key, extra: None, "at most 1"),
        ("prepare", _six, "at most 5"),
        ("get_setup_state", _five, "at most 4"),
        ("apply_setup_change", _four, "exactly 3"),
        ("check_state_compatibility", lambda desired, existing, extra: None, "exactly 2"),
    ],
)
def test_more_parameters_than_can_be_given(
    method: str, fn: Callable[..., Any], available: str
) -> None:
    with pytest.raises(ConnectorDefinitionError) as exc:
        _decorate(connector_class("GreedyConnector", **{method: fn}))
    assert_names(exc, "GreedyConnector", f"{method}()", available)


def test_optional_methods_get_a_prefix_of_their_arguments() -> None:
    seen: list[tuple[Any, ...]] = []

    def prepare(spec: Any) -> Any:
        seen.append((spec,))
        return spec

    _decorate(connector_class("PrefixConnector", prepare=prepare))
    kind = registry.get("ValSpec")
    assert kind is not None
    kind.methods["prepare"].call("spec", "state", ["k"], ["v"])
    assert seen == [("spec",)]


@pytest.mark.parametrize("spec_cls", [dict, object(), "ValSpec"])
def test_spec_cls_not_a_target_spec(spec_cls: Any) -> None:
    with pytest.raises(ConnectorDefinitionError) as exc:
        _decorate(connector_class("NotSpecConnector"), spec_cls=spec_cls)
    assert_names(exc, "NotSpecConnector", "spec_cls", "TargetSpec", repr(spec_cls))


def test_second_connector_for_same_spec_class_name() -> None:
    _decorate(connector_class("FirstConnector"))

    def other_spec() -> type[TargetSpec]:
        class ValSpec(TargetSpec):  # another class with the same name
            path: str

        return ValSpec

    with pytest.raises(ValueError) as exc:
        _decorate(connector_class("SecondConnector"), spec_cls=other_spec())
    assert_names(exc, "SecondConnector", "'ValSpec'", "FirstConnector")
    kind = registry.get("ValSpec")
    assert kind is not None
    assert kind.connector_cls.__name__ == "FirstConnector"


def test_async_methods_are_awaited() -> None:
    calls: list[Any] = []

    async def apply_setup_change(key: Any, previous: Any, current: Any) -> None:
        calls.append((key, previous, current))

    async def describe(key: Any) -> str:
        return f"async {key}"

    _decorate(
        connector_class("AsyncConnector", apply_setup_change=apply_setup_change, describe=describe)
    )
    kind = registry.get("ValSpec")
    assert kind is not None
    assert kind.methods["describe"].call("k") == "async k"
    assert kind.methods["apply_setup_change"].call("k", None, "s") is None
    assert calls == [("k", None, "s")]


def test_async_connector_through_the_cli(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("out", "AsyncRecordingTarget", resource="a"))
    plan = ws.plan_json()
    [change] = plan["changes"]
    assert change["description"] == "async recording resource a"
    assert change["key"] == "a"
    result = ws.apply()
    assert result.returncode == 0, result.stderr
    assert ws.setup_calls() == [["a", None, {"resource": "a", "version": 1}]]
    assert ws.resource("a") == {"resource": "a", "version": 1}

    ws.write_app(export("out", "AsyncRecordingTarget", resource="a", version=2))
    ws.clear_calls()
    assert ws.apply().returncode == 0
    assert ws.setup_calls() == [
        ["a", {"resource": "a", "version": 1}, {"resource": "a", "version": 2}]
    ]


def test_target_spec_is_a_dataclass() -> None:
    class Opt(TargetSpec):
        name: str
        size: int | None = None

    assert Opt("x") == Opt(name="x", size=None)
    assert Opt("x", 3).size == 3


def test_cocoindex_compatible_namespace() -> None:
    cocoindex = cocotui
    assert cocoindex.op.TargetSpec is TargetSpec
    assert cocoindex.op.target_connector is target_connector
    assert {m.name for m in cocoindex.op.TargetStateCompatibility} == {
        "COMPATIBLE",
        "PARTIALLY_COMPATIBLE",
        "NOT_COMPATIBLE",
    }
    assert callable(cocoindex.op.function)
    assert callable(cocoindex.flow_def)
    assert isinstance(cocoindex.FlowBuilder, type)
    assert isinstance(cocoindex.DataScope, type)
    source = cocoindex.sources.LocalFile(path=".", included_patterns=["*.md"])
    assert source.path == "."

    @cocoindex.op.function(behavior_version=2)
    def fn(x: int) -> int:
        return x

    @cocoindex.op.function
    def bare(x: int) -> int:
        return x

    assert fn(1) == 1
    assert bare(2) == 2
    assert op.function_info(fn).behavior_version == 2
    assert op.function_info(bare).behavior_version is None


# ---------------------------------------------------------------------------------------------
# Flow-level validation through the engine's API and --json. The CLI's error for each bad app
# (one clear ``error:`` line, exit 1) is in test_bad_input.py, with every other bad input.


def test_same_key_for_different_kinds_is_fine(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(
        export("one", resource="same"), export("two", "AsyncRecordingTarget", resource="same")
    )
    assert len(ws.plan_json()["changes"]) == 2


def test_flow_errors_through_the_engine_api(workspace: Workspace, in_process_app: None) -> None:
    from cocotui.engine.facade import Engine
    from cocotui.engine.targets import TargetError
    from cocotui.flow.loader import AppLoadError

    ws = workspace
    ws.write_app(export("one", resource="same"), export("two", resource="same"))
    with pytest.raises(TargetError, match=r"Docs\.one and Docs\.two"):
        Engine.open(str(ws.app))

    ws.app_name = "other_app"
    ws.write_raw_app("import cocotui\nraise OSError('no disk')\n")
    with pytest.raises(AppLoadError, match="no disk"):
        Engine.open(str(ws.app))


def test_json_error_output(workspace: Workspace) -> None:
    ws = workspace
    ws.write_app(export("one", resource="same"), export("two", resource="same"))
    result = ws.cli("plan", ws.app, "--json")
    assert result.returncode == 1
    parsed = json.loads(result.stdout)
    assert parsed["format_version"] == 1
    assert "Docs.two" in parsed["error"]["message"]
