"""``flow.evaluate_and_dump()``: evaluate every source row and write what the flow collects
to files, touching no target and no state (a dry run to look at the flow's output)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from cocotui.asyncbridge import iterate
from cocotui.engine.evaluate import FlowEvaluator
from cocotui.engine.queries import json_value
from cocotui.engine.update import SourceCounters
from cocotui.flow.builder import FlowDef
from cocotui.runtime.updater import UpdateStats


@dataclasses.dataclass
class EvaluateAndDumpOptions:
    output_dir: str
    #: v0 reads its function cache when true; cocotui evaluates afresh either way.
    use_cache: bool = True


def _file_name(source: str, key: str) -> str:
    return f"{source}@{re.sub(r'[^A-Za-z0-9._-]', '_', key)}.json"


def evaluate_and_dump(flow: FlowDef, options: EvaluateAndDumpOptions) -> UpdateStats:
    """One JSON file per source row, ``SOURCE@KEY.json``: the rows each export would receive."""
    built = flow.build()
    evaluator = FlowEvaluator(built)
    output = Path(options.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    stats: dict[str, SourceCounters] = {}
    for source in built.sources:
        counters = stats.setdefault(f"{built.name}.{source.name}", SourceCounters())
        for key, _ in iterate(source.spec.list_rows()):
            row = source.spec.read_row(key)
            if row is None:
                continue
            collected = evaluator.evaluate(source, row)
            exports: dict[str, Any] = {
                export.name: json_value(collected[export.collector.index])
                for export in built.exports
            }
            text = json.dumps(exports, indent=2, ensure_ascii=False, default=str)
            (output / _file_name(source.name, str(key))).write_text(text + "\n")
            counters.listed += 1
            counters.done += 1
            counters.added += 1
    return UpdateStats(stats)
