"""Transform flows (CocoIndex v0's ``@transform_flow()``): a function from typed ``DataSlice``
arguments to a ``DataSlice``, used two ways. Inside a flow, ``text.call(my_flow)`` calls it on
the flow's slices, adding its transforms there. On plain values, ``my_flow.eval(...)`` runs the
same transforms through the flow evaluator, on a one-row flow whose fields are the arguments,
so that a query is embedded exactly as the indexed documents were."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import itertools
import threading
import typing
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from cocotui.annotations import AnnotationError
from cocotui.engine.evaluate import FlowEvaluator
from cocotui.engine_value import Decoder, make_decoder
from cocotui.flow.builder import (
    DataSlice,
    FlowBuilder,
    FlowDefinitionError,
    SliceFunction,
    _scope_of,
)
from cocotui.flow.model import Collect, Collector, FieldRef, RowScope, Source
from cocotui.value_types import UnsupportedTypeError, enriched_type_of

T = TypeVar("T")

_EMPTY = inspect.Parameter.empty
_RESULT = "result"
_names = itertools.count()


def _slice_value_type(annotation: Any, where: str) -> Any:
    """``T`` of a ``DataSlice[T]`` annotation; ``_EMPTY`` for none or a bare ``DataSlice``."""
    if annotation is _EMPTY or annotation is DataSlice:
        return _EMPTY
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is not DataSlice or len(args) != 1:
        raise FlowDefinitionError(f"{where}: expected a DataSlice[T] annotation, got {annotation}")
    return args[0]


def _annotations(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except (NameError, TypeError):  # an annotation that does not resolve: read them as written
        return dict(getattr(fn, "__annotations__", {}))


class _Arguments:
    """The source of a transform flow: one row, the arguments of an ``eval`` call."""


@dataclasses.dataclass(frozen=True)
class _Built:
    """A transform flow built for evaluation."""

    evaluator: FlowEvaluator
    source: Source
    #: the result as the return annotation declares it
    decode: Decoder


class TransformFlow(SliceFunction, Generic[T]):
    """What ``@transform_flow()`` returns: callable like the function (within a flow) and
    evaluable on plain values (``eval``, ``eval_async``)."""

    def __init__(self, fn: Callable[..., DataSlice[T]], /, name: str | None = None) -> None:
        self._fn = fn
        self._name = name or f"_transform_flow_{next(_names)}"
        hints = _annotations(fn)
        self._params: list[tuple[str, Any]] = []
        for param in inspect.signature(fn).parameters.values():
            where = f"parameter `{param.name}` of transform flow {fn.__qualname__}"
            if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                raise FlowDefinitionError(f"{where} cannot be passed by name")
            value_type = _slice_value_type(hints.get(param.name, _EMPTY), where)
            if value_type is _EMPTY:
                raise FlowDefinitionError(
                    f"{where} has no value type annotation; annotate it "
                    f"`cocoindex.DataSlice[T]` where T is the type of the value"
                )
            self._params.append((param.name, value_type))
        returned = _slice_value_type(hints.get("return", _EMPTY), f"{fn.__qualname__} result")
        self._return_type: Any = Any if returned is _EMPTY else returned
        self._built: _Built | None = None
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> DataSlice[T]:
        return self._fn(*args, **kwargs)

    def _build(self) -> _Built:
        with self._lock:
            if self._built is None:
                self._built = self._build_flow()
            return self._built

    def _build_flow(self) -> _Built:
        builder = FlowBuilder(self._name)
        root = RowScope(depth=1)
        for name, annotation in self._params:
            try:
                root.field_types[name] = enriched_type_of(annotation)
            except UnsupportedTypeError as exc:
                raise FlowDefinitionError(
                    f"parameter `{name}` of transform flow {self._fn.__qualname__}: {exc}"
                ) from None
        source = Source(0, "arguments", _Arguments(), None, row_scopes=[root])
        builder._flow.sources.append(source)
        builder._scopes.append(root)
        output = self._fn(
            **{
                name: DataSlice(builder, FieldRef(root, name), value_type=value_type)
                for name, value_type in root.field_types.items()
            }
        )
        if not isinstance(output, DataSlice):
            raise FlowDefinitionError(
                f"transform flow {self._fn.__qualname__} must return a DataSlice, got "
                f"{type(output).__name__}"
            )
        expr = builder._use(output)
        if _scope_of(expr) not in (None, root):
            raise FlowDefinitionError(
                f"transform flow {self._fn.__qualname__} returns a value of a row scope; "
                f"return a value computed from its arguments"
            )
        collector = Collector(0, (_RESULT,), {_RESULT: output.value_type})
        builder._flow.collectors.append(collector)
        root.ops.append(Collect(collector, ((_RESULT, expr),)))
        where = f"transform flow {self._fn.__qualname__}: return type"
        try:
            decode = make_decoder(self._return_type, where, output.value_type.type)
        except AnnotationError as exc:
            raise FlowDefinitionError(str(exc)) from None
        return _Built(FlowEvaluator(builder._flow), source, decode)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = [name for name, _ in self._params]
        where = f"{self._fn.__qualname__}.eval()"
        if len(args) > len(names):
            raise TypeError(f"{where} takes {len(names)} arguments but {len(args)} were given")
        row = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"{where} got an unexpected argument {name!r}")
            if name in row:
                raise TypeError(f"{where} got multiple values for argument {name!r}")
            row[name] = value
        missing = [name for name in names if name not in row]
        if missing:
            raise TypeError(f"{where} is missing argument(s): {', '.join(missing)}")
        return row

    def eval(self, *args: Any, **kwargs: Any) -> T:
        """The flow's result for these argument values, as its return annotation declares."""
        built = self._build()
        collected = built.evaluator.evaluate(built.source, self._bind(args, kwargs))
        value = collected[0][0][_RESULT]
        return typing.cast(T, built.decode(value))

    async def eval_async(self, *args: Any, **kwargs: Any) -> T:
        """:meth:`eval` in a worker thread, so the caller's event loop keeps running."""
        return await asyncio.to_thread(self.eval, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<transform flow {self._fn.__qualname__}>"


def transform_flow() -> Callable[[Callable[..., DataSlice[T]]], TransformFlow[T]]:
    """Declare a transform flow: ``@transform_flow() def embed(text: DataSlice[str]) ->
    DataSlice[list[float]]: return text.transform(...)``."""

    def wrap(fn: Callable[..., DataSlice[T]]) -> TransformFlow[T]:
        flow = TransformFlow(fn)
        functools.update_wrapper(flow, fn)
        return flow

    return wrap
