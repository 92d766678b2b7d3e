"""The task queue on Cloud Tasks (google-cloud-tasks), imported only when ``TOWER_TASKS=cloudtasks://``.

A task is an HTTP POST of the JSON payload to ``{tasks_target_url}/tower-<handler with - for _>``,
the URL of the function Terraform deploys for that entry point (:func:`tower.names.function_url`),
signed with an OIDC token of ``tasks_service_account`` whose audience is that same URL (what Cloud
Functions checks a token against). The task id becomes
the task *name*, which is how Cloud Tasks deduplicates: creating a name that exists (or existed in
the last hour or so) answers ALREADY_EXISTS, which here means "already enqueued".

Cloud Tasks pushes tasks to their targets, so there is nothing to pull: ``drain`` runs nothing, and
the receiving side turns the request back into a :class:`~tower.ports.Task` with
:func:`task_from_http` (or :meth:`CloudTasksQueue.handle_http` for handlers registered here).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tower import names
from tower.adapters.local_tasks import check_handler, check_task, encode_task_payload
from tower.ports import PortError, Task


def task_from_http(handler: str, headers: Mapping[str, str], body: bytes) -> Task:
    """The Task a Cloud Tasks HTTP request carries (its ``X-CloudTasks-*`` headers and JSON body)."""
    h = {k.lower(): v for k, v in headers.items()}
    try:
        payload = json.loads(body or b"{}")
    except ValueError as e:
        raise PortError(f"task body is not JSON: {e}") from e
    if not isinstance(payload, dict):
        raise PortError("task body must be a JSON object")
    return Task(
        queue=h.get("x-cloudtasks-queuename", ""),
        handler=handler,
        payload=payload,
        task_id=h.get("x-cloudtasks-taskname", ""),
        attempt=int(h.get("x-cloudtasks-taskretrycount", "0") or 0) + 1,
    )


class CloudTasksQueue:
    """TaskQueue port on Cloud Tasks queues of one project and location."""

    def __init__(
        self,
        project: str,
        location: str,
        target_url: str,
        service_account: str = "",
        *,
        client: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not project or not location:
            raise PortError("cloud tasks needs TOWER_TASKS=cloudtasks://PROJECT/LOCATION")
        if not target_url.startswith(("https://", "http://")):
            raise PortError(f"TOWER_TASKS_TARGET_URL must be the handlers' base URL, got {target_url!r}")
        if client is None:
            from google.cloud import tasks_v2

            client = tasks_v2.CloudTasksClient()
        self.project = project
        self.location = location
        self.target_url = target_url.rstrip("/")
        self.service_account = service_account
        self._client = client
        self._clock = clock
        self._handlers: dict[str, Callable[[Task], None]] = {}

    def enqueue(
        self,
        queue: str,
        handler: str,
        payload: Mapping[str, Any],
        *,
        task_id: str | None = None,
        delay_seconds: float = 0,
    ) -> str:
        """Create an HTTP task; a task id already used is not enqueued again. Return the task id."""
        from google.api_core import exceptions as gexc
        from google.cloud import tasks_v2

        check_task(queue, handler, task_id)
        body = encode_task_payload(payload)
        if delay_seconds < 0:
            raise PortError(f"delay_seconds must be >= 0, got {delay_seconds}")
        url = self.url_for(handler)
        http_request: dict[str, Any] = {
            "http_method": tasks_v2.HttpMethod.POST,
            "url": url,
            "headers": {"Content-Type": "application/json"},
            "body": body,
        }
        if self.service_account:
            # The audience is the function's own cloudfunctions.net URL, which its front end checks.
            http_request["oidc_token"] = {"service_account_email": self.service_account, "audience": url}
        task: dict[str, Any] = {"http_request": http_request}
        if task_id:
            task["name"] = self._client.task_path(self.project, self.location, queue, task_id)
        if delay_seconds > 0:
            task["schedule_time"] = self._clock() + timedelta(seconds=delay_seconds)
        parent = self._client.queue_path(self.project, self.location, queue)
        try:
            created = self._client.create_task(request={"parent": parent, "task": task})
        except gexc.AlreadyExists:
            return str(task_id)  # the name is taken: this task is (or was) already enqueued
        except gexc.GoogleAPICallError as e:
            raise PortError(f"create task in {queue}: {type(e).__name__}: {e.message}") from e
        return str(created.name).rsplit("/", 1)[-1]

    def url_for(self, handler: str) -> str:
        """The URL (and OIDC audience) of the function deployed for a handler entry point.

        Functions are deployed as ``tower-<entry point with - for _>``, not under the entry point's
        own name: a task sent to ``.../sync_shopify`` would answer 404 and be retried to exhaustion.
        """
        try:
            return names.function_url(self.target_url, handler)
        except ValueError as e:
            raise PortError(f"task handler {handler!r}: {e}") from None

    def register(self, handler: str, fn: Callable[[Task], None]) -> None:
        """Route HTTP task requests for this handler (see handle_http) to fn."""
        self._handlers[check_handler(handler)] = fn

    def handle_http(self, handler: str, headers: Mapping[str, str], body: bytes) -> None:
        """Run the registered fn for one Cloud Tasks HTTP request; raise to have Cloud Tasks retry."""
        fn = self._handlers.get(handler)
        if fn is None:
            raise PortError(f"no task handler registered for {handler!r}")
        fn(task_from_http(handler, headers, body))

    def drain(self, max_tasks: int | None = None) -> int:
        """Nothing to run here: Cloud Tasks delivers each task to its HTTP target itself."""
        return 0

    def close(self) -> None:
        transport = getattr(self._client, "transport", None)
        if transport is not None:
            transport.close()
