"""Meta payloads → records: the purchase action type, the region × country join, usage headers, errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from facebook_business.exceptions import FacebookRequestError

from tower.connectors.meta.client import ReduceData, classify, usage_from_headers
from tower.connectors.meta.records import (
    GeoMetrics,
    action_value,
    allocate,
    campaign_record,
    join_region_country,
    parse_insights_row,
    product_set_products,
)
from tower.connectors.retry import FatalError, NeedsReauth, RetriableError

DAY = date(2026, 10, 1)


def geo_row(
    geo: str, spend: str, imps: int, clicks: int, purchases: str = "0", value: str = "0", campaign: str = "c1"
) -> GeoMetrics:
    return GeoMetrics(
        campaign, "Camp", DAY, geo, Decimal(spend), imps, clicks, Decimal(purchases), Decimal(value)
    )


def test_one_purchase_action_type_is_read_even_when_meta_repeats_it() -> None:
    actions = [
        {"action_type": t, "value": "3"}
        for t in ("purchase", "omni_purchase", "offsite_conversion.fb_pixel_purchase", "onsite_web_purchase")
    ]
    assert action_value(actions) == Decimal(3)
    assert action_value([{"action_type": "purchase", "value": "3"}]) == 0  # only omni_purchase counts
    assert action_value(None) == 0


def test_an_insights_row_is_parsed_from_strings() -> None:
    row = parse_insights_row(
        {
            "campaign_id": "42",
            "campaign_name": "C",
            "date_start": "2026-10-01",
            "date_stop": "2026-10-01",
            "spend": "5339.5",
            "impressions": "361324",
            "clicks": "12",
            "region": "Texas",
            "action_values": [{"action_type": "omni_purchase", "value": "99.90"}],
            "actions": [{"action_type": "omni_purchase", "value": "2"}],
        },
        "region",
    )
    assert row == GeoMetrics(
        "42", "C", DAY, "Texas", Decimal("5339.5"), 361324, 12, Decimal(2), Decimal("99.90")
    )


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (Decimal("10.00"), [1, 1, 1], ["3.34", "3.33", "3.33"]),
        (Decimal(7), [3, 1, 0], ["5.25", "1.75", "0.00"]),
        (Decimal(0), [1, 2], ["0.00", "0.00"]),
        (Decimal("1.5"), [0, 0], ["0", "1.5"]),
    ],
)
def test_allocation_sums_back_exactly(total: Decimal, weights: list[int], expected: list[str]) -> None:
    parts = allocate(total, [Decimal(w) for w in weights])
    assert [str(p) for p in parts] == expected
    assert sum(parts) == total


def test_region_rows_keep_their_figures_and_country_purchases_follow_spend() -> None:
    regions = [
        geo_row("Texas", "30.00", 300, 6),
        geo_row("California", "10.00", 100, 2),
        geo_row("Unknown", "5.00", 50, 1),
    ]
    countries = [geo_row("US", "50.00", 500, 10, purchases="4", value="200.00")]

    out = join_region_country(regions, countries, account_id="1", currency="USD")

    got = {
        r.region_code: (
            r.region_name,
            r.spend_amount,
            r.impressions,
            r.clicks,
            r.purchases,
            r.purchase_value_amount,
        )
        for r in out
    }
    # California and Texas as reported; what the country total holds beyond them (Meta's "Unknown"
    # region, 5.00 here, plus anything else) is one country-level row with region ''.
    assert got == {
        "US-CA": ("California", Decimal("10.00"), 100, 2, 1.0, Decimal("40.00")),
        "US-TX": ("Texas", Decimal("30.00"), 300, 6, 2.0, Decimal("120.00")),
        "": ("", Decimal("10.00"), 100, 2, 1.0, Decimal("40.00")),
    }
    assert sum(r.purchases for r in out) == 4 and sum(r.purchase_value_amount for r in out) == Decimal(
        "200.00"
    )
    assert {r.country_code for r in out} == {"US"}


def test_a_day_without_spend_allocates_by_impressions_then_to_the_country_row() -> None:
    by_imps = join_region_country(
        [geo_row("Ontario", "0", 30, 0)],
        [geo_row("CA", "0", 30, 0, "1", "9.99")],
        account_id="1",
        currency="CAD",
    )
    assert [(r.region_code, r.purchases, r.purchase_value_amount) for r in by_imps] == [
        ("CA-ON", 1.0, Decimal("9.99"))
    ]
    late = join_region_country([], [geo_row("US", "0", 0, 0, "2", "50")], account_id="1", currency="USD")
    assert [(r.region_code, r.purchases, r.purchase_value_amount) for r in late] == [
        ("", 2.0, Decimal("50.00"))
    ]


def test_campaign_budgets_arrive_in_minor_units() -> None:
    c = campaign_record(
        {"id": "9", "name": "N", "status": "ACTIVE", "objective": "OUTCOME_SALES", "daily_budget": "5000"},
        account_id="1",
        currency="USD",
        timezone="UTC",
    )
    assert c.daily_budget_amount == Decimal("50.00")
    assert campaign_record(
        {"id": "9", "daily_budget": "5000"}, account_id="1", currency="JPY", timezone="UTC"
    ).daily_budget_amount == Decimal(5000)
    assert (
        campaign_record({"id": "9"}, account_id="1", currency="USD", timezone="UTC").daily_budget_amount
        is None
    )


def test_product_set_items_map_to_shopify_products() -> None:
    items = [
        {"retailer_id": "shopify_US_123_456"},
        {"retailer_id": "shopify_US_123_457"},
        {"retailer_id": "SKU-1"},
    ]
    assert [p.product_id for p in product_set_products("c1", items)] == ["gid://shopify/Product/123"]


def test_usage_headers_give_the_highest_utilisation_and_the_wait() -> None:
    headers = {
        "x-business-use-case-usage": '{"1":[{"type":"ads_insights","call_count":40,"total_cputime":81,'
        '"total_time":20,"estimated_time_to_regain_access":2}]}',
        "x-ad-account-usage": '{"acc_id_util_pct": 9.67}',
        "x-fb-ads-insights-throttle": '{"app_id_util_pct": 12, "acc_id_util_pct": 3}',
    }
    assert usage_from_headers(headers) == (81.0, 120.0)
    assert usage_from_headers({}) == (0.0, 0.0)


def _error(
    code: int, status: int = 400, subcode: int | None = None, transient: bool | None = None
) -> FacebookRequestError:
    body: dict = {"error": {"message": "m", "type": "OAuthException", "code": code}}
    if subcode:
        body["error"]["error_subcode"] = subcode
    if transient is not None:
        body["error"]["is_transient"] = transient
    import json

    return FacebookRequestError(
        "Call was not successful", {"method": "GET", "path": "/x"}, status, {}, json.dumps(body)
    )


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        (190, 400, NeedsReauth),
        (102, 400, NeedsReauth),
        (200, 403, NeedsReauth),
        (4, 400, RetriableError),
        (17, 400, RetriableError),
        (613, 400, RetriableError),
        (80000, 400, RetriableError),
        (80014, 400, RetriableError),
        (2, 500, RetriableError),
        (1, 500, ReduceData),
        (100, 400, FatalError),
    ],
)
def test_meta_errors_are_sorted_once(code: int, status: int, kind: type) -> None:
    sorted_ = classify(_error(code, status))
    assert type(sorted_) is kind
    assert sorted_.code == code


def test_a_throttle_waits_at_least_what_meta_estimates() -> None:
    err = _error(80004, subcode=2446079)
    err._http_headers = {
        "x-business-use-case-usage": '{"1":[{"call_count":100,"estimated_time_to_regain_access":3}]}'
    }
    assert classify(err).retry_after == 180.0
