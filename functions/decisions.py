"""recommend and summarize (on tower-models-built) and apply_budget_change (Cloud Tasks)."""

from __future__ import annotations

from typing import Any

import functions_framework

from functions._http import json_body, respond
from tower import pipeline
from tower.events import run_event_handler
from tower.ports import Task
from tower.runtime import default_runtime


@functions_framework.cloud_event
def recommend(cloud_event: Any) -> None:
    run_event_handler(lambda m: pipeline.handle_models_built_recommend(default_runtime(), m), cloud_event)


@functions_framework.cloud_event
def summarize(cloud_event: Any) -> None:
    run_event_handler(lambda m: pipeline.handle_models_built_summarize(default_runtime(), m), cloud_event)


@functions_framework.http
def apply_budget_change(request: Any) -> tuple[dict[str, Any], int]:
    def run() -> Any:
        task = Task(queue="", handler="apply_budget_change", payload=json_body(request),
                    task_id=request.headers.get("X-CloudTasks-TaskName", ""))
        return pipeline.handle_budget_task(default_runtime(), task)

    return respond(run)
