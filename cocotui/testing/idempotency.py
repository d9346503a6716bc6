"""The contract's idempotency checks: a side-effecting method called twice must leave the
same end state as called once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from cocotui.testing.harness import HarnessTarget

T = TypeVar("T")


class IdempotencyError(AssertionError):
    """A side-effecting method left a different end state when called a second time."""


def assert_idempotent(
    action: Callable[[], object], snapshot: Callable[[], T], *, label: str = ""
) -> T:
    """Run ``action`` twice; the end state (as ``snapshot`` reads it) must be the same after
    the second run as after the first. Returns that state."""
    action()
    first = snapshot()
    action()
    second = snapshot()
    if first != second:
        what = label or getattr(action, "__name__", "the action")
        raise IdempotencyError(
            f"{what} is not idempotent: the end state after a second call differs\n"
            f"  after 1 call:  {first!r}\n  after 2 calls: {second!r}"
        )
    return second


def assert_unchanged(
    action: Callable[[], object], snapshot: Callable[[], T], *, label: str = ""
) -> T:
    """``action`` must leave the state as it was (e.g. deleting a missing row)."""
    before = snapshot()
    action()
    after = snapshot()
    if before != after:
        what = label or getattr(action, "__name__", "the action")
        raise IdempotencyError(
            f"{what} should change nothing, but the state changed\n"
            f"  before: {before!r}\n  after:  {after!r}"
        )
    return after


def check_idempotency(
    target: HarnessTarget,
    rows: Mapping[Any, Mapping[str, Any]],
    snapshot: Callable[[], T],
    *,
    missing_key: Any,
) -> None:
    """The contract's idempotency checks in one go, on a target that does not exist yet:

    create twice; upsert ``rows`` twice; create again over the existing resource (must keep
    it and its rows); delete ``missing_key`` (must change nothing), twice; delete one row
    twice; drop twice. Raises :class:`IdempotencyError` at the first violation.
    """
    if not rows:
        raise ValueError("check_idempotency needs at least one row")
    assert_idempotent(target.create, snapshot, label="create")
    assert_idempotent(lambda: target.upsert(rows), snapshot, label="upsert")
    assert_unchanged(target.create, snapshot, label="create over the existing resource")
    assert_unchanged(lambda: target.delete(missing_key), snapshot, label="delete a missing row")
    first = next(iter(rows))
    assert_idempotent(lambda: target.delete(first), snapshot, label="delete a row")
    assert_idempotent(target.drop, snapshot, label="drop")
