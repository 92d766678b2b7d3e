"""Cloud Functions source root: every entry point in ``tower.entrypoints.ENTRY_POINTS``, re-exported.

Each deployed function names one of these as its entry point. Importing this module imports
functions-framework and the thin function modules only: vendor SDKs load inside the calls that use
them, so a cold start pays for what that function needs.
"""

import os
import sys

# The library lives under shared/ in the repository; the deployment zip puts it at the root.
_here = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(_here, "shared", "tower")):
    sys.path.insert(0, os.path.join(_here, "shared"))

from tower.logs import configure_logging

# Logs go to stderr as masked JSON lines (Cloud Logging reads one object a line); set up before the
# functions import, so the frameworks find a handler on the root logger and add none of their own.
configure_logging()

from functions.api import api
from functions.decisions import apply_budget_change, recommend, summarize
from functions.models import build_models
from functions.shopify_webhooks import shopify_webhooks
from functions.sync import schedule_syncs, sync_google_ads, sync_meta, sync_shopify, sync_tiktok

__all__ = [
    "api",
    "apply_budget_change",
    "build_models",
    "recommend",
    "schedule_syncs",
    "shopify_webhooks",
    "summarize",
    "sync_google_ads",
    "sync_meta",
    "sync_shopify",
    "sync_tiktok",
]
