"""Run ``async def`` connector and transform methods from the engine's synchronous code.

One event loop runs in a daemon thread for the whole process, so a connection a connector opens
in an async ``prepare`` is still usable by its async ``mutate`` later in the run.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

# asyncio is imported on first use (~20 ms): most connectors are synchronous.
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _shared_loop() -> asyncio.AbstractEventLoop:
    import asyncio

    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="cocotui-async", daemon=True).start()
            _loop = loop
        return _loop


def await_if_needed(result: Any) -> Any:
    """Return ``result``, or what it resolves to when a method returned an awaitable."""
    if not inspect.isawaitable(result):
        return result
    awaitable: Awaitable[Any] = result

    async def wrap() -> Any:
        return await awaitable

    import asyncio

    return asyncio.run_coroutine_threadsafe(wrap(), _shared_loop()).result()


#: Items an async iterator hands over per trip to the event loop thread.
_ITERATE_CHUNK = 256


def iterate(items: Any) -> Iterator[Any]:
    """Iterate ``items``, an iterable or an async iterator (whose items are then fetched on the
    shared loop, a chunk at a time, so that a long listing costs few thread hand-overs)."""
    if not hasattr(items, "__aiter__"):
        yield from items
        return
    import asyncio

    source: AsyncIterator[Any] = items.__aiter__()

    async def take() -> tuple[list[Any], bool]:
        chunk: list[Any] = []
        try:
            while len(chunk) < _ITERATE_CHUNK:
                chunk.append(await source.__anext__())
        except StopAsyncIteration:
            return chunk, True
        return chunk, False

    done = False
    while not done:
        chunk, done = asyncio.run_coroutine_threadsafe(take(), _shared_loop()).result()
        yield from chunk
