"""The names of every cloud resource the code uses (topics, queues, secrets, functions) and the platforms.

Subscriptions are named after the entry points they push to (:func:`tower.wiring.subscriptions`).

Terraform declares each of them (infra/); a test parses the Terraform and fails when a name here is
missing there. Tables are named by the DDL files in ``tower/sql/schema``.
"""

from __future__ import annotations

# The platforms the product syncs, as they name integrations, secrets, sync state and ad rows.
PLATFORMS: tuple[str, ...] = ("shopify", "meta", "tiktok", "google_ads")
AD_PLATFORMS: tuple[str, ...] = ("meta", "tiktok", "google_ads")

# Pub/Sub topics (each has a dead-letter topic ``<topic>-dlq`` in Terraform).
TOPIC_SYNC_COMPLETED = "tower-sync-completed"
TOPIC_MODELS_BUILT = "tower-models-built"
TOPIC_ALERTS_RAISED = "tower-alerts-raised"
TOPIC_SHOPIFY_EVENTS = "tower-shopify-events"

TOPICS: tuple[str, ...] = (
    TOPIC_SYNC_COMPLETED,
    TOPIC_MODELS_BUILT,
    TOPIC_ALERTS_RAISED,
    TOPIC_SHOPIFY_EVENTS,
)

# Cloud Tasks queues.
QUEUE_SYNC = "tower-sync"
#: platform (PLATFORMS) -> the task handler, an entry point of tower.wiring, that syncs it (the API queues a
#: first sync with it, the pipeline the hourly ones).
SYNC_TASKS: dict[str, str] = {
    "shopify": "sync_shopify",
    "meta": "sync_meta",
    "tiktok": "sync_tiktok",
    "google_ads": "sync_google_ads",
}
QUEUE_BUDGET = "tower-budget-changes"
QUEUES: tuple[str, ...] = (QUEUE_SYNC, QUEUE_BUDGET)

# Secret Manager secret ids that exist once per deployment (per-integration tokens are created at
# connect time under the prefix below and never declared one by one).
SECRET_SHOPIFY_API_SECRET = "shopify-api-secret"
SECRET_ANTHROPIC_API_KEY = "anthropic-api-key"
SECRET_META_APP_SECRET = "meta-app-secret"
SECRET_TIKTOK_APP_SECRET = "tiktok-app-secret"
SECRET_GOOGLE_ADS_DEVELOPER_TOKEN = "google-ads-developer-token"
SECRET_GOOGLE_ADS_CLIENT_SECRET = "google-ads-client-secret"
SECRET_CUSTOMER_HASH_SALT = "customer-hash-salt"
# Notifications (tower.notify): the SMTP password, Slack's bot token and request-signing secret, and the
# key that signs unsubscribe links.
SECRET_SMTP_PASSWORD = "notify-smtp-password"
SECRET_SLACK_BOT_TOKEN = "notify-slack-bot-token"
SECRET_SLACK_SIGNING_SECRET = "notify-slack-signing-secret"
SECRET_NOTIFY_LINK_KEY = "notify-link-key"
SECRETS: tuple[str, ...] = (
    SECRET_SHOPIFY_API_SECRET,
    SECRET_ANTHROPIC_API_KEY,
    SECRET_META_APP_SECRET,
    SECRET_TIKTOK_APP_SECRET,
    SECRET_GOOGLE_ADS_DEVELOPER_TOKEN,
    SECRET_GOOGLE_ADS_CLIENT_SECRET,
    SECRET_CUSTOMER_HASH_SALT,
    SECRET_SMTP_PASSWORD,
    SECRET_SLACK_BOT_TOKEN,
    SECRET_SLACK_SIGNING_SECRET,
    SECRET_NOTIFY_LINK_KEY,
)
INTEGRATION_SECRET_PREFIX = "integration-"
# Per-brand customer-hash salts are created at connect time under this prefix (customer_salt_secret_id).
CUSTOMER_SALT_SECRET_PREFIX = f"{SECRET_CUSTOMER_HASH_SALT}-"
# Every secret the runtime creates at run time starts with one of these; Terraform's IAM condition on
# the runtime's secret role lists exactly these prefixes (tests/unit/infra/test_permissions.py).
RUNTIME_SECRET_PREFIXES: tuple[str, ...] = (INTEGRATION_SECRET_PREFIX, CUSTOMER_SALT_SECRET_PREFIX)

# Deployed Cloud Functions carry this prefix so a shared project shows whose functions they are.
FUNCTION_PREFIX = "tower-"


def integration_secret_id(brand_id: str, platform: str, account_id: str = "") -> str:
    """The secret id holding one integration's token: ``integration-<brand>-<platform>[-<account>]``.

    Secret Manager ids allow ``[A-Za-z0-9_-]`` only, so other characters become ``-``.
    """
    raw = "-".join(p for p in (INTEGRATION_SECRET_PREFIX.rstrip("-"), brand_id, platform, account_id) if p)
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in raw)[:255]


def customer_salt_secret_id(brand_id: str) -> str:
    """The secret id of one brand's customer-hash salt: ``customer-hash-salt-<brand>``.

    Per-brand salts mean one person hashes differently at two brands (no cross-brand joins). They are
    created when a store is connected, like integration tokens, so Terraform declares none of them.
    """
    raw = f"{CUSTOMER_SALT_SECRET_PREFIX}{brand_id}"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in raw)[:255]


def function_name(entry_point: str) -> str:
    """The deployed function of an entry point: ``tower-`` + the name with ``_`` as ``-``.

    2nd-gen function ids allow lowercase letters, digits and ``-`` only. The Cloud Tasks adapter builds
    its task URLs (and OIDC audiences) from this, and Terraform names each function with it.
    """
    if not entry_point or not all(c.islower() or c.isdigit() or c == "_" for c in entry_point):
        raise ValueError(f"entry point {entry_point!r} must be lowercase letters, digits and _")
    return FUNCTION_PREFIX + entry_point.replace("_", "-")


def function_url(base_url: str, entry_point: str) -> str:
    """Where an entry point's function answers below ``TOWER_TASKS_TARGET_URL``; also its OIDC audience.

    Terraform sets the base to ``https://REGION-PROJECT.cloudfunctions.net`` and each function answers at
    ``/<function name>`` below it; Cloud Functions checks an ID token's audience against that full URL.
    """
    if not base_url:
        raise ValueError("TOWER_TASKS_TARGET_URL is empty: set it to the deployed functions' base URL")
    return f"{base_url.rstrip('/')}/{function_name(entry_point)}"
