"""Shopify's customerJourneySummary source keeps known non-paid orders out of the geo + time rule.

A hand-made Texas store. Meta's "m-tx" promotes the candle and spent in Texas on Friday 10 May 2024, where Meta
reported 5 purchases (room for every order below). Every order buys one candle, $40, at 10:00 in Chicago, and
carries no utm_campaign:

1. instagram referrer, journey sourceType POST (an organic post)     -> organic, never geo-credited
2. instagram referrer, no journey                                    -> Meta m-tx by geo + time
3. no referrer, journey source "email"                               -> e-mail
4. journey NEWSLETTER but utm_medium=paid_social (the ad's own stamp) -> Meta m-tx by geo + time
5. an fbclid and journey POST (a click id proves the paid click)      -> Meta m-tx by its click id

By hand, last touch: Meta $120 (2, 4 geo; 5 click id), organic $40, e-mail $40.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def test_the_journey_source_names_non_paid_orders(shop) -> None:
    shop.campaign("meta", "m-tx", products=("candle",))
    shop.spend("meta", "m-tx", date(2024, 5, 10), 50.0, region="US-TX", purchases=5, purchase_value=200.0)
    at = datetime(2024, 5, 10, 15, 0, tzinfo=UTC)
    instagram = "https://www.instagram.com/"
    post = shop.order(at, {"candle": 1}, revenue=40.0, referrer=instagram)
    plain = shop.order(at, {"candle": 1}, revenue=40.0, referrer=instagram)
    mailed = shop.order(at, {"candle": 1}, revenue=40.0)
    stamped = shop.order(at, {"candle": 1}, revenue=40.0, utm_source="facebook", utm_medium="paid_social")
    clicked = shop.order(at, {"candle": 1}, revenue=40.0, fbclid="IwAR1", referrer=instagram)
    for order_id, source, tactic in ((post, "instagram", "POST"), (mailed, "email", None),
                                     (stamped, "klaviyo", "NEWSLETTER"), (clicked, "instagram", "POST")):
        shop.warehouse.execute("UPDATE orders SET journey_source = @s, journey_source_type = @t WHERE order_id = @o",
                               {"s": source, "t": tactic, "o": order_id})
    shop.build(date(2024, 5, 6), date(2024, 5, 13))

    want = {post: (None, "organic"), plain: ("m-tx", "geo_region"), mailed: (None, "email"),
            stamped: ("m-tx", "geo_region"), clicked: ("m-tx", "click_id")}
    for order_id, (campaign, match) in want.items():
        rows = shop.rows("attributed_orders", "order_id = @o AND attribution_model IN ('last_touch', 'all')",
                         o=order_id)
        assert [(r["campaign_id"], r["match_type"], r["credit"]) for r in rows] == [(campaign, match, 1.0)], order_id
    recon = {r["platform"]: float(r["shopify_attributed_revenue_amount"])
             for r in shop.rows("attribution_reconciliation", "attribution_model = 'last_touch'")}
    assert recon == {"meta": 120.0, "organic": 40.0, "email": 40.0}
