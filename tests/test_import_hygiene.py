"""Only ``cocotui.tui`` may import Textual: the engine, the CLI and the connectors must not."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO_ROOT, base_env

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


def run_probe(code: str) -> dict[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=base_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, list[str]] = json.loads(proc.stdout.splitlines()[-1])
    return result


def test_engine_cli_and_connectors_do_not_import_textual() -> None:
    result = run_probe(PROBE)
    assert {"cocotui", "cocotui.cli.main", "cocotui.engine.facade"} <= set(result["imported"])
    assert {"cocotui.engine.apply", "cocotui.state.tracking"} <= set(result["imported"])
    assert any(name.startswith("cocotui_connectors.") for name in result["imported"])
    assert result["textual"] == []


def test_the_probe_would_see_textual() -> None:
    """The check above can fail: importing Textual is visible the same way."""
    result = run_probe(
        'import json, sys, textual\nprint(json.dumps({"imported": [], '
        '"textual": [m for m in sys.modules if m == "textual"]}))'
    )
    assert result["textual"] == ["textual"]
