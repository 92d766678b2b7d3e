"""In-memory Cloud Tasks and Secret Manager services on a loopback gRPC server.

There is no official emulator for either, so the adapters are driven through their real clients
and real gRPC transports (``CloudTasksGrpcTransport`` / ``SecretManagerServiceGrpcTransport`` on an
insecure channel to 127.0.0.1): requests are serialised by the SDK and parsed here with the
package's own message classes, so what is checked is the bytes the adapter would send to Google.
Each fake records every request and validates it the way the real service documents (resource
names, required fields, checksums), answering with the real status codes (ALREADY_EXISTS,
NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT).

The Cloud Tasks fake also dispatches its tasks the way Cloud Tasks does: an HTTP POST of the body
to the task's URL with the ``X-CloudTasks-*`` headers, retried until a 2xx or ``max_attempts``.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc


def serve(service: str, methods: dict[str, tuple[Callable[[Any, Any], Any], Any, Any]]) -> tuple[grpc.Server, int]:
    """Start a gRPC server on 127.0.0.1 answering ``/service/Method`` with fn(request, context)."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=req_cls.deserialize, response_serializer=resp_cls.serialize
        )
        for name, (fn, req_cls, resp_cls) in methods.items()
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


class _Proto:
    """proto-plus wrapper for a raw protobuf message class (google.protobuf.Empty)."""

    def __init__(self, cls: Any) -> None:
        self.cls = cls

    def deserialize(self, data: bytes) -> Any:
        return self.cls.FromString(data)

    def serialize(self, msg: Any) -> bytes:
        return bytes(msg.SerializeToString())


# --- Cloud Tasks -----------------------------------------------------------------------------------

_QUEUE_PATH = re.compile(r"^projects/([^/]+)/locations/([^/]+)/queues/([A-Za-z0-9-]{1,100})$")


@dataclass
class _FakeTask:
    task: Any  # tasks_v2.Task
    retries: int = 0


@dataclass
class FakeCloudTasks:
    """CreateTask with Cloud Tasks' naming and dedup rules, plus HTTP dispatch of the tasks."""

    project: str
    location: str
    max_attempts: int = 5
    requests: list[Any] = field(default_factory=list)
    tasks: dict[str, _FakeTask] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    dropped: list[Any] = field(default_factory=list)
    port: int = 0
    _server: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: int = 0

    def start(self) -> FakeCloudTasks:
        from google.cloud import tasks_v2

        self._server, self.port = serve(
            "google.cloud.tasks.v2.CloudTasks",
            {"CreateTask": (self._create_task, tasks_v2.CreateTaskRequest, tasks_v2.Task)},
        )
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    def client(self) -> Any:
        from google.cloud import tasks_v2
        from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))

    def _create_task(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.cloud import tasks_v2

        self.requests.append(request)
        m = _QUEUE_PATH.match(request.parent)
        if not m or m.group(1) != self.project or m.group(2) != self.location:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad parent {request.parent!r}")
        task = tasks_v2.Task(request.task)
        http = task.http_request
        if not http.url.startswith(("https://", "http://")):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "http_request.url is required")
        with self._lock:
            if task.name:
                if not task.name.startswith(request.parent + "/tasks/"):
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"task name {task.name!r} not in parent")
                if task.name in self.used_names:
                    # Cloud Tasks keeps a name reserved after the task ran or was deleted, too.
                    context.abort(grpc.StatusCode.ALREADY_EXISTS, "Requested entity already exists")
            else:
                self._counter += 1
                task.name = f"{request.parent}/tasks/{self._counter:019d}"
            if not task.schedule_time:
                task.schedule_time = datetime.now(UTC)
            task.create_time = datetime.now(UTC)
            self.used_names.add(task.name)
            self.tasks[task.name] = _FakeTask(task)
        return task

    def dispatch(self, *, ignore_delay: bool = False) -> int:
        """POST every due task to its URL until none is due; return how many got a 2xx."""
        ok = 0
        while True:
            now = datetime.now(UTC)
            with self._lock:
                due = [
                    (n, t) for n, t in self.tasks.items()
                    if ignore_delay or t.task.schedule_time <= now
                ]
            if not due:
                return ok
            for name, fake in due:
                task = fake.task
                http = task.http_request
                headers = dict(http.headers)
                headers.update({
                    "X-CloudTasks-QueueName": name.split("/")[5],
                    "X-CloudTasks-TaskName": name.rsplit("/", 1)[1],
                    "X-CloudTasks-TaskRetryCount": str(fake.retries),
                    "X-CloudTasks-TaskExecutionCount": str(fake.retries),
                })
                if http.oidc_token.service_account_email:
                    headers["Authorization"] = "Bearer fake-oidc-token-for-" + http.oidc_token.service_account_email
                req = urllib.request.Request(http.url, data=bytes(http.body), headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        success = 200 <= resp.status < 300
                except urllib.error.HTTPError:
                    success = False
                with self._lock:
                    if success:
                        ok += 1
                        del self.tasks[name]
                        continue
                    fake.retries += 1
                    if fake.retries >= self.max_attempts:
                        self.dropped.append(self.tasks.pop(name).task)


# --- Secret Manager --------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"^projects/([^/]+)/secrets/([A-Za-z0-9_-]{1,255})$")
_VERSION_NAME = re.compile(r"^(projects/[^/]+/secrets/[A-Za-z0-9_-]{1,255})/versions/(latest|[1-9][0-9]*)$")


# The IAM permission each Secret Manager method checks, and on which resource field of its request
# (Secret Manager's REST reference: "Authorization requires the following IAM permission on ...").
# CreateSecret is checked on the parent PROJECT, not on the new secret's name.
SECRET_MANAGER_PERMISSIONS: dict[str, tuple[str, str]] = {
    "create_secret": ("secretmanager.secrets.create", "parent"),
    "get_secret": ("secretmanager.secrets.get", "name"),
    "delete_secret": ("secretmanager.secrets.delete", "name"),
    "add_secret_version": ("secretmanager.versions.add", "parent"),
    "access_secret_version": ("secretmanager.versions.access", "name"),
    "list_secret_versions": ("secretmanager.versions.list", "parent"),
    "disable_secret_version": ("secretmanager.versions.disable", "name"),
}


@dataclass
class FakeSecretManager:
    """The Secret Manager calls the adapter makes, over an in-memory store of secrets.

    ``allows(permission, resource_name)``, when set, is the caller's IAM: a call whose permission it
    refuses answers PERMISSION_DENIED before the resource is looked at, as Secret Manager does.
    """

    project: str
    allows: Callable[[str, str], bool] | None = None
    requests: list[tuple[str, Any]] = field(default_factory=list)
    secrets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    port: int = 0
    _server: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeSecretManager:
        from google.cloud import secretmanager_v1 as sm
        from google.protobuf import empty_pb2

        def m(fn: Any, req: Any, resp: Any) -> tuple[Any, Any, Any]:
            name = fn.__name__.strip("_")

            def recorded(request: Any, context: grpc.ServicerContext) -> Any:
                self.requests.append((name, request))
                permission, where = SECRET_MANAGER_PERMISSIONS[name]
                resource = getattr(request, where)
                if self.allows is not None and not self.allows(permission, resource):
                    context.abort(
                        grpc.StatusCode.PERMISSION_DENIED,
                        f"Permission '{permission}' denied for resource '{resource}' (or it may not exist).",
                    )
                with self._lock:
                    return fn(request, context)

            return recorded, req, resp

        self._server, self.port = serve(
            "google.cloud.secretmanager.v1.SecretManagerService",
            {
                "CreateSecret": m(self._create_secret, sm.CreateSecretRequest, sm.Secret),
                "GetSecret": m(self._get_secret, sm.GetSecretRequest, sm.Secret),
                "AddSecretVersion": m(self._add_secret_version, sm.AddSecretVersionRequest, sm.SecretVersion),
                "AccessSecretVersion": m(
                    self._access_secret_version, sm.AccessSecretVersionRequest, sm.AccessSecretVersionResponse
                ),
                "ListSecretVersions": m(
                    self._list_secret_versions, sm.ListSecretVersionsRequest, sm.ListSecretVersionsResponse
                ),
                "DisableSecretVersion": m(self._disable_secret_version, sm.DisableSecretVersionRequest,
                                          sm.SecretVersion),
                "DeleteSecret": m(self._delete_secret, sm.DeleteSecretRequest, _Proto(empty_pb2.Empty)),
            },
        )
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    def client(self) -> Any:
        from google.cloud import secretmanager_v1 as sm
        from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
            SecretManagerServiceGrpcTransport,
        )

        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        return sm.SecretManagerServiceClient(transport=SecretManagerServiceGrpcTransport(channel=channel))

    def calls(self) -> list[str]:
        return [name for name, _ in self.requests]

    # -- helpers --------------------------------------------------------------------------------
    def _secret(self, name: str, context: grpc.ServicerContext) -> list[dict[str, Any]]:
        m = _SECRET_NAME.match(name)
        if not m or m.group(1) != self.project:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad secret name {name!r}")
        if name not in self.secrets:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Secret [{name}] not found or has no versions.")
        return self.secrets[name]

    def _version(self, name: str, context: grpc.ServicerContext) -> dict[str, Any]:
        m = _VERSION_NAME.match(name)
        if not m:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad version name {name!r}")
        versions = self._secret(m.group(1), context)
        if m.group(2) == "latest":
            if not versions:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Secret Version [{name}] not found.")
            return versions[-1]
        n = int(m.group(2))
        if n > len(versions):
            context.abort(grpc.StatusCode.NOT_FOUND, f"Secret Version [{name}] not found.")
        return versions[n - 1]

    @staticmethod
    def _as_version(v: dict[str, Any]) -> Any:
        from google.cloud import secretmanager_v1 as sm

        return sm.SecretVersion(name=v["name"], state=v["state"])

    # -- the service ----------------------------------------------------------------------------
    def _create_secret(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.cloud import secretmanager_v1 as sm

        if request.parent != f"projects/{self.project}":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad parent {request.parent!r}")
        if "replication" not in request.secret or not (
            "automatic" in request.secret.replication or "user_managed" in request.secret.replication
        ):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Secret.replication is required")
        name = f"{request.parent}/secrets/{request.secret_id}"
        if not _SECRET_NAME.match(name):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"bad secret id {request.secret_id!r}")
        if name in self.secrets:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, f"Secret [{name}] already exists.")
        self.secrets[name] = []
        return sm.Secret(name=name, replication=request.secret.replication)

    def _get_secret(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.cloud import secretmanager_v1 as sm

        self._secret(request.name, context)
        return sm.Secret(name=request.name)

    def _add_secret_version(self, request: Any, context: grpc.ServicerContext) -> Any:
        import google_crc32c
        from google.cloud import secretmanager_v1 as sm

        versions = self._secret(request.parent, context)
        data = bytes(request.payload.data)
        if "data_crc32c" not in request.payload:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "fake: the adapter must send data_crc32c")
        if request.payload.data_crc32c != google_crc32c.value(data):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Checksum mismatch on payload data.")
        v = {"name": f"{request.parent}/versions/{len(versions) + 1}", "state": sm.SecretVersion.State.ENABLED,
             "data": data}
        versions.append(v)
        return self._as_version(v)

    def _access_secret_version(self, request: Any, context: grpc.ServicerContext) -> Any:
        import google_crc32c
        from google.cloud import secretmanager_v1 as sm

        v = self._version(request.name, context)
        if v["state"] != sm.SecretVersion.State.ENABLED:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{v['name']} is in DISABLED state.")
        return sm.AccessSecretVersionResponse(
            name=v["name"], payload=sm.SecretPayload(data=v["data"], data_crc32c=google_crc32c.value(v["data"]))
        )

    def _list_secret_versions(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.cloud import secretmanager_v1 as sm

        versions = self._secret(request.parent, context)
        states = {"": None, "state:ENABLED": sm.SecretVersion.State.ENABLED,
                  "state:DISABLED": sm.SecretVersion.State.DISABLED}
        if request.filter not in states:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"fake: unsupported filter {request.filter!r}")
        wanted = states[request.filter]
        found = [self._as_version(v) for v in reversed(versions) if wanted is None or v["state"] == wanted]
        return sm.ListSecretVersionsResponse(versions=found, total_size=len(found))

    def _disable_secret_version(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.cloud import secretmanager_v1 as sm

        if request.name.endswith("/latest"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "disable needs a version number, not 'latest'")
        v = self._version(request.name, context)
        v["state"] = sm.SecretVersion.State.DISABLED
        return self._as_version(v)

    def _delete_secret(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.protobuf import empty_pb2

        self._secret(request.name, context)
        del self.secrets[request.name]
        return empty_pb2.Empty()
