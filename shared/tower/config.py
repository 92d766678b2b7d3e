"""One typed settings registry for the whole product.

Every setting carries a type, a default and a help line (its ``description``); secrets are flagged
with ``json_schema_extra={"secret": True}``. ``.env.example`` and the README's settings table are
generated from this class (``tower settings --format env|markdown``) and a test fails when they drift.

Adapters are chosen here, by URL, and nowhere else:

* ``TOWER_WAREHOUSE``: ``duckdb:///PATH`` or ``bigquery://PROJECT/DATASET``
* ``TOWER_STORE``:     ``local:///PATH`` or ``firestore://PROJECT[/DATABASE]``
* ``TOWER_BUS``:       ``local`` (``local:///PATH``) or ``pubsub://PROJECT``
* ``TOWER_TASKS``:     ``local`` (``local:///PATH``) or ``cloudtasks://PROJECT/LOCATION``
* ``TOWER_SECRETS``:   ``local:///PATH`` or ``secretmanager://PROJECT``
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tower.redact import remember


class ConfigError(ValueError):
    """A setting has a value the product cannot use."""


@dataclass(frozen=True)
class AdapterUrl:
    """A parsed adapter URL: ``scheme://netloc/path``."""

    scheme: str
    netloc: str
    path: str

    @property
    def parts(self) -> list[str]:
        return [p for p in [self.netloc, *self.path.split("/")] if p]


def parse_adapter_url(value: str, allowed: tuple[str, ...], setting: str) -> AdapterUrl:
    """Parse an adapter URL and check its scheme is one the product knows."""
    if value in allowed:  # bare scheme, e.g. "local"
        return AdapterUrl(value, "", "")
    parsed = urlparse(value)
    if parsed.scheme not in allowed:
        raise ConfigError(f"{setting}={value!r}: scheme must be one of {', '.join(allowed)}")
    return AdapterUrl(parsed.scheme, parsed.netloc, parsed.path)


EMBEDDED_FILES: dict[str, tuple[str, str]] = {
    "warehouse": ("duckdb", "warehouse.duckdb"),
    "store": ("local", "store.sqlite"),
    "bus": ("local", "bus.sqlite"),
    "tasks": ("local", "tasks.sqlite"),
    "secrets": ("local", "secrets"),
}
"""Adapter setting -> (scheme, file under ``data_dir``) of the embedded default."""


def embedded_url(scheme: str, path: Path) -> str:
    """The adapter URL of a local file: ``duckdb:///rel/x`` for a relative path, ``duckdb:////abs/x`` for an
    absolute one (the URL's path is the file's path after one more slash)."""
    return f"{scheme}:///{path.as_posix()}"


def _secret(description: str) -> Any:
    return Field(default="", description=description, json_schema_extra={"secret": True})


class Settings(BaseSettings):
    """Control Tower settings, read from ``TOWER_*`` environment variables (and ``.env``)."""

    model_config = SettingsConfigDict(env_prefix="TOWER_", env_file=".env", extra="ignore")

    # --- adapters -----------------------------------------------------------------------------
    warehouse: str = Field(
        default="duckdb:///.tower/warehouse.duckdb",
        description="Analytics warehouse: duckdb:///PATH (embedded) or bigquery://PROJECT/DATASET.",
    )
    warehouse_staging_bucket: str = Field(
        default="",
        description="BigQuery only: the Cloud Storage bucket files wait in while a load job reads them "
        "(a Shopify bulk export's blocks); objects are deleted after each load.",
    )
    storage_origin: str = Field(
        default="https://storage.googleapis.com",
        description="Origin of the Cloud Storage JSON API the BigQuery warehouse stages files through.",
    )
    store: str = Field(
        default="local:///.tower/store.sqlite",
        description="Document store: local:///PATH (SQLite) or firestore://PROJECT[/DATABASE].",
    )
    bus: str = Field(
        default="local:///.tower/bus.sqlite",
        description="Event bus: local[:///PATH] (durable SQLite queue) or pubsub://PROJECT.",
    )
    tasks: str = Field(
        default="local:///.tower/tasks.sqlite",
        description="Task queue: local[:///PATH] (durable SQLite queue) or cloudtasks://PROJECT/LOCATION.",
    )
    secrets: str = Field(
        default="local:///.tower/secrets",
        description="Secret store: local:///DIR (encrypted files) or secretmanager://PROJECT.",
    )
    tasks_target_url: str = Field(
        default="",
        description="Base URL of the deployed task-handler functions (Cloud Tasks HTTP targets).",
    )
    tasks_service_account: str = Field(
        default="",
        description="Service account Cloud Tasks uses to sign OIDC tokens for task-handler calls.",
    )

    # --- the local bus -----------------------------------------------------------------------
    bus_max_attempts: int = Field(
        default=5, ge=1, description="Deliveries of one message before it is parked as dead letter."
    )
    bus_backoff_seconds: float = Field(
        default=0.5, ge=0, description="First retry delay of the local bus; doubles per attempt."
    )
    bus_deliver_twice: bool = Field(
        default=False, description="Local bus delivers every message twice (tests at-least-once)."
    )

    # --- demo / sandbox ----------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path(".tower"),
        description="Where the embedded default keeps its files: the warehouse, store, bus, tasks and secrets "
        "settings left unset are files under it.",
    )
    seed: int = Field(default=7, description="Seed of the synthetic merchant world.")
    host: str = Field(default="127.0.0.1", description="Address the local API and sandbox servers bind.")
    port: int = Field(default=8080, description="Port of the local API and page.")

    # --- the dashboard API ---------------------------------------------------------------------
    api_max_body_bytes: int = Field(
        default=65536, ge=1024,
        description="Largest request body the API takes; a larger one is refused (413) before it is read.",
    )
    api_auth_failures_per_minute: int = Field(
        default=10, ge=1,
        description="Failed authentications one client address may make per minute before it gets 429.",
    )
    page_dir: str = Field(
        default="",
        description="Folder of the built merchant page the API serves (web/dist); empty: web/dist of the "
        "checkout, or of the functions' source zip the running code came from.",
    )
    webhook_max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=65536,
        description="Largest Shopify webhook body taken; a larger one is refused (413) before it is read "
        "(the HMAC can only be checked over the whole body, so an unsigned one would be read first).",
    )
    api_trusted_proxies: int = Field(
        default=0, ge=0, le=10,
        description="Proxies in front of the API that append the caller's address to X-Forwarded-For "
        "(1 behind Google's front end); 0 = the connecting address is the caller's.",
    )
    api_memo_seconds: float = Field(
        default=1.0, ge=0, le=60,
        description="Longest an API process reuses an API key's lookup and a ready default answer (dashboard, "
        "series, products, drilldowns) without seeing the store change; a change it sees (its own writes at once, "
        "another process's commit to the embedded store within 20 ms) ends them. A key revoked on another Firestore instance "
        "stops working within this many seconds; 0 reads every request from the store.",
    )

    # --- sign-in: sessions, Firebase Auth ID tokens, invitations (tower.identity) -------------------
    session_hours: int = Field(
        default=12, ge=1, le=720,
        description="How long a sign-in session lasts (absolute; sign-out or revoking the key ends it sooner).",
    )
    firebase_project_id: str = Field(
        default="demo-tower",
        description="Firebase / Identity Platform project: the ID tokens' audience and issuer "
        "(https://securetoken.google.com/<project>). A demo-* id works only with the Auth emulator.",
    )
    firebase_auth_emulator_host: str = Field(
        default="",
        description="host:port of the Firebase Auth emulator (loopback only; its tokens are unsigned and "
        "are confirmed with the emulator itself). `tower serve` starts one and sets this; empty in production.",
    )
    firebase_certs_url: str = Field(
        default="https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com",
        description="Google's public certificates of Firebase ID tokens (RS256; cached for their max-age).",
    )
    firebase_web_api_key: str = Field(
        default="",
        description="The Firebase project's Web API key (public: it names the project to the page's sign-in "
        "calls, it grants nothing). Empty with the Auth emulator, which takes any.",
    )
    invitation_hours: int = Field(
        default=72, ge=1, le=720, description="How long an e-mailed invitation link stays valid (it is also single use).",
    )

    # --- ad platforms (Meta, TikTok, Google Ads) ----------------------------------------------
    meta_api_origin: str = Field(
        default="https://graph.facebook.com",
        description="Origin of Meta's Graph API (the facebook-business SDK's GRAPH); the sandbox in dev.",
    )
    meta_api_version: str = Field(default="v26.0", description="Graph API version the Meta connector pins.")
    tiktok_api_origin: str = Field(
        default="https://business-api.tiktok.com",
        description="Origin of TikTok's Business API (paths stay /open_api/v1.3/...); the sandbox in dev.",
    )
    google_ads_endpoint: str = Field(
        default="googleads.googleapis.com:443",
        description="Google Ads API gRPC endpoint host:port; plaintext gRPC when the host is loopback.",
    )
    google_ads_api_version: str = Field(default="v26", description="Google Ads API version (google-ads SDK).")
    meta_trailing_days: int = Field(
        default=28, ge=0, description="Days of Meta data re-pulled on every sync (conversions restate ~28 days)."
    )
    google_ads_trailing_days: int = Field(
        default=14, ge=0, description="Days of Google Ads data re-pulled on every sync (conversion window)."
    )
    tiktok_trailing_days: int = Field(
        default=3, ge=0, description="Days of TikTok data re-pulled on every sync (data lags up to ~11 hours)."
    )
    ads_history_days: int = Field(
        default=90, ge=1, description="Days of ad history a first sync pulls when no --since is given."
    )
    ads_chunk_days: int = Field(
        default=30, ge=1, le=90,
        description="Days per ad report request; each chunk is stored and checkpointed before the next.",
    )
    ads_page_size: int = Field(
        default=500, ge=1, le=1000, description="Rows per page asked of Meta (limit) and TikTok (page_size)."
    )
    meta_async_min_days: int = Field(
        default=8, ge=1, description="Meta insights over this many days or more run as async report runs."
    )
    meta_async_poll_seconds: float = Field(
        default=2.0, ge=0, description="Wait between polls of a Meta async report run."
    )
    meta_usage_threshold_pct: float = Field(
        default=75.0, ge=1, le=100,
        description="Meta usage-header utilisation (%) at which the connector pauses before the limit.",
    )
    ads_sync_deadline_seconds: float = Field(
        default=480.0, ge=1,
        description="A sync stops after the chunk running at this many seconds and resumes on the next call "
        "(event functions end at 9 minutes).",
    )
    budget_max_change_pct: float = Field(
        default=50.0, gt=0, le=1000,
        description="Largest budget change allowed in one step, in percent of the current daily budget.",
    )
    promotion_discount_pct: float = Field(
        default=15.0, gt=0, le=90,
        description="Percent off that an accepted promotion card's automatic Shopify discount gives.",
    )
    promotion_days: int = Field(
        default=14, ge=1, le=90,
        description="Days an accepted promotion's discount runs before Shopify ends it.",
    )
    google_ads_developer_token: str = _secret(
        "Google Ads developer token (falls back to the secret store's google-ads-developer-token)."
    )

    # --- connecting ad accounts by OAuth (tower.sync.ad_oauth) ----------------------------------
    ad_oauth_redirect_base: str = Field(
        default="",
        description="Public origin of the API the ad platforms send people back to: redirect_uri is "
        "<this>/oauth/<platform>/callback; empty = TOWER_SHOPIFY_APP_URL.",
    )
    ad_oauth_state_seconds: int = Field(
        default=600, ge=30, le=3600,
        description="How long an ad-account authorization's state nonce stays valid (it is also single use).",
    )
    ad_oauth_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Socket timeout of one call to an ad platform's OAuth endpoints."
    )
    meta_app_id: str = Field(default="", description="The Meta app's id (the Facebook Login dialog's client_id).")
    meta_app_secret: str = _secret("The Meta app's secret (falls back to the secret store's meta-app-secret).")
    meta_login_config_id: str = Field(
        default="", description="Facebook Login for Business configuration id (config_id); empty = scopes only."
    )
    meta_dialog_origin: str = Field(
        default="https://www.facebook.com",
        description="Origin of Facebook's login dialog (/<version>/dialog/oauth); the sandbox in dev.",
    )
    tiktok_app_id: str = Field(default="", description="The TikTok for Business app's id (app_id).")
    tiktok_app_secret: str = _secret(
        "The TikTok for Business app's secret (falls back to the secret store's tiktok-app-secret)."
    )
    google_ads_client_id: str = Field(default="", description="The Google OAuth client id (a web application).")
    google_ads_client_secret: str = _secret(
        "The Google OAuth client secret (falls back to the secret store's google-ads-client-secret)."
    )
    google_ads_login_customer_id: str = Field(
        default="",
        description="Manager account (login-customer-id) that Google Ads accounts the OAuth picker reaches "
        "directly sign in through; empty = each account directly. A client reached through a manager signs "
        "in through that manager, kept with its integration.",
    )
    google_oauth_authorize_url: str = Field(
        default="https://accounts.google.com/o/oauth2/v2/auth",
        description="Google's OAuth 2.0 authorization endpoint; the sandbox in dev.",
    )
    google_oauth_token_uri: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google's OAuth 2.0 token endpoint (code exchange and refresh, through google-auth); the "
        "sandbox in dev.",
    )
    google_oauth_revoke_uri: str = Field(
        default="https://oauth2.googleapis.com/revoke", description="Google's token revocation endpoint."
    )

    # --- exchange rates (the ECB's euro foreign exchange reference rates) ------------------------
    ecb_origin: str = Field(
        default="https://www.ecb.europa.eu",
        description="Origin of the ECB's euro reference rates (paths stay /stats/eurofxref/eurofxref-*.xml; "
        "public, no key); the sandbox in dev.",
    )

    # --- Shopify (GraphQL Admin API) ----------------------------------------------------------
    shopify_api_version: str = Field(
        default="2026-04", pattern=r"^\d{4}-(01|04|07|10)$",
        description="Shopify Admin API version the connector pins (quarterly, ~12 months of support).",
    )
    shopify_api_origin: str = Field(
        default="",
        description="Origin (scheme://host:port) of the Admin API; empty = the shop's own https origin. "
        "The path stays /admin/api/<version>/graphql.json; the sandbox in dev.",
    )
    shopify_admin_schema: str = Field(
        default="",
        description="Path of Shopify's Admin GraphQL schema (SDL) the sandbox executes and tests validate "
        "against; empty = ../shared/schemas/shopify/admin-<version>.graphql beside the repository.",
    )
    shopify_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Socket timeout of one Shopify Admin API request."
    )
    shopify_bulk_min_pages: int = Field(
        default=3, ge=0,
        description="An orders window (a first sync, or changes since the last) runs as a bulk operation when "
        "paging it would take more than this many pages, at the page size its query's cost and the shop's "
        "cost bucket allow; smaller windows are paged.",
    )
    shopify_bulk_min_orders: int | None = Field(
        default=None, ge=0,
        description="Pin the bulk decision instead: an orders window of at least this many orders runs as a bulk "
        "operation, a smaller one is paged (0 = always bulk); unset = decide by pages.",
    )
    shopify_bulk_poll_seconds: float = Field(
        default=5.0, ge=0,
        description="Longest wait between polls of a running Shopify bulk operation (the first polls come "
        "sooner: half a second, then doubling).",
    )
    shopify_client_id: str = Field(
        default="",
        description="The Shopify app's client id (API key): the install URL's client_id and the session "
        "tokens' audience. The client secret is TOWER_SHOPIFY_API_SECRET or the secret store's shopify-api-secret.",
    )
    shopify_app_url: str = Field(
        default="",
        description="Public origin of the API (scheme://host[:port]) Shopify sends merchants back to: the "
        "install's redirect_uri is <this>/shopify/callback (also application_url in shopify.app.toml).",
    )
    shopify_app_bridge_url: str = Field(
        default="",
        description="Where the embedded page loads App Bridge from (Shopify requires its CDN in production: "
        "https://cdn.shopify.com/shopifycloud/app-bridge.js). Empty = Shopify's CDN, or, when TOWER_SHOPIFY_API_ORIGIN "
        "is set, the sandbox store's stand-in at <that origin>/shopifycloud/app-bridge.js.",
    )
    shopify_webhook_url: str = Field(
        default="",
        description="Address of the shopify_webhooks function; an install subscribes the store's webhooks to it "
        "(terraform output shopify_webhooks_url). Empty = no subscriptions are registered.",
    )
    shopify_oauth_state_seconds: int = Field(
        default=600, ge=30, le=3600,
        description="How long an install's state nonce stays valid (it is also single use).",
    )
    billing_plan_name: str = Field(
        default="Control Tower",
        description="The recurring plan a merchant subscribes to through Shopify's Billing API (its name on "
        "the merchant's invoice). Brands installed from Shopify need it (tower.billing says what they may do without).",
    )
    billing_price_amount: Decimal = Field(
        default=Decimal("49.00"), gt=0, description="The plan's price every 30 days, in TOWER_BILLING_CURRENCY.",
    )
    billing_currency: str = Field(
        default="USD", pattern=r"^[A-Z]{3}$", description="The plan's currency (Shopify bills apps in USD).",
    )
    billing_trial_days: int = Field(
        default=14, ge=0, le=365, description="Free trial days before Shopify first bills the plan.",
    )
    billing_test: bool = Field(
        default=False,
        description="Create test charges (Shopify bills nothing): for development stores and the sandbox.",
    )
    shopify_sync_deadline_seconds: float = Field(
        default=480.0, ge=1,
        description="A Shopify sync checkpoints and returns after this many seconds; the next call resumes "
        "(event functions end at 9 minutes).",
    )

    # --- decisions: recommendation rules and alerts (per-brand overrides in brands/{id}.thresholds) ---
    rule_reduce_roas_below: float = Field(
        default=2.5, ge=0, description="reduce_spend fires below this ROAS (with low cover and a large share)."
    )
    rule_reduce_cover_below_days: float = Field(
        default=14.0, ge=0, description="reduce_spend fires below this many days of cover."
    )
    rule_reduce_share_above: float = Field(
        default=0.10, ge=0, le=1, description="reduce_spend fires above this share of the brand's ad spend (0-1)."
    )
    rule_reduce_fraction: float = Field(
        default=0.20, gt=0, lt=1, description="reduce_spend cuts this fraction of the spend (0.20 = 20%)."
    )
    rule_increase_roas_above: float = Field(
        default=4.0, ge=0, description="increase_spend fires above this ROAS (with healthy cover, small share)."
    )
    rule_increase_cover_above_days: float = Field(
        default=30.0, ge=0, description="increase_spend fires above this many days of cover."
    )
    rule_increase_share_below: float = Field(
        default=0.10, ge=0, le=1, description="increase_spend fires below this share of the brand's ad spend."
    )
    rule_increase_fraction: float = Field(
        default=0.50, gt=0, le=5, description="increase_spend raises spend by this fraction before the stock cap."
    )
    rule_promotion_cover_above_days: float = Field(
        default=90.0, ge=0,
        description="promotion fires above this many days of cover; units beyond it are excess stock.",
    )
    rule_diminishing_returns_factor: float = Field(
        default=0.7, gt=0, le=1,
        description="Incremental revenue = added spend x recent ROAS x this factor (the next dollar earns less).",
    )
    rule_horizon_days: int = Field(
        default=30, ge=1, le=365,
        description="Days over which stock must cover baseline demand plus the extra sales of a raise.",
    )
    budget_min_daily_amount: float = Field(
        default=1.0, ge=0, description="No recommended daily campaign budget goes below this (account currency)."
    )
    recommend_top_n: int = Field(default=5, ge=1, le=50, description="Recommendations kept per brand.")
    rule_min_spend: float = Field(
        default=50.0, ge=0,
        description="Product x channel x region rows spending less than this over the window are not judged "
        "by the budget rules.",
    )
    alert_roas_drop_ratio: float = Field(
        default=0.85, gt=0, lt=1,
        description="roas_drop fires when this week's ROAS is below this ratio x the trailing average.",
    )
    alert_roas_trailing_weeks: int = Field(
        default=4, ge=1, le=12, description="Weeks before the current one that make the trailing ROAS."
    )
    alert_min_weekly_spend: float = Field(
        default=100.0, ge=0, description="Channels or regions spending less than this in a week are not judged."
    )
    alert_roas_drop_min_z: float = Field(
        default=2.0, ge=0,
        description="roas_drop in a channel x region also needs the drop to exceed this many standard errors "
        "(from attributed order counts).",
    )
    alert_stockout_within_days: float = Field(
        default=14.0, ge=0, description="stockout_risk fires for advertised products with at most this cover."
    )
    alert_stockout_critical_days: float = Field(
        default=3.0, ge=0, description="stockout_risk is critical at or below this many days of cover."
    )
    alert_stockout_high_days: float = Field(
        default=7.0, ge=0, description="stockout_risk is high at or below this many days of cover."
    )
    alert_spend_anomaly_z: float = Field(
        default=3.5, gt=0, description="spend_anomaly fires above this robust z-score (median and MAD)."
    )
    alert_spend_anomaly_lookback_days: int = Field(
        default=28, ge=7, le=90, description="Days before the judged day that define a campaign's usual spend."
    )
    alert_spend_anomaly_min_spend: float = Field(
        default=50.0, ge=0, description="Campaign days spending less than this are too small to flag."
    )

    # --- AI: Claude, grounding, Q&A ------------------------------------------------------------
    anthropic_model: str = Field(
        default="claude-sonnet-4-6", description="Claude model that writes summaries, explanations and answers."
    )
    anthropic_max_tokens: int = Field(
        default=2048, ge=64, le=64000, description="Largest answer Claude may write per call (max_tokens)."
    )
    anthropic_base_url: str = Field(
        default="", description="Messages API base URL; empty = Anthropic's; the local sandbox in dev and tests."
    )
    anthropic_timeout_seconds: float = Field(
        default=60.0, gt=0, description="Timeout of one Messages API request."
    )
    anthropic_max_attempts: int = Field(
        default=4, ge=1, le=10, description="Attempts per Claude call when it answers 429 or 529."
    )
    anthropic_backoff_seconds: float = Field(
        default=1.0, ge=0,
        description="First retry wait after a 429/529 without retry-after; doubles per attempt.",
    )
    anthropic_price_input_per_mtok: float = Field(
        default=3.0, ge=0, description="USD per million input tokens of the model (cost in tower ai usage)."
    )
    anthropic_price_output_per_mtok: float = Field(
        default=15.0, ge=0, description="USD per million output tokens of the model (cost in tower ai usage)."
    )
    ai_context_max_tokens: int = Field(
        default=4000, ge=500, description="Budget of the summary context; lists are cut until it fits."
    )
    qa_row_limit: int = Field(
        default=100, ge=1, le=10000, description="Rows a Q&A query may return (LIMIT enforced on every query)."
    )
    qa_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A Q&A query running longer than this is interrupted."
    )
    qa_memory_limit_mb: int = Field(
        default=256, ge=16, le=65536,
        description="Memory the embedded engine may use for one model-written Q&A query (its own database).",
    )
    qa_max_bytes_billed: int = Field(
        default=1_000_000_000, ge=10_000_000,
        description="BigQuery bytes a model-written Q&A query may scan before BigQuery fails it.",
    )
    qa_max_tool_turns: int = Field(
        default=6, ge=1, le=20, description="Tool calls Claude may make while answering one question."
    )

    # --- models: attribution, days of cover, alignment (per-brand: model_brand_overrides) -------------
    attribution_model: Literal["last_touch", "first_touch", "linear", "time_decay", "position_based"] = Field(
        default="last_touch",
        description="Attribution model behind unified_performance, alignment and snapshots (all are built).",
    )
    attribution_lookback_hours: int = Field(
        default=168, ge=1, le=2160,
        description="Hours before an order's timestamp in which a day of geo-matched spend is a touch.",
    )
    attribution_half_life_hours: float = Field(
        default=72.0, gt=0, description="Half-life of a touch's weight in the time_decay attribution model."
    )
    velocity_window_days: int = Field(
        default=30, ge=1, le=365,
        description="Days of sales behind a SKU's velocity (only days it was in stock count).",
    )
    cover_low_days: float = Field(
        default=14.0, ge=0, description="Days of cover below which stock is low (and overspending can be flagged)."
    )
    cover_overstock_days: float = Field(
        default=90.0, ge=0, description="Days of cover above which stock is overstock."
    )
    alignment_window_days: int = Field(
        default=30, ge=1, le=365, description="Days of ad spend the inventory-ad alignment model weighs."
    )
    alignment_high_share: float = Field(
        default=0.15, ge=0, le=1,
        description="Spend share (0-1) above which low stock is overspending_low_stock.",
    )
    alignment_low_share: float = Field(
        default=0.05, ge=0, le=1,
        description="Spend share (0-1) below which overstock is underspending_overstock.",
    )
    fulfillment_cost_per_order: float = Field(
        default=0.0, ge=0,
        description="Fulfilment cost per order (store currency) where location_regions gives none for the region.",
    )
    snapshot_period_days: int = Field(
        default=7, ge=1, le=91, description="Days in each period that performance snapshots compare."
    )
    model_brand_overrides: dict[str, dict[str, float | str]] = Field(
        default={},
        description='Per-brand model settings, JSON: {"BRAND_ID": {"cover_low_days": 21, ...}} (names as above).',
    )

    # --- notifications (tower.notify; passwords and tokens live in the secret store) -----------
    notify_smtp_host: str = Field(
        default="", description="SMTP server for e-mail notifications; empty: no e-mail is sent "
        "(`tower serve` then starts a local capture). The password is the secret notify-smtp-password.",
    )
    notify_smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    notify_smtp_username: str = Field(default="", description="SMTP user name (empty: no AUTH).")
    notify_smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS.")
    notify_from_address: str = Field(
        default="tower@localhost", description="From address of notifications (an agency's branding may set its own).",
    )
    notify_slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL (chat.postMessage).",
    )
    notify_slack_hooks_origins: str = Field(
        default="https://hooks.slack.com",
        description="Comma-separated origins a Slack response_url may point to (anything else is refused).",
    )
    notify_public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where people open the page: links in e-mails and Slack messages start with it.",
    )
    notify_dedup_days: int = Field(
        default=7, ge=0, le=90, description="An alert sent to a recipient is not sent to it again for this many days.",
    )
    notify_daily_budget: int = Field(
        default=10, ge=0, le=1000, description="Default alerts per recipient per local day; the rest wait for the digest.",
    )
    notify_send_attempts: int = Field(
        default=4, ge=1, le=20, description="Attempts per notification before it is dead-lettered.",
    )
    notify_retry_seconds: float = Field(
        default=2.0, ge=0, description="First wait between attempts to send a notification (doubles each time).",
    )

    # --- secrets (values never logged) ---------------------------------------------------------
    anthropic_api_key: str = _secret("Anthropic API key; without it the deterministic narrator writes.")
    shopify_api_secret: str = _secret("Shopify app client secret (webhook and OAuth HMAC).")

    @field_validator("warehouse")
    @classmethod
    def _check_warehouse(cls, v: str) -> str:
        parse_adapter_url(v, ("duckdb", "bigquery"), "TOWER_WAREHOUSE")
        return v

    @field_validator("shopify_bulk_min_orders", mode="before")
    @classmethod
    def _unset_is_none(cls, v: Any) -> Any:
        # An empty TOWER_SHOPIFY_BULK_MIN_ORDERS (as .env.example writes it) means unset.
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("store")
    @classmethod
    def _check_store(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "firestore"), "TOWER_STORE")
        return v

    @field_validator("bus")
    @classmethod
    def _check_bus(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "pubsub"), "TOWER_BUS")
        return v

    @field_validator("tasks")
    @classmethod
    def _check_tasks(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "cloudtasks"), "TOWER_TASKS")
        return v

    @field_validator("secrets")
    @classmethod
    def _check_secrets(cls, v: str) -> str:
        parse_adapter_url(v, ("local", "secretmanager"), "TOWER_SECRETS")
        return v

    @model_validator(mode="after")
    def _embedded_under_data_dir(self) -> Settings:
        # One setting moves the whole embedded default: an adapter URL nobody set is the file of the same
        # name under data_dir (the defaults above are these files under the default ".tower").
        for name, (scheme, file_name) in EMBEDDED_FILES.items():
            if name not in self.model_fields_set:
                setattr(self, name, embedded_url(scheme, self.data_dir / file_name))
        return self

    @model_validator(mode="after")
    def _remember_secrets(self) -> Settings:
        # Secret settings are masked in every log line and error from now on.
        for name, field in type(self).model_fields.items():
            if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("secret"):
                remember(str(getattr(self, name) or ""))
        return self

    def local_path(self, url: str, default_name: str) -> Path:
        """The file behind a ``local:///PATH`` or ``duckdb:///PATH`` URL (bare ``local`` → data_dir)."""
        parsed = urlparse(url)
        if parsed.scheme and parsed.path:
            # duckdb:///.tower/x → ".tower/x" (relative); duckdb:////abs/x → "/abs/x"
            return Path(parsed.path[1:])
        return self.data_dir / default_name


def settings_table() -> list[dict[str, Any]]:
    """Every setting with its env var, type, default, help and secret flag (for docs and checks)."""
    rows = []
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        annotation = getattr(field.annotation, "__name__", str(field.annotation))
        rows.append(
            {
                "env": f"TOWER_{name.upper()}",
                "type": annotation,
                "default": "" if extra.get("secret") or field.default is None else field.default,
                "help": field.description or "",
                "secret": bool(extra.get("secret")),
            }
        )
    return rows


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings(...)``)."""
    return Settings()


def render_settings(fmt: str) -> str:
    """The settings as a Markdown table (README) or as ``.env.example`` lines."""
    rows = settings_table()
    if fmt == "env":
        out = ["# Generated by `tower settings --format env`; do not edit by hand.", ""]
        for r in rows:
            out.append(f"# {r['help']}{' (secret)' if r['secret'] else ''}")
            out.append(f"{r['env']}={r['default']}")
        return "\n".join(out) + "\n"
    out = ["| variable | default | what it sets |", "| --- | --- | --- |"]
    for r in rows:
        default = "(secret)" if r["secret"] else f"`{r['default']}`"
        out.append(f"| `{r['env']}` | {default} | {r['help']} |")
    return "\n".join(out) + "\n"
