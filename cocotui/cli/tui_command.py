"""``cocotui [APP]`` without a command."""

from __future__ import annotations

import argparse

from cocotui.cli.main import build_parser


def run(args: argparse.Namespace) -> int:
    build_parser().print_help()
    return 0
