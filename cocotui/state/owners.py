"""Other apps that hold a target: the setup states beside an app's own in its state directory.

A target's identity in an app's state is (kind, persistent key); two apps whose states hold the
same (kind, key) drive one physical target (a directory, a table), and each one's drop would
remove what the other wrote. Apps that share a state directory (the default: one per user) see
each other here; apps whose states live in different directories cannot.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cocotui.state.setup_store import StateError, TomlSetupStore

#: (kind, canonical JSON of the persistent key)
KindKey = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class Owner:
    """Another app's claim on a target: the app, its target's name and its state file."""

    app: str
    target: str
    state_file: Path

    def __str__(self) -> str:
        return f"app {self.app} (target {self.target}, state {self.state_file})"


def other_owners(own_state_file: Path) -> dict[KindKey, list[Owner]]:
    """The targets the other setup states in ``own_state_file``'s directory may have created,
    by (kind, key). A state that cannot be read is skipped: it is that app's error to report,
    and this app's plan must not fail on it."""
    owners: dict[KindKey, list[Owner]] = {}
    directory = own_state_file.parent
    if not directory.is_dir():
        return owners
    for path in sorted(directory.glob("*.toml")):
        if path.name == own_state_file.name or not path.is_file():
            continue
        try:
            state = TomlSetupStore(path, path.stem).load()
        except (StateError, OSError):
            continue
        for target in state.targets:
            if target.versions:  # a target never created holds nothing
                owner = Owner(state.app, f"{target.flow}.{target.export}", path)
                owners.setdefault((target.kind, target.key_id), []).append(owner)
    return owners
