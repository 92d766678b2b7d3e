"""The names of every cloud resource the code uses: topics, subscriptions, queues, secrets.

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

# Subscriptions: subscription name -> (topic, handler entry point in main.py). tower-alerts-raised
# has no subscriber yet: the Slack / e-mail digests that consume it come with their own issue; until
# then alerts are read from the document store (``tower alerts``, the API).
SUBSCRIPTIONS: dict[str, tuple[str, str]] = {
    "build-models": (TOPIC_SYNC_COMPLETED, "build_models"),
    "recommend": (TOPIC_MODELS_BUILT, "recommend"),
    "summarize": (TOPIC_MODELS_BUILT, "summarize"),
}

# Cloud Tasks queues.
QUEUE_SYNC = "tower-sync"
QUEUE_BUDGET = "tower-budget-changes"
QUEUES: tuple[str, ...] = (QUEUE_SYNC, QUEUE_BUDGET)

# Secret Manager secret ids that exist once per deployment (per-integration tokens are created at
# connect time under the prefix below and never declared one by one).
SECRET_SHOPIFY_API_SECRET = "shopify-api-secret"
SECRET_ANTHROPIC_API_KEY = "anthropic-api-key"
SECRET_META_APP_SECRET = "meta-app-secret"
SECRET_TIKTOK_APP_SECRET = "tiktok-app-secret"
SECRET_GOOGLE_ADS_DEVELOPER_TOKEN = "google-ads-developer-token"
SECRET_CUSTOMER_HASH_SALT = "customer-hash-salt"
SECRETS: tuple[str, ...] = (
    SECRET_SHOPIFY_API_SECRET,
    SECRET_ANTHROPIC_API_KEY,
    SECRET_META_APP_SECRET,
    SECRET_TIKTOK_APP_SECRET,
    SECRET_GOOGLE_ADS_DEVELOPER_TOKEN,
    SECRET_CUSTOMER_HASH_SALT,
)
INTEGRATION_SECRET_PREFIX = "integration-"


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
    raw = f"{SECRET_CUSTOMER_HASH_SALT}-{brand_id}"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in raw)[:255]
