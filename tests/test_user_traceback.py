"""A user's traceback (a row error, a failed setup change) shows the user's frames and those
of the public helpers the user's code called, never the engine's."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

import cocotui.atomic_file
import cocotui.engine.mutate
from cocotui.flow.loader import is_internal_file, user_traceback


def _connector(tmp_path: Path) -> ModuleType:
    """A connector module outside cocotui that writes through cocotui's atomic-write helper."""
    source = tmp_path / "my_connector.py"
    source.write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            from cocotui.atomic_file import write_file_atomically


            def write_row(directory: Path, key: str) -> None:
                write_file_atomically(directory / key, b"row")
            """
        )
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import my_connector
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("my_connector", None)
    return my_connector


def test_a_public_helper_is_not_internal_but_the_engine_is() -> None:
    assert not is_internal_file(cocotui.atomic_file.__file__)
    assert is_internal_file(cocotui.engine.mutate.__file__)


def test_an_error_in_a_helper_shows_the_helpers_frame_below_the_connectors(
    tmp_path: Path,
) -> None:
    connector = _connector(tmp_path)
    with pytest.raises(OSError) as caught:
        connector.write_row(tmp_path, "x" * 300)  # too long a name for the filesystem
    text = user_traceback(caught.value)
    assert "my_connector.py" in text and "in write_row" in text
    assert "atomic_file.py" in text and "in write_file_atomically" in text
    assert text.index("my_connector.py") < text.index("atomic_file.py")
    assert text.rstrip().splitlines()[-1].startswith("OSError")
