"""The sync every ad platform shares: connect, trailing re-pull, idempotent loads, checkpoints.

For each connected ad account of a brand (``integrations``) the sync:

1. reads the token from the secret store and opens the platform's connector (SDK imported then);
2. stores campaign metadata: ``ad_campaigns`` MERGEd on (brand, platform, account, campaign);
   ``ad_campaign_products`` replaced per campaign;
3. works out the window ``[start, end)`` in the account's timezone: ``end`` is tomorrow (today's
   partial figures are re-pulled next time); ``start`` is the stored cursor minus the platform's
   trailing days (``TOWER_META_TRAILING_DAYS`` 28, ``TOWER_GOOGLE_ADS_TRAILING_DAYS`` 14,
   ``TOWER_TIKTOK_TRAILING_DAYS`` 3: how long each restates conversions), or ``--since``, or
   ``TOWER_ADS_HISTORY_DAYS`` back on a first sync;
4. pulls it chunk by chunk (``TOWER_ADS_CHUNK_DAYS``) and **replaces** each chunk's rows of that
   account in ``ad_performance`` in one transaction. Replacing rather than MERGEing row by row is
   what keeps re-pulls exact: a row the platform no longer reports (a region that fell to zero, a
   restated split) disappears instead of lingering, so late conversions are counted once and nothing
   is double counted;
5. checkpoints in ``sync_state`` after each chunk (``checkpoint`` = the window and the next chunk,
   plus any Meta report run in flight), so a crash, a timeout or a rerun resumes where it stopped.
   The sync stops by itself after ``TOWER_ADS_SYNC_DEADLINE_SECONDS`` (event functions end at 9
   minutes) with status ``partial``; calling it again continues.

An expired or revoked token marks the integration ``needs_reauth`` and stops that account cleanly;
a platform that keeps failing after the retry policy's attempts raises :class:`RetriesExhausted`
(so a task queue retries the event) with the state saved for resuming.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import pyarrow as pa

from tower import names
from tower.connectors.ads_records import PLATFORMS, AccountInfo, CampaignRecord, PerformanceRecord, Suspend
from tower.connectors.retry import FatalError, NeedsReauth, RetriesExhausted, RetryPolicy
from tower.redact import redact

if TYPE_CHECKING:  # pragma: no cover
    from tower.config import Settings
    from tower.runtime import Runtime

log = logging.getLogger("tower.sync.ads")

RESOURCE = "ad_performance"
TRAILING_SETTING = {
    "meta": "meta_trailing_days",
    "tiktok": "tiktok_trailing_days",
    "google_ads": "google_ads_trailing_days",
}

_MONEY = pa.decimal128(38, 9)
PERFORMANCE_SCHEMA = pa.schema(
    [
        ("brand_id", pa.string()),
        ("platform", pa.string()),
        ("account_id", pa.string()),
        ("campaign_id", pa.string()),
        ("campaign_name", pa.string()),
        ("stat_date", pa.date32()),
        ("country_code", pa.string()),
        ("region_code", pa.string()),
        ("region_name", pa.string()),
        ("spend_amount", _MONEY),
        ("impressions", pa.int64()),
        ("clicks", pa.int64()),
        ("purchases", pa.float64()),
        ("purchase_value_amount", _MONEY),
        ("currency", pa.string()),
        ("synced_at", pa.timestamp("us", tz="UTC")),
    ]
)
CAMPAIGN_SCHEMA = pa.schema(
    [
        ("brand_id", pa.string()),
        ("platform", pa.string()),
        ("account_id", pa.string()),
        ("campaign_id", pa.string()),
        ("campaign_name", pa.string()),
        ("status", pa.string()),
        ("objective", pa.string()),
        ("daily_budget_amount", _MONEY),
        ("budget_id", pa.string()),
        ("currency", pa.string()),
        ("account_timezone", pa.string()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)


class AdConnector(Protocol):
    """What the sync needs of a platform connector (Meta, TikTok and Google Ads all have it)."""

    platform: str
    account_id: str

    def account_info(self) -> AccountInfo:
        """Currency and timezone of the account."""

    def campaigns(self) -> list[CampaignRecord]:
        """Every campaign with budget and promoted products."""

    def performance(
        self, start: date, end: date, state: dict[str, Any], save: Callable[[], None]
    ) -> list[PerformanceRecord]:
        """Normalised rows for ``[start, end)``; ``state`` is resumable, ``save`` persists it."""

    def get_daily_budget(self, campaign_id: str) -> Any:
        """The campaign's daily budget in major units (None when it has none)."""

    def set_daily_budget(self, campaign_id: str, amount: Any) -> None:
        """Set the campaign's daily budget (major units)."""

    def close(self) -> None:
        """Release sessions and channels."""


class AdSyncUsageError(ValueError):
    """Bad input to a sync or connect (unknown platform, brand not connected...)."""


@dataclass
class AccountSyncResult:
    """What one account's sync did."""

    account_id: str
    status: str = "ok"  # ok | partial | needs_reauth | failed
    window_start: str | None = None
    window_end: str | None = None
    chunks_done: int = 0
    chunks_total: int = 0
    rows: int = 0
    campaigns: int = 0
    error: str | None = None


@dataclass
class AdSyncResult:
    """What a brand's sync of one platform did (``as_dict`` is what the pipeline receives)."""

    brand_id: str
    platform: str
    accounts: list[AccountSyncResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        """ok when every account finished; otherwise the most serious account status."""
        if not self.accounts:
            return "not_connected"
        for s in ("failed", "needs_reauth", "partial"):
            if any(a.status == s for a in self.accounts):
                return s
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able summary with the touched window (ISO dates)."""
        starts = [a.window_start for a in self.accounts if a.window_start]
        ends = [a.window_end for a in self.accounts if a.window_end]
        return {
            "brand_id": self.brand_id,
            "platform": self.platform,
            "status": self.status,
            "window_start": min(starts) if starts else None,
            "window_end": max(ends) if ends else None,
            "rows": sum(a.rows for a in self.accounts),
            "accounts": [asdict(a) for a in self.accounts],
        }


def _log(severity: str, event: str, **fields: Any) -> None:
    level = {"INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}[severity]
    log.log(level, json.dumps({"severity": severity, "event": event, **fields}, default=str))


def check_platform(platform: str) -> str:
    """The platform name, or a clear error."""
    if platform not in PLATFORMS:
        raise AdSyncUsageError(f"unknown ad platform {platform!r}; one of {', '.join(PLATFORMS)}")
    return platform


# --- connectors ---------------------------------------------------------------------------------


def default_policy(sleep: Callable[[float], None] | None = None) -> RetryPolicy:
    """The retry policy syncs use unless a test passes its own."""
    return RetryPolicy(sleep=sleep or time.sleep)


def google_developer_token(runtime: Runtime) -> str:
    """The developer token: the setting, else the secret store's ``google-ads-developer-token``."""
    if runtime.settings.google_ads_developer_token:
        return runtime.settings.google_ads_developer_token
    if runtime.secrets.exists(names.SECRET_GOOGLE_ADS_DEVELOPER_TOKEN):
        return runtime.secrets.get(names.SECRET_GOOGLE_ADS_DEVELOPER_TOKEN)
    raise AdSyncUsageError(
        "no Google Ads developer token: set TOWER_GOOGLE_ADS_DEVELOPER_TOKEN or the "
        f"{names.SECRET_GOOGLE_ADS_DEVELOPER_TOKEN} secret"
    )


def open_connector(
    platform: str,
    settings: Settings,
    *,
    token: str,
    account_id: str,
    policy: RetryPolicy,
    login_customer_id: str | None = None,
    developer_token: str = "",
    handle_to_product: dict[str, str] | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
) -> AdConnector:
    """The platform's connector for one account (its SDK is imported here, not before)."""
    check_platform(platform)
    if platform == "meta":
        from tower.connectors.meta.streams import MetaConnector

        return MetaConnector(
            token,
            account_id,
            origin=settings.meta_api_origin,
            api_version=settings.meta_api_version,
            policy=policy,
            page_size=settings.ads_page_size,
            async_min_days=settings.meta_async_min_days,
            poll_seconds=settings.meta_async_poll_seconds,
            usage_threshold_pct=settings.meta_usage_threshold_pct,
            handle_to_product=handle_to_product,
            out_of_time=out_of_time,
        )
    if platform == "tiktok":
        from tower.connectors.tiktok.streams import TikTokConnector

        return TikTokConnector(
            token,
            account_id,
            origin=settings.tiktok_api_origin,
            policy=policy,
            page_size=settings.ads_page_size,
            handle_to_product=handle_to_product,
        )
    from tower.connectors.google_ads.streams import GoogleAdsConnector

    return GoogleAdsConnector(
        token,
        account_id,
        developer_token=developer_token,
        login_customer_id=login_customer_id,
        endpoint=settings.google_ads_endpoint,
        version=settings.google_ads_api_version,
        policy=policy,
        handle_to_product=handle_to_product,
    )


def normalise_account_id(platform: str, account_id: str) -> str:
    """Account ids as stored: Meta without ``act_``, Google without dashes."""
    account_id = account_id.strip()
    if platform == "meta":
        return account_id.removeprefix("act_")
    if platform == "google_ads":
        return account_id.replace("-", "")
    return account_id


# --- warehouse state ------------------------------------------------------------------------------


def integrations(runtime: Runtime, brand_id: str, platform: str) -> list[dict[str, Any]]:
    """The brand's integrations of one platform."""
    return runtime.warehouse.rows(
        "SELECT * FROM integrations WHERE brand_id = @brand_id AND platform = @platform ORDER BY account_id",
        {"brand_id": brand_id, "platform": platform},
    )


def read_state(runtime: Runtime, brand_id: str, platform: str, account_id: str) -> dict[str, Any] | None:
    """The account's ``sync_state`` row for ad performance."""
    rows = runtime.warehouse.rows(
        "SELECT * FROM sync_state WHERE brand_id = @brand_id AND platform = @platform AND resource = @resource "
        "AND account_id = @account_id",
        {"brand_id": brand_id, "platform": platform, "resource": RESOURCE, "account_id": account_id},
    )
    return rows[0] if rows else None


def write_state(
    runtime: Runtime,
    brand_id: str,
    platform: str,
    account_id: str,
    *,
    status: str,
    cursor: str | None,
    checkpoint: dict[str, Any] | None,
    error: str | None = None,
) -> None:
    """MERGE the account's ``sync_state`` row (``error`` is stored masked: operators read it)."""
    runtime.warehouse.merge(
        "sync_state",
        [
            {
                "brand_id": brand_id,
                "platform": platform,
                "resource": RESOURCE,
                "account_id": account_id,
                "cursor_value": cursor,
                "checkpoint": json.dumps(checkpoint, default=str) if checkpoint else None,
                "status": status,
                "error": redact(error) if error else error,
                "updated_at": datetime.now(UTC),
            }
        ],
        ["brand_id", "platform", "resource", "account_id"],
    )


def mark_integration(runtime: Runtime, brand_id: str, platform: str, account_id: str, **values: Any) -> None:
    """Update columns of one integration row."""
    runtime.warehouse.merge(
        "integrations",
        [
            {
                "brand_id": brand_id,
                "platform": platform,
                "account_id": account_id,
                **values,
                "updated_at": datetime.now(UTC),
            }
        ],
        ["brand_id", "platform", "account_id"],
    )


def handle_to_product(runtime: Runtime, brand_id: str) -> dict[str, str]:
    """Shopify product handles → product ids (to match destination URLs to products)."""
    rows = runtime.warehouse.rows(
        "SELECT handle, product_id FROM products WHERE brand_id = @brand_id AND handle IS NOT NULL",
        {"brand_id": brand_id},
    )
    return {r["handle"]: r["product_id"] for r in rows}


def store_campaigns(runtime: Runtime, brand_id: str, campaigns: list[CampaignRecord], now: datetime) -> None:
    """MERGE campaigns; replace each campaign's promoted products."""
    if not campaigns:
        return
    table = pa.Table.from_pylist([c.row(brand_id, now) for c in campaigns], schema=CAMPAIGN_SCHEMA)
    runtime.warehouse.merge("ad_campaigns", table, ["brand_id", "platform", "account_id", "campaign_id"])
    for c in campaigns:
        runtime.warehouse.execute(
            "DELETE FROM ad_campaign_products WHERE brand_id = @brand_id AND platform = @platform "
            "AND campaign_id = @campaign_id",
            {"brand_id": brand_id, "platform": c.platform, "campaign_id": c.campaign_id},
        )
    products = [p.row(brand_id) for c in campaigns for p in c.products]
    if products:
        runtime.warehouse.insert("ad_campaign_products", products)


def store_chunk(
    runtime: Runtime,
    brand_id: str,
    platform: str,
    account_id: str,
    start: date,
    end: date,
    records: list[PerformanceRecord],
    now: datetime,
) -> int:
    """Replace the account's ``ad_performance`` rows of ``[start, end)`` with ``records``."""
    rows = [r.row(brand_id, now) for r in records if start <= r.stat_date < end]
    if len(rows) != len(records):
        _log(
            "WARNING",
            "rows_outside_window",
            brand_id=brand_id,
            platform=platform,
            dropped=len(records) - len(rows),
        )
    table = pa.Table.from_pylist(rows, schema=PERFORMANCE_SCHEMA)
    return runtime.warehouse.replace_window(
        "ad_performance",
        table,
        date_column="stat_date",
        start=start,
        end=end,
        where={"brand_id": brand_id, "platform": platform, "account_id": account_id},
    )


# --- connect ------------------------------------------------------------------------------------


def connect_ad_account(
    runtime: Runtime,
    platform: str,
    brand_id: str,
    account_id: str,
    token: str,
    *,
    login_customer_id: str | None = None,
    policy: RetryPolicy | None = None,
) -> AccountInfo:
    """Check the token against the platform, store it in the secret store, record the integration.

    Raises:
        AdSyncUsageError: Unknown platform, empty token, or the platform rejected the token.
    """
    check_platform(platform)
    account_id = normalise_account_id(platform, account_id)
    if not token.strip():
        raise AdSyncUsageError("--token is empty")
    if not account_id:
        raise AdSyncUsageError("--account is empty")
    developer = google_developer_token(runtime) if platform == "google_ads" else ""
    connector = open_connector(
        platform,
        runtime.settings,
        token=token,
        account_id=account_id,
        policy=policy or default_policy(),
        login_customer_id=login_customer_id,
        developer_token=developer,
    )
    try:
        info = connector.account_info()
    except (NeedsReauth, FatalError) as e:
        raise AdSyncUsageError(f"{platform} rejected the account or token: {e}") from e
    finally:
        connector.close()
    secret_id = names.integration_secret_id(brand_id, platform, account_id)
    runtime.secrets.put(secret_id, token)
    now = datetime.now(UTC)
    existing = [r for r in integrations(runtime, brand_id, platform) if r["account_id"] == account_id]
    runtime.warehouse.merge(
        "integrations",
        [
            {
                "brand_id": brand_id,
                "platform": platform,
                "account_id": account_id,
                "secret_ref": secret_id,
                "status": "active",
                "scopes": None,
                "account_timezone": info.timezone,
                "account_currency": info.currency,
                "login_customer_id": (login_customer_id or "").replace("-", "") or None,
                "connected_at": existing[0]["connected_at"] if existing else now,
                "last_synced_at": existing[0]["last_synced_at"] if existing else None,
                "updated_at": now,
            }
        ],
        ["brand_id", "platform", "account_id"],
    )
    _log("INFO", "connected", brand_id=brand_id, platform=platform, account_id=account_id)
    return info


# --- sync ---------------------------------------------------------------------------------------


def _window(
    settings: Settings,
    platform: str,
    state: dict[str, Any] | None,
    today: date,
    since: date | None,
    full: bool,
) -> dict[str, Any]:
    """The checkpoint to run: a resumed one, or a fresh window."""
    end = today + timedelta(days=1)
    cp = json.loads(state["checkpoint"]) if state and state.get("checkpoint") else None
    if cp and cp.get("next") and since is None and not full:
        cp["window_end"] = max(cp["window_end"], end.isoformat())
        return cp
    trailing = getattr(settings, TRAILING_SETTING[platform])
    if since is not None:
        start = since
    elif full or not (state and state.get("cursor_value")):
        start = end - timedelta(days=settings.ads_history_days)
    else:
        start = min(date.fromisoformat(state["cursor_value"]), end) - timedelta(days=trailing)
    start = min(start, end)
    return {
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "next": start.isoformat(),
        "chunk": {},
    }


def sync_ads(
    runtime: Runtime,
    platform: str,
    brand_id: str,
    *,
    since: date | None = None,
    full: bool = False,
    today: date | None = None,
    policy: RetryPolicy | None = None,
    clock: Callable[[], float] = time.monotonic,
    deadline_seconds: float | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> AdSyncResult:
    """Sync one platform's ad accounts of a brand into the warehouse (module docstring).

    Args:
        runtime: Settings and ports.
        platform: ``meta`` | ``tiktok`` | ``google_ads``.
        brand_id: The brand.
        since: Pull from this account-local date (instead of the cursor minus the trailing days).
        full: Pull the whole history (``TOWER_ADS_HISTORY_DAYS``).
        today: The account-local "today" (tests pin it; default: now in the account's timezone).
        policy: Retry policy (tests inject one whose sleep never sleeps).
        clock: Monotonic clock for the deadline.
        deadline_seconds: Stop after this long (default ``TOWER_ADS_SYNC_DEADLINE_SECONDS``).
        progress: Called as ``progress(account_id, chunks_done, chunks_total)``.

    Raises:
        AdSyncUsageError: Unknown platform.
        RetriesExhausted: The platform kept failing; state is saved, calling again resumes.
    """
    check_platform(platform)
    settings = runtime.settings
    policy = policy or default_policy()
    t0 = clock()
    budget = settings.ads_sync_deadline_seconds if deadline_seconds is None else deadline_seconds

    def out_of_time() -> bool:
        return clock() - t0 >= budget

    result = AdSyncResult(brand_id, platform)
    handles: dict[str, str] | None = None
    for integ in integrations(runtime, brand_id, platform):
        account_id = integ["account_id"]
        acct = AccountSyncResult(account_id)
        result.accounts.append(acct)
        if integ["status"] != "active":
            acct.status = "needs_reauth" if integ["status"] == "needs_reauth" else "failed"
            acct.error = f"integration is {integ['status']}"
            continue
        if handles is None:
            handles = handle_to_product(runtime, brand_id)
        state = read_state(runtime, brand_id, platform, account_id)
        connector: AdConnector | None = None
        cp: dict[str, Any] | None = None
        try:
            token = runtime.secrets.get(integ["secret_ref"])
            developer = google_developer_token(runtime) if platform == "google_ads" else ""
            connector = open_connector(
                platform,
                settings,
                token=token,
                account_id=account_id,
                policy=policy,
                login_customer_id=integ.get("login_customer_id"),
                developer_token=developer,
                handle_to_product=handles,
                out_of_time=out_of_time,
            )
            info = connector.account_info()
            local_today = today or datetime.now(ZoneInfo(info.timezone)).date()
            if hasattr(connector, "today"):
                connector.today = local_today  # Google: the window for Shopping product ids
            now = datetime.now(UTC)
            campaigns = connector.campaigns()
            store_campaigns(runtime, brand_id, campaigns, now)
            acct.campaigns = len(campaigns)
            cp = _window(settings, platform, state, local_today, since, full)
            acct.window_start, acct.window_end = cp["window_start"], cp["window_end"]
            _run_chunks(
                runtime,
                connector,
                brand_id,
                platform,
                account_id,
                cp,
                state,
                acct,
                settings,
                out_of_time,
                progress,
            )
            if acct.status == "ok":
                cursor = max(cp["window_end"], (state or {}).get("cursor_value") or "")
                write_state(
                    runtime, brand_id, platform, account_id, status="idle", cursor=cursor, checkpoint=None
                )
                mark_integration(
                    runtime,
                    brand_id,
                    platform,
                    account_id,
                    last_synced_at=datetime.now(UTC),
                    account_currency=info.currency,
                    account_timezone=info.timezone,
                )
        except NeedsReauth as e:
            acct.status, acct.error = "needs_reauth", redact(str(e))
            mark_integration(runtime, brand_id, platform, account_id, status="needs_reauth")
            write_state(
                runtime,
                brand_id,
                platform,
                account_id,
                status="needs_reauth",
                cursor=(state or {}).get("cursor_value"),
                checkpoint=cp or _checkpoint_of(state),
                error=acct.error,
            )
            _log("WARNING", "needs_reauth", brand_id=brand_id, platform=platform, account_id=account_id)
        except FatalError as e:
            acct.status, acct.error = "failed", redact(str(e))
            write_state(
                runtime,
                brand_id,
                platform,
                account_id,
                status="failed",
                cursor=(state or {}).get("cursor_value"),
                checkpoint=cp or _checkpoint_of(state),
                error=acct.error,
            )
            _log(
                "ERROR",
                "sync_failed",
                brand_id=brand_id,
                platform=platform,
                account_id=account_id,
                error=acct.error,
            )
            if isinstance(e, RetriesExhausted):
                raise  # worth another task attempt later; a fatal error is not
        finally:
            if connector is not None:
                connector.close()
    _log("INFO", "sync_finished", brand_id=brand_id, platform=platform, status=result.status)
    return result


def _checkpoint_of(state: dict[str, Any] | None) -> dict[str, Any] | None:
    return json.loads(state["checkpoint"]) if state and state.get("checkpoint") else None


def _run_chunks(
    runtime: Runtime,
    connector: AdConnector,
    brand_id: str,
    platform: str,
    account_id: str,
    cp: dict[str, Any],
    state: dict[str, Any] | None,
    acct: AccountSyncResult,
    settings: Settings,
    out_of_time: Callable[[], bool],
    progress: Callable[[str, int, int], None] | None,
) -> None:
    """Pull, store and checkpoint ``[next, window_end)`` chunk by chunk (sets ``acct.status``)."""
    cursor = (state or {}).get("cursor_value")
    end = date.fromisoformat(cp["window_end"])
    step = timedelta(days=settings.ads_chunk_days)
    first = date.fromisoformat(cp["window_start"])
    acct.chunks_total = max(1, -(-(end - first).days // step.days))

    def save() -> None:
        write_state(runtime, brand_id, platform, account_id, status="running", cursor=cursor, checkpoint=cp)

    save()
    while date.fromisoformat(cp["next"]) < end:
        start = date.fromisoformat(cp["next"])
        chunk_end = min(end, start + step)
        acct.chunks_done = (start - first).days // step.days
        if progress:
            progress(account_id, acct.chunks_done, acct.chunks_total)
        if out_of_time():
            acct.status = "partial"
            return
        try:
            records = connector.performance(start, chunk_end, cp.setdefault("chunk", {}), save)
        except Suspend:
            save()
            acct.status = "partial"
            return
        acct.rows += store_chunk(
            runtime, brand_id, platform, account_id, start, chunk_end, records, datetime.now(UTC)
        )
        cp["next"] = chunk_end.isoformat()
        cp["chunk"] = {}
        save()
    acct.chunks_done = acct.chunks_total
    if progress:
        progress(account_id, acct.chunks_total, acct.chunks_total)


# --- the pipeline's entry points ----------------------------------------------------------------


def _sync_for_pipeline(
    platform: str, runtime: Runtime, brand_id: str, *, full: bool = False, since: date | None = None
) -> dict[str, Any]:
    return sync_ads(runtime, platform, brand_id, since=since, full=full).as_dict()


def sync_meta_brand(
    runtime: Runtime, brand_id: str, *, full: bool = False, since: date | None = None
) -> dict[str, Any]:
    """Sync a brand's Meta ad accounts (the ``sync_meta`` task)."""
    return _sync_for_pipeline("meta", runtime, brand_id, full=full, since=since)


def sync_tiktok_brand(
    runtime: Runtime, brand_id: str, *, full: bool = False, since: date | None = None
) -> dict[str, Any]:
    """Sync a brand's TikTok advertisers (the ``sync_tiktok`` task)."""
    return _sync_for_pipeline("tiktok", runtime, brand_id, full=full, since=since)


def sync_google_ads_brand(
    runtime: Runtime, brand_id: str, *, full: bool = False, since: date | None = None
) -> dict[str, Any]:
    """Sync a brand's Google Ads customers (the ``sync_google_ads`` task)."""
    return _sync_for_pipeline("google_ads", runtime, brand_id, full=full, since=since)
