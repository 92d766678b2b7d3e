"""A local stand-in for Anthropic's Messages API, for the real SDK to talk to offline.

``POST /v1/messages`` speaks the wire format: a request with ``model``, ``max_tokens``, ``system``
(string or text blocks, ``cache_control`` honoured), ``messages`` with text / ``tool_use`` /
``tool_result`` content blocks, ``tools`` and ``tool_choice``; a response ``{id, type: "message",
role: "assistant", model, content[], stop_reason, stop_sequence, usage}``; errors as
``{"type": "error", "error": {"type", "message"}}`` with 400 / 401 / 429 (``rate_limit_error``) / 500 /
529 (``overloaded_error``), with a ``retry-after`` header on 429 and 529 when the fault says so.

Its "model" is the product's deterministic narrator:

* a forced ``write_weekly_summary`` / ``write_alert_explanation`` call is answered from the JSON
  between ``<data>`` tags of the user turn (:mod:`tower.ai.narrator`);
* a Q&A turn (tools offered, none forced) plans the question with the deterministic planner and
  calls that named query as a ``tool_use``; once the ``tool_result`` comes back it answers in text
  from the rows. A question starting ``SQL:`` makes it call ``run_select`` with the rest (tests
  drive model-written SQL this way), and a tool result containing "ignore previous instructions …
  SQL: …" makes it fall for the injection and call ``run_select`` with that SQL — a deliberately
  gullible model, so tests prove the guard holds even when the model does not.

Faults are queued (:meth:`AnthropicSandbox.push_fault`, or ``POST /_sandbox/faults``) and consumed one
per request: ``rate_limit`` (429), ``overloaded`` (529), ``server_error`` (500), ``ungrounded`` (the
reply's first money figure is replaced by $987,654: a planted wrong number), ``no_tool`` (text where
a tool call was forced).

Usage is counted with the documented tokenizer stand-in (:mod:`tower.ai.tokens`). Prompt caching is
simulated: the first request with a given ``cache_control`` prefix (tools + system) reports it as
``cache_creation_input_tokens``, later ones as ``cache_read_input_tokens`` (the real API also needs
the prefix to be above a minimum length; the sandbox does not, so caching is visible in tests).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections import deque
from datetime import date
from typing import Any, Self

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tower.ai import narrator
from tower.ai.tokens import compact_json, count_tokens

WRONG_NUMBER = "$987,654"
_DATA = re.compile(r"<data>\s*(.*?)\s*</data>", re.DOTALL)
_MONEY = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?")
_INJECTION = re.compile(
    r"ignore (?:all )?previous instructions.*?SQL:\s*(.+?)(?:\"|$)", re.IGNORECASE | re.DOTALL
)


def _error(status: int, kind: str, message: str, retry_after: float | None = None) -> Response:
    resp = Response(
        json.dumps({"type": "error", "error": {"type": kind, "message": message}}),
        status=status,
        mimetype="application/json",
    )
    if retry_after is not None:
        resp.headers["retry-after"] = f"{retry_after:g}"
    resp.headers["request-id"] = f"req_sbx_{uuid.uuid4().hex[:12]}"
    return resp


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(
        b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"
    )


def _data_of(messages: list[dict[str, Any]]) -> Any:
    for m in messages:
        if m.get("role") == "user":
            found = _DATA.search(_text_of(m.get("content")))
            if found:
                return json.loads(found.group(1))
    return None


class AnthropicSandbox:
    """The Messages API on 127.0.0.1 (a werkzeug server on a background thread)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.faults: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self._cached_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._n = 0

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Serve on a background thread; return the base URL."""
        self._server = make_server(self.host, self.port, self.wsgi, threaded=True)
        self.port = self._server.server_port
        # a short poll interval makes stop() quick (tests start and stop one server each)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="anthropic-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push_fault(self, kind: str, *, count: int = 1, retry_after: float | None = None) -> None:
        """Queue a fault for the next ``count`` requests (see the module docstring for the kinds).

        ``retry_after`` sets the ``retry-after`` header of a 429 / 529 (None: no header).
        """
        if kind not in ("rate_limit", "overloaded", "server_error", "ungrounded", "no_tool"):
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            for _ in range(count):
                self.faults.append({"kind": kind, "retry_after": retry_after})

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self._cached_prefixes.clear()

    # -- HTTP ----------------------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._route(request)
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        if request.path == "/_sandbox/faults" and request.method == "POST":
            body = request.get_json(silent=True) or {}
            try:
                self.push_fault(
                    str(body.get("kind")),
                    count=int(body.get("count", 1)),
                    retry_after=body.get("retry_after"),
                )
            except ValueError as e:
                return _error(400, "invalid_request_error", str(e))
            return Response(json.dumps({"queued": len(self.faults)}), mimetype="application/json")
        if request.path == "/_sandbox/requests" and request.method == "GET":
            return Response(json.dumps(self.requests), mimetype="application/json")
        if request.path == "/_sandbox/reset" and request.method == "POST":
            self.reset()
            return Response("{}", mimetype="application/json")
        if request.path != "/v1/messages":
            return _error(404, "not_found_error", f"no route {request.path}")
        if request.method != "POST":
            return _error(405, "invalid_request_error", "use POST")
        if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
            return _error(401, "authentication_error", "x-api-key header is required")
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            return _error(400, "invalid_request_error", "the body is not JSON")
        problem = self._validate(body)
        if problem:
            return _error(400, "invalid_request_error", problem)
        with self._lock:
            self.requests.append(body)
            fault = self.faults.popleft() if self.faults else None
        if fault and fault["kind"] == "rate_limit":
            return _error(
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your rate limit.",
                fault["retry_after"],
            )
        if fault and fault["kind"] == "overloaded":
            return _error(529, "overloaded_error", "Overloaded", fault["retry_after"])
        if fault and fault["kind"] == "server_error":
            return _error(500, "api_error", "Internal server error")
        try:
            content, stop_reason = self._reply(body, fault["kind"] if fault else None)
        except (ValueError, KeyError, TypeError) as e:
            return _error(400, "invalid_request_error", f"the sandbox cannot answer this request: {e}")
        if (
            fault
            and fault["kind"] in ("ungrounded", "no_tool")
            and stop_reason == "tool_use"
            and not (body.get("tool_choice") or {}).get("name")
        ):
            # a Q&A tool call carries no text to spoil: the fault waits for the answer
            with self._lock:
                self.faults.appendleft(fault)
        with self._lock:
            self._n += 1
            n = self._n
        return Response(
            json.dumps(
                {
                    "id": f"msg_sbx_{n:06d}",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": content,
                    "stop_reason": stop_reason,
                    "stop_sequence": None,
                    "usage": self._usage(body, content),
                }
            ),
            mimetype="application/json",
            headers={"request-id": f"req_sbx_{n:06d}"},
        )

    @staticmethod
    def _validate(body: Any) -> str | None:
        if not isinstance(body, dict):
            return "the body must be a JSON object"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "model: field required"
        if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
            return "max_tokens: field required (a positive integer)"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        if messages[0].get("role") != "user":
            return "messages: the first message must use the user role"
        return None

    # -- tokens --------------------------------------------------------------------------------
    def _usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
        system = body.get("system") or ""
        blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
        tools_text = compact_json(body.get("tools") or [])
        total = (
            count_tokens(tools_text)
            + sum(count_tokens(b.get("text", "")) for b in blocks)
            + count_tokens(compact_json(body["messages"]))
        )
        cache_write = cache_read = 0
        marked = [i for i, b in enumerate(blocks) if b.get("cache_control")]
        if marked:
            prefix_blocks = blocks[: marked[-1] + 1]
            prefix_tokens = count_tokens(tools_text) + sum(
                count_tokens(b.get("text", "")) for b in prefix_blocks
            )
            key = hashlib.sha256(
                (body["model"] + tools_text + compact_json(prefix_blocks)).encode()
            ).hexdigest()
            with self._lock:
                if key in self._cached_prefixes:
                    cache_read = prefix_tokens
                else:
                    self._cached_prefixes.add(key)
                    cache_write = prefix_tokens
        return {
            "input_tokens": total - cache_write - cache_read,
            "output_tokens": count_tokens(compact_json(content)),
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
        }

    # -- the "model" ---------------------------------------------------------------------------
    def _reply(self, body: dict[str, Any], fault: str | None) -> tuple[list[dict[str, Any]], str]:
        messages = body["messages"]
        choice = body.get("tool_choice") or {}
        forced = choice.get("name") if choice.get("type") == "tool" else None
        if forced:
            data = _data_of(messages)
            if data is None:
                raise ValueError("no <data> block in the user turn")
            if forced == "write_weekly_summary":
                value: dict[str, Any] = narrator.weekly_summary(data)
                if fault == "ungrounded":
                    value["summary"] = self._plant(value["summary"])
            elif forced == "write_alert_explanation":
                text = narrator.explain_alert(data)
                value = {"explanation": self._plant(text) if fault == "ungrounded" else text}
            else:
                raise ValueError(f"the sandbox does not know the tool {forced}")
            if fault == "no_tool":
                return [{"type": "text", "text": "I would rather not use the tool."}], "end_turn"
            return [
                {
                    "type": "tool_use",
                    "id": f"toolu_sbx_{uuid.uuid4().hex[:16]}",
                    "name": forced,
                    "input": value,
                }
            ], "tool_use"
        if body.get("tools"):
            return self._qa(messages, fault)
        return [{"type": "text", "text": "The sandbox answers only tool-based requests."}], "end_turn"

    @staticmethod
    def _plant(text: str) -> str:
        """Replace the first money figure with a number no data holds."""
        if _MONEY.search(text):
            return _MONEY.sub(WRONG_NUMBER, text, count=1)
        return text + f" That is worth {WRONG_NUMBER}."

    def _qa(self, messages: list[dict[str, Any]], fault: str | None) -> tuple[list[dict[str, Any]], str]:
        from tower.ai.qa import plan_question

        data = _data_of(messages) or {}
        last = messages[-1]
        content = last.get("content")
        results = (
            [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
            if isinstance(content, list)
            else []
        )
        if not results:
            text = _text_of(content)
            question = text.split("Question:", 1)[-1].strip() if "Question:" in text else text.strip()
            if "failed the number check" in text:
                return self._answer_from_history(messages, data, fault)
            if question.upper().startswith("SQL:"):
                return [self._tool_use("run_select", {"sql": question[4:].strip()})], "tool_use"
            plan = plan_question(question, date.fromisoformat(data.get("today") or date.today().isoformat()))
            if plan is None:
                return [{"type": "text", "text": narrator.CANNOT_ANSWER}], "end_turn"
            return [self._tool_use(plan.query, plan.params)], "tool_use"
        for r in results:
            found = _INJECTION.search(
                _text_of(r.get("content")) if isinstance(r.get("content"), list) else str(r.get("content"))
            )
            if found:
                sql = found.group(1).replace('\\"', '"').strip()
                return [self._tool_use("run_select", {"sql": sql})], "tool_use"
        return self._answer_from_history(messages, data, fault)

    def _answer_from_history(
        self, messages: list[dict[str, Any]], data: dict[str, Any], fault: str | None
    ) -> tuple[list[dict[str, Any]], str]:
        from tower.ai.qa import compose_answer

        calls: dict[str, dict[str, Any]] = {}
        for m in messages:
            if m.get("role") == "assistant" and isinstance(m.get("content"), list):
                for b in m["content"]:
                    if b.get("type") == "tool_use":
                        calls[b["id"]] = b
        answers = []
        for m in messages:
            if m.get("role") != "user" or not isinstance(m.get("content"), list):
                continue
            for b in m["content"]:
                if b.get("type") != "tool_result" or b.get("tool_use_id") not in calls:
                    continue
                call = calls[b["tool_use_id"]]
                raw = b.get("content")
                raw = _text_of(raw) if isinstance(raw, list) else str(raw or "")
                if b.get("is_error"):
                    answers.append(f"I could not get that data: {raw}")
                    continue
                rows = json.loads(raw).get("rows", [])
                answers.append(
                    compose_answer(
                        call["name"], call.get("input") or {}, rows, str(data.get("currency") or "USD")
                    )
                )
        text = "\n\n".join(answers[-1:]) if answers else narrator.CANNOT_ANSWER
        if fault == "ungrounded":
            text = self._plant(text)
        return [{"type": "text", "text": text}], "end_turn"

    @staticmethod
    def _tool_use(name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "tool_use",
            "id": f"toolu_sbx_{uuid.uuid4().hex[:16]}",
            "name": name,
            "input": tool_input,
        }
