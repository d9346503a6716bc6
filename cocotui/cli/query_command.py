"""``cocotui query``: run one of the app's query handlers on a text query."""

from __future__ import annotations

import argparse
import sys

from cocotui.cli import render
from cocotui.cli.command import Command, add_app_arguments, add_json_argument, open_engine
from cocotui.cli.output import Output
from cocotui.display import display_line, display_text, mask_secrets


class QueryCommand(Command):
    name = "query"
    summary = "Run a query handler of the app (@flow.query_handler) and show its results."
    example = """
        HANDLER is FLOW.HANDLER, or HANDLER when only one flow has a handler of that name
        (`cocotui ls APP --json` lists them under flows[].query_handlers).
        example:
          cocotui query main.py TextEmbedding.search "vector databases" --json
        """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        add_app_arguments(parser)
        parser.add_argument("handler", metavar="[FLOW.]HANDLER", help="the query handler")
        parser.add_argument("text", metavar="TEXT", help="the query")
        add_json_argument(parser)

    def run(self, args: argparse.Namespace, output: Output) -> int:
        return cmd_query(args)


def cmd_query(args: argparse.Namespace) -> int:
    # Imported here, not with the module: every command's module is imported to parse argv.
    from cocotui.engine.queries import cell_text, find_handler, output_json, result_table
    from cocotui.flow.loader import user_traceback
    from cocotui.query_handler import QueryHandlerError

    engine = open_engine(args)
    try:
        found = find_handler(engine.app.flows, args.handler)
    finally:
        engine.close()
    try:
        output = found.handler.run(args.text)
    except QueryHandlerError:
        raise
    except Exception as exc:
        # The handler's own failure (its database is down, say): its traceback, not ours.
        message = mask_secrets(f"query handler {found.name} failed:\n{user_traceback(exc)}")
        if args.json:
            render.write_json(
                {"format_version": render.FORMAT_VERSION, "error": {"message": message}}
            )
        print(f"error: {display_text(message)}", file=sys.stderr)
        return 1
    if args.json:
        render.write_json(
            {"format_version": render.FORMAT_VERSION, **output_json(found, args.text, output)}
        )
        return 0
    columns, rows = result_table(output)
    print(display_line(f"{found.name}: {len(rows)} result(s) for {args.text!r}"))
    if columns:
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
        for row in rows:
            cells = (
                display_line(mask_secrets(v)).ljust(w) for v, w in zip(row, widths, strict=True)
            )
            print("  ".join(cells).rstrip())
    info = output.query_info
    if info.embedding is not None or info.similarity_metric is not None:
        metric = info.similarity_metric.value if info.similarity_metric else "none"
        print(f"query embedding: {cell_text(info.embedding)}; similarity metric: {metric}")
    return 0
