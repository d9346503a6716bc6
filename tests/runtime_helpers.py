"""A CocoIndex v0 program as people write it (``python main.py``): a custom target connector
writing text files, a flow over ``LocalFile``, a query handler, and a ``main()`` whose body
each test chooses. Used by the runtime API, auth registry and query handler tests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from conftest import CliResult, base_env, run_cli

PROGRAM = """
import dataclasses
import os
import sys

import cocoindex

{prelude}

class TextFileTarget(cocoindex.op.TargetSpec):
    directory: str
{spec_fields}

@dataclasses.dataclass
class TextValues:
    text: str


@cocoindex.op.target_connector(spec_cls=TextFileTarget)
class TextFileConnector:
    @staticmethod
    def get_persistent_key(spec: TextFileTarget, target_name: str) -> str:
        return spec.directory

    @staticmethod
    def describe(key: str) -> str:
        return f"directory {{key}}"

    @staticmethod
    def apply_setup_change(key, previous, current) -> None:
        if current is not None:
            os.makedirs(current.directory, exist_ok=True)
        elif previous is not None and os.path.isdir(previous.directory):
            for name in os.listdir(previous.directory):
                os.remove(os.path.join(previous.directory, name))
            os.rmdir(previous.directory)

    @staticmethod
    def mutate(*all_mutations: tuple[TextFileTarget, dict[str, TextValues | None]]) -> None:
        for spec, mutations in all_mutations:
{mutate_extra}
            for key, value in mutations.items():
                path = os.path.join(spec.directory, key)
                if value is None:
                    if os.path.exists(path):
                        os.remove(path)
                else:
                    with open(path, "w") as f:
                        f.write(value.text)


@cocoindex.op.function()
def shout(text: str) -> str:
    return text.upper()

{before_flow}

@cocoindex.flow_def(name="Shout")
def shout_flow(flow_builder: cocoindex.FlowBuilder, data_scope: cocoindex.DataScope) -> None:
    data_scope["documents"] = flow_builder.add_source(cocoindex.sources.LocalFile(path="data"))
    out = data_scope.add_collector()
    with data_scope["documents"].row() as doc:
        out.collect(filename=doc["filename"], text=doc["content"].transform(shout))
    out.export("shouted", TextFileTarget({spec_args}), primary_key_fields=["filename"])


@shout_flow.query_handler(
    result_fields=cocoindex.QueryHandlerResultFields(embedding=["embedding"], score="score")
)
def search(query: str) -> cocoindex.QueryOutput:
    hits = []
    for name in sorted(os.listdir(OUT)):
        with open(os.path.join(OUT, name)) as f:
            text = f.read()
        if query.upper() in text:
            hits.append({{"filename": name, "text": text.strip(), "score": 0.5,
                          "embedding": [float(len(text)), 1.0, 2.0, 3.0]}})
    return cocoindex.QueryOutput(
        results=hits,
        query_info=cocoindex.QueryInfo(
            embedding=[0.25, 0.5, 0.75, 1.0],
            similarity_metric=cocoindex.VectorSimilarityMetric.COSINE_SIMILARITY,
        ),
    )

{after_flow}

def main() -> None:
{main}


if __name__ == "__main__":
    cocoindex.init()
    main()
"""


def indent(text: str, spaces: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces)


def write_program(
    root: Path,
    main: str = "pass",
    *,
    out: str = "out",
    spec_fields: str = "",
    spec_args: str | None = None,
    mutate_extra: str = "",
    prelude: str = "",
    before_flow: str = "",
    after_flow: str = "",
) -> Path:
    """``root/main.py`` and a ``data`` directory with two documents."""
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "a.txt").write_text("hello world\n")
    (root / "data" / "b.txt").write_text("goodbye\n")
    text = PROGRAM.format(
        spec_fields=indent(spec_fields, 4),
        spec_args=spec_args or f"directory={out!r}",
        mutate_extra=indent(mutate_extra, 12),
        prelude=textwrap.dedent(prelude),
        before_flow=textwrap.dedent(before_flow),
        after_flow=textwrap.dedent(after_flow),
        main=indent(main, 4),
    )
    path = root / "main.py"
    path.write_text(f"OUT = {out!r}\n" + text)
    return path


def cli(root: Path, state: Path, *args: str) -> CliResult:
    """``cocotui ARGS`` run in ``root`` with ``state`` as the state directory."""
    return run_cli(*args, env=base_env(COCOTUI_STATE_DIR=str(state)), cwd=root)


def ls_json(root: Path, state: Path) -> dict[str, Any]:
    result = cli(root, state, "ls", "main.py", "--json")
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def statuses(root: Path, state: Path) -> dict[str, str]:
    return {f"{t['flow']}.{t['target']}": t["status"] for t in ls_json(root, state)["targets"]}


def popen_run(root: Path, state: Path, *args: str) -> subprocess.Popen[str]:
    """``cocotui run main.py ARGS`` started in ``root``, its stdout piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "cocotui", "run", "main.py", *args],
        cwd=root,
        env=base_env(COCOTUI_STATE_DIR=str(state)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
