"""TikTok payloads → records: the envelope's error codes, report rows, the country × province join."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tower.connectors.retry import FatalError, NeedsReauth, RetriableError
from tower.connectors.tiktok.client import check_envelope, encode_params
from tower.connectors.tiktok.records import (
    ReportRow,
    campaign_record,
    join_country_province,
    parse_report_row,
)

DAY = date(2026, 10, 1)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (40100, RetriableError),
        (50000, RetriableError),
        (50002, RetriableError),
        (40202, RetriableError),
        (40102, NeedsReauth),
        (40104, NeedsReauth),
        (40105, NeedsReauth),
        (40001, NeedsReauth),
        (40002, FatalError),
        (40700, FatalError),
    ],
)
def test_errors_in_a_200_body_are_errors(code: int, kind: type) -> None:
    with pytest.raises(kind) as e:
        check_envelope({"code": code, "message": "m", "request_id": "r", "data": {}})
    assert e.value.code == code


def test_a_good_envelope_gives_its_data_and_a_body_without_one_is_retried() -> None:
    assert check_envelope({"code": 0, "message": "OK", "data": {"list": []}}) == {"list": []}
    with pytest.raises(RetriableError):
        check_envelope("<html>502</html>")


def test_list_parameters_travel_as_json() -> None:
    assert encode_params({"dimensions": ["a", "b"], "page": 2, "x": None}) == {
        "dimensions": '["a", "b"]',
        "page": "2",
    }


def test_a_report_row_is_parsed_from_strings() -> None:
    row = parse_report_row(
        {
            "dimensions": {
                "campaign_id": "17",
                "stat_time_day": "2026-10-01 00:00:00",
                "province_id": "4736286",
            },
            "metrics": {
                "spend": "20.000",
                "impressions": "4874",
                "clicks": "65",
                "complete_payment": "3",
                "total_complete_payment_rate": "120.50",
                "campaign_name": "C",
            },
        },
        "province_id",
    )
    assert row == ReportRow(
        "17", "C", DAY, "4736286", Decimal("20.000"), 4874, 65, Decimal(3), Decimal("120.50")
    )


def _row(geo: str, spend: str, imps: int, purchases: str = "0") -> ReportRow:
    return ReportRow(
        "17", "C", DAY, geo, Decimal(spend), imps, imps // 10, Decimal(purchases), Decimal(purchases) * 10
    )


def test_provinces_keep_their_figures_and_the_rest_stays_at_country_level() -> None:
    country = [_row("US", "100.00", 1000, "5"), _row("CA", "10.00", 100, "1")]
    provinces = [
        _row("4736286", "60.00", 600, "3"),
        _row("5332921", "30.00", 300, "1"),
        _row("999999999", "5.00", 50),
    ]  # an id we cannot map: it stays in the country remainder

    out = join_country_province(country, provinces, account_id="a", currency="USD")

    got = {(r.country_code, r.region_code): (r.spend_amount, r.impressions, r.purchases) for r in out}
    assert got == {
        ("US", "US-TX"): (Decimal("60.00"), 600, 3.0),
        ("US", "US-CA"): (Decimal("30.00"), 300, 1.0),
        ("US", ""): (Decimal("10.00"), 100, 1.0),
        ("CA", ""): (Decimal("10.00"), 100, 1.0),
    }
    assert sum(r.spend_amount for r in out) == Decimal("110.00")


def test_budgets_are_daily_only_in_budget_mode_day() -> None:
    day = campaign_record(
        {"campaign_id": 1, "budget_mode": "BUDGET_MODE_DAY", "budget": 50},
        account_id="a",
        currency="USD",
        timezone="UTC",
    )
    infinite = campaign_record(
        {"campaign_id": 2, "budget_mode": "BUDGET_MODE_INFINITE", "budget": 0},
        account_id="a",
        currency="USD",
        timezone="UTC",
    )
    assert (day.daily_budget_amount, infinite.daily_budget_amount) == (Decimal("50.00"), None)
