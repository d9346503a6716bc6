"""Loading an APP (a ``.py`` file or an importable module) and building the flows it defines.

Errors raised by the user's code are reported with the user's traceback: frames of cocotui and
of the import machinery are left out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import os
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType, TracebackType

from cocotui import cocoindex_alias
from cocotui.app_modules import app_module_name
from cocotui.flow.builder import FlowDef, flows_defined_in
from cocotui.flow.errors import AppLoadError
from cocotui.flow.model import Flow

_OWN_DIR = str(Path(__file__).resolve().parent.parent)
#: cocotui's helpers that connectors and apps call (public API, see docs/architecture.md,
#: "Allowed imports"): a user's traceback keeps their frames below the user's call, so an
#: error they raise (an ``OSError`` while writing) shows where it happened.
PUBLIC_HELPERS = ("cocotui.atomic_file",)
_HELPER_FILES = frozenset(
    os.path.join(_OWN_DIR, *name.split(".")[1:]) + ".py" for name in PUBLIC_HELPERS
)
_APP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _own_frame(tb: TracebackType) -> bool:
    filename = tb.tb_frame.f_code.co_filename
    return filename.startswith(_OWN_DIR) or filename.startswith("<frozen")


def is_internal_file(filename: str) -> bool:
    """Whether a traceback frame in ``filename`` is cocotui's own and no public helper's: a
    frame a user's traceback never shows."""
    return filename.startswith(_OWN_DIR) and filename not in _HELPER_FILES


def user_traceback(exc: BaseException) -> str:
    """``exc`` formatted from the first frame that is not cocotui's or importlib's (the
    engine's calls into the user's code are left out). Below it, the frames of the public
    helpers the user's code called (:data:`PUBLIC_HELPERS`) stay; when the error is cocotui's
    own (a contract or flow validation error raised from a call in the user's code), the
    frames inside cocotui that raised it are left out, helpers' too."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and _own_frame(tb):
        tb = tb.tb_next
    if tb is None or not type(exc).__module__.startswith("cocotui."):
        return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()
    frames: list[TracebackType] = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    while _own_frame(frames[-1]):
        frames.pop()  # the first frame is the user's, so this stops there
    stack = traceback.StackSummary.extract((t.tb_frame, t.tb_lineno) for t in frames)
    lines = ["Traceback (most recent call last):\n", *stack.format()]
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


@dataclasses.dataclass
class App:
    name: str
    #: How to load the app again (in worker processes): an absolute file path or a module.
    ref: str
    flows: list[Flow]

    @property
    def file(self) -> str | None:
        """The app's resolved ``.py`` path (``None`` for a module app)."""
        return self.ref if os.path.isabs(self.ref) else None


def is_app_file(app: str) -> bool:
    """Whether APP names a ``.py`` file (else it is an importable module)."""
    return app.endswith(".py") or os.path.isfile(app)


def _path_digest(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:8]


def default_app_name(app: str) -> str:
    """The name that namespaces an app's state when ``--app-name`` is not given: for a file,
    its stem plus a digest of its resolved path, so that ``p1/app.py`` and ``p2/app.py`` never
    share state; for a module, the module name."""
    if is_app_file(app):
        path = Path(app).resolve()
        return f"{path.stem}-{_path_digest(path)}"
    return app


def app_stem(app: str) -> str | None:
    """A file app's stem (its default name before names carried a digest)."""
    return Path(app).stem if is_app_file(app) else None


def _import(app: str) -> ModuleType:
    if is_app_file(app):
        path = Path(app).resolve()
        if not path.is_file():
            raise AppLoadError(f"app file {app!r} does not exist")
        module_name = app_module_name(path)
        if path.stem in sys.stdlib_module_names:
            # Bound first, so that a later `import json` finds the standard module in
            # sys.modules rather than this file through the directory put on sys.path next.
            importlib.import_module(path.stem)
        directory = str(path.parent)
        if directory not in sys.path:
            sys.path.insert(0, directory)  # so the app can import its sibling modules
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return importlib.import_module(app)


def load_app(app: str, app_name: str | None = None) -> App:
    """Import ``app`` and build every flow it declares with ``@flow_def``. From then on,
    ``import cocoindex`` gives cocotui in this process (see :mod:`cocotui.cocoindex_alias`)."""
    name = app_name or default_app_name(app)
    if not _APP_NAME.match(name):
        raise AppLoadError(
            f"app name {name!r} may only contain letters, digits, '.', '-' and '_'; pass "
            f"--app-name to choose another"
        )
    cocoindex_alias.install()
    try:
        module = _import(app)
    except AppLoadError:
        raise
    except ModuleNotFoundError as exc:
        if exc.name is not None and (app == exc.name or app.startswith(exc.name + ".")):
            raise AppLoadError(
                f"cannot find app {app!r}: give a path to a .py file or an importable module"
            ) from None
        raise AppLoadError(f"error while importing app {app!r}:\n{user_traceback(exc)}") from None
    except SystemExit as exc:
        # An app that exits while imported (a script's sys.exit) would end cocotui silently.
        raise AppLoadError(
            f"app {app!r} called sys.exit({exc.code!r}) while being imported; an app must only "
            f"define flows when imported (put script code under `if __name__ == '__main__':`)"
        ) from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise AppLoadError(f"error while importing app {app!r}:\n{user_traceback(exc)}") from None
    definitions: list[FlowDef] = flows_defined_in(module.__name__)
    if not definitions:
        raise AppLoadError(f"app {app!r} defines no flow (decorate a function with @flow_def)")
    flows: list[Flow] = []
    for definition in definitions:
        try:
            flows.append(definition.build())
        except Exception as exc:
            raise AppLoadError(
                f"error while building flow {definition.name!r}:\n{user_traceback(exc)}"
            ) from None
    ref = str(Path(app).resolve()) if is_app_file(app) else app
    return App(name, ref, flows)
