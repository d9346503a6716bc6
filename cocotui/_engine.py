"""CocoIndex v0's native engine module has no counterpart in cocotui, whose engine is pure
Python: every attribute is an error saying so."""

from __future__ import annotations

from typing import NoReturn


def __getattr__(name: str) -> NoReturn:
    raise AttributeError(
        f"cocoindex._engine.{name}: cocotui has no native CocoIndex engine; use the public "
        f"API (cocoindex.flow_def, cocoindex.transform_flow, cocoindex.op...) instead"
    )
