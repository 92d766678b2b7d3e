"""tower.logs: Cloud Logging structured lines (message, severity, extra fields, trace), plain lines for people."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator

import pytest
from flask import Flask

from tower.logs import (
    SAMPLED_FIELD,
    SOURCE_FIELD,
    SPAN_FIELD,
    TRACE_FIELD,
    Trace,
    configure_logging,
    extra_fields,
    parse_trace,
    traced,
)
from tower.redact import MASK

TRACE_ID = "105445aa7843bc8bf206b12000100000"


@pytest.fixture
def json_log() -> Iterator[logging.Handler]:
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(logging.DEBUG, force=True)
    assert handler is not None
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def human_log() -> Iterator[logging.Handler]:
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(logging.INFO, force=True, human=True)
    assert handler is not None
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_a_line_is_message_severity_and_every_extra_field(
    json_log: logging.Handler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    log = logging.getLogger("tower.sync.shopify")
    log.info("shopify sync done", extra={"brand_id": "b1", "platform": "shopify", "rows": 12})
    log.debug("pacing", extra={"wait_s": 0.25})
    log.critical("disk full")

    done, pacing, full = _lines(capsys)
    assert done["message"] == "shopify sync done" and done["severity"] == "INFO"
    assert (done["brand_id"], done["platform"], done["rows"]) == ("b1", "shopify", 12)
    assert done["logger"] == "tower.sync.shopify"
    assert done[SOURCE_FIELD]["file"].endswith("test_logs.py") and done[SOURCE_FIELD]["function"] == (
        "test_a_line_is_message_severity_and_every_extra_field")
    assert (pacing["severity"], pacing["wait_s"]) == ("DEBUG", 0.25)
    assert full["severity"] == "CRITICAL"
    assert TRACE_FIELD not in done  # no request, no trace


def test_extra_fields_are_masked_and_values_that_are_not_json_become_text(
    json_log: logging.Handler, capsys: pytest.CaptureFixture[str],
) -> None:
    token = f"tok{secrets.token_hex(12)}"
    logging.getLogger("tower.test_logs").warning(
        "token rejected", extra={"url": f"/me?access_token={token}", "when": object.__name__, "ids": ("a", "b")})

    [line] = _lines(capsys)
    assert token not in json.dumps(line) and line["url"] == f"/me?access_token={MASK}"
    assert line["ids"] == ["a", "b"] and line["when"] == "object"


@pytest.mark.parametrize(("headers", "expected"), [
    ({"X-Cloud-Trace-Context": f"{TRACE_ID}/1;o=1"}, Trace(TRACE_ID, "0000000000000001", True)),
    ({"X-Cloud-Trace-Context": f"{TRACE_ID}/18446744073709551615;o=0"}, Trace(TRACE_ID, "ffffffffffffffff", False)),
    ({"X-Cloud-Trace-Context": TRACE_ID.upper()}, Trace(TRACE_ID, "", None)),
    ({"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}, Trace(TRACE_ID, "00f067aa0ba902b7", True)),
    ({"X-Cloud-Trace-Context": "not-a-trace\n{\"severity\": \"CRITICAL\"}"}, None),
    ({"X-Cloud-Trace-Context": "0" * 32 + "/1"}, None),
    ({}, None),
])
def test_trace_headers_are_read_in_their_documented_shapes_only(headers: dict[str, str],
                                                                  expected: Trace | None) -> None:
    assert parse_trace(headers) == expected


def test_lines_written_while_a_trace_is_bound_carry_it(
    json_log: logging.Handler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "tower-prod")
    log = logging.getLogger("tower.test_logs")
    with traced({"X-Cloud-Trace-Context": f"{TRACE_ID}/12;o=1"}):
        log.info("inside")
    log.info("after")

    inside, after = _lines(capsys)
    assert inside[TRACE_FIELD] == f"projects/tower-prod/traces/{TRACE_ID}"
    assert inside[SPAN_FIELD] == "000000000000000c" and inside[SAMPLED_FIELD] is True
    assert TRACE_FIELD not in after


def test_a_flask_request_being_served_gives_its_trace_without_binding(
    json_log: logging.Handler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every HTTP, task and Pub/Sub push function is served by functions-framework's Flask app.
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "tower-prod")
    app = Flask("trace_test")

    @app.post("/")
    def handler() -> str:
        logging.getLogger("tower.test_logs").warning("handled", extra={"brand_id": "b1"})
        return "ok"

    app.test_client().post("/", headers={"X-Cloud-Trace-Context": f"{TRACE_ID}/7"})
    [line] = [x for x in _lines(capsys) if x.get("message") == "handled"]
    assert line[TRACE_FIELD] == f"projects/tower-prod/traces/{TRACE_ID}" and line["brand_id"] == "b1"


def test_a_message_that_is_a_json_object_is_merged_not_nested(
    json_log: logging.Handler, capsys: pytest.CaptureFixture[str],
) -> None:
    logging.getLogger("tower.test_logs").info(json.dumps({"message": "legacy", "brand_id": "b2"}))
    [line] = _lines(capsys)
    assert (line["message"], line["brand_id"], line["severity"]) == ("legacy", "b2", "INFO")


def test_people_at_the_cli_see_plain_masked_lines(
    human_log: logging.Handler, capsys: pytest.CaptureFixture[str],
) -> None:
    token = f"tok{secrets.token_hex(12)}"
    log = logging.getLogger("tower.sync")
    log.warning("shopify sync failed", extra={"brand_id": "b1", "platform": "shopify", "error": f"token={token}"})
    try:
        raise RuntimeError(f"Authorization: Bearer {token}")
    except RuntimeError:
        log.exception("crashed")

    err = capsys.readouterr().err
    assert token not in err and not err.lstrip().startswith("{")
    first = err.splitlines()[0]
    assert first == f"WARNING tower.sync: shopify sync failed  brand_id=b1  platform=shopify  error=token={MASK}"
    assert "ERROR tower.sync: crashed" in err and "RuntimeError" in err and "Traceback" in err


def test_extra_fields_leave_out_the_records_own_attributes() -> None:
    record = logging.getLogger("x").makeRecord("x", logging.INFO, "f.py", 1, "m", None, None,
                                               extra={"brand_id": "b1"})
    assert extra_fields(record) == {"brand_id": "b1"}
