"""What the HTTP entry points (Cloud Tasks targets) answer when the library fails in a known way."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions._http import respond
from tower.adapters.local_secrets import KEY_FILE, UNAVAILABLE_MESSAGE, LocalSecrets


def test_a_broken_secrets_key_is_a_503_json_line_and_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    directory = tmp_path / "secrets"
    store = LocalSecrets(directory)
    store.put("meta-token", "EAAB-test-value")
    store.close()
    (directory / KEY_FILE).unlink()  # lost, while a secret sealed with it is stored

    with caplog.at_level("INFO"):
        body, status = respond(lambda: LocalSecrets(directory).get("meta-token"))

    # 5xx: Cloud Tasks retries the task, which can succeed once the key file is restored.
    assert status == 503
    assert body == {"error": {"code": "secrets_unavailable", "message": UNAVAILABLE_MESSAGE}}
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].name == "tower.functions"
    line = errors[0].getMessage()
    assert getattr(errors[0], "error_code", None) == "secrets_unavailable" and str(directory / KEY_FILE) in line
    assert "Restore" in line and "\n" not in line
    assert not [r for r in caplog.records if r.exc_info]


def test_a_bad_request_is_still_a_400() -> None:
    from tower.pipeline import PipelineError

    def bad() -> None:
        raise PipelineError("brand_id is missing")

    assert respond(bad) == ({"error": {"code": "bad_request", "message": "brand_id is missing"}}, 400)


def _refuse() -> None:
    from tower.pipeline import PipelineError

    raise PipelineError("brand_id is missing")


@pytest.mark.parametrize("header", ["X-CloudTasks-TaskName", "X-CloudScheduler"])
def test_a_bad_task_is_answered_2xx_so_cloud_tasks_does_not_retry_it(
    header: str, caplog: pytest.LogCaptureFixture,
) -> None:
    # Cloud Tasks and Cloud Scheduler retry every non-2xx answer: a 400 would be retried to max_attempts.
    from flask import Flask

    app = Flask(__name__)
    with app.test_request_context("/", method="POST", headers={header: "sync-b1-shopify-2026112212"}), \
            caplog.at_level("ERROR", logger="tower.functions"):
        body, status = respond(_refuse)
    assert status == 200
    assert body == {"ok": False, "retry": False, "error": {"code": "bad_request", "message": "brand_id is missing"}}
    [line] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert line.getMessage() == "task refused" and line.retry is False  # type: ignore[attr-defined]


def test_a_transient_failure_is_still_a_5xx_to_cloud_tasks() -> None:
    from flask import Flask

    def flaky() -> None:
        raise RuntimeError("warehouse unreachable")

    app = Flask(__name__)
    with app.test_request_context("/", method="POST", headers={"X-CloudTasks-TaskName": "t1"}), \
            pytest.raises(RuntimeError):
        respond(flaky)  # functions-framework answers 500: Cloud Tasks retries with backoff
