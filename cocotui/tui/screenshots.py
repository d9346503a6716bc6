"""Where the TUI saves its screenshots (F8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs

from cocotui import presenter


def screenshot_dir() -> Path:
    """Where F8 saves screenshots: ``cocotui`` in the user's pictures directory when there is
    one, else ``screenshots`` in cocotui's user data directory (never the current directory,
    which is often a repository)."""
    pictures = platformdirs.user_pictures_path()
    if pictures.is_dir() and pictures != Path.home():
        return pictures / "cocotui"
    return platformdirs.user_data_path("cocotui", appauthor=False) / "screenshots"


def save_screenshot(save: Callable[[str], str]) -> tuple[str, bool]:
    """Call ``save`` (the app's, with the directory) into :func:`screenshot_dir`, made if
    need be; what to tell the user, and whether it was saved."""
    directory = screenshot_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = save(str(directory))
    except OSError as exc:
        return presenter.message(f"cannot save in {directory}: {exc}"), False
    return presenter.message(f"Saved to {path}"), True
