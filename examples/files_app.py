"""Example: one plain-text card per markdown guide, as files in a directory.

    cocotui apply examples/files_app.py --yes
    cocotui update examples/files_app.py
    cat out/guides/getting-started.txt

The directory is ``$EXAMPLE_OUT/guides`` (default ``out/``, relative to the working directory).
Keys are the guides' file names without ``.md``, so ``getting-started.md`` becomes
``getting-started.txt``; each card holds the guide's title, word count and level-2 headings.
Edit or delete a guide and run ``update`` again: only its card is rewritten or removed.
"""

from __future__ import annotations

import os
from pathlib import Path

import guide_facts

import cocotui as cocoindex
from cocotui_connectors.files import DirectoryTarget

DIRECTORY = Path(os.environ.get("EXAMPLE_OUT", "out")) / "guides"


@cocoindex.op.function(behavior_version=1)
def stem(filename: str) -> str:
    """The file name without its ``.md`` extension (kept in subdirectories)."""
    return filename.removesuffix(".md")


@cocoindex.op.function(behavior_version=1)
def card(markdown: str) -> str:
    """A guide's title, word count and level-2 headings, as plain text."""
    lines = [guide_facts.title(markdown), f"{guide_facts.word_count(markdown)} words", ""]
    lines += [f"- {heading}" for heading in guide_facts.headings(markdown)]
    return "\n".join(lines) + "\n"


@cocoindex.flow_def(name="GuidesToFiles")
def guides_to_files(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
    data_scope["guides"] = flow_builder.add_source(guide_facts.source())
    cards = data_scope.add_collector()
    with data_scope["guides"].row() as guide:
        cards.collect(
            name=guide["filename"].transform(stem),
            card=guide["content"].transform(card),
        )
    cards.export(
        "guides",
        DirectoryTarget(directory=str(DIRECTORY), suffix=".txt"),
        primary_key_fields=["name"],
    )
