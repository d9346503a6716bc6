"""``cocotui update``: export changed rows to the app's targets."""

from __future__ import annotations

import argparse
from collections.abc import Callable

CommandFactory = Callable[[str, str, str], argparse.ArgumentParser]


def add_parser(command: CommandFactory) -> None:
    pass


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
