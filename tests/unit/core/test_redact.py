"""tower.redact: the secret shapes, remembered secret values, sanitised exceptions, the log set-up, and
each boundary that applies them (API error bodies, CLI lines, HTTP functions, event handlers, retries)."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from flask import Flask
from werkzeug.exceptions import BadRequest

from tower.connectors.retry import FatalError, NeedsReauth, RetriableError, RetriesExhausted, RetryPolicy
from tower.logs import JsonLineFormatter, configure_logging
from tower.redact import (
    MASK,
    at_edge,
    describe,
    redact,
    redact_data,
    remember,
    sanitized,
)


def _token(prefix: str = "tok") -> str:
    """A fresh secret no pattern has seen (and no store has remembered)."""
    return f"{prefix}{secrets.token_hex(12)}"


def _printed(exc: BaseException) -> str:
    """All an exception shows when printed or logged, its causes and contexts included."""
    return "".join(traceback.format_exception(exc)) + str(exc) + repr(exc)


class _RawHttpError(Exception):
    """Stands for a requests error: its text is the URL it failed on."""


def _raise_chained(token: str) -> None:
    try:
        raise _RawHttpError(f"Max retries exceeded with url: /v21.0/act_1/insights?access_token={token}&limit=25")
    except _RawHttpError as e:
        raise RetriableError("Meta connection failed", platform="meta", retry_after=3.0) from e


# --- shapes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", [
    "GET /v21.0/act_1/insights?access_token={t}&fields=spend",
    "https://graph.facebook.com/v21.0/me?fields=id&access_token={t}",
    "POST body: client_secret={t}&grant_type=authorization_code",
    "callback?code={t}&state=abc&shop=x.myshopify.com",
    "https://maps.example/api?key={t}",
    "refresh_token={t}",
    "token={t}",
    "api_key={t}; appsecret_proof={t}; password={t}",
    "next=https%3A%2F%2Fexample.com%2Fcb%3Faccess_token%3D{t}%26x%3D1",
    '{{"access_token": "{t}", "token_type": "bearer"}}',
    "{{'refresh_token': '{t}', 'expires_in': 3600}}",
    "Authorization: Bearer {t}",
    "{{'Authorization': 'Bearer {t}', 'Accept': 'application/json'}}",
    "X-Shopify-Access-Token: {t}",
    "{{'X-Shopify-Access-Token': '{t}'}}",
    "Access-Token: {t}",
    "[('developer-token', '{t}'), ('login-customer-id', '1234567890')]",
    "x-api-key: {t}",
    "sent with bearer {t} to the API",
    "postgres://tower:{t}@10.0.0.3/warehouse",
    'log {{\\"access_token\\": \\"{t}\\"}} end',
])
def test_every_secret_shape_is_masked(template: str) -> None:
    token = _token()
    text = template.format(t=token)
    masked = redact(text)
    assert token not in masked and MASK in masked
    assert redact(masked) == masked  # idempotent: masking twice changes nothing more


@pytest.mark.parametrize("prefix", ["shpat_", "sk-ant-api03-", "ya29.", "AIzaSy", "EAAB"])
def test_the_platforms_token_prefixes_are_masked_anywhere(prefix: str) -> None:
    token = prefix + secrets.token_hex(20)
    assert redact(f"the token {token} was refused") == f"the token {MASK} was refused"


@pytest.mark.parametrize("text", [
    "Meta error 190/463: Error validating access token: Session has expired.",
    '{"error": {"code": 190, "error_subcode": 463}, "extensions": {"code": "THROTTLED"}}',
    "exit code=2 after page_token=abc and idempotency_key=k1",
    "https://host:8443/path?fields=spend&after=QVFIUk",
    "Shopify error: Throttled (retry after 2.0 s)",
])
def test_text_without_secrets_is_left_as_it_is(text: str) -> None:
    assert redact(text) == text


def test_a_remembered_secret_is_masked_whatever_its_shape() -> None:
    token = _token("odd|shape~")
    line = f"unexpected echo {token} and, url-encoded, {token.replace('|', '%7C')}"
    assert token in redact(line)  # no pattern knows this shape...
    remember(token)
    assert redact(line) == f"unexpected echo {MASK} and, url-encoded, {MASK}"  # ...the value is known now


def test_short_values_are_not_remembered() -> None:
    remember("USD")
    assert redact("paid 5 USD") == "paid 5 USD"


def test_the_secret_stores_and_secret_settings_remember_what_they_hold(tmp_path: Path) -> None:
    from tower.adapters.local_secrets import LocalSecrets
    from tower.config import Settings

    written, read, setting = _token("w"), _token("r"), _token("s")
    store = LocalSecrets(tmp_path / "secrets")
    store.put("brand-a-meta-1", written)
    other = LocalSecrets(tmp_path / "secrets")  # reads what an earlier process wrote
    store.put("brand-a-tiktok-2", read)
    assert other.get("brand-a-tiktok-2") == read
    Settings(anthropic_api_key=setting)
    assert redact(f"{written} {read} {setting}") == f"{MASK} {MASK} {MASK}"


def test_redact_data_walks_containers_and_keeps_other_values() -> None:
    token = _token()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    data = {"error": f"url?access_token={token}", "rows": [1, 2.5, None, True], "at": when,
            "nested": ({"token": token},)}
    clean = redact_data(data)
    assert token not in json.dumps(clean, default=str)
    assert clean["rows"] == [1, 2.5, None, True] and clean["at"] is when


def test_describe_names_the_type_and_masks_and_cuts_the_text() -> None:
    token = _token()
    text = describe(_RawHttpError(f"GET /x?access_token={token} " + "y" * 600), limit=80)
    assert text.startswith(f"_RawHttpError: GET /x?access_token={MASK}") and len(text) == 80
    assert token not in text


# --- exceptions -----------------------------------------------------------------------------------


def test_a_sanitised_exception_keeps_class_and_attributes_and_drops_the_chain() -> None:
    token = _token()
    try:
        _raise_chained(token)
    except RetriableError as e:
        e.add_note(f"while reading /me?access_token={token}")
        original = e
    assert token in _printed(original)  # the chained cause prints the URL...

    clean = sanitized(original)

    assert token not in _printed(clean)  # ...its sanitised copy does not
    assert type(clean) is RetriableError
    assert (clean.platform, clean.retry_after, clean.kind) == ("meta", 3.0, "transient")  # type: ignore[attr-defined]
    assert clean.__cause__ is None and clean.__context__ is None and clean.__suppress_context__
    assert clean.__traceback__ is original.__traceback__  # where it failed stays visible
    assert clean.__notes__ == [f"while reading /me?access_token={MASK}"]  # type: ignore[attr-defined]


def test_an_exception_whose_text_holds_the_secret_is_masked() -> None:
    token = _token()
    clean = sanitized(FatalError(f"Meta call failed: url?access_token={token}", platform="meta", code=100))
    assert str(clean) == f"Meta call failed: url?access_token={MASK}" and clean.code == 100  # type: ignore[attr-defined]


def test_an_exception_that_cannot_be_copied_becomes_a_masked_stand_in() -> None:
    class Picky(Exception):
        def __str__(self) -> str:
            return f"picky {self.secret}"  # type: ignore[attr-defined]  # set by __init__ only

        def __init__(self, secret: str) -> None:
            super().__init__()
            self.secret = secret

    token = _token()
    clean = sanitized(Picky(f"access_token={token}"))
    assert token not in _printed(clean)


def test_what_leaves_an_edge_prints_no_secret_and_keeps_its_class() -> None:
    token = _token()

    @at_edge
    def handler() -> None:
        _raise_chained(token)

    with pytest.raises(RetriableError) as raised:
        handler()
    assert token not in _printed(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_the_retry_policy_raises_sanitised_errors() -> None:
    token = _token()
    policy = RetryPolicy(sleep=lambda _s: None, attempts=2)

    with pytest.raises(RetriesExhausted) as exhausted:
        policy.call(_raise_chained, token)
    assert token not in _printed(exhausted.value)
    assert "still failing after 2 attempts" in str(exhausted.value) and exhausted.value.platform == "meta"

    def rejected() -> None:
        try:
            raise _RawHttpError(f"GET /me?access_token={token}")
        except _RawHttpError as e:
            raise NeedsReauth("Meta error 190/463", platform="meta", code=190) from e

    with pytest.raises(NeedsReauth) as reauth:
        policy.call(rejected)
    assert token not in _printed(reauth.value) and reauth.value.code == 190


# --- logging --------------------------------------------------------------------------------------


@pytest.fixture
def stderr_log() -> Iterator[logging.Handler]:
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(logging.INFO, force=True)
    assert handler is not None
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_log_lines_are_masked_json_tracebacks_included(
    stderr_log: logging.Handler, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    token = _token()
    log = logging.getLogger("tower.test_redact")
    log.info("calling %s", f"/v21.0/me?access_token={token}", extra={"header": f"Bearer {token}"})
    log.warning(json.dumps({"severity": "WARNING", "event": "x", "brand_id": "b1", "url": f"?token={token}"}))
    try:
        _raise_chained(token)
    except RetriableError:
        log.exception("sync failed")

    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines()]
    assert token not in err
    assert [(x["severity"], x.get("message") or x.get("event")) for x in lines] == [
        ("INFO", f"calling /v21.0/me?access_token={MASK}"), ("WARNING", "x"), ("ERROR", "sync failed")]
    assert lines[1]["brand_id"] == "b1" and lines[1]["logger"] == "tower.test_redact"
    assert "_RawHttpError" in lines[2]["stack_trace"] and f"access_token={MASK}" in lines[2]["stack_trace"]
    # Handlers the set-up does not own (pytest's here) get masked records too.
    assert caplog.records and token not in caplog.text
    assert all(token not in (r.exc_text or "") and token not in str(r.__dict__) for r in caplog.records)


def test_the_formatter_masks_a_record_made_elsewhere() -> None:
    token = _token()
    record = logging.makeLogRecord({"msg": "url %s", "args": (f"?access_token={token}",), "levelname": "ERROR",
                                    "name": "elsewhere"})
    line = JsonLineFormatter().format(record)
    assert token not in line and json.loads(line)["severity"] == "ERROR"


# --- boundaries -----------------------------------------------------------------------------------


def test_api_error_bodies_are_masked_however_they_are_built(caplog: pytest.LogCaptureFixture) -> None:
    from tower.api.errors import ApiError, register_error_handlers

    token = _token()
    app = Flask("redact_test")
    register_error_handlers(app)

    @app.get("/api-error")
    def api_error() -> Any:
        raise ApiError(503, "platform_unavailable", f"an ad platform kept failing: url?access_token={token}",
                       fields={"token": f"Bearer {token}"})

    @app.get("/http-error")
    def http_error() -> Any:
        raise BadRequest(f"bad header Authorization: Bearer {token}")

    @app.get("/hand-built")
    def hand_built() -> Any:
        return {"error": {"code": "budget_changed", "message": f"x-api-key: {token}"}}, 409

    @app.get("/crash")
    def crash() -> Any:
        _raise_chained(token)

    client = app.test_client()
    for path, status in (("/api-error", 503), ("/http-error", 400), ("/hand-built", 409), ("/crash", 500)):
        r = client.get(path)
        assert r.status_code == status and r.is_json
        assert token not in r.get_data(as_text=True), path
    assert MASK in client.get("/api-error").json["error"]["message"]
    assert token not in caplog.text and "unhandled API error" in caplog.text


def test_cli_error_lines_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from tower import cli

    token = _token()
    for fail in (cli.fail, cli.fail_usage):
        with pytest.raises(typer.Exit):
            fail(f"Meta kept failing: GET /me?access_token={token}")
        err = capsys.readouterr().err
        assert token not in err and f"access_token={MASK}" in err


def test_a_cli_crash_prints_its_traceback_masked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tower import cli

    token = _token()

    def crashing_app() -> None:
        _raise_chained(token)

    monkeypatch.setattr(cli, "app", crashing_app)
    with pytest.raises(SystemExit) as exited:
        cli.main()
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert "_RawHttpError" in err and "RetriableError" in err  # the whole chain, for the operator...
    assert token not in err  # ...masked


def test_http_functions_mask_their_bodies_and_sanitise_what_escapes() -> None:
    from functions._http import respond
    from tower.pipeline import PipelineError

    token = _token()

    def bad() -> Any:
        raise PipelineError(f"payload carries access_token={token}")

    body, status = respond(bad)
    assert status == 400 and token not in json.dumps(body)
    body, status = respond(lambda: {"echo": f"Authorization: Bearer {token}"})
    assert status == 200 and token not in json.dumps(body)

    with pytest.raises(RetriableError) as raised:
        respond(lambda: _raise_chained(token))
    assert token not in _printed(raised.value)


def test_event_handlers_raise_sanitised_exceptions() -> None:
    from tower.events import run_event_handler

    token = _token()
    data = base64.b64encode(json.dumps({"brand_id": "b1"}).encode()).decode()
    event = CloudEvent(
        {"type": "google.cloud.pubsub.topic.v1.messagePublished",
         "source": "//pubsub.googleapis.com/projects/p/topics/tower-sync-completed"},
        {"message": {"data": data, "messageId": "1", "publishTime": datetime.now(UTC).isoformat()}},
    )

    with pytest.raises(RetriableError) as raised:  # raising still asks Pub/Sub for a retry
        run_event_handler(lambda _m: _raise_chained(token), event)
    assert token not in _printed(raised.value)
