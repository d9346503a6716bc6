"""Values as a person sees them: the only place the presenter masks and escapes (the view
models are built from these)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import tomli_w

from cocotui.display import display_line, display_text, mask_secrets
from cocotui.state.setup_store import SetupRecord
from cocotui.values.identity import canonical_json
from cocotui.values.plain_json import to_plain_json
from cocotui.values.toml_tags import encode

if TYPE_CHECKING:
    from cocotui.state.setup_store import SetupRecord

#: A name, description or message on one line.
line = display_line
#: A message or traceback, its lines kept.
text = display_text


def value(shown: Any, name: str = "") -> str:
    """A state value on one line (``name``: the field it is the value of, which may make it a
    secret)."""
    if shown is ...:
        return "(absent)"
    plain = to_plain_json(mask_secrets(shown, name))
    return display_line(json.dumps(plain, ensure_ascii=False, sort_keys=True))


def key(persistent_key: Any) -> str:
    """A persistent key on one line."""
    return display_line(canonical_json(mask_secrets(persistent_key)))


def key_block(persistent_key: Any) -> str:
    """A persistent key as indented JSON."""
    plain = to_plain_json(mask_secrets(persistent_key))
    return display_text(json.dumps(plain, indent=2, ensure_ascii=False))


def record(setup: SetupRecord | None) -> str:
    """One stored or desired setup version as TOML (``None``: a drop)."""
    if setup is None:
        return "(a drop)\n"
    doc = {
        "state": encode(mask_secrets(setup.state)),
        "key_fields": list(setup.key_fields),
        "value_fields": list(setup.value_fields),
    }
    return display_text(tomli_w.dumps(doc))
