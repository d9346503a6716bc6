"""SplitRecursively, cocotui against CocoIndex v0.3.39 on v0's own example data: how many chunks
are identical, and how fast each splits, side by side in one run.

The corpus is what v0's examples index, taken from a CocoIndex repository at tag v0.3.39 (a
local git mirror) and extracted to a temporary directory for the run:

* *code*: the files v0's ``code_embedding`` example indexes (``*.py``, ``*.rs``, ``*.toml``,
  ``*.md``, ``*.mdx`` of the whole repository, no hidden paths, ``target`` or ``node_modules``),
  plus its ``*.ts`` files, split as that example does: the language detected from the file name,
  ``chunk_size=1000, min_chunk_size=300, chunk_overlap=300``;
* *docs*: the markdown files of v0's ``text_embedding`` example, split as it does:
  ``language="markdown", chunk_size=2000, chunk_overlap=500``.

v0 runs in its own interpreter (``--v0-python``, where ``cocoindex==0.3.39`` is installed; it
needs ``COCOINDEX_DATABASE_URL``), through a ``transform_flow`` evaluated once per file; cocotui
runs in this one, calling ``SplitRecursively`` once per file. Each side's time is the sum over
files of the wall time of those calls, so start-up is left out; the sides take turns, one pass
over the corpus each per round, and each side's best round counts (``--runs`` rounds). A chunk is
identical when its location, start and end (offset, line, column) all are; its text is then the
same slice of the same file. Usage::

    COCOINDEX_DATABASE_URL=postgresql://cocotui:secretpw@127.0.0.1:55432/cocotui_test \\
        python benchmarks/bench_split.py --v0-python /work/v0/venv/bin/python
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MIRROR = Path("/work/.mirror/cocoindex-io+cocoindex/repo")
TAG = "v0.3.39"
CODE_PATTERNS = ("*.py", "*.rs", "*.toml", "*.md", "*.mdx", "*.ts")
DOCS_DIR = "examples/text_embedding/markdown_files/"
CODE_ARGS = {"chunk_size": 1000, "min_chunk_size": 300, "chunk_overlap": 300}
DOCS_ARGS = {"language": "markdown", "chunk_size": 2000, "chunk_overlap": 500}

#: A file's chunks as compared: (start offset, end offset, start line, start column, end line,
#: end column).
ChunkRow = tuple[int, int, int, int, int, int]


def _indexed_by_code_example(path: str) -> bool:
    parts = path.split("/")
    if any(p.startswith(".") or p in ("target", "node_modules") for p in parts):
        return False
    return any(fnmatch.fnmatch(parts[-1], pattern) for pattern in CODE_PATTERNS)


def extract_corpus(mirror: Path, tag: str, into: Path) -> list[dict[str, Any]]:
    """Write the corpus files under ``into`` and return the jobs: (set, path, split args)."""
    listing = subprocess.run(
        ["git", "-C", str(mirror), "ls-tree", "-r", "--name-only", tag],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    jobs: list[dict[str, Any]] = []
    for path in filter(None, listing):
        sets = [("code", CODE_ARGS)] if _indexed_by_code_example(path) else []
        if path.startswith(DOCS_DIR) and path.endswith(".md"):
            sets.append(("docs", DOCS_ARGS))
        if not sets:
            continue
        data = subprocess.run(
            ["git", "-C", str(mirror), "show", f"{tag}:{path}"], check=True, capture_output=True
        ).stdout
        target = into / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        jobs.extend({"set": name, "path": path, "args": args} for name, args in sets)
    return jobs


def read_text(path: Path) -> str:
    # As v0's LocalFile reads text: UTF-8 without its BOM (the corpus is all UTF-8).
    return path.read_bytes().decode("utf-8-sig")


def _rows(table: dict[Any, Any]) -> list[ChunkRow]:
    """A chunk table (v0's or cocotui's) as comparable rows, in order."""
    rows = []
    for key, chunk in table.items():
        start, end = key if isinstance(key, tuple) and len(key) == 2 else key.location
        rows.append(
            (start, end, chunk.start.line, chunk.start.column, chunk.end.line, chunk.end.column)
        )
    return rows


def _time_files(split: Any, corpus: Path, jobs: list[dict[str, Any]], runs: int) -> Any:
    """Each job's chunk rows and the best total split time over ``runs``."""
    texts = [read_text(corpus / job["path"]) for job in jobs]
    best = float("inf")
    outputs: list[list[ChunkRow]] = []
    for _ in range(runs):
        outputs, total = [], 0.0
        for job, text in zip(jobs, texts, strict=True):
            began = time.perf_counter()
            table = split(text, job)
            total += time.perf_counter() - began
            outputs.append(_rows(table))
        best = min(best, total)
    return outputs, best


@dataclasses.dataclass
class V0Position:
    offset: int
    line: int
    column: int


@dataclasses.dataclass
class V0Chunk:
    """What v0's transform flow decodes each chunk into."""

    text: str
    start: V0Position
    end: V0Position


def v0_worker(corpus: Path, jobs_file: Path, out_file: Path, runs: int) -> None:
    """Run in v0's interpreter: split every job with v0 and write rows and time as JSON."""
    import cocoindex

    cocoindex.init()
    flows: dict[str, Any] = {}

    def flow_for(args: dict[str, Any]) -> Any:
        key = json.dumps(args, sort_keys=True)
        if key not in flows:
            fixed = {k: v for k, v in args.items() if k != "language"}

            def split(text: cocoindex.DataSlice[str], language: cocoindex.DataSlice[str]) -> Any:
                return text.transform(
                    cocoindex.functions.SplitRecursively(), language=language, **fixed
                )

            split.__name__ = split.__qualname__ = f"bench_split_{len(flows)}"
            split.__annotations__ = {
                "text": cocoindex.DataSlice[str],
                "language": cocoindex.DataSlice[str],
                "return": cocoindex.DataSlice[dict[cocoindex.Range, V0Chunk]],
            }
            flows[key] = cocoindex.transform_flow()(split)
        return flows[key]

    def split_with_v0(text: str, job: dict[str, Any]) -> Any:
        language = job["args"].get("language") or job["language"]
        return flow_for(job["args"]).eval(text, language)

    jobs = json.loads(jobs_file.read_text())
    for job in jobs[:1]:  # build the flows outside the measured time
        split_with_v0(read_text(corpus / job["path"]), job)
    outputs, seconds = _time_files(split_with_v0, corpus, jobs, runs)
    out_file.write_text(json.dumps({"outputs": outputs, "seconds": seconds}))


def run_v0(v0_python: str, corpus: Path, jobs: list[dict[str, Any]], runs: int) -> Any:
    jobs_file, out_file = corpus / "jobs.json", corpus / "v0_out.json"
    jobs_file.write_text(json.dumps(jobs))
    worker = subprocess.run(
        [
            v0_python,
            __file__,
            "--v0-worker",
            str(corpus),
            str(jobs_file),
            str(out_file),
            "--runs",
            str(runs),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    if worker.returncode != 0:
        sys.exit(f"v0 failed:\n{worker.stderr}")
    result = json.loads(out_file.read_text())
    return [[tuple(row) for row in rows] for rows in result["outputs"]], result["seconds"]


def run_cocotui(corpus: Path, jobs: list[dict[str, Any]], runs: int) -> Any:
    from cocotui.functions import SplitRecursively
    from cocotui.op_function import resolve_transform

    splitter = resolve_transform(SplitRecursively())  # the executor a flow's rows would call

    def split(text: str, job: dict[str, Any]) -> Any:
        args = dict(job["args"])
        args.setdefault("language", job["language"])
        return splitter(text, **args)

    return _time_files(split, corpus, jobs, runs)


def report(
    jobs: list[dict[str, Any]],
    corpus: Path,
    ours: tuple[list[list[ChunkRow]], float],
    theirs: tuple[list[list[ChunkRow]], float],
) -> dict[str, Any]:
    by_group: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    for job, mine, v0 in zip(jobs, ours[0], theirs[0], strict=True):
        same = len(set(mine) & set(v0))
        for group in (job["set"], f"{job['set']}:{job['language']}", "all"):
            counts = by_group[group]
            counts[0] += 1
            counts[1] += len(v0)
            counts[2] += same
            counts[3] += len(mine)
    megabytes = sum((corpus / job["path"]).stat().st_size for job in jobs) / 1e6
    print(f"{'group':<22}{'files':>6}{'v0 chunks':>11}{'identical':>11}{'agreement':>11}")
    for group, (files, v0_count, same, _) in sorted(by_group.items()):
        share = same / v0_count if v0_count else 1.0
        print(f"{group:<22}{files:>6}{v0_count:>11}{same:>11}{share:>10.1%}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{megabytes:.2f} MB split ({len(jobs)} files), load average now {load}:")
    for name, seconds in (("cocotui", ours[1]), ("v0", theirs[1])):
        print(f"  {name:<8}{seconds:8.2f} s  {megabytes / seconds:7.2f} MB/s")
    total = by_group["all"]
    return {"agreement": total[2] / total[1], "cocotui_s": ours[1], "v0_s": theirs[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--v0-python", default="/work/v0/venv/bin/python")
    parser.add_argument("--mirror", type=Path, default=MIRROR)
    parser.add_argument("--tag", default=TAG)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--v0-worker", nargs=3, type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.v0_worker:
        v0_worker(*options.v0_worker, runs=options.runs)
        return
    if "COCOINDEX_DATABASE_URL" not in os.environ:
        sys.exit("set COCOINDEX_DATABASE_URL to a PostgreSQL that CocoIndex v0 can use")
    from cocotui.functions.languages import detect_language

    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp:
        corpus = Path(tmp)
        jobs = extract_corpus(options.mirror, options.tag, corpus)
        for job in jobs:
            job["language"] = detect_language(job["path"]) or ""
        # One pass of each side per round, so that both see about the same machine load.
        rounds = [
            (run_v0(options.v0_python, corpus, jobs, 1), run_cocotui(corpus, jobs, 1))
            for _ in range(options.runs)
        ]
        theirs = min((r[0] for r in rounds), key=lambda result: result[1])
        ours = min((r[1] for r in rounds), key=lambda result: result[1])
        report(jobs, corpus, ours, theirs)


if __name__ == "__main__":
    main()
