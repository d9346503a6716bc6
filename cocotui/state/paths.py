"""Where an app's state lives: ``--state-dir``, else ``$COCOTUI_STATE_DIR``, else the
platform's user state directory."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import platformdirs


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override)
    from_env = os.environ.get("COCOTUI_STATE_DIR")
    if from_env:
        return Path(from_env)
    return platformdirs.user_state_path("cocotui", appauthor=False)


@dataclasses.dataclass(frozen=True)
class AppPaths:
    directory: Path
    app: str

    @property
    def setup_state(self) -> Path:
        return self.directory / f"{self.app}.toml"

    @property
    def tracking(self) -> Path:
        return self.directory / f"{self.app}.tracking.sqlite"

    @property
    def lock(self) -> Path:
        return self.directory / f"{self.app}.lock"


def app_paths(app: str, override: str | os.PathLike[str] | None = None) -> AppPaths:
    return AppPaths(state_dir(override), app)
