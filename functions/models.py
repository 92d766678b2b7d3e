"""build_models: on tower-sync-completed, rebuild the models over the touched window."""

from __future__ import annotations

from typing import Any

import functions_framework

from tower import pipeline
from tower.events import run_event_handler
from tower.runtime import default_runtime


@functions_framework.cloud_event
def build_models(cloud_event: Any) -> None:
    run_event_handler(lambda m: pipeline.handle_sync_completed(default_runtime(), m), cloud_event)
