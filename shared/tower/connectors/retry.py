"""The connectors' side of the one retry policy (:mod:`tower.retry`): each platform's signals sorted.

A connector never retries by itself. Its client sorts every failure once, in one place per platform,
into one of three kinds and raises it:

* :class:`RetriableError`: rate limits, 5xx, timeouts, dropped connections. Retried with exponential
  backoff and full jitter, or after the wait the platform asked for (``retry_after``), whichever
  is longer.
* :class:`NeedsReauth`: the token is expired or revoked. Never retried: the integration is marked
  for re-authorisation and that brand's sync stops cleanly.
* :class:`FatalError`: anything else the platform rejected (bad request, no permission). Never
  retried.

Sleeping goes through the policy's ``sleep`` so tests inject a recorder and never really sleep.

Whatever leaves :meth:`RetryPolicy.call` is :func:`tower.redact.sanitized`: same class and attributes,
text masked, no chained cause. The cause is the raw SDK or ``requests`` error, and its URL can carry the
token (Meta's ``?access_token=…``); each client already put what matters of it in its own message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tower.redact import sanitized
from tower.retry import RetryPolicy as BaseRetryPolicy

T = TypeVar("T")


class ConnectorError(Exception):
    """Base of the errors a connector raises after sorting a platform failure."""

    def __init__(self, message: str, *, platform: str = "", code: str | int | None = None) -> None:
        super().__init__(message)
        self.platform = platform
        self.code = code


class RetriableError(ConnectorError):
    """A failure worth another attempt (throttle, 5xx, timeout, dropped connection)."""

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        code: str | int | None = None,
        retry_after: float | None = None,
        kind: str = "transient",
    ) -> None:
        super().__init__(message, platform=platform, code=code)
        self.retry_after = retry_after
        self.kind = kind  # "throttle" | "transient"


class FatalError(ConnectorError):
    """A failure another attempt will not fix."""


class NeedsReauth(FatalError):
    """The platform rejected the token (expired, revoked, empty): the brand must reconnect."""


class RetriesExhausted(FatalError):
    """A retriable failure that kept failing for every attempt the policy allows."""


class RetryPolicy(BaseRetryPolicy):
    """The product's policy (:class:`tower.retry.RetryPolicy`: exponential backoff with full jitter,
    honouring the platform's ``retry_after``) applied to the connectors' sorted errors."""

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn`` until it succeeds, raises a non-retriable error, or attempts run out.

        Raises:
            RetriesExhausted: The last attempt still failed with a :class:`RetriableError`.
            ConnectorError: Any non-retriable error ``fn`` raised, as its sanitised copy (same class
                and attributes, secrets masked, no chained cause).
        """
        try:
            return self.run(fn, *args, retry_on=lambda e: isinstance(e, RetriableError), **kwargs)
        except RetriableError as e:
            exhausted = RetriesExhausted(
                f"{e} (still failing after {self.attempts} attempts)", platform=e.platform, code=e.code
            )
            failure = sanitized(exhausted.with_traceback(e.__traceback__))
        except Exception as e:  # noqa: BLE001 - every failure leaves the policy sanitised
            failure = sanitized(e)
        # Raised outside the except blocks and from None: neither a cause nor a context travels on.
        raise failure from None
