"""Ready answers: the default dashboard (and its series, products and drilldowns) kept as the bytes the
app last sent, with their ETag, and API keys' lookups reused, while the store has not changed (issue 16).

A page polls its default views; building one answer reads half a dozen documents, parses them and
serializes some 30 kB of JSON, and was most of a request's cost. The answer depends only on the
store's documents, the brand's store-local day and the request's scheme (HSTS), never on who asks,
so the first request's answer, exactly as the app sent it, serves the next ones:

* **What is kept.** A view offers its answer (:func:`offer`) only for its default form (no query
  string); :class:`ReadyAnswers` keeps it when the app answered ``200`` with an ETag: status line,
  headers (all but ``Date``, set fresh) and body, under its path and scheme.
* **How long.** Until the first of: the store's change stamp (:class:`tower.ports.ChangeStamped`)
  moves, which is at once after any write of this process and, on the embedded store, within
  20 ms of another process's commit (the CLI, a build); the brand's store-local day changes; or
  ``TOWER_API_MEMO_SECONDS`` pass (1 s by default), which bounds what this process cannot see:
  another Firestore instance's writes. The stamp is read *before* the answer is built, so a write
  racing the build leaves the answer already stale, never kept as fresh. A store without a stamp,
  or 0 seconds, keeps nothing.
* **Renewed before it ends.** Past half its life (:data:`RENEW_AT`), the next request that would get a
  kept answer goes through the app instead and keeps the new answer, one request per answer at a
  time; the others get the kept one meanwhile. Under steady load an answer is so replaced before its
  seconds pass, and no request waits for a rebuild (nor do twenty rebuild it at once). Key lookups
  are renewed the same way.
* **Every check still runs.** A ready answer is sent only to a request that the app would answer
  the same: ``GET``/``HEAD`` without a query string, a body, ``Range`` or other preconditions than
  ``If-None-Match``; from a client address the failed-authentication limit does not hold back
  (:class:`tower.api.limits.AuthFailureLimiter`); with a bearer key that authenticates now
  (:class:`CallerMemo`) and covers the answer's brand. Anything else (a missing, unknown or
  out-of-scope key, a 429 due) goes through the app, which answers it as always and counts the
  failure. ``If-None-Match`` matching the ETag gets the bodyless ``304`` werkzeug would send.

:class:`CallerMemo` reuses a key's :func:`~tower.api.auth.authenticate` result (scope included: an
agency's brand list) under the same rule, for the app's own authentication too. The ``TOWER_API_MEMO_SECONDS``
bound holds on the app's clock as well as the monotonic one: the lookup is what records a key's last use
(:func:`tower.identity.keys.touch`, at most every few minutes), so a reused caller never hides a due
record by more than those seconds of the app's time (a test's clock jumping minutes ahead gets a lookup). A revoked key
stops working at once on the process that revoked it, within 20 ms elsewhere on the embedded store, and within
``TOWER_API_MEMO_SECONDS`` on every other instance. Unknown keys are never kept: each one is
looked up and counted as a failure.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from werkzeug.http import parse_etags, remove_entity_headers, unquote_etag

from tower.api.auth import Caller, authenticate, bearer_token, hash_key
from tower.api.errors import ApiError
from tower.api.limits import client_address
from tower.brands import local_date

if TYPE_CHECKING:  # pragma: no cover
    from tower.api.limits import AuthFailureLimiter, WSGIApp, WSGIEnviron
    from tower.ports import ChangeStamped, DocumentStore

OFFER = "tower.ready.offer"
"""The WSGI environ key a view sets (:func:`offer`) when its answer may be kept."""

PREFIX = "/api/brands/"
"""Only brand routes offer answers; nothing else is looked up."""

MAX_ENTRIES = 10_000
"""Keys and answers kept per process, each; past it the oldest go (keys rotated in bulk cannot grow it)."""

RENEW_AT = 0.5
"""Share of a kept entry's life after which the next request that would use it renews it (one request
per entry at a time), while the others go on using it until it ends. Without it every entry ended
under load with all the requests in flight rebuilding it at once (20 dashboards or key lookups where
one does), a stall every ``TOWER_API_MEMO_SECONDS`` that lengthened the cached dashboard's tail."""

RENEWING = "tower.ready.renewing"
"""The WSGI environ key of a request renewing a kept answer (it goes through the app)."""

# Preconditions werkzeug would act on besides If-None-Match: such a request goes through the app.
_DECLINED = ("HTTP_RANGE", "HTTP_IF_RANGE", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")

Stamp = tuple[int, int]


def change_stamp(store: DocumentStore | ChangeStamped) -> Stamp | None:
    """The store's change stamp (:class:`tower.ports.ChangeStamped`); None when it has none (then nothing
    is reused). Looked up, not ``isinstance``-checked: a runtime protocol check costs more than the stamp."""
    stamped = getattr(store, "change_stamp", None)
    return stamped() if stamped is not None else None


def offer(environ: WSGIEnviron, brand: Mapping[str, Any]) -> None:
    """Mark the request's answer as one every caller covering ``brand`` gets alike until the store
    changes or the brand's day ends (call it only for a view's default form)."""
    environ[OFFER] = (str(brand["brand_id"]), str(brand["timezone"]), str(brand["today"]))


class CallerMemo:
    """:func:`tower.api.auth.authenticate`, reusing a known key's caller while the store is unchanged.

    Args:
        store_of: The document store (``api_keys``, ``agencies``), opened on first use (creating the
            app does no I/O).
        seconds: Longest a caller is reused (``TOWER_API_MEMO_SECONDS``); 0 never reuses.
        monotonic: Seconds on a monotonic scale (tests pass their own).
    """

    def __init__(self, store_of: Callable[[], DocumentStore], seconds: float, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store_of = store_of
        self.seconds = seconds
        self.monotonic = monotonic
        # key hash -> (caller, store stamp, monotonic expiry, app time of the lookup)
        self._callers: OrderedDict[str, tuple[Caller, Stamp, float, datetime]] = OrderedDict()
        self._renewing: set[str] = set()
        self._lock = threading.Lock()

    @property
    def store(self) -> DocumentStore:
        return self._store_of()

    def stamp(self) -> Stamp | None:
        """The store's stamp now; None when nothing may be reused."""
        return change_stamp(self.store) if self.seconds > 0 else None

    def authenticate(self, header: str | None, stamp: Stamp | None = None, *, now: datetime | None = None) -> Caller:
        """The caller behind an Authorization header.

        Args:
            header: The Authorization header.
            stamp: The store's stamp, when the caller has just read it (else read here).
            now: The time now (the app's clock; default the system's): a kept caller serves only within
                the memo's seconds of its lookup on it too, and a lookup records the key's last use at it.

        Raises:
            ApiError: 401 for a missing, malformed or unknown key (never remembered).
        """
        if now is None:
            now = datetime.now(UTC)
        if stamp is None:
            stamp = self.stamp()  # before the lookup: a write racing it leaves the entry stale at once
        renewing = None
        if stamp is not None:
            key_hash = hash_key(bearer_token(header))
            kept = self._callers.get(key_hash)
            if (kept is not None and kept[1] == stamp and self.monotonic() < kept[2]
                    and timedelta(0) <= now - kept[3] < timedelta(seconds=self.seconds)):
                if self.monotonic() < kept[2] - self.seconds * (1 - RENEW_AT) or not self._claim(key_hash, kept):
                    return kept[0]
                renewing = key_hash  # this request looks the key up again; the others go on using it
        try:
            caller = authenticate(self.store, header, now=now)
        except ApiError:
            if renewing is not None:
                self._callers.pop(renewing, None)  # revoked: no request reuses it from now on
            raise
        finally:
            if renewing is not None:
                self._renewing.discard(renewing)
        if stamp is not None:
            with self._lock:
                self._callers.pop(caller.key_hash, None)
                self._callers[caller.key_hash] = (caller, stamp, self.monotonic() + self.seconds, now)
                while len(self._callers) > MAX_ENTRIES:
                    self._callers.popitem(last=False)
        return caller

    def _claim(self, key_hash: str, kept: tuple[Caller, Stamp, float, datetime]) -> bool:
        """Whether this request renews the key's entry ``kept`` (no other request is renewing it, nor has
        renewed it since this one read it)."""
        with self._lock:
            if key_hash in self._renewing or self._callers.get(key_hash) is not kept:
                return False
            self._renewing.add(key_hash)
            return True


@dataclass(frozen=True)
class Answer:
    """One kept answer: whose it is, while what it holds, and what was sent."""

    brand_id: str
    timezone: str
    today: str
    stamp: Stamp
    expires: float
    renew_at: float
    """When the next request that would get it renews it instead (:data:`RENEW_AT`)."""
    status: str
    headers: tuple[tuple[str, str], ...]
    """Every header the app sent but ``Date``."""
    etag: str
    """The ETag's value, unquoted (compared as werkzeug compares it)."""
    body: bytes


def _is_https(environ: WSGIEnviron) -> bool:
    # the same rule as tower.api.headers.is_https (HSTS is sent only then), on the environ
    forwarded = str(environ.get("HTTP_X_FORWARDED_PROTO", "")).split(",")[0].strip().lower()
    return environ.get("wsgi.url_scheme") == "https" or forwarded == "https"


def _plain_get(environ: WSGIEnviron) -> bool:
    """A GET or HEAD of a brand route, without a query, body or precondition but If-None-Match."""
    return (environ.get("REQUEST_METHOD") in ("GET", "HEAD") and not environ.get("QUERY_STRING")
            and str(environ.get("PATH_INFO", "")).startswith(PREFIX)
            and environ.get("CONTENT_LENGTH") in (None, "", "0") and "HTTP_TRANSFER_ENCODING" not in environ
            and not any(h in environ for h in _DECLINED))


NOT_MODIFIED = "304 NOT MODIFIED"
"""werkzeug's status line for a 304."""


def _matches(condition: str, status: str, headers: list[tuple[str, str]]) -> bool:
    """Whether a ``200`` answer's ETag is one ``If-None-Match`` names (compared weakly, as werkzeug does)."""
    if not status.startswith("200 "):
        return False
    etag = next((v for k, v in headers if k.lower() == "etag"), None)
    return etag is not None and parse_etags(condition).contains_weak(unquote_etag(etag)[0])


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The ``Date`` header's value now (formatted once a second)."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class ReadyAnswers:
    """WSGI middleware sending kept answers (see the module docstring); everything else goes to ``app``.

    Args:
        app: The API's WSGI app.
        callers: The key lookups (shared with the app's own authentication).
        limiter: The failed-authentication limiter the app applies.
        trusted_proxies: ``TOWER_API_TRUSTED_PROXIES`` (who the client is).
        clock: The time now (the brand's day), the app's.
    """

    def __init__(self, app: WSGIApp, callers: CallerMemo, limiter: AuthFailureLimiter, *, trusted_proxies: int,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self.callers = callers
        self.limiter = limiter
        self.trusted_proxies = trusted_proxies
        self.clock = clock
        self._answers: OrderedDict[tuple[str, bool], Answer] = OrderedDict()
        self._renewing: set[tuple[str, bool]] = set()
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnviron, start_response: Callable[..., Any]) -> Iterable[bytes]:
        ready = self.answer(environ)
        if ready is not None:
            status, headers, body = ready
            start_response(status, headers)
            return [body]
        if not _plain_get(environ) or environ["REQUEST_METHOD"] != "GET":
            return self.app(environ, start_response)
        renewing = environ.get(RENEWING)
        try:
            return self._through(environ, start_response)
        finally:
            if renewing is not None:
                self._renewing.discard(renewing)  # kept anew by now, or left for the next request to renew

    def answer(self, environ: WSGIEnviron) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The kept answer to this request (status line, headers, body), or None when the app must answer."""
        if not _plain_get(environ):
            return None
        key = (environ["PATH_INFO"], _is_https(environ))
        kept = self._answers.get(key)
        if kept is None:
            return None
        stamp = self.callers.stamp()
        if stamp != kept.stamp or self.callers.monotonic() >= kept.expires:
            return None
        now = self.clock() if self.clock is not None else datetime.now(UTC)
        if local_date(kept.timezone, now).isoformat() != kept.today:
            return None
        if self.limiter.retry_after(client_address(environ, self.trusted_proxies)) is not None:
            return None  # the app answers 429
        try:
            caller = self.callers.authenticate(environ.get("HTTP_AUTHORIZATION"), stamp, now=now)
        except ApiError:
            return None  # the app answers 401 and counts the failure
        if not caller.may_see(kept.brand_id):
            return None  # the app answers 403
        if (environ["REQUEST_METHOD"] == "GET" and self.callers.monotonic() >= kept.renew_at
                and self._claim(key, kept)):
            environ[RENEWING] = key
            return None  # this request renews it through the app; the others still get it meanwhile
        headers = [*kept.headers, ("Date", _http_date())]
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and parse_etags(if_none_match).contains_weak(kept.etag):
            remove_entity_headers(headers)
            return NOT_MODIFIED, headers, b""
        return kept.status, headers, b"" if environ["REQUEST_METHOD"] == "HEAD" else kept.body

    def _claim(self, key: tuple[str, bool], kept: Answer) -> bool:
        """Whether this request renews the answer ``kept`` under ``key`` (no other request is renewing it,
        nor has renewed it since this one read it)."""
        with self._lock:
            if key in self._renewing or self._answers.get(key) is not kept:
                return False
            self._renewing.add(key)
            return True

    def _through(self, environ: WSGIEnviron, start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Let the app answer a plain GET; keep its answer when the view offered it.

        When answers may be kept, ``If-None-Match`` is answered here, not by the app: the app builds the
        whole answer, which is kept, and a matching tag gets the bodyless 304 the app would have sent
        (werkzeug's, as :meth:`answer` sends it). The page polls with its last ETag: without this, a
        poll that renewed or missed an answer was answered 304 by the app and kept nothing.
        """
        stamp = self.callers.stamp()  # before the app reads anything
        started = self.callers.monotonic()
        condition = environ.pop("HTTP_IF_NONE_MATCH", None) if stamp is not None else None
        sent: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent.update(status=status, headers=list(headers))
            if condition is not None and _matches(condition, status, headers):
                sent["not_modified"] = True
                status, headers = NOT_MODIFIED, list(headers)
                remove_entity_headers(headers)
            return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

        result = self.app(environ, capture)
        offered = environ.get(OFFER)
        if stamp is None or offered is None or not str(sent.get("status", "")).startswith("200 "):
            if not sent.get("not_modified"):
                return result
            _close(result)
            return [b""]
        try:
            body = b"".join(result)
        finally:
            _close(result)
        self.keep(environ, stamp, started, offered, sent["status"], sent["headers"], body)
        return [b""] if sent.get("not_modified") else [body]

    def keep(self, environ: WSGIEnviron, stamp: Stamp, started: float, offered: tuple[str, str, str], status: str,
             headers: list[tuple[str, str]], body: bytes) -> None:
        """Keep an answer the app sent for a request whose view offered it (only with an ETag).

        Seven parameters: self, the request, what the store and clock were when it began, the view's
        offer, and what was sent.
        """
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        brand_id, timezone, today = offered
        if (etag is None or not _plain_get(environ) or environ["REQUEST_METHOD"] != "GET"
                or not str(environ["PATH_INFO"]).startswith(f"{PREFIX}{brand_id}/")):
            return
        kept = Answer(brand_id=brand_id, timezone=timezone, today=today, stamp=stamp,
                      expires=started + self.callers.seconds,
                      renew_at=started + self.callers.seconds * RENEW_AT, status=status,
                      headers=tuple((k, v) for k, v in headers if k.lower() != "date"),
                      etag=unquote_etag(etag)[0], body=body)
        with self._lock:
            key = (str(environ["PATH_INFO"]), _is_https(environ))
            self._answers.pop(key, None)
            self._answers[key] = kept
            while len(self._answers) > MAX_ENTRIES:
                self._answers.popitem(last=False)
