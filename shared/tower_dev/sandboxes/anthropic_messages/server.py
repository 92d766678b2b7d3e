"""A local stand-in for Anthropic's Messages API, for the real ``anthropic`` SDK to talk to offline.

The wire format follows Anthropic's API reference:

* ``POST /v1/messages`` takes ``model``, ``max_tokens``, ``system`` (a string or text blocks),
  ``messages`` (text / ``tool_use`` / ``tool_result`` blocks), ``tools``, ``tool_choice`` (``auto`` |
  ``any`` | ``tool`` | ``none``), ``stop_sequences``; it needs an ``x-api-key`` (or bearer) header and
  ``anthropic-version``. It answers ``{id, type: "message", role: "assistant", model, content[],
  stop_reason, stop_sequence, usage}``, ``usage`` holding ``input_tokens``, ``output_tokens``,
  ``cache_creation_input_tokens``, ``cache_read_input_tokens``, the ``cache_creation`` split by TTL and
  ``service_tier``. ``POST /v1/messages/count_tokens`` answers ``{input_tokens}``.
* Requests are checked as the API checks them: every ``tool_use`` must be answered by a ``tool_result``
  in the next user message and every ``tool_result`` must answer one; a forced tool must be offered; at
  most 4 ``cache_control`` breakpoints. Problems are 400s.
* Errors use Anthropic's envelope ``{"type": "error", "error": {"type", "message"}, "request_id"}`` with
  a ``request-id`` header: 400 ``invalid_request_error``, 401 ``authentication_error``, 404
  ``not_found_error``, 429 ``rate_limit_error``, 500 ``api_error``, 529 ``overloaded_error``; 429 and 529
  carry ``retry-after`` when the fault says so.

Its "model" is :mod:`.scripted`: rules of its own, never the product's code.

Scripted steps are queued and consumed one per ``/v1/messages`` request, in order:

* faults (:meth:`AnthropicSandbox.push_fault` or ``POST /_sandbox/faults``): ``rate_limit`` (429),
  ``overloaded`` (529), ``server_error`` (500), ``ungrounded`` (the reply's first money figure becomes
  :data:`~.scripted.WRONG_NUMBER`; on a Q&A tool call the fault waits for the text answer), ``no_tool``
  (text where a tool call was due);
* canned replies (:meth:`AnthropicSandbox.push_reply` or ``POST /_sandbox/replies``): content blocks
  returned as they are, with the usage counted as for any reply.

Tokens are counted by a rule of thumb (about four characters a token, the figure Anthropic's docs give
for English), not by Anthropic's tokenizer. Prompt caching is simulated: the prefix (tools, then
system, then messages) up to each ``cache_control`` block is remembered; a request whose prefix was seen
reports it as ``cache_read_input_tokens``, the rest up to its last breakpoint as
``cache_creation_input_tokens``. The real API caches only prefixes above a model's minimum length;
``min_cacheable_tokens`` (default 0) imitates that, 0 so tests see caching on short prompts.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Self

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tower_dev.sandboxes.anthropic_messages import scripted
from tower_dev.sandboxes.anthropic_messages.scripted import WRONG_NUMBER

FAULTS = ("rate_limit", "overloaded", "server_error", "ungrounded", "no_tool")
STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal")
MAX_CACHE_BREAKPOINTS = 4
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_OTHER_BLOCKS = ("image", "document", "thinking", "redacted_thinking")  # valid, read by nobody here

__all__ = ["FAULTS", "WRONG_NUMBER", "AnthropicSandbox", "ApiProblem", "count_tokens"]


def count_tokens(text: str) -> int:
    """Tokens of a text by the rule of thumb of about four characters a token."""
    return (len(text) + 3) // 4


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class ApiProblem(Exception):
    """A request the API refuses: HTTP status, Anthropic error type and message."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _bad(message: str) -> ApiProblem:
    return ApiProblem(400, "invalid_request_error", message)


@dataclass
class _Step:
    """One queued step: a fault, or a canned reply."""

    kind: str
    retry_after: float | None = None
    content: list[dict[str, Any]] | None = None
    stop_reason: str | None = None


# --- request checks ---------------------------------------------------------------------------------


def _check_top(body: Any, *, needs_max_tokens: bool = True) -> None:
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise _bad("model: Field required")
    if not body["model"].startswith("claude-"):
        raise ApiProblem(404, "not_found_error", f"model: {body['model']}")
    if needs_max_tokens and (isinstance(body.get("max_tokens"), bool) or not isinstance(body.get("max_tokens"), int)
                             or body["max_tokens"] < 1):
        raise _bad("max_tokens: Field required (a positive integer)")
    if body.get("stream"):
        raise _bad("stream: the sandbox answers non-streaming requests only")
    system = body.get("system")
    if system is not None and not isinstance(system, str) and not (
            isinstance(system, list) and all(isinstance(b, dict) and b.get("type") == "text"
                                             and isinstance(b.get("text"), str) for b in system)):
        raise _bad("system: must be a string or a list of text blocks")
    stops = body.get("stop_sequences")
    if stops is not None and not (isinstance(stops, list) and all(isinstance(s, str) and s for s in stops)):
        raise _bad("stop_sequences: must be a list of non-empty strings")


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad("tools: must be a list")
        names = []
        for i, t in enumerate(tools):
            if not isinstance(t, dict) or t.get("type", "custom") != "custom":
                raise _bad(f"tools.{i}: the sandbox offers client tools only")
            if not isinstance(t.get("name"), str) or not _TOOL_NAME.match(t["name"]):
                raise _bad(f"tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
            schema = t.get("input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise _bad(f"tools.{i}.input_schema: an object schema is required")
            names.append(t["name"])
        if len(set(names)) != len(names):
            raise _bad("tools: Tool names must be unique.")
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise _bad("tool_choice.type: must be one of 'auto', 'any', 'tool', 'none'")
    if choice["type"] in ("any", "tool") and not tools:
        raise _bad("tool_choice may only be specified while providing tools.")
    if choice["type"] == "tool" and choice.get("name") not in {t["name"] for t in tools or []}:
        raise _bad(f"tool_choice.name: no tool named {choice.get('name')!r} in tools")


def _check_block(where: str, role: str, block: Any) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        raise _bad(f"{where}.type: Field required")
    kind = block["type"]
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise _bad(f"{where}.text: Field required")
    elif kind == "tool_use":
        if role != "assistant":
            raise _bad(f"{where}: tool_use blocks belong to assistant messages")
        if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str) \
                or not isinstance(block.get("input"), dict):
            raise _bad(f"{where}: a tool_use block needs id, name and an input object")
    elif kind == "tool_result":
        if role != "user":
            raise _bad(f"{where}: tool_result blocks belong to user messages")
        if not isinstance(block.get("tool_use_id"), str):
            raise _bad(f"{where}.tool_use_id: Field required")
    elif kind not in _OTHER_BLOCKS:
        raise _bad(f"{where}.type: unknown content block type {kind!r}")


def _check_pairs(messages: list[dict[str, Any]]) -> None:
    """Each tool_use answered in the next user message; each tool_result answering the one before."""
    for i, m in enumerate(messages):
        raw = m.get("content")
        content: list[dict[str, Any]] = raw if isinstance(raw, list) else []
        results = {b["tool_use_id"] for b in content if b.get("type") == "tool_result"}
        before = messages[i - 1].get("content") if i else None
        asked = {b["id"] for b in before if b.get("type") == "tool_use"} if isinstance(before, list) else set()
        if results - asked:
            raise _bad(f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                       f"{', '.join(sorted(results - asked))}. Each `tool_result` block must have a "
                       "corresponding `tool_use` block in the previous message.")
        if m.get("role") == "assistant" and i + 1 < len(messages):
            calls = {b["id"] for b in content if b.get("type") == "tool_use"}
            after = messages[i + 1].get("content")
            answered = {b["tool_use_id"] for b in after if b.get("type") == "tool_result"} \
                if isinstance(after, list) else set()
            if calls - answered:
                raise _bad(f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                           f"after: {', '.join(sorted(calls - answered))}. Each `tool_use` block must have a "
                           "corresponding `tool_result` block in the next message.")


def _check_messages(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages: at least one message is required")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise _bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = m.get("content")
        if isinstance(content, str):
            if not content.strip() and not (m["role"] == "assistant" and i == len(messages) - 1):
                raise _bad(f"messages.{i}: text content blocks must be non-empty")
        elif isinstance(content, list):
            for j, b in enumerate(content):
                _check_block(f"messages.{i}.content.{j}", m["role"], b)
        else:
            raise _bad(f"messages.{i}.content: must be a string or a list of content blocks")
    if messages[0]["role"] != "user":
        raise _bad("messages: the first message must use the user role")
    _check_pairs(messages)


def _segments(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The prompt in cache order (tools, system, messages) as (text, breakpoint TTL or None) pieces."""
    out: list[tuple[str, str | None]] = []

    def add(block: Any) -> None:
        marker = block.get("cache_control") if isinstance(block, dict) else None
        plain = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        ttl = None
        if marker is not None:
            if not isinstance(marker, dict) or marker.get("type") != "ephemeral" \
                    or marker.get("ttl", "5m") not in ("5m", "1h"):
                raise _bad("cache_control: must be {'type': 'ephemeral'} with an optional ttl of '5m' or '1h'")
            ttl = str(marker.get("ttl", "5m"))
        out.append((_compact(plain) if not isinstance(plain, str) else plain, ttl))

    for tool in body.get("tools") or []:
        add(tool)
    system = body.get("system")
    for block in [system] if isinstance(system, str) else system or []:
        add(block)
    for m in body["messages"]:
        content = m["content"]
        for block in [content] if isinstance(content, str) else content:
            add(block)
    marked = sum(1 for _, ttl in out if ttl)
    if marked > MAX_CACHE_BREAKPOINTS:
        raise _bad(f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
                   f"Found {marked}.")
    return out


# --- the server -------------------------------------------------------------------------------------


class AnthropicSandbox:
    """The Messages API on 127.0.0.1 (a werkzeug server on a background thread), answered by scripted rules."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, min_cacheable_tokens: int = 0) -> None:
        """Prepare the server (``start`` or ``with`` runs it).

        Args:
            host: Interface to bind.
            port: Port; 0 picks a free one.
            min_cacheable_tokens: Prefixes shorter than this are never cached (the real API's minimum).
        """
        self.host = host
        self.port = port
        self.min_cacheable_tokens = min_cacheable_tokens
        self.steps: deque[_Step] = deque()
        self.requests: list[dict[str, Any]] = []
        self._cached: set[str] = set()
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._n = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL (what ``TOWER_ANTHROPIC_BASE_URL`` is set to)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Serve on a background thread; return the base URL."""
        self._server = make_server(self.host, self.port, self.wsgi, threaded=True)
        self.port = self._server.server_port
        # a short poll interval makes stop() quick (tests start and stop one server each)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="anthropic-sandbox", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------------
    @property
    def faults(self) -> list[str]:
        """The kinds of the queued faults, in order."""
        return [s.kind for s in self.steps if s.kind in FAULTS]

    def push_fault(self, kind: str, *, count: int = 1, retry_after: float | None = None) -> None:
        """Queue a fault for the next ``count`` requests (kinds in the module docstring).

        ``retry_after`` sets the ``retry-after`` header of a 429 / 529 (None: no header).

        Raises:
            ValueError: An unknown kind.
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULTS)}")
        with self._lock:
            self.steps.extend(_Step(kind, retry_after=retry_after) for _ in range(count))

    def push_reply(self, content: str | list[dict[str, Any]], *, stop_reason: str | None = None,
                   count: int = 1) -> None:
        """Queue a canned reply for the next ``count`` requests.

        Args:
            content: Text, or content blocks (``text`` and ``tool_use``; a ``tool_use`` without an id gets one).
            stop_reason: Default ``tool_use`` when a block is a tool call, else ``end_turn``.
            count: How many requests get it.

        Raises:
            ValueError: Blocks of another type, or an unknown stop reason.
        """
        blocks: list[dict[str, Any]] = (
            [{"type": "text", "text": content}] if isinstance(content, str) else [dict(b) for b in content])
        for b in blocks:
            if b.get("type") == "tool_use":
                if not isinstance(b.get("name"), str):
                    raise ValueError("a canned tool_use block needs a name")
                b.setdefault("id", self._tool_id())
                b.setdefault("input", {})
            elif b.get("type") != "text" or not isinstance(b.get("text"), str):
                raise ValueError(f"canned replies hold text and tool_use blocks, not {b.get('type')!r}")
        stop = stop_reason or ("tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn")
        if stop not in STOP_REASONS:
            raise ValueError(f"unknown stop_reason {stop!r}")
        with self._lock:
            self.steps.extend(_Step("reply", content=blocks, stop_reason=stop) for _ in range(count))

    def reset(self) -> None:
        """Forget queued steps, recorded requests and the prompt cache."""
        with self._lock:
            self.steps.clear()
            self.requests.clear()
            self._cached.clear()

    # -- HTTP --------------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The WSGI application."""
        request = Request(environ)
        try:
            response = self._route(request)
        except ApiProblem as p:
            response = self._error(p.status, p.kind, p.message)
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        if request.path not in ("/v1/messages", "/v1/messages/count_tokens"):
            raise ApiProblem(404, "not_found_error", f"Not Found: {request.path}")
        if request.method != "POST":
            raise ApiProblem(405, "invalid_request_error", f"Method Not Allowed: use POST on {request.path}")
        if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
            raise ApiProblem(401, "authentication_error", "x-api-key header is required")
        if not request.headers.get("anthropic-version"):
            raise _bad("anthropic-version: header is required")
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise _bad("the body is not valid JSON") from None
        counting = request.path.endswith("/count_tokens")
        _check_top(body, needs_max_tokens=not counting)
        _check_tools(body)
        _check_messages(body)
        segments = _segments(body)
        if counting:
            return self._json({"input_tokens": sum(count_tokens(t) for t, _ in segments)})
        return self._message(body, segments)

    def _control(self, request: Request) -> Response:
        """The test hooks: queue faults or replies, read the requests, reset."""
        body = request.get_json(silent=True) or {}
        try:
            if request.path == "/_sandbox/faults" and request.method == "POST":
                self.push_fault(str(body.get("kind")), count=int(body.get("count", 1)),
                                retry_after=body.get("retry_after"))
                return self._json({"queued": len(self.steps)})
            if request.path == "/_sandbox/replies" and request.method == "POST":
                self.push_reply(body.get("content") or "", stop_reason=body.get("stop_reason"),
                                count=int(body.get("count", 1)))
                return self._json({"queued": len(self.steps)})
        except (ValueError, TypeError) as e:
            raise _bad(str(e)) from None
        if request.path == "/_sandbox/requests" and request.method == "GET":
            return self._json(self.requests)
        if request.path == "/_sandbox/reset" and request.method == "POST":
            self.reset()
            return self._json({})
        raise ApiProblem(404, "not_found_error", f"Not Found: {request.method} {request.path}")

    def _message(self, body: dict[str, Any], segments: list[tuple[str, str | None]]) -> Response:
        with self._lock:
            self.requests.append(body)
            step = self.steps.popleft() if self.steps else None
            self._n += 1
            n = self._n
        if step and step.kind == "rate_limit":
            return self._error(429, "rate_limit_error",
                               "Number of request tokens has exceeded your per-minute rate limit.", step.retry_after)
        if step and step.kind == "overloaded":
            return self._error(529, "overloaded_error", "Overloaded", step.retry_after)
        if step and step.kind == "server_error":
            return self._error(500, "api_error", "Internal server error")
        if step and step.kind == "reply":
            content, stop = [dict(b) for b in step.content or []], step.stop_reason or "end_turn"
        else:
            content, stop = scripted.reply(body, self._tool_id)
            if step is not None:
                content, stop = self._spoil(body, step, content, stop)
        content, stop, stop_sequence = self._limit(body, content, stop)
        return self._json({
            "id": f"msg_sbx_{n:06d}", "type": "message", "role": "assistant", "model": body["model"],
            "content": content, "stop_reason": stop, "stop_sequence": stop_sequence,
            "usage": self._usage(body["model"], segments, content),
        }, headers={"request-id": f"req_sbx_{n:06d}"})

    def _spoil(self, body: dict[str, Any], step: _Step, content: list[dict[str, Any]],
               stop: str) -> scripted.Reply:
        """Apply an ``ungrounded`` or ``no_tool`` fault to the scripted reply."""
        forced = (body.get("tool_choice") or {}).get("type") == "tool"
        if step.kind == "no_tool":
            if stop == "tool_use":
                return [{"type": "text", "text": "I would rather not use a tool for this."}], "end_turn"
            return content, stop
        if stop == "tool_use" and not forced:
            # a Q&A tool call carries no figures to spoil: the fault waits for the text answer
            with self._lock:
                self.steps.appendleft(step)
            return content, stop
        spoiled = [dict(b) for b in content]
        for b in spoiled:
            if b.get("type") == "text":
                b["text"] = scripted.plant_wrong_number(b["text"])
                break
            if b.get("type") == "tool_use":
                b["input"] = _plant_in_first_string(b.get("input") or {})
                break
        return spoiled, stop

    def _limit(self, body: dict[str, Any], content: list[dict[str, Any]],
               stop: str) -> tuple[list[dict[str, Any]], str, str | None]:
        """Cut text at a stop sequence, or at ``max_tokens`` (about four characters a token)."""
        for b in content:
            if b.get("type") != "text":
                continue
            hits = [(b["text"].find(s), s) for s in body.get("stop_sequences") or [] if s in b["text"]]
            if hits:
                at, seq = min(hits)
                b["text"] = b["text"][:at]
                return content, "stop_sequence", seq
            if count_tokens(b["text"]) > body["max_tokens"]:
                b["text"] = b["text"][: body["max_tokens"] * 4]
                return content, "max_tokens", None
        return content, stop, None

    def _usage(self, model: str, segments: list[tuple[str, str | None]],
               content: list[dict[str, Any]]) -> dict[str, Any]:
        """Token counts, with the prompt-cache reads and writes of the prefix up to each breakpoint."""
        total = read = written = 0
        key = hashlib.sha256(model.encode())
        breakpoints: list[tuple[str, int, str]] = []  # (prefix key, prefix tokens, ttl)
        for text, ttl in segments:
            total += count_tokens(text)
            key.update(text.encode() + b"\x00")
            if ttl and total >= self.min_cacheable_tokens:
                breakpoints.append((key.hexdigest(), total, ttl))
        by_ttl = {"5m": 0, "1h": 0}
        with self._lock:
            hits = [tokens for k, tokens, _ in breakpoints if k in self._cached]
            read = max(hits, default=0)
            if breakpoints and breakpoints[-1][0] not in self._cached:
                written = breakpoints[-1][1] - read
                by_ttl[breakpoints[-1][2]] = written
            self._cached.update(k for k, _, _ in breakpoints)
        out_text = "".join(_compact(b.get("input")) + str(b.get("name")) if b.get("type") == "tool_use"
                           else str(b.get("text", "")) for b in content)
        return {
            "input_tokens": total - read - written,
            "output_tokens": max(1, count_tokens(out_text)),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": by_ttl["5m"], "ephemeral_1h_input_tokens": by_ttl["1h"]},
            "service_tier": "standard",
        }

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _tool_id() -> str:
        return f"toolu_sbx_{uuid.uuid4().hex[:20]}"

    @staticmethod
    def _json(payload: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(payload), mimetype="application/json", headers=headers)

    @staticmethod
    def _error(status: int, kind: str, message: str, retry_after: float | None = None) -> Response:
        request_id = f"req_sbx_{uuid.uuid4().hex[:16]}"
        resp = Response(json.dumps({"type": "error", "error": {"type": kind, "message": message},
                                    "request_id": request_id}), status=status, mimetype="application/json")
        resp.headers["request-id"] = request_id
        if retry_after is not None:
            resp.headers["retry-after"] = f"{retry_after:g}"
        return resp


def _plant_in_first_string(value: dict[str, Any]) -> dict[str, Any]:
    """A tool input with the wrong number planted in its first text field."""
    out = dict(value)
    for k, v in out.items():
        if isinstance(v, str):
            out[k] = scripted.plant_wrong_number(v)
            return out
    return out
