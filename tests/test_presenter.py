"""The presenter is the one place secrets are masked for people and scripts: whatever a spec,
a key, a stored state, a reason or an error holds, no secret-named field's value and no URL
password reaches a view model or a ``--json`` document."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from cocotui import presenter
from cocotui.engine.apply import ApplyError
from cocotui.engine.facade import TargetStatus
from cocotui.engine.plan import Action, Change, Plan
from cocotui.engine.targets import ConnectorCallError
from cocotui.op import TargetStateCompatibility
from cocotui.presenter import documents
from cocotui.state.setup_store import SetupRecord, TargetState

SECRET_NAMES = (
    "password",
    "db_password",
    "sslPassword",
    "client_secret",
    "auth_token",
    "accessToken",
    "api_key",
    "X-Api-Key",
    "Authorization",
    "passphrase",
)
#: Distinct from every word cocotui writes itself, so finding one is a leak.
secrets = st.text("abcdefghijkmnpqrstuvwxyz0123456789", min_size=6, max_size=12).map(
    lambda s: "Zq" + s
)


@st.composite
def secret_text(draw: st.DrawFn, secret: str) -> str:
    """Free text spelling ``secret`` out the ways users' messages do."""
    name = draw(st.sampled_from(SECRET_NAMES))
    form = draw(
        st.sampled_from(
            (
                f"postgresql://me:{secret}@db.example.com:5432/app",
                f"https://user:{secret}@example.com/path?q=1",
                f"connect failed: {name}={secret} host=db",
                f"headers {{'{name}': '{secret}'}}",
                f'"{name}": "{secret}"',
                f"GET /items?{name}={secret}&page=2",
                f"Authorization: Bearer {secret}",
            )
        )
    )
    prefix = draw(st.sampled_from(("", "error: ", "line 1\nline 2 ")))
    return prefix + form


@st.composite
def secret_state(draw: st.DrawFn, secret: str) -> dict[str, Any]:
    """A setup state or key with ``secret`` under a secret-named field, in a URL, or both,
    at some depth."""
    inner: Any = {draw(st.sampled_from(SECRET_NAMES)): secret, "host": "db"}
    for _ in range(draw(st.integers(0, 2))):
        inner = draw(st.sampled_from(({"options": inner}, {"list": [inner, 1]})))
    return {
        "table": "docs",
        "url": draw(secret_text(secret)),
        "nested": inner,
        "plain": draw(st.sampled_from(SECRET_NAMES)) + "_env",
    }


def record(state: dict[str, Any]) -> SetupRecord:
    return SetupRecord(state, ("id",), ("content",))


@st.composite
def changes(draw: st.DrawFn, secret: str) -> Change:
    action = draw(st.sampled_from(list(Action)))
    before = record(draw(secret_state(secret)))
    current = None if action is Action.DROP else record(draw(secret_state(secret)))
    stale: tuple[SetupRecord | None, ...] = ()
    if action is not Action.CREATE:
        stale = tuple(draw(st.lists(st.sampled_from([before, None]), min_size=1, max_size=3)))
    return Change(
        flow="Flow",
        target=draw(st.sampled_from(("out", "rows"))),
        kind="PostgresTable",
        key=draw(secret_state(secret)),
        action=action,
        stale=stale,
        current=current,
        description=draw(secret_text(secret)),
        compatibility=draw(st.sampled_from([None, *TargetStateCompatibility])),
        reason=draw(secret_text(secret)),
        shared_with=tuple(draw(st.lists(secret_text(secret), max_size=1))),
    )


def target_status(change: Change, secret: str, error: str) -> TargetStatus:
    stored = TargetState(
        flow=change.flow,
        kind=change.kind,
        key=change.key,
        export=change.target,
        committed=change.current,
        staged=[change.current, None],
        description=change.description,
        applied_at="2026-01-01T00:00:00+00:00",
        last_error=error,
    )
    desired = SimpleNamespace(record=change.current or record({"password": secret}))
    return TargetStatus(
        flow=change.flow,
        target=change.target,
        kind=change.kind,
        key=change.key,
        description=change.description,
        action=change.action,
        interrupted=True,
        orphaned=False,
        stored=stored,
        desired=cast(Any, desired),
        change=change,
    )


def strings(value: object) -> Iterator[str]:
    """Every string a view model or document holds, at any depth (dict keys too)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, enum.Enum):
        return
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings(getattr(value, field.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)


def assert_no_secret(secret: str, *views: object) -> None:
    found = [s for view in views for s in strings(view) if secret in s]
    assert not found, found


@settings(max_examples=60, deadline=None)
@given(st.data(), secrets)
def test_no_secret_reaches_a_view_model_or_a_document(data: st.DataObject, secret: str) -> None:
    planned = data.draw(st.lists(changes(secret), min_size=1, max_size=4))
    plan = Plan("app", "fingerprint", tuple(planned))
    error = data.draw(secret_text(secret))
    rows = [target_status(c, secret, error) for c in planned]
    failure = ApplyError(planned[0], error, data.draw(secret_text(secret)))
    call_error = ConnectorCallError(error, data.draw(secret_text(secret)))
    views: list[object] = [
        presenter.present_plan(plan),
        presenter.present_targets(rows),
        presenter.present_apply_error(failure),
        presenter.error_message(call_error),
        presenter.error_message(failure),
        presenter.remaining_note(plan.pending, planned, "cocotui plan app.py"),
        presenter.message(error),
        documents.plan_document(plan),
        documents.targets_document(
            "app", None, "/state.toml", rows, [{"name": "Flow", "query_handlers": []}]
        ),
        documents.apply_document(planned, plan.pending, failure),
        documents.apply_document([], plan.pending, error),
        documents.error_document(call_error),
    ]
    assert_no_secret(secret, *views)


def test_the_walk_sees_every_string_of_a_view() -> None:
    """The check above can fail: a secret left in a view model is found."""
    change = presenter.ChangeView(Action.CREATE, "create", "F.t", "d", (presenter.Line("SECRET"),))
    view = presenter.PlanView("app", "summary", (change,), (), ())
    assert "SECRET" in list(strings(view))
    assert "SECRET" in list(strings({"error": {"message": ["x", "SECRET"]}}))


def test_a_create_shows_secret_fields_masked_and_the_others_as_they_are() -> None:
    change = Change(
        flow="Flow",
        target="out",
        kind="PostgresTable",
        key={"table": "docs"},
        action=Action.CREATE,
        stale=(None,),
        current=record({"password": "hunter22", "host": "db", "token_env": "API_TOKEN"}),
        description="postgres table docs",
        compatibility=None,
        reason="",
    )
    view = presenter.present_change(change)
    lines = [line.text for line in view.details]
    assert '+ password = "********"' in lines
    assert '+ host = "db"' in lines
    assert '+ token_env = "API_TOKEN"' in lines  # names a variable, not a secret
    assert "data: new target, every row will be exported" in lines
