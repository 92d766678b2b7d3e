"""The sync every ad platform shares: trailing re-pull, idempotent loads, checkpoints.

For each connected ad account of a brand (``integrations``) the sync:

1. reads the token from the secret store and opens the platform's connector (SDK imported then);
2. stores campaign metadata: ``ad_campaigns`` MERGEd on (brand, platform, account, campaign);
   ``ad_campaign_products`` (product sets, Shopping items) and ``ad_campaign_destinations`` (the product
   handles ads link to, matched to products by the models) replaced per campaign. The reads that say
   which products a campaign promotes (Meta ad sets / ads / product sets, TikTok ad groups / ads /
   catalog sets, Google ``shopping_performance_view`` / ``ad_group_ad``) **degrade, never drop**: when
   one fails (a permission the token lacks, an account type without Shopping data) the account's spend
   and conversions are synced all the same, its campaigns are stored with no products (so they count as
   promoting unknown products: the models spread their spend over the products sold), and the
   integration carries the warning ``product_mapping_unavailable`` with its fix until a sync reads
   the mapping again and clears it;
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
5. checkpoints in ``sync_state`` (:mod:`tower.sync.state`) after each chunk (``checkpoint`` = the
   window and the next chunk, plus any Meta report run in flight), so a crash, a timeout or a rerun
   resumes where it stopped. The sync stops by itself after ``TOWER_ADS_SYNC_DEADLINE_SECONDS``
   (event functions end at 9 minutes) with status ``partial``; calling it again continues.

An expired or revoked token marks the integration ``needs_reauth`` and stops that account cleanly;
a platform that keeps failing after the retry policy's attempts raises :class:`RetriesExhausted`
(so a task queue retries the event) with the state saved for resuming.

The rows are typed by the DDL (:func:`tower.sql.arrow_schema`), not by schemas written here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from tower import sql
from tower.config import Settings
from tower.connectors.ad_platforms import AdConnector, AdSyncUsageError, check_platform
from tower.connectors.ads_records import (
    AccountInfo,
    CampaignRecord,
    MappingUnavailable,
    PerformanceRecord,
    Suspend,
)
from tower.connectors.retry import FatalError, NeedsReauth, RetriesExhausted
from tower.ports import Warehouse
from tower.redact import redact
from tower.sync import geo_targets, outcomes
from tower.sync.connect import integrations, mark_integration, open_integration
from tower.sync.grants import lapsing_expiry
from tower.sync.progress import recording
from tower.sync.run import RunOptions, SyncPorts
from tower.sync.state import SyncState, SyncStates

log = logging.getLogger(__name__)

__all__ = [
    "AccountSyncResult",
    "AccountTables",
    "AdSync",
    "AdSyncResult",
    "AdSyncUsageError",
    "store_campaign_budget",
    "sync_ads",
    "sync_google_ads_brand",
    "sync_meta_brand",
    "sync_tiktok_brand",
    "window",
]

RESOURCE = "ad_performance"
TRAILING_SETTING = {
    "meta": "meta_trailing_days",
    "tiktok": "tiktok_trailing_days",
    "google_ads": "google_ads_trailing_days",
}
CAMPAIGN_KEY = ["brand_id", "platform", "account_id", "campaign_id"]
MAPPING_WARNING = "product_mapping_unavailable"
GRANT_WARNING = "authorization_expiring"
#: How long before a grant that cannot be refreshed lapses the integration starts saying so.
GRANT_WARNING_BEFORE = timedelta(days=7)
_LABELS = {"meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads"}
# What lets each platform's token read the campaigns' products again (the fix a warning names).
_MAPPING_FIX = {
    "meta": "let the token read the ad sets, ads and product catalog (ads_read, and catalog_management with the "
            "system user assigned to the catalog), then tower connect meta --brand {brand} --account {account} "
            "--token T",
    "tiktok": "share the catalog with the app in TikTok Business Center and let the token read ad groups and ads, "
              "then tower connect tiktok --brand {brand} --account {account} --token T",
    "google_ads": "give the user read access to the customer's Shopping reports and ads (an account type without "
                  "Shopping data has none to give), then tower connect google_ads --brand {brand} --account "
                  "{account} --token T",
}


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
    unmapped_campaigns: int = 0  # campaigns stored without products because a mapping read failed
    warnings: list[dict[str, str]] = field(default_factory=list)  # {code, message, fix}
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
            "warnings": [f"{a.account_id}: {w['message']}. Fix: {w['fix']}" for a in self.accounts
                         for w in a.warnings],
            "accounts": [asdict(a) for a in self.accounts],
        }


# --- the warehouse side -------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountTables:
    """Where one ad account's rows go: its campaigns, their promoted products, its daily performance."""

    warehouse: Warehouse
    brand_id: str
    platform: str
    account_id: str

    def store_campaigns(self, campaigns: list[CampaignRecord], now: datetime) -> None:
        """MERGE campaigns; replace each campaign's promoted products and destination handles.

        Destination handles are stored as the ads say them, not matched to products here: an ad sync
        that runs before the store's first sync would find no product to match, and the mapping would
        depend on which sync came first. The models match them (``stg_ads__campaign_products``).
        """
        if not campaigns:
            return
        table = pa.Table.from_pylist(
            [c.row(self.brand_id, now) for c in campaigns], schema=sql.arrow_schema("ad_campaigns", not_null=False)
        )
        self.warehouse.merge("ad_campaigns", table, CAMPAIGN_KEY)
        for c in campaigns:
            ids = {"brand_id": self.brand_id, "platform": c.platform, "campaign_id": c.campaign_id}
            self.warehouse.execute(
                "DELETE FROM ad_campaign_products WHERE brand_id = @brand_id AND platform = @platform "
                "AND campaign_id = @campaign_id", ids,
            )
            self.warehouse.execute(
                "DELETE FROM ad_campaign_destinations WHERE brand_id = @brand_id AND platform = @platform "
                "AND campaign_id = @campaign_id", ids,
            )
        products = [p.row(self.brand_id) for c in campaigns for p in c.products]
        if products:
            self.warehouse.insert("ad_campaign_products", products)
        destinations = [row for c in campaigns for row in c.destination_rows(self.brand_id)]
        if destinations:
            self.warehouse.insert("ad_campaign_destinations", destinations)

    def store_chunk(self, start: date, end: date, records: list[PerformanceRecord], now: datetime) -> int:
        """Replace the account's ``ad_performance`` rows of ``[start, end)`` with ``records``."""
        rows = [r.row(self.brand_id, now) for r in records if start <= r.stat_date < end]
        if len(rows) != len(records):
            log.warning("ad rows outside the window dropped", extra={
                "brand_id": self.brand_id, "platform": self.platform, "dropped": len(records) - len(rows)})
        table = pa.Table.from_pylist(rows, schema=sql.arrow_schema("ad_performance", not_null=False))
        return self.warehouse.replace_window(
            "ad_performance", table, date_column="stat_date", start=start, end=end,
            where={"brand_id": self.brand_id, "platform": self.platform, "account_id": self.account_id},
        )


def store_campaign_budget(tables: AccountTables, campaign_id: str, amount: Any, now: datetime) -> None:
    """Record a campaign's daily budget after the platform took a change (the next sync agrees)."""
    tables.warehouse.merge("ad_campaigns", [{
        "brand_id": tables.brand_id, "platform": tables.platform, "account_id": tables.account_id,
        "campaign_id": campaign_id, "daily_budget_amount": amount, "updated_at": now,
    }], CAMPAIGN_KEY)


def window(settings: Settings, platform: str, state: SyncState, today: date, *,
           since: date | None, full: bool) -> dict[str, Any]:
    """The checkpoint to run: a resumed one, or a fresh window (module docstring, step 3)."""
    end = today + timedelta(days=1)
    cp = state.checkpoint_data()
    if cp and cp.get("next") and since is None and not full:
        cp["window_end"] = max(cp["window_end"], end.isoformat())
        return cp
    trailing = getattr(settings, TRAILING_SETTING[platform])
    if since is not None:
        start = since
    elif full or not state.cursor_value:
        start = end - timedelta(days=settings.ads_history_days)
    else:
        start = min(date.fromisoformat(state.cursor_value), end) - timedelta(days=trailing)
    start = min(start, end)
    return {
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "next": start.isoformat(),
        "chunk": {},
    }


# --- the sync -----------------------------------------------------------------------------------


@dataclass
class _Account:
    """One account's run: where its rows and state go, what it read, and what it did."""

    integ: dict[str, Any]
    tables: AccountTables
    states: SyncStates
    state: SyncState
    result: AccountSyncResult
    checkpoint: dict[str, Any] | None = None


class AdSync:
    """One sync run of one platform's ad accounts of a brand (see :func:`sync_ads`). Building one
    does no I/O.

    Raises:
        AdSyncUsageError: Unknown platform.
    """

    def __init__(self, ports: SyncPorts, platform: str, brand_id: str, options: RunOptions | None = None) -> None:
        self.ports = ports
        self.platform = check_platform(platform)
        self.brand_id = brand_id
        self.options = options or RunOptions()
        self.policy = self.options.retry_policy()
        deadline = self.options.deadline_seconds
        self.deadline = ports.settings.ads_sync_deadline_seconds if deadline is None else deadline
        self.result = AdSyncResult(brand_id, platform)
        self._t0 = self.options.monotonic()

    def out_of_time(self) -> bool:
        """Whether the run's deadline has passed (it then stops at a checkpoint)."""
        return self.options.monotonic() - self._t0 >= self.deadline

    def run(self, *, full: bool = False, since: date | None = None) -> AdSyncResult:
        """Sync every connected account of the platform (or resume the sync that was cut off).

        Raises:
            RetriesExhausted: The platform kept failing; state is saved, calling again resumes.
        """
        warehouse = self.ports.warehouse
        for integ in integrations(warehouse, self.brand_id, self.platform):
            account_id = integ["account_id"]
            acct = AccountSyncResult(account_id)
            self.result.accounts.append(acct)
            if integ["status"] != "active":
                acct.status = "needs_reauth" if integ["status"] == "needs_reauth" else "failed"
                acct.error = f"integration is {integ['status']}"
                continue
            states = SyncStates(warehouse, self.brand_id, self.platform, account_id, self.options.now)
            account = _Account(integ, AccountTables(warehouse, self.brand_id, self.platform, account_id), states,
                               states.read(RESOURCE), acct)
            self._sync_account(account, full=full, since=since)
        log.info("ad sync finished", extra={"brand_id": self.brand_id, "platform": self.platform,
                                            "status": self.result.status})
        return self.result

    def _sync_account(self, account: _Account, *, full: bool, since: date | None) -> None:
        """Campaigns, then the window chunk by chunk; a failure is recorded on the account (and
        re-raised when another attempt may cure it)."""
        connector: AdConnector | None = None
        try:
            connector = open_integration(self.ports, account.integ, self.policy, out_of_time=self.out_of_time)
            geo_targets.prime(connector, self.ports.warehouse)  # Google: region ids resolved by earlier syncs
            info = connector.account_info()
            today = self.options.today or self.options.now().astimezone(ZoneInfo(info.timezone)).date()
            if hasattr(connector, "today"):
                connector.today = today  # Google: the window for Shopping product ids
            campaigns = connector.campaigns()
            self._map_products(connector, account, campaigns)
            self._grant_lapsing(account)
            account.tables.store_campaigns(campaigns, self.options.now())
            account.result.campaigns = len(campaigns)
            cp = account.checkpoint = window(self.ports.settings, self.platform, account.state, today,
                                             since=since, full=full)
            account.result.window_start, account.result.window_end = cp["window_start"], cp["window_end"]
            self._run_chunks(connector, account)
            if account.result.status == "ok":
                self._finish(account, info)
        except NeedsReauth as e:
            self._stopped(account, "needs_reauth", redact(str(e)))
        except FatalError as e:
            self._stopped(account, "failed", redact(str(e)))
            if isinstance(e, RetriesExhausted):
                raise  # worth another task attempt later; a fatal error is not
        finally:
            if connector is not None:
                geo_targets.keep(connector, self.ports.warehouse, self.options.now())
                connector.close()

    def _map_products(self, connector: AdConnector, account: _Account, campaigns: list[CampaignRecord]) -> None:
        """Give each campaign the products it promotes; a failed mapping read leaves them all without
        (promoting unknown products) and raises the integration's warning, a good one clears it."""
        acct = account.result
        try:
            ids = [c.campaign_id for c in campaigns]
            found, handles = connector.promoted_products(ids), connector.destinations(ids)
        except MappingUnavailable as e:
            for c in campaigns:
                c.products, c.destinations = [], []
            acct.unmapped_campaigns = len(campaigns)
            warning = {"code": MAPPING_WARNING, "message": redact(
                f"{_LABELS[self.platform]} could not read {e.read} ({e.reason}): spend and conversions are stored, "
                f"but the account's {len(campaigns)} campaign(s) count as promoting unknown products (their spend "
                "is spread over the products sold) until a sync reads it"),
                "fix": _MAPPING_FIX[self.platform].format(brand=self.brand_id, account=acct.account_id)}
            acct.warnings.append(warning)
            log.warning("ad product mapping unavailable; spend synced without it", extra={
                "brand_id": self.brand_id, "platform": self.platform, "account_id": acct.account_id,
                "read": e.read, "code": e.code})
            if self.ports.store is not None:
                outcomes.raise_warning(self.ports.store, self.brand_id, self.platform, acct.account_id,
                                       code=MAPPING_WARNING, message=warning["message"], fix=warning["fix"],
                                       now=self.options.now())
            return
        for c in campaigns:
            c.products = found.get(c.campaign_id, [])
            c.destinations = handles.get(c.campaign_id, [])
        if self.ports.store is not None:
            outcomes.clear_warning(self.ports.store, self.brand_id, self.platform, acct.account_id, MAPPING_WARNING)

    def _grant_lapsing(self, account: _Account) -> None:
        """A grant nothing can refresh (Meta's) that lapses within a week: a standing warning saying when."""
        if self.ports.store is None:
            return
        acct, now = account.result, self.options.now()
        expires = lapsing_expiry(self.ports.secrets, account.integ)
        if expires is None or expires - now > GRANT_WARNING_BEFORE:
            outcomes.clear_warning(self.ports.store, self.brand_id, self.platform, acct.account_id, GRANT_WARNING)
            return
        label = _LABELS[self.platform]
        outcomes.raise_warning(
            self.ports.store, self.brand_id, self.platform, acct.account_id, code=GRANT_WARNING,
            message=f"{label}'s authorization ends on {expires:%Y-%m-%d %H:%M} UTC; syncs stop then",
            fix=f"Reconnect {label} before then: Reconnect on the page, or tower connect {self.platform} --brand "
                f"{self.brand_id} --oauth", now=now)

    def _run_chunks(self, connector: AdConnector, account: _Account) -> None:
        """Pull, store and checkpoint ``[next, window_end)`` chunk by chunk (sets the account's status)."""
        cp, acct = account.checkpoint, account.result
        assert cp is not None
        end = date.fromisoformat(cp["window_end"])
        step = timedelta(days=self.ports.settings.ads_chunk_days)
        first = date.fromisoformat(cp["window_start"])
        acct.chunks_total = max(1, -(-(end - first).days // step.days))

        def save() -> None:
            account.states.write(RESOURCE, status="running", cursor_value=account.state.cursor_value, checkpoint=cp)

        save()
        while date.fromisoformat(cp["next"]) < end:
            start = date.fromisoformat(cp["next"])
            chunk_end = min(end, start + step)
            acct.chunks_done = (start - first).days // step.days
            self.options.report(acct.account_id, acct.chunks_done, acct.chunks_total, acct.rows)
            if self.out_of_time():
                acct.status = "partial"
                return
            try:
                records = connector.performance(start, chunk_end, cp.setdefault("chunk", {}), save)
            except Suspend:
                save()
                acct.status = "partial"
                return
            acct.rows += account.tables.store_chunk(start, chunk_end, records, self.options.now())
            cp["next"] = chunk_end.isoformat()
            cp["chunk"] = {}
            save()
        acct.chunks_done = acct.chunks_total
        self.options.report(acct.account_id, acct.chunks_total, acct.chunks_total, acct.rows)

    def _finish(self, account: _Account, info: AccountInfo) -> None:
        """The whole window is stored: move the cursor to its end and stamp the integration."""
        assert account.checkpoint is not None
        cursor = max(account.checkpoint["window_end"], account.state.cursor_value or "")
        account.states.write(RESOURCE, status="idle", cursor_value=cursor, checkpoint=None)
        mark_integration(self.ports.warehouse, self.brand_id, self.platform, account.result.account_id,
                         self.options.now(), last_synced_at=self.options.now(), account_currency=info.currency,
                         account_timezone=info.timezone)

    def _stopped(self, account: _Account, status: str, error: str) -> None:
        """The platform refused (``needs_reauth``) or failed: record it, keeping the checkpoint to resume."""
        acct = account.result
        acct.status, acct.error = status, error
        fields = {"brand_id": self.brand_id, "platform": self.platform, "account_id": acct.account_id}
        if status == "needs_reauth":
            mark_integration(self.ports.warehouse, self.brand_id, self.platform, acct.account_id,
                             self.options.now(), status="needs_reauth")
        account.states.write(RESOURCE, status=status, cursor_value=account.state.cursor_value,
                             checkpoint=account.checkpoint or account.state.checkpoint, error=error)
        if status == "needs_reauth":
            log.warning("ad token rejected", extra=fields)
        else:
            log.error("ad sync failed", extra={**fields, "error": error})


def sync_ads(
    ports: SyncPorts,
    platform: str,
    brand_id: str,
    *,
    full: bool = False,
    since: date | None = None,
    options: RunOptions | None = None,
) -> AdSyncResult:
    """Sync one platform's ad accounts of a brand into the warehouse (module docstring).

    Args:
        ports: Settings and the warehouse and secrets (a Runtime is one).
        platform: ``meta`` | ``tiktok`` | ``google_ads``.
        brand_id: The brand.
        full: Pull the whole history (``TOWER_ADS_HISTORY_DAYS``).
        since: Pull from this account-local date (instead of the cursor minus the trailing days).
        options: Clocks, the deadline (default ``TOWER_ADS_SYNC_DEADLINE_SECONDS``), the retry policy,
            a pinned account-local ``today``, and ``progress(account_id, chunks_done, chunks_total)``.

    Raises:
        AdSyncUsageError: Unknown platform.
        RetriesExhausted: The platform kept failing; state is saved, calling again resumes.
    """
    return AdSync(ports, platform, brand_id, options).run(full=full, since=since)


# --- the pipeline's entry points ----------------------------------------------------------------


def sync_meta_brand(runtime: SyncPorts, brand_id: str, *, full: bool = False, since: date | None = None) -> dict[str, Any]:
    """Sync a brand's Meta ad accounts (the ``sync_meta`` task)."""
    return sync_ads(runtime, "meta", brand_id, full=full, since=since,
                    options=RunOptions(progress=recording(runtime, brand_id, "meta"))).as_dict()


def sync_tiktok_brand(runtime: SyncPorts, brand_id: str, *, full: bool = False, since: date | None = None) -> dict[str, Any]:
    """Sync a brand's TikTok advertisers (the ``sync_tiktok`` task)."""
    return sync_ads(runtime, "tiktok", brand_id, full=full, since=since,
                    options=RunOptions(progress=recording(runtime, brand_id, "tiktok"))).as_dict()


def sync_google_ads_brand(
    runtime: SyncPorts, brand_id: str, *, full: bool = False, since: date | None = None
) -> dict[str, Any]:
    """Sync a brand's Google Ads customers (the ``sync_google_ads`` task)."""
    return sync_ads(runtime, "google_ads", brand_id, full=full, since=since,
                    options=RunOptions(progress=recording(runtime, brand_id, "google_ads"))).as_dict()
