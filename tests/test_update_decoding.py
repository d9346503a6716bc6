"""Key and value decoding for ``mutate`` (docs/architecture.md, "Decoding for `mutate`"): the
annotation of ``*all_mutations`` decides what each key and value looks like when it reaches the
connector."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
import update_helpers as h
from conftest import Workspace
from connector_source import connector_source, spec_source, static

from cocotui.engine.targets import TargetError

#: Types the variants below annotate ``mutate`` with, and a connector whose ``mutate`` carries
#: the annotation ANNOTATION (recording into mem_connector.CALLS).
DECODING_HEADER = '''
@dataclasses.dataclass(frozen=True)
class FileKey:
    filename: str


class FileKeyNT(NamedTuple):
    filename: str


@dataclasses.dataclass(frozen=True)
class PairKey:
    size: int  # declared in another order than primary_key_fields: built by name
    filename: str


class PairKeyNT(NamedTuple):
    filename: str
    size: int


@dataclasses.dataclass
class Val:
    content: str
    size: int


class ValNT(NamedTuple):
    content: str
    size: int


@dataclasses.dataclass
class ContentOnly:
    """``size`` is collected but not a field here: it is ignored; ``note`` has a default."""

    content: str
    note: str = "default note"


'''
DECODING_HEADER += spec_source("DecodeTarget") + connector_source(
    "DecodeTarget",
    "DecodeConnector",
    mutate=static(
        "def mutate(*all_mutations: ANNOTATION):\n"
        '    mem_connector.CALLS.append(("mutate", all_mutations))'
    ),
)


def decoding_app(ws: Workspace, annotation: str, key_fields: list[str]) -> None:
    header = DECODING_HEADER.replace("*all_mutations: ANNOTATION", f"*all_mutations: {annotation}")
    if annotation == "":
        header = header.replace("*all_mutations: ", "*all_mutations")
    h.flow_app(
        ws,
        f'out.export("t", DecodeTarget(resource="r"), primary_key_fields={key_fields!r})',
        rows='doc["size"] = doc["content"].transform(len)',
        collect='filename=doc["filename"], content=doc["content"], size=doc["size"]',
        header=header,
    )


@pytest.fixture
def ws(workspace: Workspace, in_process_app: None, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    return h.prepare(workspace, monkeypatch)


def app_module(ws: Workspace) -> Any:
    """The loaded app (under a private module name: an app file never shadows a module)."""
    app = str(ws.app.resolve())
    return next(m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == app)


Expect = Callable[[Any], Any]

VARIANTS: list[tuple[str, str, list[str], Expect, Expect]] = [
    # (id, annotation of *all_mutations, primary key fields, expected key, expected value)
    (
        "unannotated",
        "",
        ["filename"],
        lambda m: "a.md",
        lambda m: {"content": "hello", "size": 5},
    ),
    (
        "single-key-bare",
        "tuple[DecodeTarget, dict[str, dict[str, Any] | None]]",
        ["filename"],
        lambda m: "a.md",
        lambda m: {"content": "hello", "size": 5},
    ),
    (
        "single-key-frozen-dataclass",
        "tuple[DecodeTarget, dict[FileKey, dict[str, Any] | None]]",
        ["filename"],
        lambda m: m.FileKey("a.md"),
        lambda m: {"content": "hello", "size": 5},
    ),
    (
        "single-key-namedtuple",
        "tuple[DecodeTarget, dict[FileKeyNT, dict[str, Any] | None]]",
        ["filename"],
        lambda m: m.FileKeyNT("a.md"),
        lambda m: {"content": "hello", "size": 5},
    ),
    (
        "several-keys-unannotated-tuple",
        "tuple[DecodeTarget, dict[Any, Any]]",
        ["filename", "size"],
        lambda m: ("a.md", 5),
        lambda m: {"content": "hello"},
    ),
    (
        "several-keys-annotated-tuple",
        "tuple[DecodeTarget, dict[tuple[str, int], dict[str, Any] | None]]",
        ["filename", "size"],
        lambda m: ("a.md", 5),
        lambda m: {"content": "hello"},
    ),
    (
        "several-keys-dataclass",
        "tuple[DecodeTarget, dict[PairKey, dict[str, Any] | None]]",
        ["filename", "size"],
        lambda m: m.PairKey(size=5, filename="a.md"),
        lambda m: {"content": "hello"},
    ),
    (
        "several-keys-namedtuple",
        "tuple[DecodeTarget, dict[PairKeyNT, dict[str, Any] | None]]",
        ["filename", "size"],
        lambda m: m.PairKeyNT("a.md", 5),
        lambda m: {"content": "hello"},
    ),
    (
        "value-dataclass",
        "tuple[DecodeTarget, dict[str, Val | None]]",
        ["filename"],
        lambda m: "a.md",
        lambda m: m.Val(content="hello", size=5),
    ),
    (
        "value-namedtuple",
        "tuple[DecodeTarget, dict[str, ValNT | None]]",
        ["filename"],
        lambda m: "a.md",
        lambda m: m.ValNT(content="hello", size=5),
    ),
    (
        "value-dataclass-ignores-extra-collected-fields",
        "tuple[DecodeTarget, dict[FileKey, ContentOnly | None]]",
        ["filename"],
        lambda m: m.FileKey("a.md"),
        lambda m: m.ContentOnly(content="hello"),
    ),
]


@pytest.mark.parametrize(
    ("annotation", "key_fields", "expected_key", "expected_value"),
    [pytest.param(*v[1:], id=v[0]) for v in VARIANTS],
)
def test_mutate_receives_keys_and_values_as_annotated(
    ws: Workspace,
    annotation: str,
    key_fields: list[str],
    expected_key: Expect,
    expected_value: Expect,
) -> None:
    decoding_app(ws, annotation, key_fields)
    h.write_files(ws, {"a.md": "hello"})
    h.apply_all(ws)

    run = h.update(ws)
    assert run.result.ok
    [call] = h.mutate_calls()
    [(spec, mutations)] = call
    module = app_module(ws)
    assert spec == module.DecodeTarget(resource="r")  # no prepare: the spec itself
    key, value = expected_key(module), expected_value(module)
    assert mutations == {key: value}
    [(got_key, got_value)] = mutations.items()
    assert type(got_key) is type(key)
    assert type(got_value) is type(value)

    # A deleted row arrives as the same decoded key with the value None (the app is loaded
    # again by the new engine: its classes are new ones).
    (ws.source_dir / "a.md").unlink()
    h.update(ws)
    [call] = h.mutate_calls()
    [(_, mutations)] = call
    key = expected_key(app_module(ws))
    assert mutations == {key: None}
    assert type(next(iter(mutations))) is type(key)


def test_value_dataclass_field_never_collected_fails_at_load_naming_it(ws: Workspace) -> None:
    header = (
        DECODING_HEADER
        + """

@dataclasses.dataclass
class WithTitle:
    content: str
    title: str


"""
        + spec_source("TitleTarget")
        + connector_source(
            "TitleTarget",
            "TitleConnector",
            mutate=static(
                "def mutate(*all_mutations: tuple[TitleTarget, dict[str, WithTitle | None]]):\n"
                "    pass"
            ),
        )
    )
    h.flow_app(
        ws,
        'out.export("titled", TitleTarget(resource="r"), primary_key_fields=["filename"])',
        header=header.replace("*all_mutations: ANNOTATION", "*all_mutations"),
    )
    h.write_files(ws, {"a.md": "hello"})
    with pytest.raises(TargetError) as caught:
        h.open_engine(ws)
    message = str(caught.value)
    assert "'title'" in message
    assert "WithTitle" in message
    assert "Docs.titled" in message


def test_unhashable_key_dataclass_fails_at_load(ws: Workspace) -> None:
    """A key type must be hashable (a *frozen* dataclass): it is a dict key in ``mutate``."""
    header = DECODING_HEADER.replace(
        "*all_mutations: ANNOTATION", "*all_mutations: tuple[DecodeTarget, dict[MutableKey, Any]]"
    )
    header = "\n@dataclasses.dataclass\nclass MutableKey:\n    filename: str\n\n" + header
    h.flow_app(
        ws,
        'out.export("t", DecodeTarget(resource="r"), primary_key_fields=["filename"])',
        header=header,
    )
    with pytest.raises(TargetError, match=r"MutableKey.*frozen"):
        h.open_engine(ws)


def test_single_key_annotation_with_several_key_fields_fails_at_load(ws: Workspace) -> None:
    decoding_app(ws, "tuple[DecodeTarget, dict[str, dict[str, Any]]]", ["filename", "size"])
    with pytest.raises(TargetError, match=r"Docs\.t.*filename, size"):
        h.open_engine(ws)
