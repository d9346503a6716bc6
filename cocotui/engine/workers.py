"""Reading and evaluating source rows, in this process or in parallel worker processes.

Transforms are often CPU-bound Python, so with ``workers > 1`` rows are evaluated by worker
processes that load the app themselves (the app must be importable by path or module name).
Results always come back in submission order, so batching stays deterministic.

Left to choose (``workers=None``), the evaluator times the first rows in this process and starts
workers only when the measured work of the rows left outweighs what workers cost: their start
(a process per worker that imports the app) and shipping each row's outcome back. A light
function (a string operation per file) then never pays for processes it does not need.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from cocotui.engine.batching import run_together
from cocotui.engine.evaluate import Collected, FlowEvaluator, describe_exception
from cocotui.engine.row_logic import content_fingerprint
from cocotui.flow.loader import App, user_traceback
from cocotui.flow.model import Flow, Source

if TYPE_CHECKING:
    # The pool (subprocess, threading) is imported when workers start: a run evaluating few
    # rows never needs it, and neither does a worker.
    from cocotui.engine.call_cache import CallCache
    from cocotui.engine.worker_pool import Worker, WorkerPool
    from cocotui.state.function_cache import FunctionCacheStore

#: Rows evaluated together (per task sent to a worker): large enough to amortise inter-process
#: overhead, and the rows whose inputs a batching function gets in one call.
CHUNK_ROWS = 32
#: Below this many rows to evaluate, starting worker processes costs more than it saves.
MIN_ROWS_FOR_WORKERS = 256
#: Chunks timed in this process before choosing; the fastest counts (the first call of a
#: function may import or warm up what later calls reuse). Timed in wall time, not CPU time
#: (workers also overlap a function's waits, an API call per row), less the time the process
#: waited for a CPU that other processes held (:func:`runqueue_seconds`).
SAMPLED_CHUNKS = 3
#: Seconds until started workers answer: each worker, a new interpreter, imports cocotui's
#: evaluator and the app, in parallel (0.2-0.4 s for the benchmark apps on 2 CPUs).
WORKER_START_SECONDS = 0.3
#: What a row shipped to a worker and back costs this process, as a multiple of pickling and
#: unpickling its task and outcome: the pool's pipes, queue thread and futures cost about as
#: much again on each side (measured on the light benchmark app at 10k rows: ~4 µs to pickle a
#: row there and back, 30-45 µs more CPU per row with 2 workers than in one process).
TRANSFER_FACTOR = 4


class RowTask(NamedTuple):
    """A row to read and evaluate (NamedTuples: one of each is made per changed row, and
    sent to a worker and back, where a frozen dataclass costs several times more)."""

    key: str
    #: The stored content fingerprint when the row may be unchanged, else ``None``.
    known_content_fp: bytes | None
    #: The row's cached function results (flows with ``cache=True`` functions only).
    cache: bytes | None = None


class RowStatus(enum.Enum):
    EVALUATED = "evaluated"
    #: the content did not change since it was last exported
    SAME = "same"
    #: the row is no longer in the source
    GONE = "gone"
    FAILED = "failed"


class RowOutcome(NamedTuple):
    key: str
    status: RowStatus
    content_fp: bytes | None = None
    collected: Collected | None = None
    size: int = 0
    error: str = ""
    traceback: str = ""
    #: The cached function results to keep for the row (``None``: none).
    cache: bytes | None = None


@dataclasses.dataclass
class _ReadRow:
    """A row read and found changed, to evaluate."""

    task: RowTask
    fields: dict[str, Any]
    content_fp: bytes
    size: int
    cache: CallCache | None


def _read(
    read_row: Callable[[str], dict[str, Any] | None],
    row_fingerprint: Callable[[dict[str, Any]], bytes] | None,
    task: RowTask,
) -> RowOutcome | tuple[dict[str, Any], bytes, int]:
    """The row's outcome when it needs no evaluation, else its fields, fingerprint and size
    (``row_fingerprint``: the source's own, if it has one)."""
    try:
        row = read_row(task.key)
    except Exception as exc:  # a custom source's get_value() may raise anything
        return RowOutcome(
            task.key, RowStatus.FAILED, error=f"cannot read: {exc}", traceback=user_traceback(exc)
        )
    if row is None:
        return RowOutcome(task.key, RowStatus.GONE)
    content = row.get("content", row)
    fp = content_fingerprint(content) if row_fingerprint is None else row_fingerprint(row)
    size = len(content) if isinstance(content, str | bytes) else 0
    if fp == task.known_content_fp:
        return RowOutcome(task.key, RowStatus.SAME, fp, size=size)
    return row, fp, size


def _evaluated(read: _ReadRow, result: Collected | BaseException) -> RowOutcome:
    task = read.task
    if isinstance(result, BaseException):
        # A transform's sys.exit() fails its row: it must not end the run, silently.
        # KeyboardInterrupt is not caught: it is Ctrl-C pressed twice, an abort.
        return RowOutcome(
            task.key,
            RowStatus.FAILED,
            read.content_fp,
            error=describe_exception(result),
            traceback=user_traceback(result),
        )
    kept = None if read.cache is None else read.cache.dump()
    return RowOutcome(task.key, RowStatus.EVALUATED, read.content_fp, result, read.size, cache=kept)


def evaluate_rows(
    evaluator: FlowEvaluator, source: Source, tasks: Iterable[RowTask]
) -> list[RowOutcome]:
    """The outcomes of ``tasks``, in order. The changed rows are evaluated together, so that
    a batching function is called once for all of them (see :mod:`cocotui.engine.batching`)."""
    from cocotui.engine.call_cache import CallCache  # with pickle: only rows to evaluate need it

    rows: list[RowOutcome | _ReadRow] = []
    spec = source.spec
    row_fingerprint = getattr(spec, "row_fingerprint", None)
    for task in tasks:
        read = _read(spec.read_row, row_fingerprint, task)
        if isinstance(read, RowOutcome):
            rows.append(read)
            continue
        fields, fp, size = read
        cache = CallCache(task.cache) if evaluator.caches else None
        rows.append(_ReadRow(task, fields, fp, size, cache))
    to_evaluate = [row for row in rows if isinstance(row, _ReadRow)]
    results = iter(
        run_together([evaluator.evaluation(source, r.fields, r.cache) for r in to_evaluate])
    )
    return [_evaluated(row, next(results)) if isinstance(row, _ReadRow) else row for row in rows]


# -- choosing workers -------------------------------------------------------------------------


def _workers_pay_off(
    seconds_per_row: float, transfer_per_row: float, rows: int, workers: int, started: bool
) -> bool:
    """Whether ``rows`` more rows, each costing ``seconds_per_row`` to evaluate here, finish
    sooner on ``workers`` processes, each row's outcome costing ``transfer_per_row`` to
    receive (and the workers' start, unless ``started``)."""
    alone = seconds_per_row * rows
    start = 0.0 if started else WORKER_START_SECONDS
    shared = start + rows * (seconds_per_row / workers + transfer_per_row)
    return shared < alone


class RowEvaluator:
    """Evaluates rows of an app's flows, in parallel when that pays off."""

    def __init__(
        self, app: App, workers: int | None, cache_store: FunctionCacheStore | None = None
    ) -> None:
        self.app = app
        #: ``None``: as many as CPUs, started only when they pay off (see the module's doc).
        self.adaptive = workers is None
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.cache_store = cache_store
        self._evaluators = {flow.name: FlowEvaluator(flow) for flow in app.flows}
        self._pool: WorkerPool | None = None

    def _started_pool(self) -> WorkerPool:
        if self._pool is None:
            from cocotui.engine.worker_pool import WorkerPool

            self._pool = WorkerPool(self.app.ref, self.app.name, self.workers)
        return self._pool

    def caches(self, flow: Flow) -> bool:
        """Whether ``flow`` has functions whose results are cached."""
        return self._evaluators[flow.name].caches

    def _with_cache(self, flow: Flow, source: Source, chunk: list[RowTask]) -> list[RowTask]:
        """``chunk`` with each row's cached function results, when its flow caches some.
        Loaded chunk by chunk: only the rows being evaluated have theirs in memory."""
        if self.cache_store is None or not self._evaluators[flow.name].caches:
            return chunk
        stored = self.cache_store.load(flow.name, source.name, (t.key for t in chunk))
        return [t._replace(cache=stored.get(t.key)) for t in chunk]

    def run(
        self, flow: Flow, source: Source, tasks: Iterable[RowTask], count: int
    ) -> Iterator[RowOutcome]:
        """Outcomes for the ``count`` rows of ``tasks``, in order; ``tasks`` is read a chunk at
        a time as rows are evaluated (a window ahead with workers). A flow with a
        ``gpu=True`` function is evaluated in this process only, so that one copy of its
        model is loaded."""
        evaluator = self._evaluators[flow.name]
        chunks = _chunks(tasks)
        if self.workers == 1 or count < MIN_ROWS_FOR_WORKERS or evaluator.uses_gpu:
            yield from self._here(evaluator, flow, source, chunks)
        elif not self.adaptive:
            yield from self._in_workers(evaluator, flow, source, chunks)
        else:
            per_row, transfer, sampled = [], [], 0
            for chunk in itertools.islice(chunks, SAMPLED_CHUNKS):
                started, queued = time.perf_counter(), runqueue_seconds()
                outcomes = evaluate_rows(evaluator, source, self._with_cache(flow, source, chunk))
                busy = time.perf_counter() - started - (runqueue_seconds() - queued)
                per_row.append(max(busy, 0.0) / len(chunk))
                transfer.append(_transfer_seconds(chunk, outcomes) / len(chunk))
                sampled += len(chunk)
                yield from outcomes
            running = self._pool is not None  # started for an earlier source of the run
            rows = count - sampled
            if _workers_pay_off(min(per_row), min(transfer), rows, self.workers, running):
                yield from self._in_workers(evaluator, flow, source, chunks)
            else:
                yield from self._here(evaluator, flow, source, chunks)

    def _here(
        self, evaluator: FlowEvaluator, flow: Flow, source: Source, chunks: Iterable[list[RowTask]]
    ) -> Iterator[RowOutcome]:
        for chunk in chunks:
            yield from evaluate_rows(evaluator, source, self._with_cache(flow, source, chunk))

    def _in_workers(
        self, evaluator: FlowEvaluator, flow: Flow, source: Source, chunks: Iterable[list[RowTask]]
    ) -> Iterator[RowOutcome]:
        """Outcomes of ``chunks`` evaluated by the workers, ``workers * 4`` chunks in flight.
        Workers that cannot start or die (e.g. the app is not importable from a fresh
        process): the chunks left are evaluated here instead, in the same order."""
        from cocotui.engine.worker_pool import WorkerLost

        window: collections.deque[tuple[list[RowTask], Worker]] = collections.deque()
        rest = iter(chunks)
        try:
            pool = self._started_pool()
            for chunk in rest:
                chunk = self._with_cache(flow, source, chunk)
                window.append((chunk, pool.submit(flow.name, source.index, chunk)))
                while len(window) >= self.workers * 4:
                    yield from _receive_oldest(window)
            while window:
                yield from _receive_oldest(window)
        except WorkerLost:
            self.workers = 1
            self.close()
            left = itertools.chain([chunk for chunk, _ in window], rest)
            yield from self._here(evaluator, flow, source, left)
        finally:
            if window:  # the pass stopped early: outcomes still in flight are not read
                self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def runqueue_seconds() -> float:
    """Seconds this thread has waited for a CPU so far (Linux's schedstat; 0 elsewhere). The
    sampled rows are timed without it: on a busy machine the wait is other processes' work,
    which workers would wait for too, not work of the rows that workers could share."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _chunks(tasks: Iterable[RowTask]) -> Iterator[list[RowTask]]:
    """``tasks`` in lists of :data:`CHUNK_ROWS`, each read when it is asked for."""
    rest = iter(tasks)
    while chunk := list(itertools.islice(rest, CHUNK_ROWS)):
        yield chunk


def _receive_oldest(window: collections.deque[tuple[list[RowTask], Worker]]) -> list[RowOutcome]:
    """The outcomes of the oldest chunk in flight (which leaves ``window`` once received)."""
    outcomes = window[0][1].receive()
    window.popleft()
    return outcomes


def _transfer_seconds(tasks: list[RowTask], outcomes: list[RowOutcome]) -> float:
    """Seconds this process would spend shipping ``tasks`` to a worker and receiving their
    ``outcomes``: pickling both there and back, timed on the real rows (their size is the
    app's), times the pool's own cost per row (:data:`TRANSFER_FACTOR`)."""
    import pickle  # only runs with rows to evaluate get here

    started, queued = time.perf_counter(), runqueue_seconds()
    pickle.loads(pickle.dumps((tasks, outcomes), pickle.HIGHEST_PROTOCOL))
    busy = time.perf_counter() - started - (runqueue_seconds() - queued)
    return max(busy, 0.0) * TRANSFER_FACTOR
