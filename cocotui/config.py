"""User preferences (the UI theme) in ``config.toml`` under the user config directory
(override: ``$COCOTUI_CONFIG_DIR``). A missing or unreadable file means defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from cocotui.state.setup_store import write_private_file


def config_path() -> Path:
    override = os.environ.get("COCOTUI_CONFIG_DIR")
    base = Path(override) if override else platformdirs.user_config_path("cocotui", appauthor=False)
    return base / "config.toml"


def load_config() -> dict[str, Any]:
    try:
        return tomllib.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def save_setting(name: str, value: str) -> str:
    """Save one preference. Returns ``""``, or why it could not be saved (a read-only HOME, a
    full disk): a preference not kept is worth a warning, not a crash."""
    config = load_config()
    config[name] = value
    path = config_path()
    try:
        write_private_file(path, tomli_w.dumps(config).encode("utf-8"))
    except OSError as exc:
        return f"cannot save the {name} setting to {path}: {exc.strerror or exc}"
    return ""
