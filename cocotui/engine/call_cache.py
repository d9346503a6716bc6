"""Results of ``cache=True`` functions, remembered per source row (CocoIndex v0's memoization).

Evaluating a row starts from the entries its previous evaluation left and keeps only the
entries this evaluation used, so a row's cache never holds more than one evaluation needs and
entries nobody uses any more disappear with the next evaluation. An entry is keyed by the
function's identity, its behaviour version and its pickled arguments: a hit is always a result
of the same function on equal arguments, whichever row stored it.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from collections.abc import Callable
from typing import Any


class CallCache:
    """One row's cached results during its evaluation."""

    __slots__ = ("_previous", "_used", "computed", "reused")

    def __init__(self, stored: bytes | None) -> None:
        self._previous: dict[bytes, bytes] = {}
        if stored:
            try:
                self._previous = pickle.loads(stored)
            except Exception:  # written by an incompatible version: start afresh
                self._previous = {}
        self._used: dict[bytes, bytes] = {}
        self.computed = 0
        self.reused = 0

    @staticmethod
    def _key(identity: str, version: object, args: list[Any], kwargs: dict[str, Any]) -> bytes:
        digest = hashlib.blake2b(f"{identity}@{version!r}".encode(), digest_size=16)
        digest.update(pickle.dumps((args, kwargs), protocol=5))
        return digest.digest()

    def call(
        self,
        identity: str,
        version: object,
        args: list[Any],
        kwargs: dict[str, Any],
        compute: Callable[[], Any],
    ) -> Any:
        """The cached result of the call, or ``compute()`` (then remembered)."""
        key, found, result = self.lookup(identity, version, args, kwargs)
        if found:
            return result
        result = compute()
        self.store(key, result)
        return result

    def lookup(
        self, identity: str, version: object, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[bytes | None, bool, Any]:
        """``(key, True, result)`` for a cached call, else ``(key, False, None)``; the key is
        ``None`` for arguments that cannot be pickled (such a call is not cacheable)."""
        try:
            key = self._key(identity, version, args, kwargs)
        except Exception:
            return None, False, None
        stored = self._used.get(key) or self._previous.get(key)
        if stored is not None:
            try:
                result = pickle.loads(stored)
            except Exception:  # e.g. the result's class was renamed
                pass
            else:
                self._used[key] = stored
                self.reused += 1
                return key, True, result
        return key, False, None

    def store(self, key: bytes | None, result: Any) -> None:
        """Remember a result computed for ``key`` (from :meth:`lookup`)."""
        self.computed += 1
        if key is not None:
            with contextlib.suppress(Exception):  # a result that cannot be pickled is not kept
                self._used[key] = pickle.dumps(result, protocol=5)

    def dump(self) -> bytes | None:
        """The entries to keep for the row (``None``: nothing to keep)."""
        return pickle.dumps(self._used, protocol=5) if self._used else None
