"""``import cocoindex`` inside an app that cocotui loads: the name resolves to cocotui.

:func:`install` puts a finder first on ``sys.meta_path`` that answers ``cocoindex`` and every
``cocoindex.X`` with cocotui's module of the same name (``cocoindex.storages``, v0's old name,
with ``cocotui.targets``): the very same module objects, so ``cocoindex.op.TargetSpec is
cocotui.op.TargetSpec``. The app loader installs it before importing an app (CLI, TUI and
programmatic loading alike) and it stays for the life of the process, because apps also import
lazily, inside functions.

It is never installed silently over a real CocoIndex: when a ``cocoindex`` distribution is
importable, cocotui still wins inside the apps it loads but says so with a
:class:`CocoindexShadowedWarning`; when a real ``cocoindex`` is already imported in the process,
nothing is installed. ``COCOTUI_NO_COCOINDEX_ALIAS=1`` turns the alias off.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Loader as _LoaderBase
else:
    _LoaderBase = object  # importlib.abc is slow to import; the protocol is all that matters

ALIAS = "cocoindex"
TARGET = "cocotui"
DISABLE_ENV = "COCOTUI_NO_COCOINDEX_ALIAS"
#: v0 submodule names that cocotui spells differently.
_RENAMED = {"storages": "targets"}


class CocoindexShadowedWarning(UserWarning):
    """A real ``cocoindex`` is installed, yet apps loaded by cocotui get cocotui under that
    name."""


def _target_name(fullname: str) -> str:
    parts = fullname.split(".")
    parts[0] = TARGET
    if len(parts) > 1:
        parts[1] = _RENAMED.get(parts[1], parts[1])
    return ".".join(parts)


class _AliasLoader(_LoaderBase):
    """Hands out cocotui's module itself. The import system sets ``__spec__`` on what
    ``create_module`` returns; ``exec_module`` puts cocotui's own spec back."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.own_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.own_spec


class CocoindexAliasFinder:
    """Finds ``cocoindex[.X]`` as ``cocotui[.X]`` (a meta path finder)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        real = _target_name(fullname)
        if real not in sys.modules and importlib.util.find_spec(real) is None:
            return None  # the usual "No module named 'cocoindex.x'"
        is_package = hasattr(importlib.import_module(real), "__path__")
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real), is_package=is_package)


_FINDER = CocoindexAliasFinder()


def is_installed() -> bool:
    return _FINDER in sys.meta_path


def _real_cocoindex_origin() -> str | None:
    """Where a real ``cocoindex`` would be imported from, if one is installed."""
    for finder in sys.meta_path:
        if finder is _FINDER:
            continue
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec(ALIAS, None) if find_spec is not None else None
        if spec is not None:
            return spec.origin or str(list(spec.submodule_search_locations or []))
    return None


def install() -> bool:
    """Make ``import cocoindex`` give cocotui from now on; returns whether the alias is on."""
    if is_installed():
        return True
    if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
        return False
    loaded = sys.modules.get(ALIAS)
    if loaded is not None and getattr(loaded, "__name__", None) != TARGET:
        warnings.warn(
            f"a real cocoindex is already imported ({getattr(loaded, '__file__', loaded)}); "
            f"`import cocoindex` in this app gives it, not cocotui",
            CocoindexShadowedWarning,
            stacklevel=2,
        )
        return False
    origin = _real_cocoindex_origin()
    if origin is not None:
        warnings.warn(
            f"cocoindex is installed ({origin}), but `import cocoindex` in the apps cocotui "
            f"loads gives cocotui; set {DISABLE_ENV}=1 to give them the real one",
            CocoindexShadowedWarning,
            stacklevel=2,
        )
    sys.meta_path.insert(0, _FINDER)
    return True


def uninstall() -> None:
    """Remove the alias and forget the ``cocoindex`` modules it gave out."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith(TARGET):
            del sys.modules[name]
