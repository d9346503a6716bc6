"""Demo app: the markdown guides in ``docs/`` rendered to HTML pages, plus a plain-text
outline of each guide built from a nested row scope over its headings.

Output goes to ``$COCOTUI_DEMO_OUTPUT`` or, by default, the user data directory.
Run it with ``cocotui`` (the UI) or ``cocotui apply cocotui.demo.app && cocotui update ...``.
"""

from __future__ import annotations

import dataclasses
import html
import os
from datetime import timedelta
from pathlib import Path

import platformdirs
from markdown_it import MarkdownIt

import cocotui
from cocotui import first_party

# An app of your own imports it as `from cocotui_connectors.files import DirectoryTarget`.
DirectoryTarget = first_party.connector_module("files").DirectoryTarget

DOCS = Path(__file__).parent / "docs"
OUTPUT = Path(
    os.environ.get("COCOTUI_DEMO_OUTPUT")
    or platformdirs.user_data_path("cocotui", appauthor=False) / "demo"
)

_markdown = MarkdownIt("commonmark")


@dataclasses.dataclass(frozen=True)
class Heading:
    level: int
    text: str
    slug: str


@cocotui.op.function(behavior_version=1)
def render_page(markdown: str, filename: str) -> str:
    """A standalone HTML page for one guide."""
    title = html.escape(filename.removesuffix(".md"))
    body = _markdown.render(markdown)
    return (
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>\n{body}</body></html>\n"
    )


@cocotui.op.function(behavior_version=1)
def headings(markdown: str) -> list[Heading]:
    found: list[Heading] = []
    for line in markdown.splitlines():
        stripped = line.lstrip("#")
        level = len(line) - len(stripped)
        if 1 <= level <= 6 and stripped.startswith(" "):
            text = stripped.strip()
            words = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
            found.append(Heading(level, text, f"{len(found) + 1:02d}-{words[:40]}"))
    return found


@cocotui.op.function(behavior_version=1)
def outline_line(level: int, text: str) -> str:
    return "  " * (level - 1) + f"- {text}\n"


@cocotui.op.function()
def entry_path(filename: str, slug: str) -> str:
    return f"{filename.removesuffix('.md')}/{slug}"


@cocotui.flow_def(name="DemoDocs")
def demo_docs(flow_builder: cocotui.FlowBuilder, data_scope: cocotui.DataScope) -> None:
    data_scope["guides"] = flow_builder.add_source(
        cocotui.sources.LocalFile(path=str(DOCS), included_patterns=["*.md"]),
        refresh_interval=timedelta(seconds=30),
    )
    pages = data_scope.add_collector()
    outline = data_scope.add_collector()
    with data_scope["guides"].row() as guide:
        guide["html"] = guide["content"].transform(render_page, guide["filename"])
        pages.collect(filename=guide["filename"], html=guide["html"])
        guide["headings"] = guide["content"].transform(headings)
        with guide["headings"].row() as heading:
            outline.collect(
                entry=guide["filename"].transform(entry_path, heading["slug"]),
                line=heading["level"].transform(outline_line, heading["text"]),
            )
    pages.export(
        "pages",
        DirectoryTarget(directory=str(OUTPUT / "html"), suffix=".html"),
        primary_key_fields=["filename"],
    )
    outline.export(
        "outline",
        DirectoryTarget(directory=str(OUTPUT / "outline"), suffix=".txt"),
        primary_key_fields=["entry"],
    )
