"""Orders stored before the landing-page rule are rewritten once, at the brand's next sync.

Earlier versions kept the whole landing URL and referrer; their extra parameters can carry an e-mail
address. The rewrite goes through the sandbox sync (the real connector, no SDK mocking) on the small
world's shop, with the old values planted in the warehouse as an older version stored them.
"""

from __future__ import annotations

from tower.sync import privacy
from tower.sync.shopify import STORED_VISITS
from tower.sync.state import SyncStates

OLD_LANDING = ("https://old.example/collections/mugs?email=ann.lee%40mail.example&utm_source=klaviyo"
               "&code=ANN-20&gclid=Cj0KC#ann")
OLD_REFERRER = "https://mail.example/inbox/ann.lee@mail.example?id=7"


def _plant(warehouse, brand_id: str) -> list[str]:
    """Give two stored orders the visit an older version kept; return their ids."""
    ids = [r["order_id"] for r in warehouse.rows(
        "SELECT order_id FROM orders WHERE brand_id = @b ORDER BY order_id LIMIT 2", {"b": brand_id})]
    warehouse.merge("orders", [{"brand_id": brand_id, "order_id": ids[0], "landing_site": OLD_LANDING,
                                "referrer_url": OLD_REFERRER},
                               {"brand_id": brand_id, "order_id": ids[1], "landing_site": "/p/mug?utm_source=fb",
                                "referrer_url": "https://l.facebook.com/"}], keys=("brand_id", "order_id"))
    return ids


def _visits(warehouse, brand_id: str, ids: list[str]) -> list[tuple[str, str]]:
    rows = warehouse.rows("SELECT order_id, landing_site, referrer_url FROM orders WHERE brand_id = @b "
                          "AND order_id IN UNNEST(@ids) ORDER BY order_id", {"b": brand_id, "ids": ids})
    return [(r["landing_site"], r["referrer_url"]) for r in rows]


def test_the_next_sync_rewrites_old_visits_once_and_keeps_the_ad_parameters(brands, warehouse, run_sync):
    brand_id = brands[0]
    assert run_sync(brand_id).status == "ok"
    domain = warehouse.rows("SELECT account_id FROM integrations WHERE brand_id = @b AND platform = 'shopify'",
                            {"b": brand_id})[0]["account_id"]
    state = SyncStates(warehouse, brand_id, "shopify", domain)
    # A first sync stored every order under today's rule: it only records the rule.
    assert state.read(STORED_VISITS).cursor_value == privacy.VISIT_RULE

    ids = _plant(warehouse, brand_id)
    state.write(STORED_VISITS, cursor_value=None, checkpoint=None, status="idle")  # stored by an older version
    assert run_sync(brand_id).status == "ok"
    assert _visits(warehouse, brand_id, ids) == [
        ("https://old.example/collections/mugs?utm_source=klaviyo&gclid=Cj0KC", "https://mail.example/"),
        ("/p/mug?utm_source=fb", "https://l.facebook.com/"),  # already by the rule: untouched
    ]
    assert state.read(STORED_VISITS).cursor_value == privacy.VISIT_RULE
    # The rule is recorded, so later syncs do not read the orders again; a later plant stays (nothing
    # stores such a value any more, so only a rule change would need another pass).
    _plant(warehouse, brand_id)
    assert run_sync(brand_id).status == "ok"
    assert _visits(warehouse, brand_id, ids)[0] == (OLD_LANDING, OLD_REFERRER)


def test_the_rewrite_is_idempotent_and_touches_only_the_visit(brands, warehouse, run_sync):
    brand_id = brands[0]
    assert run_sync(brand_id).status == "ok"
    ids = _plant(warehouse, brand_id)
    before = warehouse.rows("SELECT * FROM orders WHERE brand_id = @b AND order_id = @o", {"b": brand_id, "o": ids[0]})
    assert privacy.rewrite_stored_visits(warehouse, brand_id) == 1
    assert privacy.rewrite_stored_visits(warehouse, brand_id) == 0
    after = warehouse.rows("SELECT * FROM orders WHERE brand_id = @b AND order_id = @o", {"b": brand_id, "o": ids[0]})
    changed = {k for k in before[0] if before[0][k] != after[0][k]}
    assert changed == {"landing_site", "referrer_url"}
    assert "ann" not in (after[0]["landing_site"] + after[0]["referrer_url"])
