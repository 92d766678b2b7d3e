"""Slack's wire format on 127.0.0.1: what the notifications send, recorded, and Slack's side of a button click.

What it speaks, as ``slack.com`` and ``hooks.slack.com`` do:

* ``POST /api/chat.postMessage`` (JSON or form body, ``Authorization: Bearer <bot token>``): answers
  ``{"ok": true, "channel", "ts", "message"}``, or HTTP 200 ``{"ok": false, "error"}`` with
  ``not_authed`` / ``invalid_auth`` (token), ``channel_not_found``, ``no_text`` (neither text nor
  blocks), ``invalid_blocks`` (a block over Slack's limits: 50 blocks, 3,000 characters a section
  text, 150 a header, 75 a button's text, 10 fields), ``msg_too_long`` (text over 40,000).
* ``POST /services/T…/B…/…`` (an incoming webhook made by :meth:`SlackSandbox.add_webhook`): ``ok``,
  or 400 ``invalid_payload`` / ``invalid_blocks``, 404 ``no_service`` for an unknown hook.
* ``POST /actions/…`` (a ``response_url`` made by :meth:`SlackSandbox.response_url`): ``{"ok": true}``.

Every accepted message is appended to :attr:`SlackSandbox.messages`. :meth:`SlackSandbox.click` is Slack
pressing a button: it signs a ``block_actions`` payload with the app's signing secret and posts it to
the app's interactivity URL, as Slack does (``v0`` HMAC-SHA256 over ``v0:<timestamp>:<body>``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from werkzeug.wrappers import Request, Response

from tower_dev.sandboxes.ad_sandbox import HttpServerThread

LIMITS = {"blocks": 50, "section": 3000, "header": 150, "button": 75, "fields": 10, "field": 2000, "text": 40000}


def block_problem(blocks: Sequence[Mapping[str, Any]]) -> str | None:
    """Why Slack would refuse these blocks, or None."""
    if len(blocks) > LIMITS["blocks"]:
        return f"{len(blocks)} blocks (at most {LIMITS['blocks']})"
    for i, b in enumerate(blocks):
        kind = b.get("type")
        text = (b.get("text") or {}).get("text", "")
        if kind == "header" and len(text) > LIMITS["header"]:
            return f"block {i}: header over {LIMITS['header']} characters"
        if kind == "section":
            if len(text) > LIMITS["section"]:
                return f"block {i}: section text over {LIMITS['section']} characters"
            fields = b.get("fields") or []
            if len(fields) > LIMITS["fields"] or any(len(f.get("text", "")) > LIMITS["field"] for f in fields):
                return f"block {i}: too many or too long fields"
            if not text and not fields:
                return f"block {i}: a section needs text or fields"
        if kind == "actions":
            for e in b.get("elements") or []:
                if len((e.get("text") or {}).get("text", "")) > LIMITS["button"]:
                    return f"block {i}: button text over {LIMITS['button']} characters"
    return None


def sign(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Slack's ``X-Slack-Signature`` of a request body."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSandbox:
    """The stand-in (see the module docstring): ``origin``, ``api_url``, ``messages``; ``stop()``.

    Args:
        bot_token: The token ``chat.postMessage`` accepts.
        signing_secret: What :meth:`click` signs with (the app's signing secret).
        channels: Channels that exist (None: any channel name exists).
    """

    def __init__(self, *, bot_token: str, signing_secret: str, channels: Sequence[str] | None = None,
                 host: str = "127.0.0.1") -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.channels = set(channels) if channels is not None else None
        self.messages: list[dict[str, Any]] = []
        self._hooks: dict[str, str] = {}
        self._responses: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server = HttpServerThread(self._wsgi, host)

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (also the hooks origin a response_url must be on)."""
        return self._server.origin

    @property
    def api_url(self) -> str:
        """The Web API base URL (``TOWER_NOTIFY_SLACK_API_URL``)."""
        return f"{self.origin}/api/"

    def add_webhook(self, channel: str) -> str:
        """A new incoming-webhook URL that posts to ``channel``."""
        path = f"/services/T0SANDBOX/B{len(self._hooks):07d}/{secrets.token_hex(12)}"
        self._hooks[path] = channel
        return self.origin + path

    def response_url(self, channel: str) -> str:
        """A new ``response_url`` for an interaction in ``channel``."""
        path = f"/actions/T0SANDBOX/{len(self._responses)}/{secrets.token_hex(8)}"
        self._responses[path] = channel
        return self.origin + path

    def sent(self, via: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """Recorded messages (by ``chat.postMessage``, ``webhook`` or ``response_url``; to a channel)."""
        with self._lock:
            return [m for m in self.messages if (via is None or m["via"] == via)
                    and (channel is None or m["channel"] == channel)]

    def click(self, app_url: str, *, action_id: str, value: str, user: str = "U0SANDBOX", channel: str = "#general",
              timestamp: int | None = None, signing_secret: str | None = None) -> tuple[int, dict[str, Any]]:
        """Press a button: post a signed ``block_actions`` payload to the app; (status, JSON answer)."""
        import urllib.error
        import urllib.request

        payload = {"type": "block_actions", "user": {"id": user, "username": user.lower()},
                   "channel": {"name": channel}, "response_url": self.response_url(channel),
                   "actions": [{"type": "button", "action_id": action_id, "value": value,
                                "action_ts": f"{time.time():.6f}"}]}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        req = urllib.request.Request(app_url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(signing_secret or self.signing_secret, ts, body)})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    # --- the wire ---------------------------------------------------------------------------------------

    def _record(self, via: str, channel: str, body: Mapping[str, Any]) -> dict[str, Any]:
        msg = {"via": via, "channel": channel, "text": body.get("text") or "", "blocks": list(body.get("blocks") or []),
               "ts": f"{int(time.time())}.{next(self._ts):06d}", "replace_original": bool(body.get("replace_original"))}
        with self._lock:
            self.messages.append(msg)
        return msg

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if request.mimetype == "application/json":
            data = request.get_json(silent=True)
            return data if isinstance(data, dict) else {}
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        if isinstance(form.get("blocks"), str):
            form["blocks"] = json.loads(form["blocks"])
        return form

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path
        if request.method != "POST":
            return Response("Not Found", status=404)(environ, start_response)
        if path == "/api/chat.postMessage":
            resp = self._post_message(request)
        elif path.startswith("/services/"):
            resp = self._webhook(path, self._body(request))
        elif path in self._responses:
            self._record("response_url", self._responses[path], self._body(request))
            resp = Response(json.dumps({"ok": True}), content_type="application/json")
        else:
            resp = Response("Not Found", status=404)
        return resp(environ, start_response)

    def _post_message(self, request: Request) -> Response:
        def answer(body: dict[str, Any]) -> Response:
            return Response(json.dumps(body), status=200, content_type="application/json")

        auth = request.headers.get("Authorization", "")
        body = self._body(request)
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else str(body.get("token") or "")
        if not token:
            return answer({"ok": False, "error": "not_authed"})
        if not hmac.compare_digest(token, self.bot_token):
            return answer({"ok": False, "error": "invalid_auth"})
        channel = str(body.get("channel") or "")
        if not channel or (self.channels is not None and channel not in self.channels):
            return answer({"ok": False, "error": "channel_not_found"})
        blocks = body.get("blocks") or []
        if not body.get("text") and not blocks:
            return answer({"ok": False, "error": "no_text"})
        if len(str(body.get("text") or "")) > LIMITS["text"]:
            return answer({"ok": False, "error": "msg_too_long"})
        problem = block_problem(blocks)
        if problem:
            return answer({"ok": False, "error": "invalid_blocks", "errors": [problem]})
        msg = self._record("chat.postMessage", channel, body)
        return answer({"ok": True, "channel": channel, "ts": msg["ts"],
                       "message": {"text": msg["text"], "blocks": msg["blocks"]}})

    def _webhook(self, path: str, body: Mapping[str, Any]) -> Response:
        if path not in self._hooks:
            return Response("no_service", status=404)
        if not body.get("text") and not body.get("blocks"):
            return Response("invalid_payload", status=400)
        if block_problem(body.get("blocks") or []):
            return Response("invalid_blocks", status=400)
        self._record("webhook", self._hooks[path], body)
        return Response("ok", status=200, content_type="text/plain")
