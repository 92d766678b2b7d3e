"""Task handlers that sync one platform for one brand, and the hourly scheduler that enqueues them."""

from __future__ import annotations

from typing import Any

import functions_framework

from functions._http import json_body, respond
from tower import pipeline
from tower.ports import Task
from tower.runtime import default_runtime


def _sync(request: Any, platform: str) -> tuple[dict[str, Any], int]:
    def run() -> Any:
        body = json_body(request)
        body.setdefault("platform", platform)
        if body["platform"] != platform:
            raise pipeline.PipelineError(f"this function syncs {platform}, not {body['platform']!r}")
        task = Task(queue="", handler=f"sync_{platform}", payload=body,
                    task_id=request.headers.get("X-CloudTasks-TaskName", ""))
        return pipeline.handle_sync_task(default_runtime(), task)

    return respond(run)


@functions_framework.http
def sync_shopify(request: Any) -> tuple[dict[str, Any], int]:
    return _sync(request, "shopify")


@functions_framework.http
def sync_meta(request: Any) -> tuple[dict[str, Any], int]:
    return _sync(request, "meta")


@functions_framework.http
def sync_tiktok(request: Any) -> tuple[dict[str, Any], int]:
    return _sync(request, "tiktok")


@functions_framework.http
def sync_google_ads(request: Any) -> tuple[dict[str, Any], int]:
    return _sync(request, "google_ads")


@functions_framework.http
def schedule_syncs(request: Any) -> tuple[dict[str, Any], int]:
    """Cloud Scheduler, hourly: one task per (brand, platform) with an active integration."""
    return respond(lambda: {"enqueued": pipeline.schedule_syncs(default_runtime())})
