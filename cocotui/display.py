"""What cocotui may show a person: secrets masked, terminal control characters escaped.

The presenter (:mod:`cocotui.presenter`) applies these to everything the front ends show:
specs, keys, descriptions, file names and error messages go through :func:`display_line` or
:func:`display_text`; ``--json`` documents through :func:`mask_secrets` only (JSON escapes
control characters itself and must stay exact).
"""

from __future__ import annotations

import functools
import re
from typing import Any


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled on first use: compiling this module's patterns at import cost every
    command about 1.5 ms at start-up, and most commands never need most of them."""
    return re.compile(pattern)


#: What a secret is shown as.
MASK = "********"
#: A name is secret when its last word ends with one of these (``password``, ``db_password``,
#: ``sslpassword``, ``adminPassword``, ``client_secret``, ``auth_token``, ``accesstoken``)...
_SECRET_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "credentials")
#: ... or is one of these (HTTP headers carrying credentials: ``Authorization``, ``Cookie``)...
_SECRET_WORDS = frozenset({"pwd", "auth", "authorization", "cookie"})
#: ... or its last two words are one of these (``api_key``, ``secretKey``, ``X-Api-Key``).
#: ``key`` alone is not: primary keys, persistent keys and key fields are not secrets.
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("secret", "key"), ("access", "key"), ("private", "key"), ("auth", "key")}
)
_WORD = r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])"

#: ``scheme://user:password@``: the password of a URL, up to the last ``@`` of its authority
#: (an unescaped ``@`` in a password must not leave its tail in sight).
_URL_PASSWORD = r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:]*:)([^\s/?#]+)(@)"
_QUOTED = r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
_SECRET_NAME = (
    r"(?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]*?(?i:password|passwd|passphrase|secret|token|apikey"
    r"|credentials|pwd|auth|authorization|cookie|(?:api|secret|access|private|auth)[_-]?key)"
)
#: ``name=value``, ``name: value``, ``"name": "value"`` in free text, for secret-looking names
#: (checked again with :func:`is_secret_name`): URL query parameters (``?access_token=...``),
#: conninfo strings (``password=...``), headers and dict reprs.
_ASSIGNMENT = (
    rf"""(?P<name>{_SECRET_NAME})(?P<quote>["']?)(?P<sep>[ \t]*(?:=|:(?!//))[ \t]*)"""
    rf"""(?P<value>(?:Bearer|Basic|Token|Digest)[ \t]+[^\s&;,'"]+|{_QUOTED}|[^\s&;,'"}}\])]+)"""
)
#: Text without any of these cannot hold a secret-named assignment.
_ASSIGNMENT_HINTS = ("pass", "secret", "token", "key", "auth", "cookie", "credential", "pwd")
#: A credential after an HTTP authorization scheme, wherever it appears.
_AUTH_SCHEME = r"\b(Bearer|Basic)([ \t]+)[A-Za-z0-9._~+/=-]{8,}"

#: Characters a terminal acts on rather than shows (C0, DEL, C1: cursor moves, screen
#: clearing, window titles), bidirectional overrides that reorder what is shown, and lone
#: surrogates (file names that are not UTF-8), which cannot be written to a terminal.
_OTHER_CONTROLS = "\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ANY_CONTROL = f"[\x00-\x1f{_OTHER_CONTROLS}]"
_CONTROL_BUT_LINES = f"[\x00-\x08\x0b-\x1f{_OTHER_CONTROLS}]"  # keeps \t, \n


def is_secret_name(name: object) -> bool:
    """Whether a field named ``name`` holds a secret, by its last word(s): ``password``,
    ``sslpassword``, ``secret``, ``token``, ``api_key``, ``secret_key``, ``Authorization``...
    (in any case, with ``_``, ``-`` or camelCase between words). ``key``, ``primary_key``,
    ``token_env`` (a variable's name) or ``max_tokens`` are not."""
    if not isinstance(name, str):
        return False
    words = [w.lower() for w in _compiled(_WORD).findall(name)]
    if not words:
        return False
    last = words[-1]
    return (
        last.endswith(_SECRET_SUFFIXES)
        or last in _SECRET_WORDS
        or tuple(words[-2:]) in _SECRET_PAIRS
    )


def _names_variables(name: object) -> bool:
    """Whether a field named ``name`` (``url_env``, ``headers_env``) holds environment
    variable names rather than values."""
    return isinstance(name, str) and [w.lower() for w in _compiled(_WORD).findall(name)][-1:] == [
        "env"
    ]


def _mask_assignment(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]):
        return match[0]
    value = match["value"]
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match['name']}{match['quote']}{match['sep']}{quote}{MASK}{quote}"


def mask_text(text: str) -> str:
    """``text`` with the secrets it spells out masked: URL passwords
    (``postgresql://me:********@host``), secret-named parameters and fields
    (``?access_token=********``, ``sslpassword=********``, ``"Authorization": "********"``) and
    bearer/basic credentials."""
    if "://" in text:
        text = _compiled(_URL_PASSWORD).sub(rf"\g<1>{MASK}\g<3>", text)
    lowered = text.lower()  # a substring test is a hundred times faster than the patterns
    if any(hint in lowered for hint in _ASSIGNMENT_HINTS):
        text = _compiled(_ASSIGNMENT).sub(_mask_assignment, text)
    if "bearer" in lowered or "basic" in lowered:
        text = _compiled(_AUTH_SCHEME).sub(rf"\g<1>\g<2>{MASK}", text)
    return text


def mask_secrets(value: Any, name: object = None) -> Any:
    """``value`` as it may be displayed or logged: the values of secret-named fields (see
    :func:`is_secret_name`; ``name`` is the field ``value`` belongs to, if any) become
    :data:`MASK`, at any depth of dicts, lists and tuples, and strings are masked with
    :func:`mask_text`. Empty secrets (``None``, ``""``) and fields naming environment variables
    (``*_env``) are shown as they are."""
    if is_secret_name(name) and value is not None and value != "":
        return MASK
    if _names_variables(name):
        return value  # ``headers_env={"Authorization": "API_TOKEN"}``: names, not secrets
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_secrets(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    if isinstance(value, tuple):
        return tuple(mask_secrets(v) for v in value)
    return value


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every terminal control character written as a Python escape (``\\x1b``,
    ``\\u202e``); with ``keep_lines``, newlines and tabs are kept."""
    if text.isprintable():
        return text  # every character escaped here is one that str.isprintable() refuses
    pattern = _CONTROL_BUT_LINES if keep_lines else _ANY_CONTROL
    return _compiled(pattern).sub(_escape, text)


def display_line(text: str) -> str:
    """A name, key, description or value as shown on one line: masked, every control
    character (newlines included: a file name must not start a forged line) escaped."""
    return escape_controls(mask_text(text))


def display_text(text: str) -> str:
    """A message or traceback as shown: masked, control characters escaped but its lines
    kept."""
    return escape_controls(mask_text(text), keep_lines=True)
