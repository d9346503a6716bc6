"""textual-serve's server, with browser sessions whose processes always end with their client.

Each browser session runs the UI in a child process. textual-serve asks it to quit when the
websocket closes and then waits, without limit, for it to close its output; and it stops reading
that output at the first failed send to a closed websocket. A child that cannot quit (blocked
writing to the pipe nobody reads any more, or held by a thread that never ends) then stays alive
for ever. Here a session keeps draining the child's output until it exits, gives it a bounded
time to quit, then ends its whole process group: SIGTERM, and SIGKILL if that is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
from asyncio.subprocess import PIPE, Process

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger("cocotui.serve")

#: Once the client is gone: how long the UI gets to quit and close its output, then to exit,
#: then to end after SIGTERM (s).
QUIT_GRACE_S = 3.0
EXIT_GRACE_S = 1.0
TERM_GRACE_S = 2.0


class _Session(AppService):
    """One browser session's UI process."""

    _stopping: asyncio.Task[None] | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        # Executed directly (no shell between) in a process group of its own, so that ending
        # the group ends the UI and anything it started.
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        self._stdin = process.stdin
        return process

    # The client may be gone: output is still read (and dropped), or the UI blocks writing it.

    async def on_data(self, payload: bytes) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await super().on_data(payload)

    async def on_meta(self, data: bytes) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await super().on_meta(data)

    async def stop(self) -> None:
        """End the session's process (once, however many times it is called)."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        # Shielded: a handler cancelled meanwhile must not leave the process half-stopped.
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError):
            # Sends "quit", then waits for the UI to close its output.
            await asyncio.wait_for(super().stop(), QUIT_GRACE_S)
        if self._stdin is not None:
            self._stdin.close()
        await _end_group(process)


async def _end_group(process: Process) -> None:
    """Wait a little for ``process`` to exit, then signal its process group until it does;
    whatever is left in the group is killed."""
    for signum, grace in (
        (None, EXIT_GRACE_S),
        (signal.SIGTERM, TERM_GRACE_S),
        (signal.SIGKILL, None),
    ):
        if signum is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
        try:
            await asyncio.wait_for(process.wait(), grace)
            break
        except TimeoutError:
            log.warning("UI process %d did not end; sending %s", process.pid, signum)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything the UI left behind


class SessionServer(Server):
    """textual-serve's ``Server`` with :class:`_Session` sessions, all ended on shutdown."""

    def __init__(self, command: str, *, host: str, port: int, title: str) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self._sessions: set[_Session] = set()

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(session.stop() for session in list(self._sessions)))

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)

        async def close() -> None:  # when the UI exits by itself
            await websocket.close()

        session = _Session(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self._sessions.add(session)
        try:
            await session.start(width, height)
            await self._process_messages(websocket, session)
        except Exception as error:  # a malformed message, a process that cannot start
            log.exception(error)
        finally:
            try:
                await session.stop()
            finally:
                self._sessions.discard(session)
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await websocket.close()
        return websocket
