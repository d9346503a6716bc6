"""Helpers, as CocoIndex v0's ``cocoindex.utils``."""

from __future__ import annotations

from typing import Protocol

from cocotui.setting import get_app_namespace


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def get_target_default_name(flow: _Named, target_name: str, delimiter: str = "__") -> str:
    """The name a target uses for what it creates (a table, a collection...) when its spec
    names none, as in v0: ``[<app namespace><delimiter>]<flow name><delimiter><target name>``."""
    return get_app_namespace(trailing_delimiter=delimiter) + flow.name + delimiter + target_name


#: v0's older name of :func:`get_target_default_name`.
get_target_storage_default_name = get_target_default_name

__all__ = ["get_target_default_name", "get_target_storage_default_name"]
