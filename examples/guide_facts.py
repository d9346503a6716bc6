"""What the example apps export about each markdown guide, and where the guides are.

The guides are the demo's (``cocotui/demo/docs``) unless ``EXAMPLE_DOCS`` names another
directory of ``*.md`` files.
"""

from __future__ import annotations

import os
from pathlib import Path

import cocotui
import cocotui.demo

DOCS = os.environ.get("EXAMPLE_DOCS") or str(Path(cocotui.demo.__file__).parent / "docs")


def source() -> cocotui.sources.LocalFile:
    """Every markdown guide under ``DOCS``: one row per file (``filename``, ``content``)."""
    return cocotui.sources.LocalFile(path=DOCS, included_patterns=["*.md"])


@cocotui.op.function(behavior_version=1)
def title(markdown: str) -> str:
    """The first level-1 heading, or ``""``."""
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


@cocotui.op.function(behavior_version=1)
def headings(markdown: str) -> list[str]:
    """The level-2 headings, in order."""
    return [line[3:].strip() for line in markdown.splitlines() if line.startswith("## ")]


@cocotui.op.function(behavior_version=1)
def word_count(markdown: str) -> int:
    return len(markdown.split())
