"""Shopify webhook deliveries (HTTP): verify the HMAC over the raw body, deduplicate, MERGE.

Thin on purpose: the library's :class:`tower.sync.webhooks.WebhookHandler` does the
work. A bad or missing signature answers 401, a malformed delivery 400 (both JSON naming the
problem); a signed delivery whose body cannot be used is acknowledged (200, recorded as ignored
with a warning), because Shopify would otherwise retry it for days; a failure of the warehouse,
the store or the Admin API raises, so the platform answers 5xx and Shopify delivers again
(handling is idempotent).
"""

from __future__ import annotations

from typing import Any

import functions_framework

from tower.runtime import default_runtime


@functions_framework.http
def shopify_webhooks(request: Any) -> tuple[dict[str, Any], int]:
    from tower.sync.webhooks import WebhookHandler, app_secret

    runtime = default_runtime()
    if request.method != "POST":
        return {"error": "method_not_allowed", "message": "Shopify delivers webhooks with POST"}, 405
    handler = WebhookHandler(
        warehouse=runtime.warehouse, store=runtime.store, secrets=runtime.secrets,
        app_secret=app_secret(runtime.settings, runtime.secrets), settings=runtime.settings,
    )
    # get_data() before anything parses the body: the HMAC is over the raw bytes as sent.
    response = handler.handle(request.get_data(cache=True), dict(request.headers))
    return response.body, response.status
