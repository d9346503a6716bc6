"""Source text of a target connector class for the apps tests write: the three required methods
(``get_persistent_key`` returning ``spec.resource``, ``apply_setup_change`` and ``mutate`` doing
nothing), each replaced or removed as a test needs, and any other member added.

Tests that break the contract name only the member they break, so a case reads as what it is.
"""

from __future__ import annotations

import textwrap

#: The members every connector needs, in the order they are written.
REQUIRED = {
    "get_persistent_key": """
        @staticmethod
        def get_persistent_key(spec, target_name):
            return spec.resource
    """,
    "apply_setup_change": """
        @staticmethod
        def apply_setup_change(key, previous, current):
            pass
    """,
    "mutate": """
        @staticmethod
        def mutate(*all_mutations):
            pass
    """,
}


def static(definition: str) -> str:
    """``definition`` (a ``def``) as a static method."""
    return "@staticmethod\n" + textwrap.dedent(definition).strip()


def connector_source(
    spec_cls: str,
    name: str = "Connector",
    *,
    setup_state_cls: str | None = None,
    **members: str | None,
) -> str:
    """``@cocoindex.op.target_connector(spec_cls=...)`` over class ``name``: ``members`` replace
    the required methods of that name (``None`` removes one) or are added after them. A member
    is its whole source (decorators included, see :func:`static`)."""
    chosen: dict[str, str | None] = {**REQUIRED, **members}
    body = [
        textwrap.indent(textwrap.dedent(text).strip(), "    ")
        for text in chosen.values()
        if text is not None
    ]
    arguments = f"spec_cls={spec_cls}"
    if setup_state_cls is not None:
        arguments += f", setup_state_cls={setup_state_cls}"
    head = f"@cocoindex.op.target_connector({arguments})\nclass {name}:\n"
    return head + ("\n\n".join(body) if body else "    pass") + "\n"


def spec_source(name: str, *fields: str) -> str:
    """``class NAME(cocoindex.op.TargetSpec)`` with ``fields`` (default ``resource: str``)."""
    lines = fields or ("resource: str",)
    return f"class {name}(cocoindex.op.TargetSpec):\n" + "".join(f"    {f}\n" for f in lines)
