"""docs/architecture.md is the document the code points to: every pointer names one of its
sections, and it states each import rule that lint-imports checks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "architecture.md"
SOURCES = ("cocotui", "connectors", "tests", "benchmarks", "examples")
POINTER = re.compile(r'docs/architecture\.md, "([^"]+)"')


def _python_files() -> list[Path]:
    # Hidden directories (e.g. benchmarks/.work, the benchmarks' scratch copies) are not sources.
    return [
        path
        for top in SOURCES
        for path in sorted((REPO / top).rglob("*.py"))
        if not any(part.startswith(".") for part in path.relative_to(REPO).parts)
    ]


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").replace("*", "").split())


def test_every_pointer_names_a_section() -> None:
    sections = {line[3:].strip() for line in DOC.read_text().splitlines() if line.startswith("## ")}
    pointers = {
        _plain(name)
        for path in _python_files()
        for name in POINTER.findall(" ".join(path.read_text(encoding="utf-8").split()))
    }
    assert pointers, "the code points to the document"
    assert pointers <= {_plain(section) for section in sections}


def test_no_docstring_cites_a_document_outside_the_repository() -> None:
    outside = "DESIGN" + " §"  # (not spelled out: this file would cite it)
    citing = {path for path in _python_files() if outside in path.read_text("utf-8")}
    assert citing == set()


def test_the_import_rules_checked_are_the_ones_documented() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    names = [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]
    assert names
    doc = _plain(DOC.read_text())
    for name in names:
        assert _plain(name) in doc, name
