"""Type annotations for flow values, as CocoIndex v0's ``cocoindex.typing``: ``Int64``,
``Float32``, ``Float64``, ``Range``, ``Json``, ``LocalDateTime``, ``OffsetDateTime`` and
``Vector[T, N]``. They are plain ``typing.Annotated`` aliases, read by
:mod:`cocotui.value_types` when a flow is built."""

from __future__ import annotations

import datetime
import sys
import typing
from typing import TYPE_CHECKING, Annotated, Any, Generic, NamedTuple, Protocol, TypeVar


class VectorInfo(NamedTuple):
    dim: int | None


class TypeKind(NamedTuple):
    kind: str


class TypeAttr:
    """An attribute attached to a type: ``Annotated[str, TypeAttr("lang", "en")]``."""

    def __init__(self, key: str, value: Any) -> None:
        self.key = key
        self.value = value

    def __repr__(self) -> str:
        return f"TypeAttr({self.key!r}, {self.value!r})"


Annotation = TypeKind | TypeAttr | VectorInfo

Int64 = Annotated[int, TypeKind("Int64")]
Float32 = Annotated[float, TypeKind("Float32")]
Float64 = Annotated[float, TypeKind("Float64")]
Range = Annotated[tuple[int, int], TypeKind("Range")]
Json = Annotated[Any, TypeKind("Json")]
LocalDateTime = Annotated[datetime.datetime, TypeKind("LocalDateTime")]
OffsetDateTime = Annotated[datetime.datetime, TypeKind("OffsetDateTime")]

TABLE_TYPES: tuple[str, str] = ("KTable", "LTable")
KEY_FIELD_NAME: str = "_key"


def _dimension(param: Any) -> int | None:
    """``Literal[384]`` as v0 writes it, or a plain ``384``."""
    if typing.get_origin(param) is typing.Literal:
        param = typing.get_args(param)[0]
    return param if isinstance(param, int) and not isinstance(param, bool) else None


def _is_numpy_number(tp: Any) -> bool:
    numpy = sys.modules.get("numpy")  # a numpy dtype means the app imported numpy already
    return (
        numpy is not None
        and isinstance(tp, type)
        and issubclass(tp, numpy.integer | numpy.floating)
    )


if TYPE_CHECKING:
    T_co = TypeVar("T_co", covariant=True)
    Dim_co = TypeVar("Dim_co", covariant=True)

    class Vector(Protocol, Generic[T_co, Dim_co]):
        """``Vector[T, N]``: a vector of ``T`` with an optional dimension ``N``."""

        def __getitem__(self, index: int) -> T_co: ...
        def __len__(self) -> int: ...

else:

    class Vector:
        """``Vector[T]`` or ``Vector[T, N]`` (``N`` an int or ``Literal[N]``): a list of ``T``,
        or a numpy ``NDArray[T]`` when ``T`` is a numpy number type."""

        def __class_getitem__(cls, params: Any) -> Any:
            if isinstance(params, tuple):
                dtype, dim = params[0], _dimension(params[1])
            else:
                dtype, dim = params, None
            if _is_numpy_number(dtype):
                from numpy.typing import NDArray

                return Annotated[NDArray[dtype], VectorInfo(dim)]
            return Annotated[list[dtype], VectorInfo(dim)]


__all__ = [
    "KEY_FIELD_NAME",
    "TABLE_TYPES",
    "Annotation",
    "Float32",
    "Float64",
    "Int64",
    "Json",
    "LocalDateTime",
    "OffsetDateTime",
    "Range",
    "TypeAttr",
    "TypeKind",
    "Vector",
    "VectorInfo",
]
