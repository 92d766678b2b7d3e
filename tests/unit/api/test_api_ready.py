"""Ready answers and reused key lookups (issue 16, :mod:`tower.api.ready`): a kept default answer is the
app's own answer, is sent only where the app would send it, and ends as soon as what it holds may
have changed (a write here, a commit by another process, the brand's next day, or the memo's seconds)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_seed import AGENCY, BRAND, NOW, OTHER, bearer
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tower.adapters import open_store
from tower.api.app import create_app
from tower.api.auth import COLLECTION, hash_key
from tower.api.limits import AuthFailureLimiter
from tower.api.ready import OFFER, RENEW_AT, ReadyAnswers
from tower.api.request import READY
from tower.runtime import Runtime

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = f"/api/brands/{BRAND}/dashboard"
DEFAULT_VIEWS = [DASHBOARD, f"/api/brands/{BRAND}/series", f"/api/brands/{BRAND}/products",
                 f"/api/brands/{BRAND}/drilldown/channel/meta"]


def ready_of(app: Flask) -> ReadyAnswers:
    answers: ReadyAnswers = app.extensions[READY]
    return answers


def kept_paths(app: Flask) -> set[str]:
    return {path for path, _ in ready_of(app)._answers}


def headers_but_date(response: TestResponse) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != "Date")


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime, clock=lambda: NOW)


@pytest.fixture
def plain(runtime: Runtime) -> FlaskClient:
    """The same app with nothing reused (TOWER_API_MEMO_SECONDS=0): every answer built by the views."""
    runtime.settings.api_memo_seconds = 0
    built = create_app(runtime, clock=lambda: NOW)
    return built.test_client()


@pytest.mark.parametrize("path", DEFAULT_VIEWS)
def test_a_kept_answer_is_the_apps_own_answer(app: Flask, plain: FlaskClient, keys: dict[str, str],
                                             path: str) -> None:
    auth = bearer(keys["agency"])
    client = app.test_client()
    first = client.get(path, headers=auth)
    assert first.status_code == 200 and path in kept_paths(app)
    reference = plain.get(path, headers=auth)
    assert (reference.status_code, reference.data) == (200, first.data)
    assert not kept_paths(plain.application)
    for _ in range(2):  # served from the kept answer
        again = client.get(path, headers=auth)
        assert again.status_code == 200 and again.data == reference.data
        assert headers_but_date(again) == headers_but_date(reference)
        assert again.headers["Date"]
    tag = first.headers["ETag"]
    for c in (client, plain):
        head = c.head(path, headers=auth)
        assert (head.status_code, head.data, head.headers["Content-Length"]) == (200, b"", str(len(first.data)))
    not_modified = client.get(path, headers={**auth, "If-None-Match": f'W/"other", {tag}'})
    expected = plain.get(path, headers={**auth, "If-None-Match": f'W/"other", {tag}'})
    assert (not_modified.status_code, not_modified.data) == (expected.status_code, expected.data) == (304, b"")
    assert headers_but_date(not_modified) == headers_but_date(expected)
    changed = client.get(path, headers={**auth, "If-None-Match": 'W/"stale"'})
    assert changed.status_code == 200 and changed.data == first.data


def test_a_page_polling_with_its_etag_renews_the_kept_answer(app: Flask, plain: FlaskClient,
                                                              keys: dict[str, str]) -> None:
    """The page sends its last ETag: a poll that misses (or renews) the kept answer still keeps the app's
    answer, and gets the same 304, or the body when the tag is not the current one."""
    auth = bearer(keys["agency"])
    client = app.test_client()
    tag = plain.get(DASHBOARD, headers=auth).headers["ETag"]
    polled = client.get(DASHBOARD, headers={**auth, "If-None-Match": tag})
    expected = plain.get(DASHBOARD, headers={**auth, "If-None-Match": tag})
    assert (polled.status_code, polled.data) == (expected.status_code, expected.data) == (304, b"")
    assert headers_but_date(polled) == headers_but_date(expected)
    assert DASHBOARD in kept_paths(app)  # kept by the conditional poll itself
    ready_of(app)._answers.clear()
    stale = client.get(DASHBOARD, headers={**auth, "If-None-Match": 'W/"older"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == tag and DASHBOARD in kept_paths(app)
    # a brand route that is never kept answers a matching tag as the app does
    alerts = f"/api/brands/{BRAND}/alerts"
    alerts_tag = plain.get(alerts, headers=auth).headers["ETag"]
    got = client.get(alerts, headers={**auth, "If-None-Match": alerts_tag})
    want = plain.get(alerts, headers={**auth, "If-None-Match": alerts_tag})
    assert (got.status_code, got.data) == (want.status_code, want.data) == (304, b"")
    assert headers_but_date(got) == headers_but_date(want)
    assert alerts not in kept_paths(app)


def test_only_the_default_form_of_a_view_is_kept(app: Flask, keys: dict[str, str]) -> None:
    auth = bearer(keys["agency"])
    client = app.test_client()
    for path in (f"{DASHBOARD}?period=last_30_days", f"/api/brands/{BRAND}/alerts",
                 f"/api/brands/{BRAND}/recommendations", "/api/agency/overview"):
        assert client.get(path, headers=auth).status_code == 200
    assert not kept_paths(app)


def test_every_check_still_applies_to_a_kept_answer(runtime: Runtime, keys: dict[str, str]) -> None:
    failures = AuthFailureLimiter(3, clock=lambda: 0.0)
    app = create_app(runtime, clock=lambda: NOW, auth_failures=failures)
    client = app.test_client()
    assert client.get(DASHBOARD, headers=bearer(keys["agency"])).status_code == 200
    assert DASHBOARD in kept_paths(app)
    missing = client.get(DASHBOARD)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"]
    assert client.get(DASHBOARD, headers=bearer(keys["other_brand"])).status_code == 403  # not this brand's key
    assert client.get(DASHBOARD, headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get(DASHBOARD, headers=bearer("tower_not-a-key")).status_code == 401
    # three failures spent the address's bucket: even the right key waits now, as on the app's own path
    limited = client.get(DASHBOARD, headers=bearer(keys["agency"]))
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    elsewhere = client.get(DASHBOARD, headers=bearer(keys["agency"]), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 200


def test_hsts_is_kept_apart_for_https(app: Flask, keys: dict[str, str]) -> None:
    auth = bearer(keys["agency"])
    client = app.test_client()
    for _ in range(2):
        assert "Strict-Transport-Security" not in client.get(DASHBOARD, headers=auth).headers
        secure = client.get(DASHBOARD, headers={**auth, "X-Forwarded-Proto": "https"})
        assert secure.headers["Strict-Transport-Security"]


def _card_ids(body: Any) -> list[str]:
    return [str(c["id"]) for c in body["recommendations"]]


def test_a_write_through_the_api_ends_the_kept_answer(app: Flask, keys: dict[str, str]) -> None:
    auth = bearer(keys["agency"])
    client = app.test_client()
    before = client.get(DASHBOARD, headers=auth)
    assert client.get(DASHBOARD, headers=auth).data == before.data  # kept
    card = _card_ids(before.json)[0]
    dismissed = client.post(f"/api/brands/{BRAND}/recommendations/{card}/dismiss", json={"reason": "not now"},
                            headers=auth)
    assert dismissed.status_code == 200, dismissed.json
    after = client.get(DASHBOARD, headers=auth)
    assert card not in _card_ids(after.json)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_another_process_commit_ends_kept_answers_and_keys(app: Flask, runtime: Runtime, keys: dict[str, str]) -> None:
    """The CLI, a build or another server writing the same embedded store (another connection)."""
    runtime.store.change_poll_seconds = 0  # type: ignore[attr-defined]  # see each commit at once, not 20 ms on
    auth = bearer(keys["agency"])
    client = app.test_client()
    assert client.get(DASHBOARD, headers=auth).status_code == 200
    other = open_store(runtime.settings)  # a second connection to the same file
    try:
        other.merge(f"brands/{BRAND}", {"name": "Acme Candles & Co"})
        assert client.get(DASHBOARD, headers=auth).json["brand"]["brand_name"] == "Acme Candles & Co"
        assert client.get(DASHBOARD, headers=auth).status_code == 200
        agency = other.get(f"agencies/{AGENCY}") or {}
        other.set(f"agencies/{AGENCY}", {**agency, "brand_ids": [OTHER]})  # the agency loses the brand
        assert client.get(DASHBOARD, headers=auth).status_code == 403
        other.set(f"agencies/{AGENCY}", agency)
        assert client.get(DASHBOARD, headers=auth).status_code == 200
        other.delete(f"{COLLECTION}/{hash_key(keys['agency'])}")  # the key revoked elsewhere
        assert client.get(DASHBOARD, headers=auth).status_code == 401
    finally:
        other.close()  # type: ignore[attr-defined]


class UnseeingStore:
    """A store that sees only its own writes, as a Firestore instance does (its stamp never moves here)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def change_stamp(self) -> tuple[int, int]:
        return 0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_what_a_process_cannot_see_lasts_at_most_the_memo_seconds(runtime: Runtime, keys: dict[str, str]) -> None:
    real = runtime.store
    runtime.__dict__["store"] = UnseeingStore(real)
    app = create_app(runtime, clock=lambda: NOW)
    now = [100.0]
    ready_of(app).callers.monotonic = lambda: now[0]
    client = app.test_client()
    auth = bearer(keys["agency"])
    assert client.get(DASHBOARD, headers=auth).status_code == 200
    real.delete(f"{COLLECTION}/{hash_key(keys['agency'])}")  # revoked by another instance
    now[0] += runtime.settings.api_memo_seconds * 0.4
    assert client.get(DASHBOARD, headers=auth).status_code == 200  # within the documented bound
    now[0] += runtime.settings.api_memo_seconds * 0.7
    assert client.get(DASHBOARD, headers=auth).status_code == 401


def test_an_entry_past_half_its_life_is_renewed_by_one_request_while_the_others_use_it(
        runtime: Runtime, keys: dict[str, str]) -> None:
    """Past :data:`RENEW_AT` of its life, the next request renews a kept answer or key lookup through the
    app; requests arriving while it does still get the kept one (none of them rebuilds it too)."""
    real = runtime.store
    runtime.__dict__["store"] = UnseeingStore(real)
    app = create_app(runtime, clock=lambda: NOW)
    ready = ready_of(app)
    now = [100.0]
    ready.callers.monotonic = lambda: now[0]
    client = app.test_client()
    auth = bearer(keys["agency"])
    key = (DASHBOARD, False)
    assert client.get(DASHBOARD, headers=auth).json["brand"]["brand_name"] == "Acme Candles"
    real.merge(f"brands/{BRAND}", {"name": "Acme Candles & Co"})  # written by another instance, unseen here
    now[0] += runtime.settings.api_memo_seconds * (RENEW_AT - 0.1)
    assert client.get(DASHBOARD, headers=auth).json["brand"]["brand_name"] == "Acme Candles"  # kept
    now[0] += runtime.settings.api_memo_seconds * 0.2
    assert ready._claim(key, ready._answers[key])  # another request is renewing it
    assert client.get(DASHBOARD, headers=auth).json["brand"]["brand_name"] == "Acme Candles"
    ready._renewing.discard(key)
    renewed = client.get(DASHBOARD, headers=auth)  # this one renews it
    assert renewed.json["brand"]["brand_name"] == "Acme Candles & Co"
    assert not ready._renewing and ready._answers[key].body == renewed.data
    assert ready._answers[key].renew_at == now[0] + runtime.settings.api_memo_seconds * RENEW_AT
    # a key lookup past its renewal point is renewed the same way: a revoke unseen here shows at once
    real.delete(f"{COLLECTION}/{hash_key(keys['agency'])}")
    now[0] += runtime.settings.api_memo_seconds * (RENEW_AT + 0.1)
    assert client.get(DASHBOARD, headers=auth).status_code == 401
    assert hash_key(keys["agency"]) not in ready.callers._callers and not ready.callers._renewing


def test_the_brands_next_day_is_never_answered_from_yesterday(runtime: Runtime, keys: dict[str, str]) -> None:
    clock = [NOW]
    app = create_app(runtime, clock=lambda: clock[0])
    client = app.test_client()
    auth = bearer(keys["agency"])
    today = client.get(DASHBOARD, headers=auth).json["brand"]["today"]
    assert client.get(DASHBOARD, headers=auth).json["brand"]["today"] == today
    clock[0] = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)  # 00:30 in New York: the next day there
    assert client.get(DASHBOARD, headers=auth).json["brand"]["today"] == "2026-11-24"


def test_a_view_offer_outside_a_brand_path_is_not_kept(app: Flask, runtime: Runtime) -> None:
    """``keep`` refuses an offer naming another brand than the path's (a view's mistake cannot leak it)."""
    ready = ready_of(app)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": DASHBOARD, "QUERY_STRING": "",
               OFFER: (OTHER, "America/New_York", "2026-11-23")}
    ready.keep(environ, (0, 0), 0.0, environ[OFFER], "200 OK", [("ETag", 'W/"x"')], b"{}")
    assert not kept_paths(app)


def test_the_api_function_keeps_and_sends_ready_answers_too(runtime: Runtime, keys: dict[str, str]) -> None:
    """Deployed, requests reach the app through functions-framework and :func:`tower.api.function.handle_request`."""
    import functions_framework

    from tower.api.function import app_for
    from tower.runtime import set_default_runtime

    set_default_runtime(runtime)
    try:
        fn = functions_framework.create_app(target="api", source=str(ROOT / "main.py"),
                                            signature_type="http").test_client()
        auth = bearer(keys["agency"])
        first = fn.get(DASHBOARD, headers=auth)
        assert first.status_code == 200 and DASHBOARD in kept_paths(app_for(runtime))
        again = fn.get(DASHBOARD, headers=auth)
        assert (again.status_code, again.data, again.headers["ETag"]) == (200, first.data, first.headers["ETag"])
        assert again.headers["Cache-Control"] == "no-store" and again.headers["X-Content-Type-Options"] == "nosniff"
        assert fn.get(DASHBOARD, headers={**auth, "If-None-Match": first.headers["ETag"]}).status_code == 304
        assert fn.get(DASHBOARD, headers=bearer(keys["other_brand"])).status_code == 403
        assert fn.get(DASHBOARD).status_code == 401
    finally:
        set_default_runtime(None)
