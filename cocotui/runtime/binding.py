"""Which app, and so which state, a program's flow belongs to.

A flow defined in a file app (the running script, ``cocotui run main.py``, or a file cocotui
loaded) belongs to the same app as ``cocotui ls main.py`` gives: named after the file's stem
and a digest of its path. A flow defined in an importable module belongs to the app
``cocotui ls MODULE`` gives. ``cocotui run --app-name/--state-dir`` (or :func:`configure`)
choose another name or state directory, as those options do for the other commands."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cocotui.app_modules import APP_MODULE_PREFIX
from cocotui.engine.facade import Engine
from cocotui.flow.builder import FlowDef, flows_defined_in
from cocotui.flow.loader import App, default_app_name


@dataclasses.dataclass
class RuntimeConfig:
    app_name: str | None = None
    state_dir: str | os.PathLike[str] | None = None


_config = RuntimeConfig()


def configure(
    *, app_name: str | None = None, state_dir: str | os.PathLike[str] | None = None
) -> None:
    """The app name and state directory of this process's flows (``cocotui run`` options)."""
    _config.app_name = app_name
    _config.state_dir = state_dir


def _module_file(module: str) -> str | None:
    if module != "__main__" and not module.startswith(APP_MODULE_PREFIX):
        return None
    file = getattr(sys.modules.get(module), "__file__", None)
    return str(Path(file).resolve()) if file else None


def app_of(definition: FlowDef, only: Iterable[FlowDef] | None = None) -> App:
    """The app ``definition`` belongs to, with its flows built (``only`` those given)."""
    module = definition.fn.__module__
    file = _module_file(module)
    ref = file or module
    name = _config.app_name or default_app_name(ref)
    definitions = flows_defined_in(module) if only is None else list(only)
    if definition not in definitions and only is None:
        definitions.append(definition)  # closed, or made by hand: still the program's flow
    return App(name, ref, [d.build() for d in definitions])


@contextmanager
def engine_for(definition: FlowDef, only: Iterable[FlowDef] | None = None) -> Iterator[Engine]:
    """An engine over ``definition``'s app (or only the flows ``only`` of it), closed after."""
    app = app_of(definition, only)
    adopt = Path(app.ref).stem if app.file is not None and _config.app_name is None else None
    engine = Engine.bind(app, _config.state_dir, adopt_from=adopt)
    if engine.state_notice:
        print(f"cocotui: {engine.state_notice}", file=sys.stderr)
    try:
        yield engine
    finally:
        engine.close()


def by_app(definitions: Iterable[FlowDef]) -> dict[str, list[FlowDef]]:
    """``definitions`` grouped by the module (so the app) that defines them."""
    groups: dict[str, list[FlowDef]] = {}
    for definition in definitions:
        groups.setdefault(definition.fn.__module__, []).append(definition)
    return groups
