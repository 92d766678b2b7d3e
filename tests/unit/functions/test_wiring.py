"""The wiring table: every trigger names a resource of tower.names, and the embedded default is wired from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functions_framework
import pytest

from tower import names, pipeline
from tower.config import Settings
from tower.runtime import Runtime, set_default_runtime
from tower.wiring import ENTRY_POINTS, EntryPoint, entry_point, of_kind, subscriptions, wire_local

ROOT = Path(__file__).resolve().parents[3]


def test_every_trigger_names_a_declared_topic_or_queue() -> None:
    assert {e.target for e in of_kind("topic")} <= set(names.TOPICS)
    assert {e.target for e in of_kind("queue")} == set(names.QUEUES)


def test_subscriptions_derive_from_the_topic_entry_points() -> None:
    assert subscriptions() == {
        "build-models": (names.TOPIC_SYNC_COMPLETED, "build_models"),
        "recommend": (names.TOPIC_MODELS_BUILT, "recommend"),
        "summarize": (names.TOPIC_MODELS_BUILT, "summarize"),
        "notify": (names.TOPIC_ALERTS_RAISED, "notify"),
    }


def test_every_platform_is_synced_by_its_own_task_handler() -> None:
    for platform, name in pipeline.SYNC_TASKS.items():
        entry = entry_point(name, "queue")
        assert (entry.target, entry.handler) == (names.QUEUE_SYNC, pipeline.handle_sync_task), platform
    assert list(pipeline.SYNC_TASKS) == list(names.PLATFORMS)
    assert set(pipeline.sync_functions()) == set(names.PLATFORMS)


def test_function_names_are_the_deployed_ones() -> None:
    assert ENTRY_POINTS["sync_google_ads"].function_name == "tower-sync-google-ads"
    assert ENTRY_POINTS["api"].function_name == "tower-api"


@pytest.mark.parametrize("trigger", ["cron", "http:x", "topic", "queue:", "schedule:"])
def test_a_malformed_trigger_is_refused(trigger: str) -> None:
    with pytest.raises(ValueError, match="trigger"):
        EntryPoint("x", trigger, pipeline.handle_sync_task)


def test_looking_up_an_entry_point_by_the_wrong_kind_says_how_it_is_triggered() -> None:
    with pytest.raises(ValueError, match="triggered by 'http', not queue"):
        entry_point("api", "queue")
    with pytest.raises(KeyError, match="unknown entry point 'nope'"):
        entry_point("nope", "http")


# --- the embedded default ----------------------------------------------------------------------------


@pytest.fixture
def runtime(tmp_path: Path) -> Any:
    settings = Settings(
        warehouse=f"duckdb:///{tmp_path}/warehouse.duckdb", store=f"local:///{tmp_path}/store.sqlite",
        bus=f"local:///{tmp_path}/bus.sqlite", tasks=f"local:///{tmp_path}/tasks.sqlite",
        secrets=f"local:///{tmp_path}/secrets", bus_backoff_seconds=0, bus_max_attempts=1,
    )
    rt = Runtime(settings)
    yield rt
    rt.close()


def test_once_wired_the_local_bus_keeps_messages_for_every_subscription(runtime: Runtime) -> None:
    wire_local(runtime)
    runtime.bus.close()
    # Another process, not wired: what it publishes waits for the subscribers declared above.
    publisher = Runtime(runtime.settings)
    publisher.bus.publish(names.TOPIC_MODELS_BUILT, {"brand_id": "b1"})
    assert {sub: publisher.bus.pending(sub) for sub in ("recommend", "summarize", "build-models")} == {
        "recommend": 1, "summarize": 1, "build-models": 0,
    }
    publisher.close()


def test_wire_local_registers_each_task_handler_under_its_entry_point(runtime: Runtime) -> None:
    wire_local(runtime)
    runtime.tasks.enqueue(names.QUEUE_SYNC, "sync_meta", {"brand_id": "b1", "platform": "shopify"})
    runtime.tasks.drain()
    [dead] = runtime.tasks.dead_tasks()
    assert dead.task.handler == "sync_meta" and "sync_meta syncs meta, not 'shopify'" in dead.error


# --- the deployed functions ------------------------------------------------------------------------------


@pytest.fixture
def client(runtime: Runtime) -> Any:
    set_default_runtime(runtime)
    yield lambda target: functions_framework.create_app(target=target, source=str(ROOT / "main.py")).test_client()
    set_default_runtime(None)


def test_a_sync_function_refuses_a_task_for_another_platform(client: Any) -> None:
    r = client("sync_meta").post("/", json={"brand_id": "b1", "platform": "tiktok"})
    assert r.status_code == 400
    assert r.json == {"error": {"code": "bad_request", "message": "sync_meta syncs meta, not 'tiktok'"}}


def test_a_task_function_answers_400_to_a_body_that_is_not_an_object(client: Any) -> None:
    r = client("apply_budget_change").post("/", json=[1, 2])
    assert r.status_code == 400 and r.json["error"]["message"] == "request body must be a JSON object"


def test_the_webhook_function_refuses_other_methods(client: Any) -> None:
    r = client("shopify_webhooks").get("/")
    assert r.status_code == 405 and r.json["error"] == "method_not_allowed"


# --- one run id from the scheduler to the decisions -------------------------------------------------------


@pytest.fixture
def json_lines() -> Any:
    """Every log line written meanwhile, as Cloud Logging would read it (tower.logs' JSON lines)."""
    import io
    import json
    import logging

    from tower.logs import JsonLineFormatter, configure_logging

    configure_logging()  # the record factory that stamps each line with its run
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def brand_with_meta(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """Brand b1 (Berlin, EUR) with an active Meta integration, whose sync touches 10-19 November.

    The platform sync itself is replaced (what it reads is the connectors' business, tested on their
    sandboxes); everything after it, the models, the recommendations and the summary, runs for real.
    """
    from datetime import UTC, datetime

    from tower.brands import add_brand

    runtime.warehouse.init_schema()
    now = datetime(2026, 11, 20, 15, tzinfo=UTC)
    add_brand(runtime.warehouse, brand_id="b1", name="B1", timezone="Europe/Berlin", currency="EUR", now=now)
    runtime.warehouse.merge("integrations", [{
        "brand_id": "b1", "platform": "meta", "account_id": "act_1", "secret_ref": "integration-b1-meta",
        # synced before: an hourly round, not the brand's first (whose build is not announced until every
        # first sync is in, tower.sync.outcomes.first_syncs_pending)
        "status": "active", "connected_at": now, "last_synced_at": now, "updated_at": now}],
        ["brand_id", "platform", "account_id"])

    def synced(runtime: Runtime, brand_id: str, *, full: bool = False, since: Any = None) -> dict[str, Any]:
        return {"status": "ok", "window_start": "2026-11-10", "window_end": "2026-11-19"}

    monkeypatch.setattr(pipeline, "sync_functions", lambda: dict.fromkeys(names.PLATFORMS, synced))
    return runtime


def test_one_run_id_follows_the_round_from_the_scheduler_to_the_decisions(brand_with_meta: Runtime,
                                                                          json_lines: Any) -> None:
    runtime = brand_with_meta
    wire_local(runtime)
    ENTRY_POINTS["schedule_syncs"].call(runtime)
    pipeline.run_until_idle(runtime)
    assert runtime.tasks.dead_tasks() == []
    lines = json_lines()
    stages = {line["logger"]: line for line in lines}
    # every stage of the chain wrote, each through a different hop (task, sync-completed, models-built)
    assert {"tower.pipeline", "tower.analytics.runner", "tower.decisions", "tower.ai"} <= set(stages)
    assert [line["message"] for line in lines if line["logger"] == "tower.pipeline"] == [
        "sync tasks enqueued", "sync finished"]
    runs = {line.get("run_id") for line in lines}
    assert len(runs) == 1 and None not in runs
    [run] = runs
    assert all(line["logging.googleapis.com/labels"] == {"run_id": run} for line in lines)
    # the next round is another run
    ENTRY_POINTS["schedule_syncs"].call(runtime)
    pipeline.run_until_idle(runtime)
    later = {line["run_id"] for line in json_lines()[len(lines):]}
    assert len(later) == 1 and later != runs


def test_the_deployed_task_function_logs_under_the_run_its_task_names(brand_with_meta: Runtime, client: Any,
                                                                      json_lines: Any) -> None:
    r = client("sync_meta").post("/", json={"brand_id": "b1", "run_id": "run-2026112015-0a1b2c3d"})
    assert r.status_code == 200
    finished = [line for line in json_lines() if line["message"] == "sync finished"]
    assert [line["run_id"] for line in finished] == ["run-2026112015-0a1b2c3d"]
    # what is not a run id is not copied into the logs: the line gets a run of its own
    client("sync_meta").post("/", json={"brand_id": "b1", "run_id": "x\ny" * 40})
    last = [line for line in json_lines() if line["message"] == "sync finished"][-1]
    assert last["run_id"].startswith("run-") and "\n" not in last["run_id"]
