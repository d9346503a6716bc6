"""Probes that run Python code in a fresh interpreter (a clean ``sys.modules``) and read back
what it printed as JSON: for the tests of what cocotui imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import REPO_ROOT, base_env


def run_probe(
    code: str,
    *args: str,
    cwd: Path = REPO_ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> tuple[Any, str]:
    """Run ``python -c code args``, which must succeed; its last output line parsed as JSON,
    and its whole output (for an assertion's message)."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env if env is not None else base_env(),
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1]), proc.stdout + proc.stderr
