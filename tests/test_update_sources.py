"""Evaluation: the ``LocalFile`` source, transforms with extra arguments, nested row scopes, and
collecting/exporting from any scope."""

from __future__ import annotations

import pytest
import update_helpers as h
from conftest import Workspace


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def test_local_file_is_recursive_with_slash_separated_keys(ws: Workspace) -> None:
    files = {"top.md": "t", "sub/mid.md": "m", "sub/deeper/low.md": "l", "other/x.txt": "x"}
    h.write_files(ws, files)
    h.flow_app(ws)
    h.apply_all(ws)

    run = h.update(ws)
    assert run.result.ok
    assert h.store() == h.content_rows(files)
    assert run.result.sources["Docs.documents"].added == 4


def test_local_file_included_and_excluded_patterns(ws: Workspace) -> None:
    h.write_files(
        ws,
        {
            "a.md": "a",
            "b.txt": "b",
            "c.py": "c",
            "sub/d.md": "d",  # `*` crosses `/`, as in CocoIndex
            "sub/.hidden.md": "h",
            ".env.md": "e",
            ".git/config.md": "g",
            "drafts/e.md": "e",
            "sub/drafts/f.md": "f",
        },
    )
    h.flow_app(
        ws,
        source_args=(
            ', included_patterns=["*.md", "*.txt"], excluded_patterns=["**/.*", "**/drafts"]'
        ),
    )
    h.apply_all(ws)

    h.update(ws)
    assert sorted(h.store()) == ["a.md", "b.txt", "sub/d.md"]


def test_local_file_binary_gives_bytes(ws: Workspace) -> None:
    h.write_files(ws, {"blob.bin": b"\xff\x00\x01binary", "sub/t.bin": b"text"})
    h.flow_app(ws, source_args=", binary=True")
    h.apply_all(ws)

    h.update(ws)
    assert h.store() == {
        "blob.bin": {"content": b"\xff\x00\x01binary"},
        "sub/t.bin": {"content": b"text"},
    }


def test_local_file_text_content_is_kept_exactly(ws: Workspace) -> None:
    """Text files are decoded as UTF-8 without newline translation (CocoIndex reads the bytes)."""
    h.write_files(ws, {"crlf.md": b"line one\r\nline two\r\n", "utf8.md": "h\u00e9llo \u2603\n"})
    h.flow_app(ws)
    h.apply_all(ws)

    h.update(ws)
    assert h.store() == {
        "crlf.md": {"content": "line one\r\nline two\r\n"},
        "utf8.md": {"content": "h\u00e9llo \u2603\n"},
    }


def test_missing_source_directory_is_an_error_not_a_mass_delete(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "a"})
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)

    for path in ws.source_dir.iterdir():
        path.unlink()
    ws.source_dir.rmdir()
    run = h.update(ws)
    assert h.mutate_calls() == []
    assert run.result.errors == 1
    assert run.named("source.failed")[0]["source"] == "Docs.documents"
    assert h.store() == {"a.md": {"content": "a"}}


TRANSFORM_HEADER = """
@cocoindex.op.function(behavior_version=3)
def decorate(text, prefix, name, *, suffix="", repeat=1):
    return prefix + text.upper() * repeat + suffix + "@" + name
"""


def test_function_with_extra_positional_and_keyword_arguments(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "ab", "sub/b.md": "c"})
    h.flow_app(
        ws,
        rows="""
        doc["shown"] = doc["content"].transform(
            decorate, "> ", doc["filename"], suffix=" <", repeat=2
        )
        """,
        collect='filename=doc["filename"], shown=doc["shown"]',
        header=TRANSFORM_HEADER,
    )
    h.apply_all(ws)

    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    assert h.store() == {
        "a.md": {"shown": "> ABAB <@a.md"},
        "sub/b.md": {"shown": "> CC <@sub/b.md"},
    }


CHUNK_HEADER = """
@dataclasses.dataclass
class Chunk:
    index: int
    text: str


@cocoindex.op.function()
def split_dataclasses(text):
    return [Chunk(i, part) for i, part in enumerate(text.split("|"))]


@cocoindex.op.function()
def split_dicts(text):
    return [{"index": i, "text": part} for i, part in enumerate(text.split("|"))]


@cocoindex.op.function()
def shout(text, mark):
    return text.upper() + mark
"""


@pytest.mark.parametrize("splitter", ["split_dataclasses", "split_dicts"])
def test_nested_row_scope_collects_and_exports(ws: Workspace, splitter: str) -> None:
    h.write_files(ws, {"a.md": "x|y|z", "b.md": "w"})
    body = f"""
    @cocoindex.flow_def(name="Docs")
    def docs_flow(flow_builder, data_scope):
        data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
        chunks_out = data_scope.add_collector()
        docs_out = data_scope.add_collector()
        with data_scope["documents"].row() as doc:
            doc["chunks"] = doc["content"].transform({splitter})
            with doc["chunks"].row() as chunk:
                chunk["loud"] = chunk["text"].transform(shout, "!")
                chunks_out.collect(
                    filename=doc["filename"], index=chunk["index"], text=chunk["loud"]
                )
            docs_out.collect(filename=doc["filename"], size=doc["content"].transform(len))
        chunks_out.export(
            "chunks", MemTarget(resource="chunks"), primary_key_fields=["filename", "index"]
        )
        docs_out.export("docs", MemTarget(resource="docs"), primary_key_fields=["filename"])
    """
    h.write_app(ws, body, CHUNK_HEADER)
    h.apply_all(ws)

    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    assert h.store("chunks") == {
        ("a.md", 0): {"text": "X!"},
        ("a.md", 1): {"text": "Y!"},
        ("a.md", 2): {"text": "Z!"},
        ("b.md", 0): {"text": "W!"},
    }
    assert h.store("docs") == {"a.md": {"size": 5}, "b.md": {"size": 1}}
    # Both targets are of one kind: one mutate call carrying both.
    [call] = h.mutate_calls()
    assert sorted(h.spec_of(p).resource for p, _ in call) == ["chunks", "docs"]


def test_two_levels_of_nesting_and_fields_of_outer_scopes(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "ab,c"})
    body = """
    def words(text):
        return [{"word": w} for w in text.split(",")]

    def letters(word):
        return [{"letter": ch} for ch in word]

    @cocoindex.flow_def(name="Docs")
    def docs_flow(flow_builder, data_scope):
        data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
        out = data_scope.add_collector()
        with data_scope["documents"].row() as doc:
            doc["words"] = doc["content"].transform(words)
            with doc["words"].row() as word:
                word["letters"] = word["word"].transform(letters)
                with word["letters"].row() as letter:
                    out.collect(
                        filename=doc["filename"],
                        word=word["word"],
                        letter=letter["letter"],
                        tag=doc["filename"].transform(str.upper),
                    )
        out.export("t", MemTarget(resource="a"), primary_key_fields=["filename", "word", "letter"])
    """
    h.write_app(ws, body)
    h.apply_all(ws)

    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    assert h.store() == {
        ("a.md", "ab", "a"): {"tag": "A.MD"},
        ("a.md", "ab", "b"): {"tag": "A.MD"},
        ("a.md", "c", "c"): {"tag": "A.MD"},
    }


def test_failing_function_fails_only_its_row_with_its_traceback(ws: Workspace) -> None:
    h.write_files(ws, {"good.md": "fine", "bad.md": "boom"})
    header = """
    def check(text):
        if text == "boom":
            raise ValueError("cannot digest " + text)
        return text
    """
    h.content_transform_app(ws, "checked", "check", header=header)
    h.apply_all(ws)

    run = h.update(ws)
    assert run.result.errors == 1
    [failure] = run.named("row.failed")
    assert failure["row"] == "bad.md"
    assert "cannot digest boom" in failure["error"]
    assert "def check" not in failure["traceback"]
    assert "raise ValueError" in failure["traceback"]
    assert h.store() == {"good.md": {"checked": "fine"}}

    # Fixed at the source: the next run evaluates only that row.
    h.write_files(ws, {"bad.md": "better"})
    run = h.update(ws)
    assert run.result.ok
    assert h.sent() == {"bad.md": {"checked": "better"}}


def test_changing_binary_reevaluates_rows(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "alpha"})
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)
    assert h.store() == {"a.md": {"content": "alpha"}}

    h.flow_app(ws, source_args=", binary=True")
    h.update(ws)
    assert h.sent() == {"a.md": {"content": b"alpha"}}


def test_narrowed_patterns_delete_rows_no_longer_listed(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "a", "b.txt": "b"})
    h.flow_app(ws)
    h.apply_all(ws)
    h.update(ws)

    h.flow_app(ws, source_args=', included_patterns=["*.md"]')
    run = h.update(ws)
    assert h.sent() == {"b.txt": None}
    assert run.result.sources["Docs.documents"].deleted == 1
    assert h.store() == {"a.md": {"content": "a"}}


def test_async_connector_methods_are_awaited(ws: Workspace) -> None:
    h.write_files(ws, {"a.md": "a"})
    h.flow_app(ws, 'out.export("t", AsyncTarget(resource="x"), primary_key_fields=["filename"])')
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok, run.named("row.failed")
    [(spec,)] = h.calls("prepare")
    assert spec.resource == "x"
    [[(prepared, mutations)]] = h.mutate_calls()
    assert prepared.number == -1
    assert mutations == {"a.md": {"content": "a"}}


def test_flows_are_tracked_independently(ws: Workspace) -> None:
    other = ws.source_dir.parent / "other"
    other.mkdir()
    (other / "o.md").write_text("o")
    h.write_files(ws, {"a.md": "a"})
    body = f"""
    @cocoindex.op.function(behavior_version=VERSION)
    def tag(text):
        mem_connector.CALLS.append(("tag", (text,)))
        return text + "!"

    def make(name, path, resource, fn):
        @cocoindex.flow_def(name=name)
        def flow(flow_builder, data_scope):
            data_scope["files"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=path))
            out = data_scope.add_collector()
            with data_scope["files"].row() as doc:
                out.collect(filename=doc["filename"], text=doc["content"].transform(fn))
            out.export("t", MemTarget(resource=resource), primary_key_fields=["filename"])

    def plain(text):
        mem_connector.CALLS.append(("plain", (text,)))
        return text

    make("First", SOURCE, "first", tag)
    make("Second", {str(other)!r}, "second", plain)
    """
    h.write_app(ws, body.replace("VERSION", "1"))
    h.apply_all(ws)
    run = h.update(ws)
    assert run.result.ok
    assert h.store("first") == {"a.md": {"text": "a!"}}
    assert h.store("second") == {"o.md": {"text": "o"}}
    assert set(run.result.sources) == {"First.files", "Second.files"}

    h.write_app(ws, body.replace("VERSION", "2"))
    h.update(ws)
    assert h.calls("tag") == [("a",)]
    assert h.calls("plain") == []  # the other flow's rows are not evaluated again
    assert h.mutate_calls() == []
