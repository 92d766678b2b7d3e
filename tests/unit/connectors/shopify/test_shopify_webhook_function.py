"""The ``shopify_webhooks`` Cloud Function through functions-framework's own test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functions_framework
import pytest

from tower.config import Settings
from tower.runtime import Runtime, set_default_runtime
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.state import gid
from tower_dev.sandboxes.shopify_store.webhooks import WebhookSender

ROOT = Path(__file__).resolve().parents[4]
SECRET = "fn-app-secret"


@pytest.fixture
def app(tmp_path: Path, world: Any, sandbox: Any, clock: Any) -> Any:
    settings = Settings(warehouse=f"duckdb:///{tmp_path}/wh.duckdb", store=f"local:///{tmp_path}/store.sqlite",
                        secrets=f"local:///{tmp_path}/secrets", shopify_api_secret=SECRET)
    runtime = Runtime(settings)
    runtime.warehouse.init_schema()
    bw = world.brands[0]
    testing.connect_brand(runtime.warehouse, runtime.secrets, bw, sandbox.tokens[bw.brand["brand_id"]], clock.now())
    set_default_runtime(runtime)
    try:
        yield functions_framework.create_app(target="shopify_webhooks",
                                             source=str(ROOT / "main.py")).test_client(), runtime
    finally:
        set_default_runtime(None)
        runtime.close()


def test_the_function_applies_a_signed_delivery_and_refuses_a_tampered_one(app, world, sandbox, clock):
    client, runtime = app
    brand_id = world.brands[0].brand["brand_id"]
    state = sandbox.shop(brand_id).state
    sender = WebhookSender(state, SECRET).attach()
    clock.advance(60)
    order = state.add_order()
    d = sender.outbox[-1]
    bad = client.post("/", data=d.body + b" ", headers=d.headers)
    assert bad.status_code == 401 and bad.get_json()["error"] == "invalid_hmac"
    ok = client.post("/", data=d.body, headers=d.headers)
    assert ok.status_code == 200 and ok.get_json()["status"] == "processed"
    again = client.post("/", data=d.body, headers=d.headers)
    assert again.get_json()["status"] == "duplicate"
    rows = runtime.warehouse.rows("SELECT order_id FROM orders WHERE order_id = @o", {"o": gid("Order", order.id)})
    assert len(rows) == 1


def test_the_function_only_takes_posts(app):
    client, _ = app
    r = client.get("/")
    assert r.status_code == 405 and "POST" in r.get_json()["message"]
