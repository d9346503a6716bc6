"""Transform functions (CocoIndex v0 compatible): ``@op.function(...)`` on a plain function, or
an ``op.FunctionSpec`` subclass with an ``@op.executor_class(...)`` class that runs it.

Both record the same options (:class:`FunctionInfo`); the engine reads them through
:func:`function_info`, names a function through :func:`function_identity` and calls it through
:func:`invoke`. A ``FunctionSpec`` instance given to ``transform()`` becomes an
:class:`ExecutorFunction`, a callable with the executor's signature, so that the flow model only
ever holds callables.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
import sys
import threading
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from cocotui.app_modules import canonical_module
from cocotui.asyncbridge import await_if_needed
from cocotui.specs import SpecMeta

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


class ArgRelationship(enum.Enum):
    """How a function's output relates to one of its arguments (v0's attribute names). Recorded
    in :attr:`FunctionInfo.arg_relationship`; evaluation does not depend on it."""

    EMBEDDING_ORIGIN_TEXT = "cocoindex.io/embedding_origin_text"
    CHUNKS_BASE_TEXT = "cocoindex.io/chunk_base_text"
    RECTS_BASE_IMAGE = "cocoindex.io/rects_base_image"


@dataclasses.dataclass(frozen=True)
class FunctionInfo:
    """The options of ``@op.function`` / ``@op.executor_class`` (v0's ``OpArgs``).

    - ``behavior_version``: part of the logic fingerprint of every source whose rows go through
      the function; a change re-evaluates those rows (and invalidates cached results).
    - ``cache``: results are kept per source row across runs and reused while the function's
      arguments and behaviour version are unchanged.
    - ``gpu``: the function holds a GPU model; rows of a flow using one are evaluated in the
      engine's process only (one copy of the model), whatever the number of workers.
    - ``batching``: the function takes a list of inputs and returns a list of outputs; the
      inputs of the source rows evaluated together (and of every row of their tables) are
      sent in one call (see :mod:`cocotui.engine.batching`), in slices of at most
      ``max_batch_size``.
    - ``timeout``: accepted and recorded, not enforced.
    - ``arg_relationship``: ``(ArgRelationship.X, "argument name")``, recorded.
    """

    behavior_version: int | str | None = None
    cache: bool = False
    gpu: bool = False
    batching: bool = False
    max_batch_size: int | None = None
    timeout: datetime.timedelta | None = None
    arg_relationship: tuple[ArgRelationship, str] | None = None


#: v0's name for the options.
OpArgs = FunctionInfo

FUNCTION_INFO_ATTR = "__cocotui_function__"


def _options(where: str, options: dict[str, Any]) -> FunctionInfo:
    known = {f.name for f in dataclasses.fields(FunctionInfo)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"{where}: unknown option(s) {', '.join(unknown)}; the options are "
            f"{', '.join(sorted(known))}"
        )
    relationship = options.get("arg_relationship")
    if relationship is not None and not (
        isinstance(relationship, tuple)
        and len(relationship) == 2
        and isinstance(relationship[0], ArgRelationship)
        and isinstance(relationship[1], str)
    ):
        raise TypeError(
            f"{where}: arg_relationship must be (op.ArgRelationship.X, 'argument name'), "
            f"got {relationship!r}"
        )
    return FunctionInfo(**options)


@typing.overload
def function(fn: F, /) -> F: ...
@typing.overload
def function(**options: Any) -> Callable[[F], F]: ...


def function(fn: F | None = None, /, **options: Any) -> F | Callable[[F], F]:
    """Mark a transform function, with the options of :class:`FunctionInfo`. The function
    itself is returned unchanged (it may be ``async def``), so it stays importable by worker
    processes."""
    info = _options("@op.function", options)

    def mark(target: F) -> F:
        if not callable(target):
            raise TypeError(f"@op.function can only decorate a function, got {target!r}")
        setattr(target, FUNCTION_INFO_ATTR, info)
        return target

    return mark(fn) if fn is not None else mark


def function_info(fn: Callable[..., Any]) -> FunctionInfo:
    """The recorded options, or defaults for a plain callable."""
    info = getattr(fn, FUNCTION_INFO_ATTR, None)
    return info if isinstance(info, FunctionInfo) else FunctionInfo()


# ---------------------------------------------------------------------------------------------
# The spec + executor style


class FunctionSpec(metaclass=SpecMeta):
    """Base class of function specs: subclasses are dataclasses whose fields configure the
    function; an ``@op.executor_class`` class with ``spec: ThatSpec`` runs it."""


class FunctionDefinitionError(TypeError):
    """An executor class breaks the contract; raised when it is decorated."""


@dataclasses.dataclass(frozen=True)
class _Executor:
    cls: type
    info: FunctionInfo


_executors: dict[type, _Executor] = {}


def _spec_class(cls: type) -> type:
    """The class annotated on ``spec`` (a forward reference is resolved in the class's
    module)."""
    annotation = inspect.get_annotations(cls).get("spec")
    if annotation is None:
        raise FunctionDefinitionError(
            f"@op.executor_class: {cls.__qualname__} must declare `spec: SomeFunctionSpec`"
        )
    if isinstance(annotation, str):
        module = sys.modules.get(cls.__module__)
        namespace = {**vars(module), cls.__name__: cls} if module is not None else {}
        try:
            annotation = eval(annotation, namespace)  # the class's own annotation
        except Exception as exc:
            raise FunctionDefinitionError(
                f"@op.executor_class: {cls.__qualname__}.spec annotation {annotation!r} "
                f"cannot be resolved ({exc})"
            ) from None
    if not (isinstance(annotation, type) and issubclass(annotation, FunctionSpec)):
        raise FunctionDefinitionError(
            f"@op.executor_class: {cls.__qualname__}.spec must be annotated with a subclass "
            f"of op.FunctionSpec, got {annotation!r}"
        )
    return annotation


def executor_class(**options: Any) -> Callable[[C], C]:
    """Register a class as the executor of the ``FunctionSpec`` its ``spec`` attribute is
    annotated with. Per use in a flow and per process, the class is instantiated without
    arguments and given ``spec``; its optional ``analyze()`` is called when the flow is built
    and returns the output's type (as in v0, when it depends on the spec, e.g. a model's
    dimension); its optional ``prepare()`` is called once before the first call, then
    ``__call__`` per row (or per batch of rows with ``batching=True``); any of them may be
    ``async def``."""
    info = _options("@op.executor_class", options)

    def register(cls: C) -> C:
        spec_cls = _spec_class(cls)
        if not any("__call__" in vars(base) for base in cls.__mro__[:-1]):  # not object's
            raise FunctionDefinitionError(
                f"@op.executor_class: {cls.__qualname__} must define __call__(self, ...)"
            )
        _executors[spec_cls] = _Executor(cls, info)
        return cls

    return register


def _signature_without_self(fn: Any) -> tuple[inspect.Signature, dict[str, Any]]:
    """The signature of a method without ``self``, with its annotations resolved."""
    sig = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # an unresolvable forward reference: annotations as written
        hints = {}
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in list(sig.parameters.values())[1:]
    ]
    resolved = sig.replace(
        parameters=params, return_annotation=hints.get("return", sig.return_annotation)
    )
    return resolved, {k: v for k, v in hints.items() if k != "self"}


class ExecutorFunction:
    """A ``FunctionSpec`` instance bound to its executor class: called like the executor's
    ``__call__``, whose signature and annotations it carries (``inspect.signature`` and
    ``typing.get_type_hints`` read them)."""

    def __init__(self, spec: FunctionSpec, executor: _Executor) -> None:
        self.spec = spec
        self.executor_cls = executor.cls
        setattr(self, FUNCTION_INFO_ATTR, executor.info)
        self.__signature__, self.__annotations__ = _signature_without_self(executor.cls.__call__)
        self.__module__ = executor.cls.__module__
        self.__qualname__ = executor.cls.__qualname__
        self.__name__ = executor.cls.__name__
        self._instance: Any = None
        self._prepared = False
        self._lock = threading.Lock()
        self._type_output(executor.info)

    def _type_output(self, info: FunctionInfo) -> None:
        """The output's annotation: what the executor's ``analyze()`` returns when it has one
        (v0's hook, e.g. a vector whose dimension is the loaded model's), else ``__call__``'s;
        for a batching executor, the element type of its returned list."""
        output = self.__annotations__.get("return", inspect.Signature.empty)
        analyze = getattr(self.executor_cls, "analyze", None)
        if analyze is not None:
            output = await_if_needed(analyze(self._new_instance()))
        elif info.batching and typing.get_origin(output) is list:
            (output,) = typing.get_args(output)
        if output is not inspect.Signature.empty:
            self.__annotations__["return"] = output
            self.__signature__ = self.__signature__.replace(return_annotation=output)

    def _new_instance(self) -> Any:
        """The executor instance (one per use in a flow and per process), given ``spec``."""
        if self._instance is None:
            self._instance = self.executor_cls()
            self._instance.spec = self.spec
        return self._instance

    def _ready(self) -> Any:
        with self._lock:
            instance = self._new_instance()
            if not self._prepared:
                prepare = getattr(instance, "prepare", None)
                if prepare is not None:
                    await_if_needed(prepare())
                self._prepared = True
            return instance

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ready()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<executor {self.__qualname__} for {self.spec!r}>"


def resolve_transform(fn: Any) -> Any:
    """What ``transform()`` records for ``fn``: a ``FunctionSpec`` instance becomes its bound
    executor; anything else is returned as it is."""
    if not isinstance(fn, FunctionSpec):
        return fn
    executor = _executors.get(type(fn))
    if executor is None:
        raise FunctionDefinitionError(
            f"transform({type(fn).__name__}(...)): no @op.executor_class is registered for "
            f"the function spec {type(fn).__qualname__}"
        )
    return ExecutorFunction(fn, executor)


def function_identity(fn: Callable[..., Any]) -> str:
    """A stable name of a transform (its module and qualified name, plus the spec for an
    executor), part of logic fingerprints and cache keys."""
    if isinstance(fn, ExecutorFunction):
        cls = fn.executor_cls
        identity = f"{canonical_module(cls.__module__)}.{cls.__qualname__}[{fn.spec!r}]"
        # What the spec's text does not show (e.g. the fields of a class it names).
        extra = getattr(cls, "cache_identity", None)
        return identity if extra is None else f"{identity}{extra(fn._new_instance())}"
    module = canonical_module(getattr(fn, "__module__", None) or "?")
    return f"{module}.{getattr(fn, '__qualname__', repr(fn))}"


def _admits_none(annotation: Any) -> bool:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    return (origin is typing.Union or origin is type(int | None)) and type(None) in args


@dataclasses.dataclass(frozen=True)
class NoneArguments:
    """Which arguments may be ``None``: as in v0, a function is not called when an argument
    whose parameter is not annotated ``X | None`` is ``None``; its result is ``None``."""

    positional: tuple[bool, ...]
    #: For positional arguments beyond ``positional`` (``*args``), else ``None``: no more.
    rest: bool | None
    keyword: dict[str, bool]
    #: For keywords not in ``keyword`` (``**kwargs``).
    other_keywords: bool

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> NoneArguments:
        try:
            sig = inspect.signature(fn)
            hints = typing.get_type_hints(fn)
        except Exception:  # no readable signature: nothing is known to refuse None
            return cls((), True, {}, True)
        positional: list[bool] = []
        rest: bool | None = None
        keyword: dict[str, bool] = {}
        other = False
        for param in sig.parameters.values():
            admits = _admits_none(hints.get(param.name, param.annotation))
            if param.kind is param.VAR_POSITIONAL:
                rest = admits
            elif param.kind is param.VAR_KEYWORD:
                other = admits
            else:
                if param.kind is not param.KEYWORD_ONLY:
                    positional.append(admits)
                keyword[param.name] = admits
        return cls(tuple(positional), rest, keyword, other)

    def skips(self, args: list[Any], kwargs: dict[str, Any]) -> bool:
        """Whether a ``None`` argument means the call is skipped (plain loops: this runs for
        every call of every row)."""
        for index, value in enumerate(args):
            if value is None:
                admits = self.positional[index] if index < len(self.positional) else self.rest
                if not admits:
                    return True
        for name, value in kwargs.items():
            if value is None and not self.keyword.get(name, self.other_keywords):
                return True
        return False


def invoke(fn: Callable[..., Any], args: list[Any], kwargs: Any) -> Any:
    """Call a (non-batching) transform, awaited when ``async``. The evaluator sends batching
    functions through :func:`invoke_batch` with the inputs of many rows."""
    result = fn(*args, **kwargs)
    # A cheap test first (this runs for every call of every row): only these can be awaitable.
    if hasattr(result, "__await__") or isinstance(result, types.GeneratorType):
        return await_if_needed(result)
    return result


def invoke_batch(
    fn: Callable[..., Any], calls: list[tuple[list[Any], dict[str, Any]]]
) -> list[Any]:
    """Call a batching transform once for several calls (the same keywords in each): its
    n-th parameter gets the list of every call's n-th argument; one result per call."""
    first_args, first_kwargs = calls[0]
    args = [[call[0][index] for call in calls] for index in range(len(first_args))]
    kwargs = {name: [call[1][name] for call in calls] for name in first_kwargs}
    results = list(await_if_needed(fn(*args, **kwargs)))
    if len(results) != len(calls):
        raise ValueError(
            f"the batching function {getattr(fn, '__qualname__', fn)!r} returned "
            f"{len(results)} results for {len(calls)} inputs"
        )
    return results
