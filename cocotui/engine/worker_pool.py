"""Transform worker processes, parent side: each worker is a fresh interpreter that loads the
app (:mod:`cocotui.engine.worker_process`) and evaluates the chunks of rows sent to it, in order.

Not :mod:`multiprocessing`: its start methods that are safe with threads (the TUI runs the
engine in a thread) start a resource tracker process, and a fork server or, with spawn, the main
module (the CLI) again in each worker. A worker needs only the app and the evaluator, and the
peak RSS of every process counts (shared pages in each): at 100k rows on 2 CPUs those helpers
cost more than a worker. Tasks and outcomes go as pickles over two pipes per worker; a thread
per worker writes its tasks, so that a large task never blocks this process while the worker
waits for its outcomes to be read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import queue
import subprocess
import sys
import threading
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cocotui.engine.workers import RowOutcome, RowTask

#: What a worker runs: SIGINT ignored first (Ctrl-C reaches the whole process group: the parent
#: stops at a batch boundary, so a worker must not die mid-row), then the parent's ``sys.path``,
#: then the worker loop. argv: the fds of the task and outcome pipes.
_BOOT = (
    "import os, pickle, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "tasks = os.fdopen(int(sys.argv[1]), 'rb'); sys.path[:] = pickle.load(tasks); "
    "from cocotui.engine.worker_process import serve; serve(tasks, int(sys.argv[2]))"
)


class WorkerLost(Exception):
    """A worker exited without answering: it could not load the app, or it died."""


def _write_all(outbox: queue.SimpleQueue[bytes | None], pipe: IO[bytes]) -> None:
    """Write the tasks put in ``outbox`` to a worker until ``None`` comes (then close)."""
    try:
        while (data := outbox.get()) is not None:
            pipe.write(data)
            pipe.flush()
    except OSError:
        pass  # the worker is gone: reading its outcomes says so
    finally:
        with contextlib.suppress(OSError):
            pipe.close()


@dataclasses.dataclass(eq=False)
class Worker:
    """One worker process: tasks go through ``outbox``; outcomes come back in that order."""

    process: subprocess.Popen[bytes]
    outbox: queue.SimpleQueue[bytes | None]
    writer: threading.Thread
    outcomes: IO[bytes]
    #: chunks sent whose outcomes were not read yet
    in_flight: int = 0

    @classmethod
    def start(cls, first_message: bytes) -> Worker:
        tasks_read, tasks_write = os.pipe()
        outcomes_read, outcomes_write = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(tasks_read), str(outcomes_write)],
                stdin=subprocess.DEVNULL,
                pass_fds=(tasks_read, outcomes_write),
            )
        except BaseException:
            for fd in (tasks_write, outcomes_read):
                os.close(fd)
            raise
        finally:
            os.close(tasks_read)
            os.close(outcomes_write)
        outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        outbox.put(first_message)
        pipe = open(tasks_write, "wb")  # noqa: SIM115 (closed by the writer thread)
        writer = threading.Thread(target=_write_all, args=(outbox, pipe), daemon=True)
        writer.start()
        return cls(process, outbox, writer, open(outcomes_read, "rb"))

    def send(self, task: bytes) -> None:
        self.in_flight += 1
        self.outbox.put(task)

    def receive(self) -> list[RowOutcome]:
        """The outcomes of the oldest chunk sent and not received yet."""
        try:
            done, reply = pickle.load(self.outcomes)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise WorkerLost(f"worker {self.process.pid} exited") from exc
        self.in_flight -= 1
        if not done:
            raise reply  # the exception that evaluating the chunk raised in the worker
        outcomes: list[RowOutcome] = reply
        return outcomes

    def stop(self) -> None:
        """Let the worker finish its current chunk and exit; wait for it."""
        self.outbox.put(None)
        self.outcomes.close()  # a worker writing outcomes nobody reads exits
        self.writer.join()
        self.process.wait()


class WorkerPool:
    """``workers`` processes that loaded the app ``app_ref`` (by path or module name)."""

    def __init__(self, app_ref: str, app_name: str, workers: int) -> None:
        hello = pickle.dumps(sys.path) + pickle.dumps((app_ref, app_name))
        self.workers: list[Worker] = []
        try:
            for _ in range(workers):
                self.workers.append(Worker.start(hello))
        except OSError as exc:  # no interpreter to start, no process left
            self.close()
            raise WorkerLost(f"cannot start a worker: {exc}") from exc

    def submit(self, flow_name: str, source_index: int, tasks: list[RowTask]) -> Worker:
        """Send ``tasks`` to the least busy worker, which is returned: call
        :meth:`Worker.receive` on the workers in the order of the submissions."""
        worker = min(self.workers, key=lambda w: w.in_flight)
        message: tuple[Any, ...] = (flow_name, source_index, tasks)
        worker.send(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
        return worker

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []
