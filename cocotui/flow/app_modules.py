"""The private module names app files are imported under, and the names users know them by."""

from __future__ import annotations

import re
from pathlib import Path

_PREFIX = "_cocotui_app_"


def app_module_name(path: Path) -> str:
    """The private module name an app file is loaded under: an app file called json.py must
    not become (or replace) the standard library's `json` in sys.modules. It does not depend
    on the directory, as the names of the app's functions are part of the logic fingerprint of
    its rows."""
    return _PREFIX + re.sub(r"\W", "_", path.stem)


def user_module_name(module: str) -> str:
    """The module name a user wrote: an app file's stem rather than its private name."""
    return module.removeprefix(_PREFIX)
