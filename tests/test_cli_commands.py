"""The CLI's commands: one object each, listed once; a missing command opens the TUI."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from cocotui.cli import main as cli
from cocotui.cli.listing_commands import ListTargets
from cocotui.cli.tui_command import TuiCommand
from cocotui.presenter import FORMAT_VERSION

REPO = Path(__file__).resolve().parent.parent


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def test_no_command_opens_the_tui_on_the_demo() -> None:
    args = parse()
    assert isinstance(args.command, TuiCommand)
    assert args.app is None and not args.read_only


def test_an_app_without_a_command_opens_the_tui_on_it() -> None:
    args = parse("app.py", "--read-only", "--state-dir", "/s")
    assert isinstance(args.command, TuiCommand)
    assert (args.app, args.read_only, args.state_dir) == ("app.py", True, "/s")


def test_a_command_word_runs_that_command() -> None:
    args = parse("ls", "app.py", "--json")
    assert isinstance(args.command, ListTargets)
    assert (args.app, args.json) == ("app.py", True)


def test_an_unknown_option_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("app.py", "--no-such-option")
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_help_lists_every_command_once(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--help")
    listing = capsys.readouterr().out
    names = [c.name for c in cli.COMMANDS]
    assert len(set(names)) == len(names)
    expected = {
        "ls",
        "plan",
        "apply",
        "drop",
        "connectors",
        "update",
        "status",
        "tui",
        "serve",
        "query",
        "run",
    }
    assert set(names) == expected
    for name in names:
        assert re.search(rf"^    {name}\b", listing, re.MULTILINE), name


def test_every_json_document_says_the_one_format_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["connectors", "--json"]) == 0
    assert f'"format_version": {FORMAT_VERSION},' in capsys.readouterr().out
    literal = re.compile(r"""["']format_version["']\s*:\s*\d""")
    sources = [p for p in (REPO / "cocotui").rglob("*.py") if literal.search(p.read_text())]
    assert sources == [], "format_version written as a literal instead of FORMAT_VERSION"
