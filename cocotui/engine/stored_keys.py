"""Stored persistent keys read as their connector dumps them today.

A key is stored in the form it was dumped in when its target was created. That form has changed
(a NamedTuple key was a tuple, it is now a dict of its fields; ``None`` fields of an object are
now left out, as v0 does), and a target's identity is the text of its key: an old form would
plan a drop of the target and a create of the same one. Loading the key as the connector's
``persistent_key_type`` and dumping it again gives the key as it is written now."""

from __future__ import annotations

from cocotui import registry
from cocotui.engine_object import dump, load
from cocotui.state.setup_store import AppState


def read_keys_as_today(state: AppState) -> AppState:
    """``state`` with each stored key of a registered connector in today's form (in place;
    a key that cannot be re-read stays as stored)."""
    for target in state.targets:
        kind = registry.get(target.kind)
        if kind is None:
            continue
        try:
            target.key = dump(load(kind.persistent_key_type, target.key), "stored key")
        except (TypeError, ValueError):
            continue  # not the connector's key type any more: planned by its stored form
    return state
