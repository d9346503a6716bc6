"""Row keys the engine can track: tracking stores keys as SQLite text, so a key must be valid
Unicode. A file name that is not UTF-8 reaches Python with lone surrogates; such a row is
reported (with its bytes escaped) instead of stopping the whole listing."""

from __future__ import annotations

#: Why a row whose key is not text fails (tracking stores keys as UTF-8 text).
UNTRACKABLE_ERROR = (
    "the file name is not valid UTF-8 (shown with \\x escapes); rename it to export it"
)


def is_text(key: str) -> bool:
    """Whether ``key`` is valid Unicode text: a file name that is not UTF-8 comes with lone
    surrogates, which neither tracking nor JSON output nor most targets can store."""
    if key.isascii():
        return True
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_key(key: str) -> str:
    """``key`` with the bytes that are not UTF-8 shown as ``\\xNN``."""
    try:
        return key.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no undecodable byte stands for
        return key.encode("utf-8", "backslashreplace").decode("utf-8")
