"""attributed_orders: deterministic matches, the geo + time rule and the five models, on literal inputs."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from tower.config import Settings

MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based")
ORDER_AT = datetime(2024, 5, 10, 17, 0, tzinfo=UTC)  # 12:00 in America/Chicago (CDT)
WINDOW = (date(2024, 5, 1), date(2024, 5, 12))


def credits(shop, order_id: str) -> dict[str, dict[str | None, float]]:
    out: dict[str, dict[str | None, float]] = defaultdict(dict)
    for r in shop.rows("attributed_orders", "order_id = @o", o=order_id):
        for model in MODELS if r["attribution_model"] == "all" else (r["attribution_model"],):
            out[model][r["campaign_id"]] = r["credit"]
    return out


def test_five_models_over_the_same_touches(shop) -> None:
    shop.spend("meta", "m", date(2024, 5, 5), 100.0)
    shop.spend("meta", "m", date(2024, 5, 8), 100.0)
    shop.spend("tiktok", "t", date(2024, 5, 9), 50.0)
    shop.spend("google_ads", "g", date(2024, 5, 10), 10.0)
    oid = shop.order(ORDER_AT)
    shop.build(*WINDOW)

    c = credits(shop, oid)
    assert c["last_touch"] == {"g": 1.0}
    assert c["first_touch"] == {"m": 1.0}
    assert c["linear"] == pytest.approx({"m": 0.5, "t": 0.25, "g": 0.25})
    # first touch 40%, last touch 40%, the two middle touches share 20%
    assert c["position_based"] == pytest.approx({"m": 0.4 + 0.1, "t": 0.1, "g": 0.4})
    # a touch's weight halves every 72 hours (the default half-life) before the order
    hours = {"m": [132, 60], "t": [36], "g": [12]}  # from each day's start (Chicago) to 12:00 on the 10th
    weights = {k: sum(0.5 ** (h / 72) for h in hs) for k, hs in hours.items()}
    total = sum(weights.values())
    assert c["time_decay"] == pytest.approx({k: w / total for k, w in weights.items()})
    for model in MODELS:
        assert math.fsum(c[model].values()) == pytest.approx(1.0)
    rows = {r["attribution_model"]: r for r in shop.rows("attributed_orders", "campaign_id = 'm'")}
    assert rows["linear"]["touches"] == 2
    assert rows["linear"]["touch_date"] == date(2024, 5, 8)
    assert rows["linear"]["match_type"] == "geo_region"


def test_half_life_is_a_setting(shop) -> None:
    shop.spend("meta", "m", date(2024, 5, 5), 100.0)
    shop.spend("google_ads", "g", date(2024, 5, 10), 10.0)
    oid = shop.order(ORDER_AT)
    shop.build(*WINDOW, Settings(attribution_half_life_hours=12))
    w_m, w_g = 0.5 ** (132 / 12), 0.5 ** (12 / 12)
    assert credits(shop, oid)["time_decay"] == pytest.approx({"m": w_m / (w_m + w_g), "g": w_g / (w_m + w_g)})


def test_simultaneous_touches_the_bigger_spend_counts_as_later(shop) -> None:
    shop.spend("meta", "small", date(2024, 5, 9), 10.0)
    shop.spend("tiktok", "big", date(2024, 5, 9), 50.0)
    oid = shop.order(ORDER_AT)
    shop.build(*WINDOW)
    c = credits(shop, oid)
    assert c["last_touch"] == {"big": 1.0}
    assert c["first_touch"] == {"small": 1.0}
    assert c["position_based"] == pytest.approx({"big": 0.5, "small": 0.5})


def test_simultaneous_touches_the_more_specific_campaign_counts_as_later(shop) -> None:
    """Same day: a one-product ad beats a three-product catalogue, which beats a bigger budget naming none."""
    shop.campaign("meta", "melts", products=("melts",))
    shop.campaign("meta", "catalog", products=("melts", "candle", "soap"))
    shop.spend("meta", "melts", date(2024, 5, 9), 10.0)
    shop.spend("meta", "catalog", date(2024, 5, 9), 40.0)
    shop.spend("tiktok", "broad", date(2024, 5, 9), 90.0)
    melts = shop.order(ORDER_AT, {"melts": 1})
    candle = shop.order(ORDER_AT, {"candle": 1})
    shop.build(*WINDOW)
    assert credits(shop, melts)["last_touch"] == {"melts": 1.0}
    assert credits(shop, melts)["first_touch"] == {"broad": 1.0}
    assert credits(shop, candle)["last_touch"] == {"catalog": 1.0}  # the one-product ad does not touch it
    # an earlier touch stays earlier, however specific
    shop.spend("meta", "melts", date(2024, 5, 8), 10.0)
    shop.spend("tiktok", "broad", date(2024, 5, 10), 90.0)
    shop.build(*WINDOW)
    assert credits(shop, melts)["last_touch"] == {"broad": 1.0}


@pytest.mark.parametrize(("hours", "expected"), [(36, {"g"}), (37, {"t", "g"}), (168, {"m", "t", "g"})])
def test_lookback_is_in_hours_from_the_order(shop, hours: int, expected: set[str]) -> None:
    """A day's spend is a touch at the start of the account-local day; it counts when it lies in
    (order_at - lookback, order_at]. 12:00 on the 10th minus 36 h is exactly the start of the 9th: out."""
    shop.spend("meta", "m", date(2024, 5, 5), 100.0)
    shop.spend("tiktok", "t", date(2024, 5, 9), 50.0)
    shop.spend("google_ads", "g", date(2024, 5, 10), 10.0)
    shop.spend("google_ads", "after", date(2024, 5, 11), 10.0)  # the day after the order never counts
    oid = shop.order(ORDER_AT)
    shop.build(*WINDOW, Settings(attribution_lookback_hours=hours))
    assert set(credits(shop, oid)["linear"]) == expected


def test_touch_time_is_the_start_of_the_account_local_day(shop) -> None:
    """Order at 07:00 UTC on Jan 15 (01:00 in Chicago, 23:00 on Jan 14 in Los Angeles): the LA account's
    Jan 15 starts at 08:00 UTC, after the order; its Jan 14 and the Chicago account's Jan 15 count."""
    shop.campaign("meta", "la-15", timezone="America/Los_Angeles")
    shop.campaign("meta", "la-14", timezone="America/Los_Angeles")
    shop.spend("meta", "la-15", date(2024, 1, 15), 100.0)
    shop.spend("meta", "la-14", date(2024, 1, 14), 100.0)
    shop.spend("tiktok", "chi-15", date(2024, 1, 15), 100.0)
    oid = shop.order(datetime(2024, 1, 15, 7, 0, tzinfo=UTC))
    shop.build(date(2024, 1, 14), date(2024, 1, 16))
    assert set(credits(shop, oid)["linear"]) == {"la-14", "chi-15"}


def test_deterministic_matches_win_over_geo_touches(shop) -> None:
    shop.campaign("meta", "120212", name="Winter Sale")
    shop.spend("tiktok", "geo", date(2024, 5, 10), 500.0)  # a fresh geo touch for every order
    by_name = shop.order(ORDER_AT, utm_campaign="  winter SALE ")
    by_id = shop.order(ORDER_AT, utm_campaign="120212", fbclid="IwAR0abc")
    unknown = shop.order(ORDER_AT, utm_campaign="no-such-campaign")
    shop.build(*WINDOW)

    for oid, match in ((by_name, "utm_campaign"), (by_id, "click_id")):
        # wholly one campaign's in every model: one row for all models
        (row,) = shop.rows("attributed_orders", "order_id = @o", o=oid)
        assert (row["attribution_model"], row["campaign_id"], row["credit"], row["match_type"]) == (
            "all", "120212", 1.0, match)
        assert credits(shop, oid) == {m: {"120212": 1.0} for m in MODELS}
    assert credits(shop, unknown)["last_touch"] == {"geo": 1.0}


def test_an_ambiguous_campaign_name_follows_the_click_id(shop) -> None:
    shop.campaign("meta", "m-1", name="Spring")
    shop.campaign("tiktok", "t-1", name="Spring")
    via_tiktok = shop.order(ORDER_AT, utm_campaign="spring", ttclid="E.C.P.abc")
    via_source = shop.order(ORDER_AT, utm_campaign="spring", utm_source="tiktok")
    plain = shop.order(ORDER_AT, utm_campaign="spring")
    shop.build(*WINDOW)
    assert credits(shop, via_tiktok)["last_touch"] == {"t-1": 1.0}
    assert credits(shop, via_source)["last_touch"] == {"t-1": 1.0}
    assert credits(shop, plain)["last_touch"] == {"m-1": 1.0}  # no hint: platform name order, documented


def test_campaigns_promoting_known_products_only_touch_orders_of_those(shop) -> None:
    shop.campaign("meta", "candles", products=("candle",))
    shop.spend("meta", "candles", date(2024, 5, 9), 100.0)
    shop.spend("google_ads", "broad", date(2024, 5, 8), 100.0)  # promotes nothing known: every order
    candle = shop.order(ORDER_AT, {"candle": 1, "soap": 1})
    soap = shop.order(ORDER_AT, {"soap": 2})
    shop.build(*WINDOW)
    assert credits(shop, candle)["linear"] == pytest.approx({"candles": 0.5, "broad": 0.5})
    assert credits(shop, soap)["linear"] == {"broad": 1.0}


def test_country_level_spend_and_orders_without_region(shop) -> None:
    shop.spend("tiktok", "country-only", date(2024, 5, 9), 80.0, region="")
    shop.spend("meta", "california", date(2024, 5, 9), 80.0, region="US-CA")
    texas = shop.order(ORDER_AT, region="US-TX")
    nowhere = shop.order(ORDER_AT, region=None)
    shop.build(*WINDOW)
    (row,) = shop.rows("attributed_orders", "order_id = @o AND attribution_model = 'linear'", o=texas)
    assert (row["campaign_id"], row["match_type"]) == ("country-only", "geo_country")
    # an order without a region is touched by each campaign's spend anywhere in its country
    assert credits(shop, nowhere)["linear"] == pytest.approx({"country-only": 0.5, "california": 0.5})


def test_orders_no_campaign_touched_are_one_unattributed_row(shop) -> None:
    shop.spend("meta", "texas", date(2024, 5, 9), 80.0, region="US-TX")
    wyoming = shop.order(ORDER_AT, region="US-WY", revenue=42.0)
    cancelled = shop.order(ORDER_AT, cancelled=True)
    shop.build(*WINDOW)
    (row,) = shop.rows("attributed_orders", "order_id = @o", o=wyoming)  # one fact, whatever the model
    assert (row["attribution_model"], row["platform"], row["campaign_id"], row["match_type"], row["credit"]) == (
        "all", None, None, "unattributed", 1.0)
    assert float(row["attributed_revenue_amount"]) == pytest.approx(42.0)
    assert shop.rows("attributed_orders", "order_id = @o", o=cancelled) == []


def test_reconciliation_sets_platform_claims_beside_shopify(shop) -> None:
    """Meta claims $2,100 for the week; Shopify attributes it $85 + $115: over-reporting 10.5x."""
    shop.spend("meta", "m", date(2024, 5, 7), 500.0, purchase_value=2100.0, purchases=25)
    shop.order(ORDER_AT, revenue=85.0)
    shop.order(ORDER_AT + timedelta(hours=1), revenue=115.0)
    shop.build(date(2024, 5, 6), date(2024, 5, 13))
    (row,) = shop.rows("attribution_reconciliation", "attribution_model = 'last_touch'")
    assert row["week_start"] == date(2024, 5, 6)  # a Monday
    assert float(row["shopify_attributed_revenue_amount"]) == pytest.approx(200.0)
    assert float(row["platform_reported_revenue_amount"]) == pytest.approx(2100.0)
    assert row["over_reporting_ratio"] == pytest.approx(10.5)
    assert row["shopify_roas"] == pytest.approx(0.4)
    assert row["platform_roas"] == pytest.approx(4.2)
    assert row["is_partial_week"] is False


def test_a_tiny_store_attributed_by_hand(shop) -> None:
    """Seven orders on Friday 10 May 2024 (Chicago), worked by hand.

    Meta's "m-tx" promotes the candle and spent in Texas that day; Meta reported 2 purchases there.
    Google's "g-shop" promotes the candle and spent in California only.

    1. utm_campaign=m-tx, Texas, $100         -> Meta m-tx, deterministic (uses 1 of Meta's 2 in Texas)
    2. a gclid, no UTM, shipped to Wyoming, $80 -> Google g-shop by its click id, though g-shop never spent there
    3. a Klaviyo e-mail visit, Texas, $50     -> e-mail, never geo-credited
    4. a POS sale at the counter, Texas, $30  -> organic
    5. Google search without a click id, $20  -> organic (organic search)
    6. untagged, Texas, 13:00, $60            -> Meta m-tx by geo + time: the 1 reported purchase left
    7. untagged, Texas, 14:00, $40            -> unattributed: Meta reported no more purchases there
    """
    shop.campaign("meta", "m-tx", products=("candle",))
    shop.campaign("google_ads", "g-shop", products=("candle",))
    friday = date(2024, 5, 10)
    shop.spend("meta", "m-tx", friday, 50.0, region="US-TX", purchases=2, purchase_value=240.0)
    shop.spend("google_ads", "g-shop", friday, 30.0, region="US-CA", purchases=3, purchase_value=200.0)
    at = datetime(2024, 5, 10, 15, 0, tzinfo=UTC)  # 10:00 in Chicago
    candle = {"candle": 1}
    tagged = shop.order(at, candle, revenue=100.0, utm_campaign="m-tx", utm_source="facebook",
                        utm_medium="paid_social")
    clicked = shop.order(at, candle, revenue=80.0, region="US-WY", gclid="Cj0KCQiAabc",
                         landing_site="https://shop.example/products/candle?gclid=Cj0KCQiAabc",
                         referrer="https://www.google.com/")
    email = shop.order(at, candle, revenue=50.0, utm_source="klaviyo", utm_medium="email",
                       utm_campaign="Weekly Newsletter")
    pos = shop.order(at, candle, revenue=30.0, sales_channel="pos")
    search = shop.order(at, candle, revenue=20.0, referrer="https://www.google.com/",
                        landing_site="https://shop.example/products/candle")
    first = shop.order(datetime(2024, 5, 10, 18, 0, tzinfo=UTC), candle, revenue=60.0)
    second = shop.order(datetime(2024, 5, 10, 19, 0, tzinfo=UTC), candle, revenue=40.0)
    shop.build(date(2024, 5, 6), date(2024, 5, 13))

    expected = {
        tagged: ("meta", "m-tx", "utm_campaign"),
        clicked: ("google_ads", "g-shop", "click_id"),
        email: (None, None, "email"),
        pos: (None, None, "organic"),
        search: (None, None, "organic"),
        first: ("meta", "m-tx", "geo_region"),
        second: (None, None, "unattributed"),
    }
    for oid, want in expected.items():
        rows = shop.rows("attributed_orders", "order_id = @o", o=oid)
        # untouched and deterministic orders are one row for all models; the geo-credited and the capped-out
        # ones have a row per model
        models = set(MODELS) if oid in (first, second) else {"all"}
        assert {r["attribution_model"] for r in rows} == models, oid
        assert {(r["platform"], r["campaign_id"], r["match_type"], r["credit"]) for r in rows} == {(*want, 1.0)}, oid

    recon = {r["platform"]: r for r in shop.rows("attribution_reconciliation", "attribution_model = 'last_touch'")}
    assert set(recon) == {"meta", "google_ads", "email", "organic", "unattributed"}
    figures = {p: tuple(float(r[c]) for c in ("platform_reported_revenue_amount", "shopify_attributed_revenue_amount",
                                              "deterministic_revenue_amount", "geo_credited_revenue_amount",
                                              "spend_amount"))
               for p, r in recon.items()}
    assert figures == {
        "meta": (240.0, 160.0, 100.0, 60.0, 50.0),
        "google_ads": (200.0, 80.0, 80.0, 0.0, 30.0),
        "email": (0.0, 50.0, 0.0, 0.0, 0.0),
        "organic": (0.0, 50.0, 0.0, 0.0, 0.0),
        "unattributed": (0.0, 40.0, 0.0, 0.0, 0.0),
    }
    assert recon["meta"]["shopify_roas"] == pytest.approx(3.2)  # 160 / 50, not the platform's 4.8


def test_geo_credit_is_capped_per_model_by_the_platform_purchases(shop) -> None:
    """Two campaigns touch three Texas orders; each reported 1 purchase there that day. Linear gives each
    campaign 0.5 of every order: the first two orders fill each campaign's 1, the third is unattributed."""
    day = date(2024, 5, 10)
    shop.spend("meta", "m", day, 50.0, purchases=1)
    shop.spend("tiktok", "t", day, 50.0, purchases=1)
    orders = [shop.order(datetime(2024, 5, 10, 18 + i, 0, tzinfo=UTC)) for i in range(3)]
    shop.build(*WINDOW)
    assert credits(shop, orders[0])["linear"] == pytest.approx({"m": 0.5, "t": 0.5})
    assert credits(shop, orders[1])["linear"] == pytest.approx({"m": 0.5, "t": 0.5})
    assert credits(shop, orders[2])["linear"] == {None: 1.0}
    # last touch: equal time, specificity and spend, so the platform order hands every order to Meta ("meta" <
    # "tiktok"), whose 1 purchase the first order fills; TikTok's room goes unused under this model
    assert [credits(shop, o)["last_touch"] for o in orders] == [{"m": 1.0}, {None: 1.0}, {None: 1.0}]


def test_a_cap_with_room_to_spare_leaves_credits_whole_beside_one_that_binds(shop) -> None:
    """Meta reported 3 purchases, TikTok 1, on the day both touched three Texas orders. Linear: TikTok's room
    runs out after two orders while Meta's 1.5 fits its 3; last touch hands all three to Meta, which exactly
    fill its 3 (a cap the credits meet is not exceeded, nor does it cut them)."""
    day = date(2024, 5, 10)
    shop.spend("meta", "m", day, 50.0, purchases=3)
    shop.spend("tiktok", "t", day, 50.0, purchases=1)
    orders = [shop.order(datetime(2024, 5, 10, 18 + i, 0, tzinfo=UTC)) for i in range(3)]
    shop.build(*WINDOW)
    assert [credits(shop, o)["linear"] for o in orders] == [
        pytest.approx({"m": 0.5, "t": 0.5}), pytest.approx({"m": 0.5, "t": 0.5}),
        pytest.approx({"m": 0.5, None: 0.5})]
    assert [credits(shop, o)["last_touch"] for o in orders] == [{"m": 1.0}] * 3


@pytest.mark.parametrize(("journey", "source"), [
    ({"utm_medium": "sms", "utm_source": "postscript"}, "email"),
    ({"utm_medium": "organic", "utm_source": "pinterest"}, "organic"),
    ({"utm_medium": "referral", "referrer": "https://blog.example/gift-guide"}, "organic"),
    ({"utm_medium": "social-organic", "utm_source": "instagram"}, "organic"),
    ({"referrer": "https://www.bing.com/search?q=candles"}, "organic"),
    ({"referrer": "https://duckduckgo.com/"}, "organic"),
    ({"sales_channel": "shopify_draft_order"}, "organic"),
    ({"sales_channel": "pos"}, "organic"),
])
def test_known_non_paid_sources_are_never_geo_credited(shop, journey: dict, source: str) -> None:
    shop.spend("meta", "m", date(2024, 5, 10), 100.0)  # a fresh, uncapped touch in the order's state
    oid = shop.order(ORDER_AT, **journey)
    shop.build(*WINDOW)
    (row,) = shop.rows("attributed_orders", "order_id = @o", o=oid)
    assert (row["attribution_model"], row["platform"], row["match_type"]) == ("all", None, source)


def test_a_search_click_or_a_platform_referrer_keeps_an_order_paid(shop) -> None:
    """A search-engine referrer with a Microsoft click id is a paid click, not organic search; an Instagram
    referrer without parameters (an in-app browser drops them) lets only Meta's campaigns touch the order."""
    shop.spend("meta", "m", date(2024, 5, 9), 100.0)
    shop.spend("tiktok", "t", date(2024, 5, 10), 100.0)
    bing_ad = shop.order(ORDER_AT, referrer="https://www.bing.com/",
                         landing_site="https://shop.example/products/p1?msclkid=abc")
    instagram = shop.order(ORDER_AT, referrer="https://l.instagram.com/")
    shop.build(*WINDOW)
    assert credits(shop, bing_ad)["last_touch"] == {"t": 1.0}  # the geo rule may credit it: the later touch
    assert credits(shop, instagram)["linear"] == {"m": 1.0}  # TikTok's touch is later, but not its visit


def test_click_id_picks_the_campaign_promoting_the_product_with_the_latest_spend(shop) -> None:
    """fbclid, no UTM: Meta's campaigns promoting the candle compete (the most recent spend in the lookback
    wins); one promoting only soap never does, nor do TikTok's, however recent."""
    shop.campaign("meta", "candle-old", products=("candle",))
    shop.campaign("meta", "candle-new", products=("candle", "soap"))
    shop.campaign("meta", "soap-only", products=("soap",))
    shop.spend("meta", "candle-old", date(2024, 5, 6), 100.0, region="US-CA")
    shop.spend("meta", "candle-new", date(2024, 5, 8), 10.0, region="US-NY")
    shop.spend("meta", "soap-only", date(2024, 5, 10), 100.0)
    shop.spend("tiktok", "t", date(2024, 5, 10), 100.0)
    oid = shop.order(ORDER_AT, {"candle": 1}, fbclid="IwAR0xyz", region="US-WY")
    shop.build(*WINDOW)
    rows = shop.rows("attributed_orders", "order_id = @o", o=oid)
    assert {(r["platform"], r["campaign_id"], r["match_type"], r["credit"]) for r in rows} == {
        ("meta", "candle-new", "click_id", 1.0)}
    assert [r["attribution_model"] for r in rows] == ["all"]  # the same credit in every model: one row


@pytest.mark.parametrize("store_has_gclids", [True, False])
def test_google_search_earns_by_gclid_once_the_store_shows_auto_tagging(shop, store_has_gclids: bool) -> None:
    """Every Google Search or Shopping ad click carries a gclid when auto-tagging is on, so where orders show
    gclids an untagged order is no search campaign's; a store without any keeps the geo rule for them."""
    shop.campaign("google_ads", "search", objective="SEARCH")
    shop.campaign("google_ads", "pmax", objective="PERFORMANCE_MAX")
    shop.spend("google_ads", "search", date(2024, 5, 10), 100.0)
    shop.spend("google_ads", "pmax", date(2024, 5, 8), 100.0)
    if store_has_gclids:
        shop.order(ORDER_AT, gclid="Cj0KCQiA1", region="US-WY")
    plain = shop.order(ORDER_AT)
    shop.build(*WINDOW)
    assert credits(shop, plain)["last_touch"] == ({"pmax": 1.0} if store_has_gclids else {"search": 1.0})
