"""Where the TUI saves its screenshots (F8)."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def screenshot_dir() -> Path:
    """Where F8 saves screenshots: ``cocotui`` in the user's pictures directory when there is
    one, else ``screenshots`` in cocotui's user data directory (never the current directory,
    which is often a repository)."""
    pictures = platformdirs.user_pictures_path()
    if pictures.is_dir() and pictures != Path.home():
        return pictures / "cocotui"
    return platformdirs.user_data_path("cocotui", appauthor=False) / "screenshots"
