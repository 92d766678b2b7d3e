"""The Claude client: the anthropic SDK with our retries, prompt caching, structured output and usage.

* The SDK is imported when a client is built (not at module import), so entry points start cold fast.
* Retries go through the product's one policy (:class:`tower.retry.RetryPolicy`): the SDK's own are
  switched off (``max_retries=0``) and 429 (rate limited) and 529 (overloaded) are retried after
  ``backoff × 2^(attempt-1)`` seconds (no jitter: one process's calls are few), or the response's
  ``retry-after`` when that is longer. ``sleep`` is injectable, so tests never really wait.
* The fixed instructions go in a system block marked ``cache_control: ephemeral``.
* Structured output is tool use: the call forces one tool (``tool_choice``) whose ``input_schema``
  is the shape we want, and its ``input`` is the answer.
* Every call returns a :class:`~tower.ai.usage.CallUsage` (tokens, cache tokens, attempts) for the
  ``ai_usage`` table; the caller records it with its grounding outcome.
* The base URL is a setting (``TOWER_ANTHROPIC_BASE_URL``): the local Anthropic sandbox in dev and tests.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tower import names
from tower.ai.grounding import GenerationFailed
from tower.ai.usage import CallUsage
from tower.ports import PortError
from tower.retry import RetryPolicy

if TYPE_CHECKING:  # pragma: no cover
    from tower.config import Settings
    from tower.runtime import Runtime

log = logging.getLogger("tower.ai.claude")

RETRY_STATUSES = (429, 529)
MAX_RETRY_AFTER_SECONDS = 60.0


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None)


def is_retriable(exc: BaseException) -> bool:
    """429 and 529 are worth another attempt; everything else is final."""
    return _status(exc) in RETRY_STATUSES


def retry_after_seconds(exc: BaseException) -> float | None:
    """The ``retry-after`` header of an error response, in seconds (None when absent or unusable)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw = headers.get("retry-after")
    try:
        return min(max(float(raw), 0.0), MAX_RETRY_AFTER_SECONDS) if raw is not None else None
    except ValueError:
        return None


class ClaudeClient:
    """Messages API calls for one process (thread-safe as the SDK client is)."""

    def __init__(
        self,
        settings: Settings,
        api_key: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        client: Any = None,
    ) -> None:
        """Build the SDK client from the settings.

        Args:
            settings: Model, max tokens, base URL, timeout, attempts, backoff.
            api_key: The Anthropic API key (never logged).
            sleep: Waits between retries (tests pass a recorder).
            now: Clock for the usage rows.
            client: An ``anthropic.Anthropic`` instance to use instead of building one.
        """
        self.settings = settings
        self.model = settings.anthropic_model
        self._sleep = sleep
        self._now = now
        if client is None:
            import anthropic  # lazy: ~1 s of import that cold paths without a key never pay

            client = anthropic.Anthropic(
                api_key=api_key,
                base_url=settings.anthropic_base_url or None,
                max_retries=0,
                timeout=settings.anthropic_timeout_seconds,
            )
        self._client = client
        self.waits: list[float] = []

    def _policy(self) -> RetryPolicy:
        # One per call: its attempt count restarts, and every wait lands in self.waits.
        return RetryPolicy(attempts=self.settings.anthropic_max_attempts,
                           base_seconds=self.settings.anthropic_backoff_seconds,
                           max_seconds=MAX_RETRY_AFTER_SECONDS, sleep=self._sleep, jitter=False,
                           hint=retry_after_seconds, waits=self.waits)

    def create(
        self,
        *,
        brand_id: str,
        purpose: str,
        system: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        tool_choice: dict[str, Any] | None = None,
    ) -> tuple[Any, CallUsage]:
        """One Messages API call with retries on 429/529.

        Args:
            brand_id: For the usage row.
            purpose: ``summary`` | ``explanation`` | ``answer``.
            system: The fixed instructions (sent as one cached system block).
            messages: The conversation so far.
            tools: Tool definitions.
            tool_choice: E.g. ``{"type": "tool", "name": ...}`` to force structured output.

        Returns:
            The SDK's Message and its usage.

        Raises:
            GenerationFailed: The API failed for good (retries exhausted or a final error).
        """
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.settings.anthropic_max_tokens,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "messages": messages,
        }
        if tools:
            kwargs["tools"] = tools
        if tool_choice:
            kwargs["tool_choice"] = tool_choice
        attempts = 0

        def call() -> Any:
            nonlocal attempts
            attempts += 1
            return self._client.messages.create(**kwargs)

        started = self._now()
        try:
            message = self._policy().run(call, retry_on=is_retriable)
        except Exception as e:
            # any SDK error (status, connection, timeout) ends in the narrator's text, never a crash
            if type(e).__module__.split(".")[0] != "anthropic":
                raise
            log.warning("claude call failed", extra={"brand_id": brand_id, "purpose": purpose,
                                                     "status": _status(e), "attempts": attempts})
            raise GenerationFailed(f"{type(e).__name__} after {attempts} attempt(s): status {_status(e)}") from e
        return message, self._usage(message, brand_id, purpose, attempts, started)

    def _usage(self, message: Any, brand_id: str, purpose: str, attempts: int, started: datetime) -> CallUsage:
        """The ``ai_usage`` row of one answered call, from the message's ``usage`` block."""
        u = getattr(message, "usage", None)
        return CallUsage(
            brand_id=brand_id,
            purpose=purpose,
            model=str(getattr(message, "model", None) or self.model),
            input_tokens=int(getattr(u, "input_tokens", 0) or 0),
            output_tokens=int(getattr(u, "output_tokens", 0) or 0),
            cache_creation_input_tokens=int(getattr(u, "cache_creation_input_tokens", 0) or 0),
            cache_read_input_tokens=int(getattr(u, "cache_read_input_tokens", 0) or 0),
            attempts=attempts,
            stop_reason=getattr(message, "stop_reason", None),
            called_at=started,
        )

    def structured(
        self, *, brand_id: str, purpose: str, system: str, user_text: str, tool: dict[str, Any]
    ) -> tuple[dict[str, Any], CallUsage]:
        """Force one tool call and return its input (the structured answer).

        Raises:
            GenerationFailed: On API failure, or when the reply holds no call of the tool.
        """
        message, usage = self.create(
            brand_id=brand_id, purpose=purpose, system=system,
            messages=[{"role": "user", "content": user_text}],
            tools=[tool], tool_choice={"type": "tool", "name": tool["name"]},
        )
        for block in message.content:
            if getattr(block, "type", None) == "tool_use" and block.name == tool["name"] \
                    and isinstance(block.input, dict):
                return block.input, usage
        raise GenerationFailed(f"the reply held no {tool['name']} call (stop_reason {message.stop_reason})")


def resolve_api_key(runtime: Runtime) -> str:
    """The Anthropic key: the setting, else ``ANTHROPIC_API_KEY``, else the secret store; '' when none.

    Without a key the deterministic narrator writes everything.
    """
    key = runtime.settings.anthropic_api_key or os.environ.get("ANTHROPIC_API_KEY", "")
    if key:
        return key
    try:
        secrets = runtime.secrets
        if secrets.exists(names.SECRET_ANTHROPIC_API_KEY):
            return secrets.get(names.SECRET_ANTHROPIC_API_KEY)
    except (PortError, ImportError, AttributeError, OSError):
        return ""
    return ""


_clients: dict[tuple[str, str, str], ClaudeClient] = {}


def client_for(runtime: Runtime) -> ClaudeClient | None:
    """The process's client for these settings (None without a key: the narrator writes)."""
    key = resolve_api_key(runtime)
    if not key:
        return None
    s = runtime.settings
    cache_key = (s.anthropic_base_url, s.anthropic_model, key[-6:])
    existing = _clients.get(cache_key)
    if existing is None or existing.settings is not s:
        existing = ClaudeClient(s, key)
        _clients[cache_key] = existing
    return existing


def resolve_client(runtime: Runtime, client: Any) -> ClaudeClient | None:
    """The client a caller asked for.

    ``None`` means the process's own (:func:`client_for`: None without a key, so the narrator writes);
    a callable that is not a client is called (tests pass ``lambda: None`` to force the narrator);
    anything else is the client itself (a test's, or one built elsewhere).
    """
    if client is None:
        return client_for(runtime)
    if callable(client) and not hasattr(client, "create"):
        return client()
    return client
