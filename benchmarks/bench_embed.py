"""Embedding batch sizes reaching the model: a flow splitting D documents into C chunks each
and embedding every chunk with ``SentenceTransformerEmbed`` (a tiny static-embedding model the
benchmark builds, so nothing is downloaded), run by ``cocotui update`` in a fresh process.

The app wraps the model's ``encode`` to log the size of every batch it receives; the benchmark
prints the number of calls, their sizes and the wall time of the update (first run, then a run
where one document in ten changed one chunk: only the new chunks should reach the model), for
a flow embedding each chunk and for one embedding each whole document (one text per row).

Usage::

    python benchmarks/bench_embed.py --docs 200 --chunks 20
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

try:
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
except ImportError:  # sentence-transformers before 6
    from sentence_transformers.models import StaticEmbedding
from tokenizers import Tokenizer, models, pre_tokenizers

WORDS = [f"w{i}" for i in range(200)]

APP = """
import json
import cocotui as cocoindex
from sentence_transformers import SentenceTransformer

_encode = SentenceTransformer.encode

def _logged(self, sentences, *args, **kwargs):
    with open(LOG, "a") as log:
        log.write(json.dumps(len(sentences)) + "\\n")
    return _encode(self, sentences, *args, **kwargs)

SentenceTransformer.encode = _logged

class NullTarget(cocoindex.op.TargetSpec):
    pass

@cocoindex.op.target_connector(spec_cls=NullTarget)
class NullConnector:
    @staticmethod
    def get_persistent_key(spec, target_name):
        return target_name

    @staticmethod
    def apply_setup_change(key, previous, current):
        pass

    @staticmethod
    def mutate(*all_mutations):
        pass

@cocoindex.flow_def(name="Embed")
def embed_flow(flow_builder, data_scope):
    data_scope["docs"] = flow_builder.add_source(cocoindex.sources.LocalFile(path=SOURCE))
    out = data_scope.add_collector()
    with data_scope["docs"].row() as doc:
ROWS
    out.export("vectors", NullTarget(), primary_key_fields=["filename", "text"])
"""

#: Per document: its lines, each embedded.
CHUNK_ROWS = """
        doc["chunks"] = doc["content"].transform(
            cocoindex.functions.SplitBySeparators(separators_regex=[r"\\n"])
        )
        with doc["chunks"].row() as chunk:
            chunk["vector"] = chunk["text"].transform(
                cocoindex.functions.SentenceTransformerEmbed(model=MODEL)
            )
            out.collect(filename=doc["filename"], text=chunk["text"], vector=chunk["vector"])
"""

#: Per document: its whole text, embedded (one text per source row).
DOCUMENT_ROWS = """
        doc["vector"] = doc["content"].transform(
            cocoindex.functions.SentenceTransformerEmbed(model=MODEL)
        )
        out.collect(filename=doc["filename"], text=doc["content"], vector=doc["vector"])
"""


def build_model(path: Path, dim: int = 64) -> None:
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="w0"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    weights = np.random.default_rng(0).standard_normal((len(WORDS), dim)).astype(np.float32)
    SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)]).save(
        str(path)
    )


def write_docs(source: Path, docs: int, chunks: int, version: int = 0) -> None:
    for d in range(docs):
        lines = [f"w{(d + c) % 200} w{(d * c) % 200} line{c}" for c in range(chunks)]
        if version and d % 10 == 0:
            lines[0] = f"changed{version} w{d % 200}"
        (source / f"doc{d:05}.txt").write_text("\n".join(lines))


def run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def batches(log: Path) -> list[int]:
    sizes = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    log.unlink(missing_ok=True)
    return sizes


def report(label: str, seconds: float, sizes: list[int]) -> None:
    histogram = dict(sorted(collections.Counter(sizes).items()))
    print(
        f"{label}: {seconds:.1f} s, {len(sizes)} encode calls for {sum(sizes)} texts "
        f"(batch sizes: {histogram})"
    )


def scenario(root: Path, rows: str, docs: int, chunks: int) -> None:
    """Apply, a first update, then an update after 10 % of the documents changed."""
    for path in (root / "docs", root / "state"):
        shutil.rmtree(path, ignore_errors=True)
    source = root / "docs"
    source.mkdir()
    write_docs(source, docs, chunks)
    log = root / "batches.log"
    app = textwrap.dedent(APP).replace("ROWS", rows.strip("\n"))
    for name, value in (("SOURCE", source), ("MODEL", root / "model"), ("LOG", log)):
        app = app.replace(name, repr(str(value)))
    (root / "app.py").write_text(app)
    cli = [sys.executable, "-m", "cocotui"]
    common = ["app.py", "--state-dir", str(root / "state")]
    run([*cli, "apply", *common, "--yes"], root)
    batches(log)  # loading the app for apply encodes nothing, but start clean anyway
    report("  first update", run([*cli, "update", *common], root), batches(log))
    write_docs(source, docs, chunks, version=1)
    report("  10 % of docs changed", run([*cli, "update", *common], root), batches(log))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        root = Path(tmp)
        build_model(root / "model")
        print(f"each line of {args.docs} documents of {args.chunks} lines:")
        scenario(root, CHUNK_ROWS, args.docs, args.chunks)
        print(f"each of {args.docs} whole documents:")
        scenario(root, DOCUMENT_ROWS, args.docs, args.chunks)


if __name__ == "__main__":
    main()
