"""The google-ads SDK session: credentials, the gRPC channel, headers and error sorting.

The SDK is imported lazily (≈0.3 s import plus ≈0.7 s on the first service). Credentials are
built here from an access token (``google.oauth2.credentials.Credentials``); we never call
``GoogleAdsClient.load_from_dict`` with a refresh token, which would go to Google's token endpoint.

For a loopback endpoint (the sandbox) we build the channel ourselves and hand it to the service's
transport: gRPC *local* channel credentials (plaintext on loopback) composed with the OAuth call
credential, wrapped in the SDK's own metadata interceptor (``developer-token``,
``login-customer-id``) and exception interceptor (``GoogleAdsException`` from the
``GoogleAdsFailure`` trailer). Any other endpoint goes through ``GoogleAdsClient.get_service`` (TLS).

Failures are sorted here, once, for Google Ads:

* ``RESOURCE_EXHAUSTED`` / ``QuotaError`` → retriable throttle, after Google's ``retry_delay``;
  ``INTERNAL``, ``UNAVAILABLE``, ``DEADLINE_EXCEEDED``, ``ABORTED`` / ``InternalError`` → retriable
  (a SearchStream broken mid-stream is re-run whole: streams cannot resume);
* ``UNAUTHENTICATED``, ``AuthenticationError``, ``AuthorizationError``, ``PERMISSION_DENIED`` →
  needs re-authorisation;
* anything else → fatal.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import Any, TypeVar

from tower.connectors.retry import ConnectorError, FatalError, NeedsReauth, RetriableError, RetryPolicy
from tower.redact import describe

PLATFORM = "google_ads"
ADWORDS_SCOPE = "https://www.googleapis.com/auth/adwords"
T = TypeVar("T")
_RETRY_STATUS = {"RESOURCE_EXHAUSTED", "INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED"}
_REAUTH_STATUS = {"UNAUTHENTICATED", "PERMISSION_DENIED"}
_REAUTH_ERRORS = {"authentication_error", "authorization_error"}
_RETRY_ERRORS = {"quota_error", "internal_error"}


def is_loopback(endpoint: str) -> bool:
    """Whether ``host:port`` names this machine (then the channel is plaintext)."""
    host = endpoint.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def failure_from_trailers(trailers: Any, version: str) -> Any:
    """The ``GoogleAdsFailure`` a call's trailing metadata carries, or None."""
    key = f"google.ads.googleads.{version}.errors.googleadsfailure-bin"
    errors = import_module(f"google.ads.googleads.{version}.errors.types.errors")
    for k, v in trailers or ():
        if k == key:
            return errors.GoogleAdsFailure.pb().FromString(v)
    return None


def _retry_delay(failure: Any) -> float | None:
    for err in getattr(failure, "errors", ()):
        if err.details.HasField("quota_error_details"):
            d = err.details.quota_error_details.retry_delay
            return d.seconds + d.nanos / 1e9
    return None


def classify_failure(status: str, failure: Any, detail: str = "") -> ConnectorError:
    """Sort a gRPC status name and the ``GoogleAdsFailure`` it carried (if any) into the retry kinds."""
    if failure is not None and hasattr(type(failure), "pb"):
        failure = type(failure).pb(failure)  # the SDK hands proto-plus failures; read the protobuf
    errors = list(getattr(failure, "errors", ()))
    kinds = {e.error_code.WhichOneof("error_code") for e in errors}
    message = f"Google Ads {status}: " + ("; ".join(e.message for e in errors) or detail)
    if kinds & _REAUTH_ERRORS or status in _REAUTH_STATUS:
        return NeedsReauth(message, platform=PLATFORM, code=status)
    if kinds & _RETRY_ERRORS or status in _RETRY_STATUS:
        return RetriableError(
            message,
            platform=PLATFORM,
            code=status,
            retry_after=_retry_delay(failure),
            kind="throttle" if "quota_error" in kinds or status == "RESOURCE_EXHAUSTED" else "transient",
        )
    return FatalError(message, platform=PLATFORM, code=status)


def classify(exc: BaseException, version: str) -> BaseException:
    """Sort a google-ads / gRPC failure into the shared retry kinds."""
    import grpc
    from google.ads.googleads.errors import GoogleAdsException
    from google.api_core.exceptions import GoogleAPICallError

    if isinstance(exc, GoogleAPICallError) and exc.grpc_status_code is not None:
        # The service client's gapic wrapper re-raises gRPC errors as api_core exceptions; the
        # original call (with its trailers) is kept as ``response``.
        call = exc.response
        trailers = call.trailing_metadata() if hasattr(call, "trailing_metadata") else ()
        return classify_failure(
            exc.grpc_status_code.name, failure_from_trailers(trailers, version), exc.message
        )

    if isinstance(exc, GoogleAdsException):
        return classify_failure(exc.error.code().name, exc.failure)
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        trailers = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else ()
        details = exc.details() if hasattr(exc, "details") else ""
        return classify_failure(exc.code().name, failure_from_trailers(trailers, version), details or "")
    if isinstance(exc, ConnectorError):
        return exc
    return FatalError(f"Google Ads call failed: {describe(exc)}", platform=PLATFORM)


@dataclass(frozen=True)
class RefreshGrant:
    """What refreshes an access token (an account connected by OAuth with offline access).

    Attributes:
        expiry: When the access token given with it expires (naive UTC, as google-auth keeps it).
        on_refresh: Called with each new access token and its expiry, to keep it in the secret store.
    """

    refresh_token: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)
    token_uri: str
    expiry: datetime | None = None
    on_refresh: Callable[[str, datetime | None], None] | None = field(default=None, compare=False)


class GoogleAdsApiClient:
    """Services of the Google Ads API for one OAuth token, on ``endpoint``.

    With a :class:`RefreshGrant` the token is refreshed through google-auth (at ``token_uri``) before
    it expires, and once more when Google answers ``UNAUTHENTICATED`` before its expiry (revoked
    early, or the clocks disagree); a refused refresh (``invalid_grant``) needs re-authorisation.
    """

    def __init__(
        self,
        token: str,
        *,
        developer_token: str,
        login_customer_id: str | None,
        endpoint: str,
        version: str,
        policy: RetryPolicy,
        refresh: RefreshGrant | None = None,
    ) -> None:
        """Seven parameters: the access token, then one keyword per thing the SDK client needs (developer
        token, login customer, endpoint, API version) and how calls are retried and the grant refreshed."""
        from google.ads.googleads.client import GoogleAdsClient
        from google.oauth2.credentials import Credentials

        self.version = version
        self.endpoint = endpoint
        self.policy = policy
        self.developer_token = developer_token
        self.login_customer_id = (login_customer_id or "").replace("-", "") or None
        self.refresh_grant = refresh
        self.refreshes = 0
        self.credentials = Credentials(token=token) if refresh is None else Credentials(
            token=token, refresh_token=refresh.refresh_token, token_uri=refresh.token_uri,
            client_id=refresh.client_id, client_secret=refresh.client_secret, scopes=[ADWORDS_SCOPE],
            expiry=refresh.expiry)
        self.sdk = GoogleAdsClient(
            credentials=self.credentials,
            developer_token=developer_token,
            login_customer_id=self.login_customer_id,
            endpoint=endpoint,
            version=version,
            use_proto_plus=False,
        )
        self._services: dict[str, Any] = {}
        self._channel: Any = None

    def service(self, name: str) -> Any:
        """A service client (cached: the object must stay referenced while a stream is read)."""
        if name not in self._services:
            self._services[name] = (
                self._loopback_service(name)
                if is_loopback(self.endpoint)
                else self.sdk.get_service(name, version=self.version)
            )
        return self._services[name]

    def _loopback_service(self, name: str) -> Any:
        import grpc
        from google.ads.googleads import util
        from google.ads.googleads.interceptors import ExceptionInterceptor, MetadataInterceptor
        from google.auth.transport.grpc import AuthMetadataPlugin
        from google.auth.transport.requests import Request

        if self._channel is None:
            call_creds = grpc.metadata_call_credentials(AuthMetadataPlugin(self.credentials, Request()))
            creds = grpc.composite_channel_credentials(
                grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP), call_creds
            )
            channel = grpc.secure_channel(self.endpoint, creds)
            self._channel = grpc.intercept_channel(
                channel,
                MetadataInterceptor(self.developer_token, self.login_customer_id, None),
                ExceptionInterceptor(self.version, use_proto_plus=False),
            )
        module = import_module(
            f"google.ads.googleads.{self.version}.services.services.{util.convert_upper_case_to_snake_case(name)}"
        )
        client_cls = getattr(module, f"{name}Client")
        transport = client_cls.get_transport_class("grpc")(channel=self._channel)
        return client_cls(transport=transport)

    def refresh(self) -> None:
        """Trade the refresh token for a new access token now (google-auth, at the grant's token URI).

        Raises:
            NeedsReauth: Google refused the refresh token (``invalid_grant``: revoked, expired, the
                password changed): the account must be connected again.
            RetriableError: The token endpoint could not be reached.
        """
        from google.auth.exceptions import RefreshError, TransportError
        from google.auth.transport.requests import Request

        try:
            self.credentials.refresh(Request())
        except RefreshError as e:
            reason = str(e.args[0]).split(":", 1)[0] if e.args else "refused"
            raise NeedsReauth(f"Google refused to refresh the OAuth token ({reason}); connect the account again",
                              platform=PLATFORM, code="invalid_grant" if "invalid_grant" in reason else reason) from None
        except TransportError as e:
            raise RetriableError(f"Google's token endpoint failed: {describe(e)}", platform=PLATFORM) from None
        self.refreshes += 1
        grant = self.refresh_grant
        if grant is not None and grant.on_refresh is not None:
            grant.on_refresh(str(self.credentials.token), self.credentials.expiry)

    def call(self, fn: Callable[[], T]) -> T:
        """Run one API call with sorting and the shared retry policy (refreshing the token as needed)."""

        def once() -> T:
            try:
                return fn()
            except Exception as e:  # sorted right here, once, for Google Ads
                raise classify(e, self.version) from e

        def attempt() -> T:
            if self.refresh_grant is None:
                return once()
            if self.credentials.expired or not self.credentials.token:
                self.refresh()
            try:
                return once()
            except NeedsReauth as e:
                if e.code != "UNAUTHENTICATED":
                    raise
            # Rejected before its expiry: one refresh, then the call again (a second refusal stands).
            self.refresh()
            return once()

        return self.policy.call(attempt)

    def search(self, customer_id: str, query: str, *, login_customer_id: str | None = None) -> list[Any]:
        """Every row of a GAQL query through ``GoogleAdsService.SearchStream``.

        The whole stream is one attempt: a stream broken mid-way is re-run from the start, and the
        rows of the broken attempt are discarded.

        Args:
            login_customer_id: The manager this one request signs in through (the account picker asks
                each manager for its clients); only on a client built without a login customer id, which
                would otherwise send a second header.

        Raises:
            ValueError: ``login_customer_id`` on a client that has its own.
        """
        service = self.service("GoogleAdsService")
        if login_customer_id and self.login_customer_id:
            raise ValueError("this client signs in through its own login customer id; build one without it")
        metadata = (("login-customer-id", login_customer_id.replace("-", "")),) if login_customer_id else ()

        def attempt() -> list[Any]:
            rows: list[Any] = []
            for batch in service.search_stream(customer_id=customer_id, query=query, metadata=metadata):
                rows.extend(batch.results)
            return rows

        return self.call(attempt)

    def message(self, name: str) -> Any:
        """A raw protobuf message class of this API version (``CampaignBudgetOperation``)."""
        return type(self.sdk.get_type(name, version=self.version))

    def close(self) -> None:
        """Close the loopback channel (TLS channels close with their transports)."""
        if self._channel is not None:
            self._channel.close()
