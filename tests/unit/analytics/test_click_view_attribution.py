"""A gclid goes to the exact campaign Google's click_view says it was a click on; otherwise the click-id rule.

A hand-made Berlin store selling in euros (not the demo world). Google Ads: "g-shop" (Shopping) promotes the
mug; "g-search" (Search) names no products. Both spent in Bavaria on Thursday 16 May 2024. Every order buys
one mug and carries a gclid; the click-id rule alone would give all of them to g-shop, the campaign promoting
the mug.

1. G1, no UTM, €70: click_view says g-search                        -> g-search (click_view)
2. G2, no UTM, €50: not in click_view (older than 90 days / unknown) -> g-shop (click-id rule)
3. G3, utm_campaign=g-shop, €30: click_view says g-search           -> g-search (Google's record over the URL's)
4. G4, no UTM, €20: click_view names a campaign the store never synced -> g-shop (click-id rule)

By hand: g-search 70 + 30 = €100, g-shop 50 + 20 = €70, all deterministic: Google €170 of €170.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def test_click_view_places_each_gclid_on_its_own_campaign(make_shop) -> None:
    shop = make_shop(brand_id="berlin", timezone="Europe/Berlin", currency="EUR")
    shop.campaign("google_ads", "g-shop", products=("mug",), objective="SHOPPING", timezone="Europe/Berlin")
    shop.campaign("google_ads", "g-search", objective="SEARCH", timezone="Europe/Berlin")
    thursday = date(2024, 5, 16)
    shop.spend("google_ads", "g-shop", thursday, 40.0, region="DE-BY", country="DE", purchases=3,
               purchase_value=150.0)
    shop.spend("google_ads", "g-search", thursday, 25.0, region="DE-BY", country="DE", purchases=2,
               purchase_value=90.0)
    at = datetime(2024, 5, 16, 10, 0, tzinfo=UTC)  # noon in Berlin
    orders = {}
    for gclid, revenue, utm in (("G1", 70.0, None), ("G2", 50.0, None), ("G3", 30.0, "g-shop"), ("G4", 20.0, None)):
        orders[gclid] = shop.order(at, {"mug": 1}, revenue=revenue, region="DE-BY", gclid=gclid,
                                   utm_campaign=utm, utm_source="google" if utm else None,
                                   utm_medium="cpc" if utm else None,
                                   landing_site=f"https://shop.example/products/mug?gclid={gclid}",
                                   referrer="https://www.google.com/")
    synced = datetime(2024, 5, 17, 6, 0, tzinfo=UTC)
    shop.warehouse.insert("google_click_views", [
        {"brand_id": "berlin", "gclid": gclid, "account_id": "acct-google_ads", "campaign_id": campaign,
         "ad_group_id": None, "click_date": day, "synced_at": synced}
        for gclid, campaign, day in (("G1", "g-search", thursday), ("G3", "g-search", date(2024, 5, 15)),
                                     ("G4", "g-gone", thursday))])
    # another brand's click on the same gclid string is not this store's
    shop.warehouse.insert("google_click_views", [{
        "brand_id": "elsewhere", "gclid": "G2", "account_id": "x", "campaign_id": "g-search", "ad_group_id": None,
        "click_date": thursday, "synced_at": synced}])
    shop.build(date(2024, 5, 13), date(2024, 5, 20))

    expected = {"G1": "g-search", "G2": "g-shop", "G3": "g-search", "G4": "g-shop"}
    for gclid, campaign in expected.items():
        # wholly the clicked campaign's in every model: one row for all models
        rows = shop.rows("attributed_orders", "order_id = @o", o=orders[gclid])
        assert [(r["attribution_model"], r["platform"], r["campaign_id"], r["match_type"], r["credit"])
                for r in rows] == [("all", "google_ads", campaign, "click_id", 1.0)], gclid

    by_campaign = {r["campaign_id"]: float(r["revenue"]) for r in shop.warehouse.rows(
        "SELECT campaign_id, SUM(attributed_revenue_amount) AS revenue FROM attributed_orders "
        "WHERE brand_id = 'berlin' AND attribution_model IN ('last_touch', 'all') AND platform IS NOT NULL "
        "GROUP BY campaign_id")}
    assert by_campaign == {"g-search": 100.0, "g-shop": 70.0}
    [google] = shop.rows("attribution_reconciliation", "attribution_model = 'last_touch' AND platform = 'google_ads'")
    assert (float(google["deterministic_revenue_amount"]), float(google["geo_credited_revenue_amount"]),
            float(google["spend_amount"])) == (170.0, 0.0, 65.0)
