"""Values crossing the engine's boundaries, one concern per module: :mod:`.shapes` (what the
engine can carry, struct fields), :mod:`.toml_tags` (a lossless encoding for TOML),
:mod:`.identity` (canonical identities), :mod:`.plain_json` (``--json`` output) and
:mod:`.fingerprints` (of collected values). Typed setup objects: :mod:`cocotui.engine_object`;
rows for ``mutate``: :mod:`cocotui.engine_value`."""
