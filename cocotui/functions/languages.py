"""The programming languages CocoIndex v0 knows by name or file extension, with the tree-sitter
grammar it parses each with (when it has one).

The names are those of the tree-sitter language pack, as in v0; a language is looked up by its
name or any alias (file extensions such as ``.py``, or other names such as ``golang``),
ignoring case. ``DetectProgrammingLanguage`` and ``SplitRecursively`` share this table.
"""

from __future__ import annotations

import dataclasses
import functools


@dataclasses.dataclass(frozen=True)
class LanguageInfo:
    """A language: its main name, and the grammar (in the tree-sitter language pack) used to
    split it by its syntax, ``None`` for languages split as plain text."""

    name: str
    grammar: str | None = None
    #: Node kinds never split into their children (a markdown paragraph's inline text).
    terminal_node_kinds: tuple[str, ...] = ()


_MARKDOWN_TERMINALS = ("inline", "indented_code_block", "fenced_code_block")

#: (name, aliases separated by spaces, grammar): v0.3.39's language table, by name.
_TABLE: tuple[tuple[str, str, str | None], ...] = (
    ("actionscript", ".as", None),
    ("ada", ".ada .adb .ads", None),
    ("agda", ".agda", None),
    ("apex", ".cls .trigger", None),
    ("arduino", ".ino", None),
    ("asm", ".asm .a51 .i .nas .nasm .s", None),
    ("astro", ".astro", None),
    ("bash", ".sh .bash", None),
    ("beancount", ".beancount", None),
    ("bibtex", ".bib .bibtex", None),
    ("bicep", ".bicep .bicepparam", None),
    ("bitbake", ".bb .bbappend .bbclass", None),
    ("c", ".c .cats .h.in .idc", "c"),
    ("cairo", ".cairo", None),
    ("capnp", ".capnp", None),
    ("chatito", ".chatito", None),
    ("clarity", ".clar", None),
    ("clojure", ".clj .boot .cl2 .cljc .cljs .cljs.hl .cljscm .cljx .hic", None),
    ("cmake", ".cmake .cmake.in", None),
    ("commonlisp", ".lisp .asd .cl .l .lsp .ny .podsl .sexp", None),
    (
        "cpp",
        ".cpp .h .c++ .cc .cp .cppm .cxx .h++ .hh .hpp .hxx .inl .ipp .ixx .tcc .tpp .txx c++",
        "cpp",
    ),
    ("cpon", ".cpon", None),
    ("csharp", ".cs .cake .cs.pp .csx .linq cs c#", "csharp"),
    ("css", ".css .scss", "css"),
    ("csv", ".csv", None),
    ("cuda", ".cu .cuh", None),
    ("d", ".d .di", None),
    ("dart", ".dart", None),
    ("dockerfile", ".dockerfile .containerfile", None),
    ("dtd", ".dtd", "dtd"),
    ("elisp", ".el", None),
    ("elixir", ".ex .exs", None),
    ("elm", ".elm", None),
    ("embeddedtemplate", ".ets", None),
    ("erlang", ".erl .app .app.src .escript .hrl .xrl .yrl", None),
    ("fennel", ".fnl", None),
    ("firrtl", ".fir", None),
    ("fish", ".fish", None),
    ("fortran", ".f .f90 .f95 .f03 f f90 f95 f03", "fortran"),
    ("fsharp", ".fs .fsi .fsx", None),
    ("func", ".func", None),
    ("gdscript", ".gd", None),
    ("gitattributes", ".gitattributes", None),
    ("gitignore", ".gitignore", None),
    ("gleam", ".gleam", None),
    ("glsl", ".glsl .vert .frag", None),
    ("gn", ".gn .gni", None),
    ("go", ".go golang", "go"),
    ("gomod", "go.mod", None),
    ("gosum", "go.sum", None),
    ("graphql", ".graphql .gql", None),
    ("groovy", ".groovy .grt .gtpl .gvy .gradle", None),
    ("hack", ".hack", None),
    ("hare", ".ha", None),
    ("haskell", ".hs .hs-boot .hsc", None),
    ("haxe", ".hx", None),
    ("hcl", ".hcl .tf", None),
    ("heex", ".heex", None),
    ("hlsl", ".hlsl", None),
    ("html", ".html .htm .hta .html.hl .xht .xhtml", "html"),
    ("hyprlang", ".hl", None),
    ("ini", ".ini .cfg", None),
    ("ispc", ".ispc", None),
    ("janet", ".janet", None),
    ("java", ".java .jav .jsh", "java"),
    (
        "javascript",
        ".js ._js .bones .cjs .es .es6 .gs .jake .javascript .jsb .jscad .jsfl .jslib "
        ".jsm .jspre .jss .jsx .mjs .njs .pac .sjs .ssjs .xsjs .xsjslib js",
        "javascript",
    ),
    (
        "json",
        ".json .4DForm .4DProject .avsc .geojson .gltf .har .ice .JSON-tmLanguage "
        ".json.example .jsonl .mcmeta .sarif .tact .tfstate .tfstate.backup .topojson "
        ".webapp .webmanifest .yy .yyp",
        "json",
    ),
    ("jsonnet", ".jsonnet", None),
    ("julia", ".jl", None),
    ("kdl", ".kdl", None),
    ("kotlin", ".kt .ktm .kts", "kotlin"),
    ("latex", ".tex", None),
    ("linkerscript", ".ld", None),
    ("llvm", ".ll", None),
    ("lua", ".lua .nse .p8 .pd_lua .rbxs .rockspec .wlua", None),
    ("luau", ".luau", None),
    ("magik", ".magik", None),
    ("make", ".mak .make .makefile .mk .mkfile", None),
    (
        "markdown",
        ".md .livemd .markdown .mdown .mdwn .mdx .mkd .mkdn .mkdown .ronn .scd .workbook md",
        "markdown",
    ),
    ("mermaid", ".mmd", None),
    ("meson", "meson.build", None),
    ("netlinx", ".axi", None),
    ("nim", ".nim .nim.cfg .nimble .nimrod .nims", None),
    ("ninja", ".ninja", None),
    ("nix", ".nix", None),
    ("nqc", ".nqc", None),
    ("pascal", ".pas .dfm .dpr .lpr .pascal pas dpr delphi", "pascal"),
    ("pem", ".pem", None),
    ("perl", ".pl .al .cgi .fcgi .perl .ph .plx .pm .psgi .t", None),
    ("pgn", ".pgn", None),
    ("php", ".php", "php"),
    ("po", ".po", None),
    ("pony", ".pony", None),
    ("powershell", ".ps1", None),
    ("prisma", ".prisma", None),
    ("properties", ".properties", None),
    ("proto", ".proto", None),
    ("psv", ".psv", None),
    ("puppet", ".pp", None),
    ("purescript", ".purs", None),
    ("python", ".py .pyw .pyi .pyx .pxd .pxi", "python"),
    ("qmljs", ".qml", None),
    ("r", ".r", "r"),
    ("racket", ".rkt", None),
    ("rbs", ".rbs", None),
    ("re2c", ".re", None),
    ("rego", ".rego", None),
    ("requirements", "requirements.txt", None),
    ("ron", ".ron", None),
    ("rst", ".rst", None),
    ("ruby", ".rb", "ruby"),
    ("rust", ".rs rs", "rust"),
    ("scala", ".scala", "scala"),
    ("scheme", ".ss", None),
    ("slang", ".slang", None),
    ("smali", ".smali", None),
    ("smithy", ".smithy", None),
    ("solidity", ".sol", "solidity"),
    ("sparql", ".sparql", None),
    ("sql", ".sql", "sql"),
    ("squirrel", ".nut", None),
    ("starlark", ".star .bzl", None),
    ("svelte", ".svelte", None),
    ("swift", ".swift", "swift"),
    ("tablegen", ".td", None),
    ("tcl", ".tcl", None),
    ("thrift", ".thrift", None),
    ("toml", ".toml", "toml"),
    ("tsv", ".tsv", None),
    ("tsx", ".tsx", "tsx"),
    ("twig", ".twig", None),
    ("typescript", ".ts ts", "typescript"),
    ("typst", ".typ", None),
    ("udev", ".rules", None),
    ("ungrammar", ".ungram", None),
    ("uxntal", ".tal", None),
    ("verilog", ".vh", None),
    ("vhdl", ".vhd .vhdl", None),
    ("vim", ".vim", None),
    ("vue", ".vue", None),
    ("wast", ".wast", None),
    ("wat", ".wat", None),
    ("wgsl", ".wgsl", None),
    ("xcompose", ".xcompose", None),
    ("xml", ".xml", "xml"),
    ("yaml", ".yaml .yml", "yaml"),
    ("yuck", ".yuck", None),
    ("zig", ".zig", None),
)


def lookup_key(name: str) -> str:
    """Names and aliases compare without regard to case (Unicode case folding)."""
    return name.casefold()


@functools.cache
def _languages_by_key() -> dict[str, LanguageInfo]:
    by_key: dict[str, LanguageInfo] = {}
    for name, aliases, grammar in _TABLE:
        terminals = _MARKDOWN_TERMINALS if name == "markdown" else ()
        info = LanguageInfo(name, grammar, terminals)
        for alias in (name, *aliases.split()):
            key = lookup_key(alias)
            if key in by_key:
                raise AssertionError(f"language name or alias {alias!r} is listed twice")
            by_key[key] = info
    return by_key


def language_info(name: str) -> LanguageInfo | None:
    """The language with this name or alias (a file extension such as ``.py`` included)."""
    return _languages_by_key().get(lookup_key(name))


def detect_language(filename: str) -> str | None:
    """The language of a file, from its extension (what follows its last dot), as v0 does:
    ``None`` when the name has no dot or the extension is not in the table."""
    dot = filename.rfind(".")
    if dot < 0:
        return None
    info = language_info(filename[dot:])
    return info.name if info is not None else None
