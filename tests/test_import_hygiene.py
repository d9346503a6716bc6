"""Only ``cocotui.tui`` may import Textual: the engine, the CLI and the connectors must not."""

from __future__ import annotations

from python_probe import run_probe

PROBE = """
import contextlib, importlib, io, json, sys
from pathlib import Path

root = Path.cwd()
names = ["cocotui", "cocotui.cli.main", "cocotui.engine.facade"]
# The repository's connectors/ is installed as cocotui_connectors.
for package, directory in (("cocotui", "cocotui"), ("cocotui_connectors", "connectors")):
    for path in sorted((root / directory).rglob("*.py")):
        parts = (package, *path.relative_to(root / directory).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        # The UI itself, and `python -m cocotui` (which would run the CLI).
        if parts[:2] == ("cocotui", "tui") or parts[-1] == "__main__":
            continue
        names.append(".".join(parts))
for name in names:
    importlib.import_module(name)

from cocotui.cli.main import build_parser, main

build_parser().format_help()
with contextlib.redirect_stdout(io.StringIO()):
    main(["connectors", "--json"])
    with contextlib.suppress(SystemExit):
        main(["plan", "--help"])

print(json.dumps({
    "imported": names,
    "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.")),
}))
"""


def test_engine_cli_and_connectors_do_not_import_textual() -> None:
    result, _ = run_probe(PROBE)
    assert {"cocotui", "cocotui.cli.main", "cocotui.engine.facade"} <= set(result["imported"])
    assert {"cocotui.engine.apply", "cocotui.state.tracking"} <= set(result["imported"])
    assert any(name.startswith("cocotui_connectors.") for name in result["imported"])
    assert result["textual"] == []


def test_the_probe_would_see_textual() -> None:
    """The check above can fail: importing Textual is visible the same way."""
    result, _ = run_probe(
        'import json, sys, textual\nprint(json.dumps({"imported": [], '
        '"textual": [m for m in sys.modules if m == "textual"]}))'
    )
    assert result["textual"] == ["textual"]
