"""Secrets masked in every text that leaves the process: logs, stored errors, API bodies, CLI output.

One home for what a secret looks like, applied at every boundary a text crosses:

* **shapes**: query and form parameters (``access_token``, ``token``, ``client_secret``,
  ``refresh_token``, ``code``, ``key``, ``api_key``, ``appsecret_proof``, ``password``), the same names
  as JSON or dict keys, auth headers (``Authorization``, ``X-Shopify-Access-Token``, ``Access-Token``,
  ``developer-token``, ``x-api-key``) written as ``Name: value``, as a dict or as gRPC metadata pairs,
  ``Bearer`` credentials, passwords in URLs (``https://user:pw@host``) and the platforms' own token
  prefixes (Shopify ``shpat_``, Anthropic ``sk-ant-``, Google ``ya29.`` and ``AIza``, Meta ``EAA``);
* **values**: every secret the process read from (or wrote to) the secret store, and every setting
  flagged secret, is :func:`remember`-ed, so even a shape nobody foresaw is masked.

Where it is applied:

* logs: :mod:`tower.logs` masks every record when it is made, its extra fields, and each finished
  line, tracebacks included, with :func:`redact` and :func:`redact_data`;
* :func:`sanitized` / :func:`at_edge`: an exception leaving a function (a Cloud Function, an event
  handler, the retry policy of every connector) is replaced by a copy of itself, same class and
  attributes, text masked, raised ``from None``. The chained cause is what would print the raw
  ``requests`` error whose URL carries ``?access_token=…`` (the facebook-business SDK sends the token in
  the query string), so it does not travel on;
* stored sync errors (``sync_state.error``), API error bodies and CLI error lines call :func:`redact`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import re
import threading
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote, quote_plus

P = ParamSpec("P")
T = TypeVar("T")

MASK = "[REDACTED]"

MIN_SECRET_LENGTH = 8
"""Shorter values are not remembered: masking every ``"true"`` or ``"USD"`` would hide the logs' meaning."""

SECRET_PARAMS = (
    "access_token",
    "refresh_token",
    "client_secret",
    "appsecret_proof",
    "app_secret",
    "api_key",
    "id_token",
    "developer_token",
    "password",
    "token",
)
"""Names whose value is a secret as ``name=value``, as a JSON/dict key and as ``name: value``."""

QUERY_ONLY_PARAMS = ("code", "key")
"""Secret only as URL query parameters (an OAuth ``code``, a Google API ``key``): as a JSON key or in
prose they are ordinary words (Shopify's ``"code": "THROTTLED"``, Meta's ``"code": 190``)."""

SECRET_HEADERS = (
    "authorization",
    "proxy-authorization",
    "x-shopify-access-token",
    "access-token",
    "developer-token",
    "x-api-key",
    "x-goog-api-key",
)


def _names(names: tuple[str, ...]) -> str:
    # "access_token" also matches "access-token" (headers) and "ACCESS_TOKEN"; longest first, so
    # "x-shopify-access-token" wins over its tail.
    ordered = sorted(set(names), key=len, reverse=True)
    return "|".join(re.escape(n).replace("_", "[-_]").replace(r"\-", "[-_]") for n in ordered)


_NAMED = _names(SECRET_PARAMS + SECRET_HEADERS)
# As "name: value" a bare "token" is mostly prose (Meta's "Error validating access token: Session has
# expired"): that form is masked for headers and for the names nobody writes in a sentence.
_COLON_NAMED = _names(tuple(n for n in SECRET_PARAMS if n != "token") + SECRET_HEADERS)
# A name starts after a non-word character, or after an encoded ? or & inside an encoded URL.
_START = r"(?:(?<![\w-])|(?<=%3[fF])|(?<=%26))"
_QUERY_START = r"(?:(?<=[?&;])|(?<=%3[fF])|(?<=%26))"
# A bare value ends at whatever ends a URL parameter, a header value or a word in a dict repr ("|" is
# kept: Meta app tokens are "app_id|secret"). "[" never starts one, so a masked value is not masked again.
_BARE = r"(?:(?!%26)[^\s&'\"<>\\#,;()\[\]{}])+"
_SCHEME = r"(?:Bearer|Basic|Token|OAuth)\s+"

_ASSIGNED = re.compile(
    rf"(?P<key>{_START}(?:{_NAMED})|{_QUERY_START}(?:{_names(QUERY_ONLY_PARAMS)}))"
    rf"(?P<sep>=|%3[dD])(?P<value>{_BARE})",
    re.IGNORECASE,
)
_SECRET_KEY = re.compile(rf"(?:{_NAMED})", re.IGNORECASE)
_QUOTED_KEY = re.compile(
    # "access_token": "…"  'Authorization': 'Bearer …'  ('developer-token', '…')  \"token\": \"…\"
    rf"(?P<key>(?P<q>\\?[\"'])(?:{_NAMED})(?P=q)\s*[:,]\s*)"
    r"(?P<value>\\\"(?:(?!\\\").)*\\\"|\"[^\"]*\"|'[^']*')",
    re.IGNORECASE,
)
_HEADER_LINE = re.compile(
    # Authorization: Bearer …   X-Shopify-Access-Token: shpat_…   developer-token: …
    rf"(?P<key>{_START}(?:{_COLON_NAMED})\s*:\s*)(?P<value>(?!{_SCHEME}\[)(?:{_SCHEME})?{_BARE})",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<key>(?<![\w-])Bearer\s+)(?P<value>[A-Za-z0-9._~+/=-]{6,})", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<key>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)(?P<value>[^@\s/]+)(?=@)")
_KNOWN_TOKENS = re.compile(
    r"(?<![\w-])(?:shp(?:at|ca|pa|ss)_[A-Za-z0-9]{16,}|sk-ant-[A-Za-z0-9_-]{16,}|ya29\.[A-Za-z0-9._-]{16,}"
    r"|AIza[A-Za-z0-9_-]{30,}|EAA[A-Za-z0-9]{30,})"
)

_lock = threading.Lock()
_secrets: set[str] = set()
_literal: re.Pattern[str] | None = None


def remember(value: str) -> str:
    """Mask ``value`` wherever it appears from now on in this process; return it unchanged.

    The secret stores call this on every value they read or write, and settings flagged secret are
    remembered when the settings load, so a token is masked even in a shape :data:`SECRET_PARAMS`
    does not describe. Values shorter than :data:`MIN_SECRET_LENGTH` are ignored.
    """
    global _literal
    if not isinstance(value, str) or len(value.strip()) < MIN_SECRET_LENGTH:
        return value
    forms = {value, quote(value, safe=""), quote_plus(value, safe="")}
    with _lock:
        if forms <= _secrets:
            return value
        _secrets.update(forms)
        ordered = sorted(_secrets, key=len, reverse=True)
        _literal = re.compile("|".join(re.escape(s) for s in ordered))
    return value


def _mask(match: re.Match[str]) -> str:
    value = match.group("value")
    for q in ('\\"', '"', "'"):
        if len(value) >= 2 * len(q) and value.startswith(q) and value.endswith(q):
            return f"{match.group('key')}{q}{MASK}{q}"
    scheme = re.match(_SCHEME, value, re.IGNORECASE)
    return f"{match.group('key')}{scheme.group(0) if scheme else ''}{MASK}"


def _mask_assigned(match: re.Match[str]) -> str:
    return f"{match.group('key')}{match.group('sep')}{MASK}"


def redact(text: str) -> str:
    """``text`` with every secret it holds replaced by ``[REDACTED]`` (idempotent)."""
    if not isinstance(text, str) or not text:
        return text
    literal = _literal
    if literal is not None:
        text = literal.sub(MASK, text)
    text = _ASSIGNED.sub(_mask_assigned, text)
    text = _QUOTED_KEY.sub(_mask, text)
    text = _HEADER_LINE.sub(_mask, text)
    text = _BEARER.sub(_mask, text)
    text = _URL_PASSWORD.sub(_mask, text)
    return _KNOWN_TOKENS.sub(MASK, text)


_MAX_DEPTH = 6
_PLAIN = (bool, int, float, decimal.Decimal, _dt.date, _dt.time, _dt.timedelta, enum.Enum, type(None))


def redact_data(value: Any, _depth: int = 0) -> Any:
    """``value`` with every string in it redacted: dicts, lists, tuples and sets are walked, exceptions
    are :func:`sanitized`, other objects are kept unless their text holds a secret (then their text,
    masked, replaces them)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        text = value.decode("utf-8", "surrogateescape")
        clean = redact(text)
        return value if clean == text else clean.encode("utf-8", "surrogateescape")
    if _depth <= _MAX_DEPTH:
        if isinstance(value, Mapping):
            # A value filed under a secret's name ({"token": …}, a headers dict) is masked whole.
            return {k: MASK if _SECRET_KEY.fullmatch(str(k)) and isinstance(v, str) and v
                    else redact_data(v, _depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [redact_data(v, _depth + 1) for v in value]
        if isinstance(value, (tuple, set, frozenset)):
            items = [redact_data(v, _depth + 1) for v in value]
            try:
                return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
            except Exception:  # noqa: BLE001 - a container that cannot be rebuilt: a plain tuple
                return tuple(items)
        if isinstance(value, BaseException):
            return sanitized(value, _depth + 1)
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - an object that cannot say what it is carries no text to leak
        return value
    clean = redact(text)
    return value if clean == text else clean


class RedactedError(Exception):
    """Stands in for an exception that could not be copied: its class name and masked text."""


def sanitized(exc: BaseException, _depth: int = 0) -> BaseException:
    """A copy of ``exc`` safe to cross a function's edge.

    Same class, args and attributes (so ``except RetriesExhausted`` and ``e.retry_after`` still
    work), every text in them masked, its notes masked, the original traceback kept, and no chain:
    ``__cause__`` is dropped and ``__suppress_context__`` set, so the raw error it was raised from
    (a ``requests`` error whose URL carries the token) is neither printed nor logged with it.
    """
    cls = type(exc)
    try:
        args = tuple(redact_data(a, _depth) for a in exc.args)
        clean = cls.__new__(cls, *args)
        clean.args = args
        clean.__dict__.update(redact_data(dict(vars(exc)), _depth))  # an attribute named "token" too
        str(clean)  # some exceptions build their text from fields their __init__ sets: prove it works
    except Exception:  # noqa: BLE001 - any exception type must come out as something raisable
        try:
            text = str(exc)
        except Exception:  # noqa: BLE001
            text = ""
        clean = RedactedError(redact(f"{cls.__module__}.{cls.__qualname__}: {text}"))
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list):
        clean.__notes__ = [redact(str(n)) for n in notes]
    clean.__traceback__ = exc.__traceback__
    clean.__cause__ = None
    clean.__context__ = None
    clean.__suppress_context__ = True
    return clean


def at_edge(fn: Callable[P, T]) -> Callable[P, T]:
    """``fn``, except that an exception leaving it is replaced by its :func:`sanitized` copy.

    The copy is raised ``from None`` outside the ``except`` block, so it carries no context either:
    what a framework logs (functions-framework prints the traceback of an entry point's exception)
    holds no secret. Raising still means what it meant (retry this event or task).
    """

    @wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - every exception leaves sanitised
            failure = sanitized(e)
        raise failure from None

    return guarded


def describe(exc: BaseException, limit: int = 500) -> str:
    """``"TypeName: text"`` of an exception, masked and cut to ``limit`` characters (for messages that
    replace a chained cause: what failed stays visible, the token in its URL does not)."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001
        text = ""
    out = redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
    return out if len(out) <= limit else out[: limit - 1] + "…"
