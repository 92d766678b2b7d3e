"""Where orders ship from (fulfillment orders), and how big a window is before it is read in bulk."""

from __future__ import annotations

from typing import Any

from tower.connectors.shopify import streams as st
from tower_dev.sandboxes.shopify_store import testing
from tower_dev.sandboxes.shopify_store.state import gid


def no_differences(diffs: dict[str, list[Any]]) -> bool:
    return all(not v for v in diffs.values())


def locations_of(warehouse: Any, line_item_id: str) -> dict[str, int]:
    rows = warehouse.rows(
        "SELECT fo.location_id, fl.quantity FROM fulfillment_order_line_items AS fl "
        "JOIN fulfillment_orders AS fo ON fo.fulfillment_order_id = fl.fulfillment_order_id "
        "WHERE fl.line_item_id = @li", {"li": line_item_id})
    return {r["location_id"]: r["quantity"] for r in rows}


def test_each_order_lines_location_comes_from_its_fulfillment_orders(brands, sandbox, warehouse, run_sync):
    brand_id = brands[0]
    state = sandbox.shop(brand_id).state
    assert run_sync(brand_id).status == "ok"
    # Every order line is held by one fulfillment order at the location the store routed it to.
    for o in list(state.orders.values())[:20]:
        for li in o.line_items:
            assert locations_of(warehouse, gid("LineItem", li.id)) == {gid("Location", o.location_id): li.quantity}
    assert len({o.location_id for o in state.orders.values()}) > 1  # the world ships from several locations


def test_a_moved_or_split_fulfillment_order_is_followed_by_the_next_sync(brands, sandbox, warehouse, run_sync, clock):
    brand_id = brands[0]
    state = sandbox.shop(brand_id).state
    assert run_sync(brand_id).status == "ok"
    locations = sorted(state.locations)
    whole, split = [o for o in state.orders.values() if o.cancelled_at is None and len(o.line_items) >= 2][:2]
    elsewhere = next(loc for loc in locations if loc != whole.location_id)
    clock.advance(120)
    state.move_fulfillment(whole.id, elsewhere)
    moved_line = split.line_items[0]
    other = next(loc for loc in locations if loc != split.location_id)
    state.move_fulfillment(split.id, other, [moved_line.id])
    clock.advance(60)

    result = run_sync(brand_id)
    assert result.status == "ok", result.error
    diffs = testing.differences(warehouse, state.truth(), brand_id)
    assert no_differences(diffs), {t: d[:3] for t, d in diffs.items() if d}
    for li in whole.line_items:
        assert locations_of(warehouse, gid("LineItem", li.id)) == {gid("Location", elsewhere): li.quantity}
    # The split: the moved line left its first fulfillment order (no stale row keeps it there).
    assert locations_of(warehouse, gid("LineItem", moved_line.id)) == {gid("Location", other): moved_line.quantity}
    stayed = split.line_items[1]
    assert locations_of(warehouse, gid("LineItem", stayed.id)) == {gid("Location", split.location_id): stayed.quantity}


def test_without_the_fulfillment_order_scope_the_sync_warns_and_stores_no_locations(brands, sandbox, warehouse,
                                                                                   run_sync):
    brand_id = brands[0]
    shop = sandbox.shop(brand_id)
    shop.scopes = frozenset(shop.scopes - {"read_merchant_managed_fulfillment_orders"})
    result = run_sync(brand_id)
    assert result.status == "ok", result.error
    assert any("read_merchant_managed_fulfillment_orders" in w for w in result.warnings)
    assert warehouse.rows("SELECT COUNT(*) AS n FROM fulfillment_orders")[0]["n"] == 0
    assert warehouse.rows("SELECT COUNT(*) AS n FROM orders")[0]["n"] == len(shop.state.orders)


def test_windows_longer_than_a_few_pages_are_read_in_bulk_and_short_ones_paged(brands, sandbox, warehouse, run_sync,
                                                                             settings, clock):
    """The decision counts pages at the size the query's cost and the shop's bucket allow."""
    decide = settings.model_copy(update={"shopify_bulk_min_orders": None, "shopify_bulk_min_pages": 3})
    brand_id = brands[0]
    shop = sandbox.shop(brand_id)
    page = st.ORDERS.page_size(shop.bucket.maximum)
    assert len(shop.state.orders) > 3 * page
    first = run_sync(brand_id, settings=decide)
    assert (first.status, first.mode) == ("ok", "bulk")

    template = next(o for o in shop.state.orders.values() if o.cancelled_at is None)
    clock.advance(3600)
    for _ in range(2 * page):  # two pages of new orders: paged
        shop.state.add_order(like=template.id)
    clock.advance(60)
    paged = run_sync(brand_id, settings=decide)
    assert (paged.status, paged.mode) == ("ok", "incremental")
    ops = len(shop.bulk.ops)

    clock.advance(3600)
    for _ in range(4 * page):  # four pages: an export of just the window
        shop.state.add_order(like=template.id, quantity=3)
    clock.advance(60)
    bulk = run_sync(brand_id, settings=decide)
    assert (bulk.status, bulk.mode) == ("ok", "bulk")
    assert len(shop.bulk.ops) == ops + 1
    assert "updated_at:>=" in list(shop.bulk.ops.values())[-1].query
    assert 4 * page <= bulk.stored["orders"] < len(shop.state.orders)  # the window, not the history
    diffs = testing.differences(warehouse, shop.state.truth(), brand_id)
    assert no_differences(diffs), {t: d[:3] for t, d in diffs.items() if d}


def test_a_bulk_export_is_polled_soon_then_less_often(brands, sandbox, run_sync, settings, clock):
    shop = sandbox.shop(brands[0])
    shop.bulk.polls_to_complete = 5
    result = run_sync(brands[0], settings=settings.model_copy(update={"shopify_bulk_min_orders": 0,
                                                                       "shopify_bulk_poll_seconds": 3.0}))
    assert result.status == "ok" and result.mode == "bulk"
    polls = [s for s in clock.sleeps if s in (0.5, 1.0, 2.0, 3.0)]
    assert polls[:4] == [0.5, 1.0, 2.0, 3.0]
