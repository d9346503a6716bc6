"""What a planned setup change does to a target. Apart from the planner so that the front
ends can name and colour actions without importing it."""

from __future__ import annotations

import enum


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DROP = "drop"
    NONE = "none"

    @property
    def status_word(self) -> str:
        """The status CocoIndex prints for this action."""
        return {
            Action.CREATE: "TO CREATE",
            Action.UPDATE: "TO UPDATE",
            Action.DROP: "TO DELETE",
            Action.NONE: "READY",
        }[self]

    @property
    def symbol(self) -> str:
        return {Action.CREATE: "+", Action.UPDATE: "~", Action.DROP: "-", Action.NONE: " "}[self]
