"""The TikTok Business API session (``requests``; TikTok has no maintained official Python SDK).

Auth is the ``Access-Token`` header; list parameters (``dimensions``, ``metrics``, ``filtering``)
travel as JSON strings in the query. TikTok answers errors with HTTP 200 and a non-zero ``code``
in the envelope ``{code, message, request_id, data}``; they are sorted here, once, for TikTok:

* 40100 (QPS limit) → retriable throttle; 50000 / 50002 / 51008 (system error, timeout) and 40202
  (write conflict, "retry may resolve") → retriable; HTTP 429 / 5xx and dropped connections →
  retriable;
* 40102 / 40104 / 40105 (expired, empty, invalid token) and 40001 (no permission on the
  advertiser) → needs re-authorisation;
* anything else → fatal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tower.connectors.retry import FatalError, NeedsReauth, RetriableError, RetryPolicy
from tower.redact import describe

PLATFORM = "tiktok"
API_PREFIX = "/open_api/v1.3"
RETRIABLE_CODES = frozenset({40100, 40202, 50000, 50002, 51008})
THROTTLE_CODES = frozenset({40100})
REAUTH_CODES = frozenset({40001, 40102, 40104, 40105})


def check_envelope(body: Any) -> Any:
    """The ``data`` of a TikTok envelope, or the sorted error its ``code`` stands for."""
    if not isinstance(body, Mapping) or "code" not in body:
        raise RetriableError("TikTok answered without an envelope", platform=PLATFORM)
    code = int(body["code"])
    if code == 0:
        return body.get("data") or {}
    message = f"TikTok error {code}: {body.get('message', '')}"
    if code in REAUTH_CODES:
        raise NeedsReauth(message, platform=PLATFORM, code=code)
    if code in RETRIABLE_CODES:
        raise RetriableError(
            message,
            platform=PLATFORM,
            code=code,
            retry_after=1.0 if code in THROTTLE_CODES else None,
            kind="throttle" if code in THROTTLE_CODES else "transient",
        )
    raise FatalError(message, platform=PLATFORM, code=code)


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as TikTok wants them: lists and objects as JSON strings."""
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        out[k] = json.dumps(v) if isinstance(v, (list, dict)) else str(v)
    return out


class TikTokClient:
    """One access token's session against ``origin`` (TikTok, or the sandbox)."""

    def __init__(self, token: str, *, origin: str, policy: RetryPolicy, timeout: float = 60.0) -> None:
        import requests

        self.session = requests.Session()
        self.session.headers.update({"Access-Token": token, "Content-Type": "application/json"})
        self.origin = origin.rstrip("/")
        self.policy = policy
        self.timeout = timeout

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        import requests

        url = f"{self.origin}{API_PREFIX}/{path.strip('/')}/"
        try:
            resp = self.session.request(
                method,
                url,
                params=encode_params(params or {}),
                data=json.dumps(body) if body is not None else None,
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as e:
            raise RetriableError(f"TikTok connection failed: {describe(e)}", platform=PLATFORM) from e
        if resp.status_code == 429 or resp.status_code >= 500:
            raise RetriableError(f"TikTok HTTP {resp.status_code}", platform=PLATFORM, code=resp.status_code)
        if resp.status_code >= 400:
            raise FatalError(f"TikTok HTTP {resp.status_code}", platform=PLATFORM, code=resp.status_code)
        try:
            payload = resp.json()
        except ValueError as e:
            raise RetriableError("TikTok answered with a body that is not JSON", platform=PLATFORM) from e
        return check_envelope(payload)

    def get(self, path: str, params: Mapping[str, Any]) -> Any:
        """GET one API path (``report/integrated/get``) with retries; returns the envelope's data."""
        return self.policy.call(self._send, "GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST a JSON body (writes) with retries; returns the envelope's data."""
        return self.policy.call(self._send, "POST", path, body=body)

    def pages(
        self, path: str, params: Mapping[str, Any], page_size: int, key: str = "list"
    ) -> list[dict[str, Any]]:
        """Every item of a paged list (``page`` / ``page_size`` / ``page_info.total_page``)."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self.get(path, {**params, "page": page, "page_size": page_size})
            out.extend(data.get(key) or [])
            info = data.get("page_info") or {}
            if page >= int(info.get("total_page") or 1):
                return out
            page += 1

    def close(self) -> None:
        """Release the HTTP session."""
        self.session.close()
