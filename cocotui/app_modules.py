"""The module name an app file's code is known by, whether cocotui imported the file (under a
private name) or the file runs as a program (``__main__``, through ``cocotui run`` or
``python main.py``): function names are part of row fingerprints, so one file's functions must
have one name however it was started."""

from __future__ import annotations

import re
import sys
from pathlib import Path

APP_MODULE_PREFIX = "_cocotui_app_"


def app_module_name(path: Path) -> str:
    """The private module name an app file is loaded under: an app file called json.py must
    not become (or replace) the standard library's `json` in sys.modules. It does not depend
    on the directory, as the names of the app's functions are part of the logic fingerprint of
    its rows."""
    return APP_MODULE_PREFIX + re.sub(r"\W", "_", path.stem)


def canonical_module(name: str) -> str:
    """``name``, or for the running program's ``__main__`` the app module name of its file."""
    if name != "__main__":
        return name
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return app_module_name(Path(main_file)) if main_file else name


def user_module_name(module: str) -> str:
    """The module name a user wrote: an app file's stem rather than its private name."""
    return module.removeprefix(APP_MODULE_PREFIX)
