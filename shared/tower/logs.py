"""The product's one logging set-up: Cloud Logging structured JSON lines, or plain lines for people.

Writing a line is the standard library's, everywhere::

    log = logging.getLogger(__name__)
    log.info("shopify sync done", extra={"brand_id": brand_id, "platform": "shopify", "rows": n})

a plain message plus fields; never a JSON string built by hand.

What :func:`configure_logging` writes on stderr, one JSON object a line, which the Cloud Run /
Cloud Functions logging agent reads as a structured entry (https://cloud.google.com/logging/docs/structured-logging):

* ``message`` (masked) and ``severity`` (the record's level: DEBUG, INFO, WARNING, ERROR, CRITICAL);
* every field of the record's ``extra={...}`` (``brand_id``, ``platform``, ``rows`` ...), under its own name;
* ``logger``, ``logging.googleapis.com/sourceLocation`` (file, line, function);
* ``logging.googleapis.com/trace`` (``projects/<GOOGLE_CLOUD_PROJECT>/traces/<id>``), ``.../spanId`` and
  ``.../trace_sampled`` when the line is written while a request is served: from the trace bound with
  :func:`traced` / :func:`bind_trace` (the API binds each request's), else from the
  ``X-Cloud-Trace-Context`` (or W3C ``traceparent``) header of the Flask request being handled, which
  covers every HTTP, task and Pub/Sub push function: Cloud Logging then groups a request's lines;
* ``stack_trace`` for an exception (Error Reporting reads it), masked, causes included;
* ``run_id``, also as the entry's label (``logging.googleapis.com/labels``, which Cloud Logging indexes),
  when the line is written within :func:`run_scope`: one hourly round keeps one run id from the
  scheduler's call through every sync task, ``tower-sync-completed``, the model build,
  ``tower-models-built`` and the decisions (tasks carry it in their payload, events in their
  attributes, :func:`run_fields`), so ``labels.run_id="…"`` in the Logs Explorer follows it end to end.

With ``human=True`` (the ``tower`` console script) the same records are plain lines,
``WARNING tower.sync: shopify sync failed  brand_id=b1 platform=shopify``, masked too.

Why the standard library and this formatter rather than google-cloud-logging's
``StructuredLogHandler`` or structlog: neither is in the lock, and both would only add weight to every
function's cold start for a documented JSON shape a formatter writes in a few lines. The handler would
also have to be wrapped anyway, because every line must pass through :mod:`tower.redact` *after* it is
rendered (a secret can hide in an extra field, an exception's text or a library's message), and the
libraries we run under (functions-framework, werkzeug, the Google clients) log through the standard
library, which structlog would need a bridge for.

Secrets: a log-record factory masks every record when it is made (so handlers this module does not
own, a host's or pytest's, never see a secret), the handler's filter masks the extra fields, and the
finished line is masked once more.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, TypeAlias

from tower.redact import redact, redact_data, sanitized

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import Headers

HeaderSource: TypeAlias = "Mapping[str, str] | Headers"
"""A request's headers: a plain mapping or the Flask (werkzeug) request's ``headers``."""

TRACE_HEADER = "X-Cloud-Trace-Context"
"""Google's front end sets it on every request: ``TRACE_ID/SPAN_ID;o=OPTIONS`` (span id in decimal)."""

TRACEPARENT_HEADER = "traceparent"
"""The W3C header, ``00-TRACE_ID-SPAN_ID-FLAGS``, read when Google's own is absent."""

TRACE_FIELD = "logging.googleapis.com/trace"
SPAN_FIELD = "logging.googleapis.com/spanId"
SAMPLED_FIELD = "logging.googleapis.com/trace_sampled"
SOURCE_FIELD = "logging.googleapis.com/sourceLocation"
LABELS_FIELD = "logging.googleapis.com/labels"
RUN_ID = "run_id"
"""The log field, task payload key and event attribute that carry a run's id."""

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_TRACE_ATTR = "_tower_trace"
_RUN_ATTR = "_tower_run"
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=([01]))?$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_ZERO_TRACE = "0" * 32


@dataclass(frozen=True)
class Trace:
    """The trace of the request a line is written for.

    Attributes:
        trace_id: 32 hex digits.
        span_id: 16 hex digits, or "" when the header gave none.
        sampled: Whether the caller sampled the trace (None: not said).
    """

    trace_id: str
    span_id: str = ""
    sampled: bool | None = None

    def fields(self, project: str | None = None) -> dict[str, Any]:
        """The Cloud Logging fields of this trace (the trace's resource name needs the project)."""
        project = project if project is not None else _project()
        out: dict[str, Any] = {TRACE_FIELD: f"projects/{project}/traces/{self.trace_id}" if project
                               else self.trace_id}
        if self.span_id:
            out[SPAN_FIELD] = self.span_id
        if self.sampled is not None:
            out[SAMPLED_FIELD] = self.sampled
        return out


def parse_trace(headers: HeaderSource | None) -> Trace | None:
    """The trace named by a request's headers, or None.

    Headers come from whoever calls a public endpoint, so anything but the documented shapes (a
    32-hex trace id, a decimal or 16-hex span id) is ignored rather than copied into the logs.
    """
    if not headers:
        return None
    cloud = (headers.get(TRACE_HEADER) or "").strip()
    match = _CLOUD_TRACE.match(cloud)
    if match and match.group(1) != _ZERO_TRACE:
        span = f"{int(match.group(2)):016x}" if match.group(2) and int(match.group(2)) < 2**64 else ""
        sampled = None if match.group(3) is None else match.group(3) == "1"
        return Trace(match.group(1).lower(), span, sampled)
    match = _TRACEPARENT.match((headers.get(TRACEPARENT_HEADER) or "").strip())
    if match and match.group(1) != _ZERO_TRACE:
        return Trace(match.group(1), match.group(2), bool(int(match.group(3), 16) & 1))
    return None


_bound: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("tower_trace", default=None)


def bind_trace(headers: HeaderSource | None) -> contextvars.Token[Trace | None]:
    """Make the trace of ``headers`` the one this context's lines carry; pass the token to :func:`reset_trace`."""
    return _bound.set(parse_trace(headers))


def reset_trace(token: contextvars.Token[Trace | None]) -> None:
    """Undo a :func:`bind_trace`."""
    _bound.reset(token)


@contextmanager
def traced(headers: HeaderSource | None) -> Iterator[Trace | None]:
    """Within the block, lines carry the trace of ``headers``."""
    token = bind_trace(headers)
    try:
        yield _bound.get()
    finally:
        reset_trace(token)


def current_trace() -> Trace | None:
    """The bound trace, else the one of the Flask request being handled (None outside a request)."""
    bound = _bound.get()
    if bound is not None:
        return bound
    # Only if Flask is already loaded: a process that serves no request pays nothing for this.
    flask = sys.modules.get("flask")
    if flask is None:
        return None
    try:
        if not flask.has_request_context():
            return None
        return parse_trace(flask.request.headers)
    except Exception:  # noqa: BLE001 - a log line never fails because a request looked odd
        return None


_run: contextvars.ContextVar[str | None] = contextvars.ContextVar("tower_run", default=None)


def new_run_id() -> str:
    """A fresh run id: the UTC hour it started and 8 random hex digits (``run-2026120604-1a2b3c4d``)."""
    return f"run-{datetime.now(UTC):%Y%m%d%H}-{uuid.uuid4().hex[:8]}"


def current_run() -> str | None:
    """The run id lines written here carry (None outside :func:`run_scope`)."""
    return _run.get()


@contextmanager
def run_scope(run_id: str | None = None) -> Iterator[str]:
    """Within the block, lines carry ``run_id`` (a new one when it is None, empty or not an id: what a
    task or event says is copied into the logs only when it looks like one)."""
    run = run_id if isinstance(run_id, str) and _RUN_ID.match(run_id) else new_run_id()
    token = _run.set(run)
    try:
        yield run
    finally:
        _run.reset(token)


def run_fields() -> dict[str, str]:
    """``{"run_id": …}`` for a task's payload or an event's attributes, or ``{}`` outside a run."""
    run = current_run()
    return {RUN_ID: run} if run else {}


def _project() -> str:
    # Google's client libraries read the same variable; Terraform sets it on every function.
    return os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT") or ""


_SEVERITIES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def severity(record: logging.LogRecord) -> str:
    """Cloud Logging's severity for a record's level (its names match the standard library's; a
    custom level takes the name of the standard one below it)."""
    if record.levelname in _SEVERITIES:
        return record.levelname
    level = record.levelno if isinstance(record.levelno, int) else logging.NOTSET
    for name in reversed(_SEVERITIES):
        if level >= logging.getLevelNamesMapping()[name]:
            return name
    return "DEFAULT"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record was given with ``extra={...}``, in the order given."""
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a log record in place: its message (args merged in), exception, stack and extra fields."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string: leave it for the handler to report
        return record
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        if not record.exc_text:
            # The whole chain, masked: a log keeps the diagnosis, not the token in the cause's URL.
            record.exc_text = "".join(traceback.format_exception(exc)).rstrip("\n")
        clean = sanitized(exc)
        record.exc_info = (type(clean), clean, clean.__traceback__)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    for name, value in extra_fields(record).items():
        if isinstance(value, (str, Mapping, list, tuple)):
            setattr(record, name, redact_data(value))
    return record


class RedactingFilter(logging.Filter):
    """A handler filter that masks every record passing through it (see :func:`scrub`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


class JsonLineFormatter(logging.Formatter):
    """One Cloud Logging structured entry a line (see the module's docstring for its fields).

    A message that is itself a JSON object (a library's, or a line written before the extra-fields
    convention) is merged in rather than nested as a string; the record's own fields win over it.
    """

    def format(self, record: logging.LogRecord) -> str:
        scrub(record)
        message = record.getMessage()
        payload: dict[str, Any] = {"message": message, "severity": severity(record)}
        if message.startswith("{"):
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                payload = {**parsed, "severity": parsed.get("severity") or severity(record)}
        for name, value in extra_fields(record).items():
            payload.setdefault(name, value)
        payload.setdefault("logger", record.name)
        payload[SOURCE_FIELD] = {"file": record.pathname, "line": str(record.lineno), "function": record.funcName}
        trace = getattr(record, _TRACE_ATTR, None) or current_trace()
        if trace is not None:
            payload.update(trace.fields())
        run = getattr(record, _RUN_ATTR, None) or current_run()
        if run:
            payload.setdefault(RUN_ID, run)
            labels = payload.get(LABELS_FIELD)
            payload[LABELS_FIELD] = {**(labels if isinstance(labels, dict) else {}), RUN_ID: run}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["stack_trace"] = record.exc_text
        if record.stack_info:
            payload["stack_info"] = record.stack_info
        return redact(json.dumps(payload, default=str, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """``LEVEL logger: message  key=value ...`` for a person at a terminal, traceback below, masked."""

    def format(self, record: logging.LogRecord) -> str:
        scrub(record)
        fields = "  ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        line = f"{record.levelname} {record.name}: {record.getMessage()}" + (f"  {fields}" if fields else "")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return redact(line)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a test's capture, the CLI runner's stream)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass  # always the current sys.stderr


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "tower_logs", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = scrub(previous(*args, **kwargs))
        # The trace is taken when the line is made, in the request's own context, in case a handler
        # formats it later elsewhere.
        trace = current_trace()
        if trace is not None:
            setattr(record, _TRACE_ATTR, trace)
        run = current_run()
        if run:
            setattr(record, _RUN_ATTR, run)
        return record

    factory.tower_logs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: int | str = logging.INFO, *, force: bool = False,
                      human: bool = False) -> logging.Handler | None:
    """Send the root logger to stderr, masked, once per process; return that handler.

    Args:
        level: The root logger's level.
        force: Add the handler even when the root logger has handlers already (tests).
        human: Plain lines for a person (the ``tower`` command) instead of Cloud Logging JSON.

    Always installs the log-record factory that masks every record as it is made, so handlers this
    does not own (a host's, pytest's ``caplog``) never see a secret either. Like
    ``logging.basicConfig``, it adds no handler (and returns None) when the root logger has handlers
    already, unless ``force``.
    """
    _install_record_factory()
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, StderrHandler):
            return handler
    if root.handlers and not force:
        return None
    handler = StderrHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(PlainFormatter() if human else JsonLineFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
