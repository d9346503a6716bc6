"""Example: each markdown guide sent to an HTTP service as JSON.

    python examples/http_server.py &          # a tiny JSON store on 127.0.0.1:8000
    export EXAMPLE_HTTP_TOKEN="Bearer dev-token"
    cocotui apply examples/http_app.py --yes  # PUT /collections/guides
    cocotui update examples/http_app.py       # PUT /guides/<file name> per guide
    curl -s http://127.0.0.1:8000/guides

The service is ``$EXAMPLE_HTTP_URL`` (default ``http://127.0.0.1:8000``); the Authorization
header's value comes from ``EXAMPLE_HTTP_TOKEN`` when the app runs, never from this file or the
state. Set ``batch_endpoint="/guides:batch"`` to send rows in batches instead.
"""

from __future__ import annotations

import os

import guide_facts

import cocotui as cocoindex
from cocotui_connectors.http import HttpEndpoint

SERVICE = os.environ.get("EXAMPLE_HTTP_URL", "http://127.0.0.1:8000").rstrip("/")


@cocoindex.flow_def(name="GuidesToHttp")
def guides_to_http(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
    data_scope["guides"] = flow_builder.add_source(guide_facts.source())
    rows = data_scope.add_collector()
    with data_scope["guides"].row() as guide:
        rows.collect(
            filename=guide["filename"],
            title=guide["content"].transform(guide_facts.title),
            words=guide["content"].transform(guide_facts.word_count),
            headings=guide["content"].transform(guide_facts.headings),
        )
    rows.export(
        "guides",
        HttpEndpoint(
            base_url=f"{SERVICE}/guides",
            headers_env={"Authorization": "EXAMPLE_HTTP_TOKEN"},
            provision_url=f"{SERVICE}/collections/guides",
        ),
        primary_key_fields=["filename"],
    )
