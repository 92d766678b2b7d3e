"""Accepting a promotion card launches an automatic Shopify discount; Undo ends it (issue 16).

Through the real path: the card's Accept, the ``apply_budget_change`` task, the ShopifyAPI SDK posting
``discountAutomaticBasicCreate`` / ``discountAutomaticDeactivate`` to the sandbox store, which executes
them against Shopify's 2026-04 schema. No Shopify call is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tower.config import Settings
from tower.decisions import budget_actions
from tower.decisions.budget_actions import ConflictError, accept, undo
from tower.decisions.inputs import StockPosition
from tower.decisions.promotions import apply_task
from tower.decisions.rules import apply_rules
from tower.decisions.scoring import rank
from tower.decisions.store import find_recommendation, save_recommendations
from tower.decisions.thresholds import RuleThresholds
from tower.runtime import Runtime
from tower.sync.connect import connect_shopify
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.server import SandboxHandle, serve_world

BRAND = "northwind"  # the merchant's own id, not the world's
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
SCOPES = ("read_orders", "read_all_orders", "read_products", "read_inventory", "read_locations", "write_discounts")


@pytest.fixture(scope="module")
def world() -> Any:
    return testing.small_world()


@pytest.fixture
def sandbox(world: Any) -> Iterator[SandboxHandle]:
    handle = serve_world(world, clock=testing.clock_after(world))
    yield handle
    handle.stop()


def _runtime(tmp_path: Path, sandbox: SandboxHandle) -> Runtime:
    rt = Runtime(Settings(
        warehouse="duckdb:///:memory:", store=f"local:///{tmp_path}/store.sqlite", bus=f"local:///{tmp_path}/bus.sqlite",
        tasks=f"local:///{tmp_path}/tasks.sqlite", secrets=f"local:///{tmp_path}/secrets",
        shopify_api_origin=sandbox.origin, promotion_discount_pct=20, promotion_days=10,
    ))
    rt.warehouse.init_schema()
    rt.warehouse.merge("brands", [{"brand_id": BRAND, "brand_name": "Northwind", "timezone": "America/Chicago",
                                   "currency": "USD", "created_at": NOW, "updated_at": NOW}], ["brand_id"])
    return rt


@pytest.fixture
def runtime(tmp_path: Path, sandbox: SandboxHandle) -> Iterator[Runtime]:
    rt = _runtime(tmp_path, sandbox)
    yield rt
    rt.close()


def _connect(rt: Runtime, sandbox: SandboxHandle, world: Any, scopes: tuple[str, ...] = SCOPES) -> None:
    b = world.brands[0]
    connect_shopify(rt.warehouse, rt.secrets, brand_id=BRAND, shop=b.brand["shop_domain"],
                    token=sandbox.tokens[b.brand["brand_id"]], now=NOW, scopes=scopes)


def _product(world: Any) -> tuple[str, str]:
    products = world.brands[0].tables["products"].to_pylist()
    p = next(p for p in products if p.get("status", "ACTIVE") == "ACTIVE")
    return p["product_id"], p["title"]


def _promotion(rt: Runtime, world: Any) -> dict[str, Any]:
    pid, title = _product(world)
    stock = [StockPosition(pid, title, "", ("US-TX",), 1200.0, 10.0, 120.0, 0.0, unit_cost=8.0)]
    recs = rank(apply_rules([], BRAND, "USD", RuleThresholds(), stock), NOW.date())
    save_recommendations(rt.store, BRAND, recs[0].week, "v1", [r.to_dict() for r in recs], NOW)
    (card,) = [r.to_dict() for r in recs]
    assert card["type"] == "promotion"
    return card


def _shop(sandbox: SandboxHandle, world: Any) -> Any:
    return sandbox.shop(world.brands[0].brand["brand_id"])


def _drain(rt: Runtime) -> int:
    budget_actions.register(rt)
    return rt.tasks.drain()


def test_the_dry_run_shows_the_exact_discount_and_creates_nothing(runtime: Runtime, sandbox: SandboxHandle,
                                                                  world: Any) -> None:
    _connect(runtime, sandbox, world)
    card = _promotion(runtime, world)
    out = accept(runtime, card["id"], dry_run=True)
    (change,) = out["changes"]
    assert change["status"] == "would_create" and change["percentage"] == 20.0
    assert change["title"] == f"20% off {card['product']}"
    assert "from " in change["detail"] and "(10 days)" in change["detail"]
    assert _shop(sandbox, world).discounts.items == {}
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "open"


def test_accept_creates_one_time_boxed_discount_and_undo_ends_it(runtime: Runtime, sandbox: SandboxHandle,
                                                                 world: Any) -> None:
    _connect(runtime, sandbox, world)
    card = _promotion(runtime, world)
    out = accept(runtime, card["id"], now=NOW)
    assert out["status"] == "accepting" and out["changed"] is True
    assert accept(runtime, card["id"], now=NOW)["changed"] is False  # a second Accept queues nothing
    assert _drain(runtime) == 1
    doc = find_recommendation(runtime.store, card["id"])[1]
    assert doc["status"] == "applied"
    (made,) = _shop(sandbox, world).discounts.items.values()
    assert made.percentage == 0.2 and made.title == f"20% off {card['product']}"
    assert made.ends_at - made.starts_at == timedelta(days=10)
    assert [f"gid://shopify/Product/{n}" for n in made.product_ids] == [card["product_id"]]
    discount_id = doc["applied_changes"][0]["discount_id"]
    assert discount_id == f"gid://shopify/DiscountAutomaticNode/{made.id}"

    # Pub/Sub and Cloud Tasks deliver at least once: the same task again creates no second discount
    payload = {"kind": "discount", "brand_id": BRAND, "recommendation_id": card["id"],
               "decision_id": doc["decision_id"], "action": "apply", "changes": out["changes"]}
    apply_task(runtime, payload, now=NOW)
    assert len(_shop(sandbox, world).discounts.items) == 1

    assert undo(runtime, card["id"], now=NOW)["status"] == "undoing"
    assert _drain(runtime) == 1
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "undone"
    assert made.status(_shop(sandbox, world).state.now()) == "EXPIRED"
    audit = {r["action"]: r for r in runtime.warehouse.rows(
        "SELECT action, status, discount_id FROM discount_changes WHERE brand_id = @b", {"b": BRAND})}
    assert audit["create"]["status"] == "undone" and audit["deactivate"]["status"] == "applied"
    assert audit["create"]["discount_id"] == audit["deactivate"]["discount_id"] == discount_id


def test_undo_refuses_a_discount_changed_in_the_admin_since(runtime: Runtime, sandbox: SandboxHandle,
                                                            world: Any) -> None:
    _connect(runtime, sandbox, world)
    card = _promotion(runtime, world)
    accept(runtime, card["id"], now=NOW)
    _drain(runtime)
    (made,) = _shop(sandbox, world).discounts.items.values()
    made.ends_at = made.ends_at + timedelta(days=30)  # the merchant extended it by hand
    with pytest.raises(ConflictError) as caught:
        undo(runtime, card["id"], now=NOW)
    assert caught.value.code == "discount_changed" and "changed" in str(caught.value)
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "applied"


def test_a_store_without_write_discounts_is_told_to_reconnect(runtime: Runtime, sandbox: SandboxHandle,
                                                              world: Any) -> None:
    _connect(runtime, sandbox, world, scopes=SCOPES[:-1])
    card = _promotion(runtime, world)
    with pytest.raises(ConflictError, match="write_discounts") as caught:
        accept(runtime, card["id"], now=NOW)
    assert caught.value.code == "missing_scope"
    # scopes not recorded, and the token itself lacks the scope: Shopify's ACCESS_DENIED fails the task
    _connect(runtime, sandbox, world, scopes=())
    _shop(sandbox, world).scopes = frozenset({"read_products", "read_orders"})
    accept(runtime, card["id"], now=NOW)
    _drain(runtime)
    doc = find_recommendation(runtime.store, card["id"])[1]
    assert doc["status"] == "failed" and "write_discounts" in doc["applied_changes"][0]["detail"]
    assert _shop(sandbox, world).discounts.items == {}


def test_a_brand_with_no_store_connected_cannot_launch_a_promotion(runtime: Runtime, world: Any) -> None:
    card = _promotion(runtime, world)
    with pytest.raises(ConflictError, match="no Shopify store connected") as caught:
        accept(runtime, card["id"], now=NOW)
    assert caught.value.code == "not_connected"
    assert find_recommendation(runtime.store, card["id"])[1]["status"] == "open"
