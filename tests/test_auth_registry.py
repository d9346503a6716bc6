"""The auth registry (issue 11, item 4): ``add_auth_entry``, ``add_transient_auth_entry``,
``ref_auth_entry`` and ``AuthEntryReference[T]`` spec fields, resolved as v0 resolves them
(``get_auth_entry``). The state stores the reference, never the secret; no secret reaches any
file under the state directory or any output."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime_helpers import cli, write_program

import cocotui as cocoindex
from cocotui import auth_registry
from cocotui.auth_registry import AuthEntryError, get_auth_entry

SECRET = "s3cr3t-Pa55word-4242"


@dataclasses.dataclass
class Credentials:
    user: str
    password: str


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(auth_registry, "_entries", {})
    yield


def test_add_auth_entry_returns_a_reference_that_resolves() -> None:
    ref = cocoindex.add_auth_entry("db", Credentials("me", SECRET))
    assert isinstance(ref, cocoindex.AuthEntryReference) and ref.key == "db"
    assert get_auth_entry(Credentials, ref) == Credentials("me", SECRET)
    assert SECRET not in repr(ref)


def test_ref_auth_entry_resolves_an_entry_added_later_and_names_a_missing_one() -> None:
    ref: cocoindex.AuthEntryReference[Credentials] = cocoindex.ref_auth_entry("later")
    with pytest.raises(AuthEntryError, match="auth entry 'later' is not registered"):
        get_auth_entry(Credentials, ref)
    cocoindex.add_auth_entry("later", {"user": "me", "password": SECRET})
    assert get_auth_entry(Credentials, ref) == Credentials("me", SECRET)  # as v0 loads JSON


def test_a_key_holds_one_value() -> None:
    cocoindex.add_auth_entry("db", Credentials("me", SECRET))
    cocoindex.add_auth_entry("db", Credentials("me", SECRET))  # a module imported again
    with pytest.raises(AuthEntryError, match="'db' already exists with another value"):
        cocoindex.add_auth_entry("db", Credentials("me", "other"))


def test_transient_entries_are_keyed_by_a_salted_digest_of_the_value() -> None:
    first = cocoindex.add_transient_auth_entry(SECRET)
    assert first == cocoindex.add_transient_auth_entry(SECRET)  # stable across runs
    assert first.key.startswith("__transient_") and SECRET not in first.key
    assert first != cocoindex.add_transient_auth_entry("another")
    assert not isinstance(first, cocoindex.AuthEntryReference)
    assert get_auth_entry(str, first) == SECRET


AUTH_PROGRAM = {
    "spec_fields": (
        "credentials: cocoindex.auth_registry.TransientAuthEntryReference[Credentials]"
    ),
    "prelude": """
        @dataclasses.dataclass
        class Credentials:
            user: str
            password: str

        SECRET = os.environ.get("THE_SECRET", "")
        """,
    "before_flow": "CREDENTIALS = {register}",
    "spec_args": "directory='out', credentials=CREDENTIALS",
    "mutate_extra": """
        creds = cocoindex.auth_registry.get_auth_entry(Credentials, spec.credentials)
        assert creds.password == SECRET, "resolved"
        """,
    "main": """
        shout_flow.setup(report_to_stdout=True)
        print(shout_flow.update())
        """,
}


def all_text_under(directory: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in directory.rglob("*") if p.is_file()
    )


@pytest.mark.parametrize(
    ("register", "stored_key"),
    [
        ('cocoindex.add_auth_entry("team_db", Credentials("me", SECRET))', "team_db"),
        ('cocoindex.add_transient_auth_entry(Credentials("me", SECRET))', "__transient_"),
    ],
)
def test_the_state_and_outputs_hold_the_reference_never_the_secret(
    tmp_path: Path,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    register: str,
    stored_key: str,
) -> None:
    root = tmp_path / "prog"
    root.mkdir()
    program = {**AUTH_PROGRAM, "before_flow": AUTH_PROGRAM["before_flow"].format(register=register)}
    write_program(root, **program)
    monkeypatch.setenv("THE_SECRET", SECRET)  # so the program's source does not hold it
    run = cli(root, state_dir, "run", "main.py")
    ls = cli(root, state_dir, "ls", "main.py", "--json")
    plan = cli(root, state_dir, "plan", "main.py", "--json")
    update = cli(root, state_dir, "update", "main.py", "--reexport")
    assert run.returncode == 0, run.stderr
    assert "2 added" in run.stdout and "0 errors" in run.stdout  # the connector resolved it
    assert update.returncode == 0, update.stderr
    state_text = all_text_under(state_dir)
    assert stored_key in state_text
    outputs = [run, ls, plan, update]
    for text in [state_text, *(r.stdout + r.stderr for r in outputs)]:
        assert SECRET not in text
