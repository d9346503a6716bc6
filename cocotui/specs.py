"""The metaclass of spec base classes (``TargetSpec``, ``FunctionSpec``, ``SourceSpec``)."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, dataclass_transform


@dataclass_transform()
class SpecMeta(type):
    """Turns every subclass of a spec base class into a dataclass when it is created, so that
    specs are built by keyword or position, compared by value and shown with their fields."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> SpecMeta:
        cls = super().__new__(mcs, name, bases, namespace)
        if bases:
            dataclasses.dataclass(typing.cast(Any, cls))  # in place: no slots, same class
        return cls
