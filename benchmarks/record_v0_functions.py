"""Record what CocoIndex v0.3.39's built-in functions return on fixed inputs, as the JSON
fixtures under ``tests/fixtures/v0_functions/`` that cocotui's tests compare against.

It runs in an environment where the real ``cocoindex==0.3.39`` is installed (not cocotui's),
with a PostgreSQL that CocoIndex can use; the fixtures were produced with::

    COCOINDEX_DATABASE_URL=postgresql://cocotui:secretpw@127.0.0.1:55432/cocotui_test \\
        /work/v0/venv/bin/python benchmarks/record_v0_functions.py [FIXTURE.json ...]

(each fixture says so in its ``recorded_by``; naming fixtures records only those). The inputs
are cocotui's own texts (README, a few modules, pyproject.toml) and small edge cases (empty
text, text shorter than ``min_chunk_size``, unknown language, invalid JSON, files that are not
UTF-8); each case stores its input, so the tests need neither v0 nor the files as they are
today.
"""

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cocoindex
from cocoindex import functions as fn

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "v0_functions"

# Code-embedding and text-embedding example settings of v0, then smaller ones.
CODE = {"chunk_size": 1000, "min_chunk_size": 300, "chunk_overlap": 300}
DOCS = {"chunk_size": 2000, "chunk_overlap": 500}
SMALL = {"chunk_size": 200, "min_chunk_size": 50, "chunk_overlap": 40}


@dataclasses.dataclass
class Position:
    offset: int
    line: int
    column: int


@dataclasses.dataclass
class Chunk:
    text: str
    start: Position
    end: Position


ChunkTable = dict[cocoindex.Range, Chunk]
_flows: dict[str, Any] = {}


def _flow(key: str, apply: Callable[[Any], Any], output: Any) -> Any:
    """A transform flow applying one function to its text input (one per spec and arguments:
    v0 analyses each once)."""
    if key not in _flows:

        def flow(text: cocoindex.DataSlice[str]) -> Any:
            return apply(text)

        flow.__name__ = flow.__qualname__ = f"record_{len(_flows)}"
        flow.__annotations__["return"] = cocoindex.DataSlice[output]
        _flows[key] = cocoindex.transform_flow()(flow)
    return _flows[key]


def _run(flow: Any, text: str) -> dict[str, Any]:
    try:
        return {"output": flow.eval(text)}
    except Exception as exc:  # v0 reports every failure as a RuntimeError with a backtrace
        return {"error": str(exc).split("\n\n")[0].strip()}


def _chunks(table: ChunkTable, text: str) -> list[dict[str, Any]]:
    """The rows in order; a chunk's text is its location's slice of the input (checked here),
    so it is left out to keep the fixtures small."""
    rows = []
    for (start, end), chunk in table.items():
        assert chunk.text == text[start:end], (start, end)
        position = dataclasses.asdict(chunk)
        rows.append({"location": [start, end], "start": position["start"], "end": position["end"]})
    return rows


def _read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def split_recursively_cases() -> dict[str, Any]:
    readme = _read("README.md")
    custom = [
        {"language_name": "Dashed", "aliases": ["dsh", ".dash"], "separators_regex": [r"---+"]},
        {"language_name": "lines", "separators_regex": [r"\n", r"\s+"]},
    ]
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("readme_markdown_docs", readme, {"language": "markdown", **DOCS}),
        ("readme_markdown_code", readme, {"language": ".md", **CODE}),
        ("readme_markdown_small", readme, {"language": "Markdown", **SMALL}),
        ("readme_plain_text", readme, {"chunk_size": 500, "chunk_overlap": 100}),
        ("readme_no_overlap", readme, {"chunk_size": 300, "min_chunk_size": 100}),
        ("bench_readme_markdown", _read("benchmarks/README.md"), {"language": "md", **CODE}),
        ("op_python", _read("cocotui/op.py"), {"language": ".py", **CODE}),
        ("builder_python", _read("cocotui/flow/builder.py"), {"language": "python", **CODE}),
        (
            "values_python_small",
            _read("cocotui/values/toml_tags.py"),
            {"language": "python", **SMALL},
        ),
        ("pyproject_toml", _read("pyproject.toml"), {"language": ".toml", **SMALL}),
        ("empty", "", {"chunk_size": 100}),
        ("whitespace_only", " \n\t\n  \n", {"chunk_size": 100}),
        ("shorter_than_min", "Just a few words.", {"chunk_size": 100, "min_chunk_size": 50}),
        ("one_long_word", "x" * 250 + " tail", {"chunk_size": 100}),
        ("unknown_language", readme[:3000], {"language": "klingon", "chunk_size": 400}),
        ("overlap_above_min", readme[:3000], {"chunk_size": 300, "chunk_overlap": 400}),
        ("crlf", "First line.\r\nSecond line.\r\n\r\nNew paragraph here.\r\n" * 8, SMALL),
        ("unicode", _unicode_text(), {"chunk_size": 120, "chunk_overlap": 20}),
        ("unicode_markdown", _unicode_text(), {"language": "markdown", "chunk_size": 90}),
        ("custom_language", "part one---part two---" * 12, {"language": "DSH", **SMALL}),
        ("custom_language_lines", readme[:2000], {"language": "lines", "chunk_size": 150}),
        ("rust_code", _rust_text(), {"language": "rust", "chunk_size": 120}),
        ("typescript_code", _typescript_text(), {"language": ".ts", "chunk_size": 100}),
        *(
            (f"{language}_code", text, {"language": language, "chunk_size": 80})
            for language, text in _SNIPPETS.items()
        ),
    ]
    spec = fn.SplitRecursively(custom_languages=[fn.CustomLanguageSpec(**c) for c in custom])
    records = []
    texts: dict[str, str] = {}  # each input once, by the name of the first case using it
    for name, text, args in cases:
        flow = _flow(
            f"split:{sorted(args.items())}",
            lambda t, args=args: t.transform(spec, **args),
            ChunkTable,
        )
        result = _run(flow, text)
        if "output" in result:
            result["output"] = _chunks(result["output"], text)
        text_name = next((n for n, t in texts.items() if t == text), name)
        texts[text_name] = text
        records.append({"name": name, "args": args, "text": text_name, **result})
    return {"custom_languages": custom, "texts": texts, "cases": records}


def _unicode_text() -> str:
    return (
        "# Über Straße\n\nZürich — a city. Ça va? ¡Sí! 東京は大きい。大阪も大きい！本当？\n\n"
        "Emoji 😀 and more 🎉 text; with clauses: here, there, everywhere.\u00a0Non\u2003breaking"
        "\u3000spaces.\n\n" * 4
    )


def _rust_text() -> str:
    return (
        "use std::fmt;\n\n/// A point.\nstruct Point { x: i32, y: i32 }\n\n"
        "impl fmt::Display for Point {\n    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {"
        '\n        write!(f, "({}, {})", self.x, self.y)\n    }\n}\n\n'
        'fn main() {\n    let p = Point { x: 1, y: 2 };\n    println!("{}", p);\n}\n'
    )


#: Small texts in the other languages v0 splits by syntax.
_SNIPPETS = {
    "javascript": "const add = (a, b) => a + b;\n\nfunction greet(name) {\n  if (!name) {\n"
    "    return 'hello';\n  }\n  return `hello ${name}`;\n}\n\nmodule.exports = { add };\n",
    "tsx": 'export const App = () => (\n  <div className="app">\n    <h1>Title</h1>\n'
    "    <p>Some paragraph text here.</p>\n  </div>\n);\n",
    "json": '{\n  "name": "demo",\n  "version": "1.0.0",\n  "scripts": {"build": "tsc", '
    '"test": "jest"},\n  "list": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n}\n',
    "yaml": "name: demo\non:\n  push:\n    branches: [main]\njobs:\n  test:\n"
    "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n",
    "html": "<!doctype html>\n<html>\n<head><title>Demo page</title></head>\n<body>\n"
    "<p>First paragraph.</p>\n<ul><li>one</li><li>two</li></ul>\n</body>\n</html>\n",
    "css": "body {\n  margin: 0;\n  font-family: sans-serif;\n}\n\n.card {\n"
    "  padding: 1rem;\n  border: 1px solid #ccc;\n}\n",
    "c": "#include <stdio.h>\n\nstatic int square(int x) {\n  return x * x;\n}\n\n"
    'int main(void) {\n  printf("%d\\n", square(4));\n  return 0;\n}\n',
    "go": 'package main\n\nimport "fmt"\n\nfunc square(x int) int {\n\treturn x * x\n}\n\n'
    "func main() {\n\tfmt.Println(square(4))\n}\n",
    "java": "public class Demo {\n  static int square(int x) {\n    return x * x;\n  }\n\n"
    "  public static void main(String[] args) {\n    System.out.println(square(4));\n  }\n}\n",
    "sql": "CREATE TABLE docs (\n  id SERIAL PRIMARY KEY,\n  body TEXT NOT NULL\n);\n\n"
    "SELECT id, body FROM docs WHERE body LIKE '%x%' ORDER BY id;\n",
}


def _typescript_text() -> str:
    return (
        "interface Shape { area(): number }\n\nclass Circle implements Shape {\n"
        "  constructor(private r: number) {}\n  area(): number { return Math.PI * this.r ** 2; }"
        "\n}\n\nexport function total(shapes: Shape[]): number {\n"
        "  return shapes.reduce((sum, s) => sum + s.area(), 0);\n}\n"
    )


def split_by_separators_cases() -> dict[str, Any]:
    readme = _read("README.md")[:4000]
    lines = "alpha\n\nbeta\n\n\n  gamma  \n\ndelta. epsilon. zeta\n"
    specs: list[tuple[str, dict[str, Any], str]] = [
        # v0.3.39 refuses its own default keep_separator="NONE" (its engine expects LEFT,
        # RIGHT or null), so the v0 spelling of "drop the separator" is None.
        ("paragraphs", {"separators_regex": [r"\n\n+"], "keep_separator": None}, lines),
        ("readme_paragraphs", {"separators_regex": [r"\n\n+"], "keep_separator": None}, readme),
        ("keep_left", {"separators_regex": [r"\.\s*"], "keep_separator": "LEFT"}, lines),
        ("keep_right", {"separators_regex": [r"\.", r"\n"], "keep_separator": "RIGHT"}, lines),
        (
            "include_empty_no_trim",
            {
                "separators_regex": [r"\n"],
                "keep_separator": None,
                "include_empty": True,
                "trim": False,
            },
            lines,
        ),
        ("anchored", {"separators_regex": [r"^#+ "], "keep_separator": "RIGHT"}, readme),
        ("no_separators", {"keep_separator": None}, "  whole text, trimmed  \n"),
        (
            "unicode",
            {"separators_regex": ["。|！", r"\s—\s"], "keep_separator": None},
            _unicode_text(),
        ),
        ("empty", {"separators_regex": [r"\n"], "keep_separator": None}, ""),
    ]
    records = []
    for name, spec_args, text in specs:
        spec = fn.SplitBySeparators(**spec_args)
        flow = _flow(f"sep:{name}", lambda t, spec=spec: t.transform(spec), ChunkTable)
        result = _run(flow, text)
        if "output" in result:
            result["output"] = _chunks(result["output"], text)
        records.append({"name": name, "spec": spec_args, "text": text, **result})
    return {"cases": records}


def parse_json_cases() -> dict[str, Any]:
    texts = [
        '{"b": 1, "a": [1, 2.5, "x", -0.0, 1e-3], "c": {"z": null, "y": true}}',
        '  [ {"name": "Ünïcödé \\u00e9\\ud83d\\ude00", "n": -7} ]  ',
        '{"dup": 1, "dup": 2}',
        str(2**63 - 1),
        str(2**63),
        str(2**64 - 1),
        str(2**64),
        str(-(2**63)),
        str(-(2**63) - 1),
        "1e308",
        "1e400",
        "1E-400",
        "NaN",
        "Infinity",
        '"\\ud800"',
        '"\\udc00 low"',
        "",
        "   ",
        "[1,]",
        "{'single': 1}",
        '{"a": 1} trailing',
        "null",
        '"just a string"',
        "tru",
    ]
    records = []
    for language in (None, "json", ".JSON", "yaml"):
        args = {} if language is None else {"language": language}
        flow = _flow(
            f"json:{language}",
            lambda t, args=args: t.transform(fn.ParseJson(), **args),
            cocoindex.Json,
        )
        for text in texts if language is None else texts[:3]:
            records.append({"args": args, "text": text, **_run(flow, text)})
    return {"cases": records}


def _known_extensions() -> list[str]:
    """Every name and alias in cocotui's language table, as file names (v0 says which it
    knows)."""
    sys.path.insert(0, str(ROOT))
    from cocotui.functions.languages import _TABLE

    return [f"file{alias}" for _, aliases, _ in _TABLE for alias in aliases.split()]


def detect_language_cases() -> dict[str, Any]:
    names = [
        "main.py",
        "lib.RS",
        "Component.tsx",
        "README.md",
        "notes.MDX",
        "Makefile",
        "go.mod",
        "requirements.txt",
        "archive.tar.gz",
        "dir.d/file",
        ".gitignore",
        "file.",
        "",
        "x.h",
        "x.h.in",
        "grammar.JSON-tmLanguage",
        "weird.json.example",
        "naïve.Py",
    ]
    flow = _flow(
        "detect",
        lambda t: t.transform(fn.DetectProgrammingLanguage()),
        str | None,
    )
    return {"cases": [{"filename": n, **_run(flow, n)} for n in names + _known_extensions()]}


#: Files that are not plain UTF-8, as ``LocalFile(binary=False)`` reads them in a flow.
NON_UTF8_FILES = {
    "latin1.md": "# Café\n\nCrème brûlée à la française.\n\nNaïve façade, déjà vu.\n".encode(
        "latin-1"
    ),
    "invalid_bytes.md": b"valid start \xff\xfe middle \xc3( end.\n\nSecond \x80 paragraph.\n",
    "truncated.md": "Ends in a cut character: \u00e9".encode()[:-1],
    "truncated_3_bytes.md": b"A euro sign cut after 2 of its 3 bytes: \xe2\x82, then text.",
    "utf8_bom.md": "\ufeff# Title\n\nText after a UTF-8 byte order mark.\n".encode(),
    "utf16_bom.md": "\ufeff# Titel\n\nÜber UTF-16 mit Byte-Order-Mark.\n".encode("utf-16-le"),
    "latin1.json": '{"name": "café", "n": 1}'.encode("latin-1"),
}


class _RecordTarget(cocoindex.op.TargetSpec):
    name: str


_received: dict[str, dict[str, Any]] = {}


@cocoindex.op.target_connector(spec_cls=_RecordTarget)
class _RecordConnector:
    """Keeps what v0 exports, in memory."""

    @staticmethod
    def get_persistent_key(spec: _RecordTarget, target_name: str) -> str:
        return spec.name

    @staticmethod
    def apply_setup_change(key: str, previous: Any, current: Any) -> None:
        pass

    @staticmethod
    def mutate(*all_mutations: tuple[_RecordTarget, dict[Any, Any]]) -> None:
        for spec, mutations in all_mutations:
            rows = _received.setdefault(spec.name, {})
            for key, value in mutations.items():
                rows[json.dumps(key, default=list)] = value


def non_utf8_cases() -> dict[str, Any]:
    """What v0 reads from files that are not UTF-8 (its ``LocalFile`` decodes them) and what
    SplitRecursively, ParseJson and DetectProgrammingLanguage make of them, through a flow."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        for name, data in NON_UTF8_FILES.items():
            (Path(directory) / name).write_bytes(data)

        @cocoindex.flow_def(name="RecordNonUtf8")
        def record_flow(flow_builder: Any, data_scope: Any) -> None:
            data_scope["files"] = flow_builder.add_source(
                cocoindex.sources.LocalFile(path=directory)
            )
            files = data_scope.add_collector()
            chunks = data_scope.add_collector()
            with data_scope["files"].row() as file:
                file["language"] = file["filename"].transform(fn.DetectProgrammingLanguage())
                file["chunks"] = file["content"].transform(
                    fn.SplitRecursively(), language="markdown", chunk_size=40, chunk_overlap=0
                )
                files.collect(
                    filename=file["filename"], content=file["content"], language=file["language"]
                )
                with file["chunks"].row() as chunk:
                    chunks.collect(
                        filename=file["filename"], location=chunk["location"], text=chunk["text"]
                    )
            files.export("files", _RecordTarget(name="files"), primary_key_fields=["filename"])
            chunks.export(
                "chunks", _RecordTarget(name="chunks"), primary_key_fields=["filename", "location"]
            )

        record_flow.setup()
        try:
            record_flow.update()
        finally:
            record_flow.drop()
    files = {json.loads(k): dict(v) for k, v in _received["files"].items()}
    chunks: dict[str, list[Any]] = {}
    for key in sorted(_received["chunks"]):
        filename, location = json.loads(key)
        chunks.setdefault(filename, []).append(list(location))
    parse = _flow("json:None", lambda t: t.transform(fn.ParseJson()), cocoindex.Json)
    records = []
    for name, data in NON_UTF8_FILES.items():
        record = {"filename": name, "bytes": list(data), **files[name]}
        record["chunks"] = sorted(chunks.get(name, []))
        if name.endswith(".json"):
            record["parse_json"] = _run(parse, files[name]["content"])
        records.append(record)
    return {"cases": records}


#: What the fixtures say produced them.
COMMAND = (
    "COCOINDEX_DATABASE_URL=postgresql://cocotui:secretpw@127.0.0.1:55432/cocotui_test "
    "/work/v0/venv/bin/python benchmarks/record_v0_functions.py"
)

FIXTURES: dict[str, Callable[[], dict[str, Any]]] = {
    "split_recursively.json": split_recursively_cases,
    "split_by_separators.json": split_by_separators_cases,
    "parse_json.json": parse_json_cases,
    "detect_programming_language.json": detect_language_cases,
    "non_utf8_files.json": non_utf8_cases,
}


def main() -> None:
    """Record every fixture, or those named on the command line (``non_utf8_files.json``)."""
    chosen = sys.argv[1:] or list(FIXTURES)
    cocoindex.init()
    OUT.mkdir(parents=True, exist_ok=True)
    for file_name in chosen:
        document = {
            "recorded_with": f"cocoindex {cocoindex.__version__}",
            "recorded_by": COMMAND,
            **FIXTURES[file_name](),
        }
        (OUT / file_name).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {OUT / file_name}", file=sys.stderr)


if __name__ == "__main__":
    main()
