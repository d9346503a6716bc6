"""tree-sitter grammars for syntax-aware splitting, from the tree-sitter language pack (the
optional ``cocotui[splitting]`` extra), loaded once per process and language. A parser is made
per text (that is cheap), so that threads never share one."""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Any

from cocotui.functions.atoms import SyntaxTree
from cocotui.functions.languages import LanguageInfo

EXTRA = "cocotui[splitting]"


class GrammarUnavailableError(RuntimeError):
    """Splitting a language by its syntax needs tree-sitter, which is not installed."""


#: Grammars taken from their own package, at the version CocoIndex v0.3.39 builds in, because
#: the language pack's version parses into a differently shaped tree (and so other chunks).
_V0_GRAMMAR_PACKAGES = {"python": "tree_sitter_python"}


@functools.cache
def _load(grammar: str, terminal_kinds: tuple[str, ...]) -> tuple[ModuleType, Any, frozenset[int]]:
    """The tree-sitter module, the grammar, and the ids of its terminal node kinds."""
    try:
        import tree_sitter
        import tree_sitter_language_pack

        package = _V0_GRAMMAR_PACKAGES.get(grammar)
        own = importlib.import_module(package) if package else None
    except ImportError as exc:
        raise GrammarUnavailableError(
            f"splitting {grammar!r} text by its syntax needs tree-sitter and its grammars, "
            f"as CocoIndex does: pip install '{EXTRA}' ({exc})"
        ) from None
    if own is not None:
        language = tree_sitter.Language(own.language())
    else:
        language = tree_sitter_language_pack.get_language(grammar)  # type: ignore[arg-type]
    ids = (language.id_for_node_kind(kind, True) for kind in terminal_kinds)
    return tree_sitter, language, frozenset(i for i in ids if i)


def syntax_tree(language: LanguageInfo, data: bytes) -> SyntaxTree:
    """The parsed tree of a text (its UTF-8 bytes) in a language that has a grammar."""
    assert language.grammar is not None
    tree_sitter, grammar, terminals = _load(language.grammar, language.terminal_node_kinds)
    return SyntaxTree(tree_sitter.Parser(grammar).parse(data).root_node, terminals)
