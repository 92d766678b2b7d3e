"""Real public Meta, TikTok and Google Ads payloads through the connectors' parsing code.

The payloads live in ``../shared/fixtures/{meta,tiktok,google_ads}`` (sources in each SOURCES.md);
they are read from there and never copied into the project. The suite is skipped only when
``../shared`` is absent. Every file there must have a check below (a new fixture fails until it
gets one).

Meta bodies go through the facebook-business SDK's own response and object parsers (what the
SDK's Cursor and request objects use), then our records and error sorting. A few documentation
samples are not valid JSON as published (trailing commas, ``//`` comments): :func:`lenient_json`
removes exactly those before parsing; the real API sends valid JSON.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"{FIXTURES} is absent (no ../shared checkout)")

CHECKS: dict[tuple[str, str], Callable[[Path], None]] = {}


def check(platform: str, name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(fn: Callable[[Path], None]) -> Callable[[Path], None]:
        CHECKS[(platform, name)] = fn
        return fn

    return register


def lenient_json(text: str) -> Any:
    """JSON as published in docs: drop ``//`` comments and trailing commas, then parse."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    return json.loads(text)


def fixture_files() -> list[tuple[str, str]]:
    if not FIXTURES.is_dir():
        return []
    return sorted(
        (p.parent.name, p.name)
        for d in ("meta", "tiktok", "google_ads")
        for p in (FIXTURES / d).iterdir()
        if p.is_file() and p.name != "SOURCES.md"
    )


# --- Meta -----------------------------------------------------------------------------------------


def _insights(body: Any) -> list[dict[str, Any]]:
    """Insights rows the way the SDK's Cursor builds them (ObjectParser → AdsInsights objects)."""
    from facebook_business.adobjects.adsinsights import AdsInsights
    from facebook_business.adobjects.objectparser import ObjectParser

    return [
        o.export_all_data() for o in ObjectParser(api=None, target_class=AdsInsights).parse_multiple(body)
    ]


def _meta_error(text: str, status: int = 400, headers: dict[str, str] | None = None) -> Any:
    from facebook_business.api import FacebookResponse

    from tower.connectors.meta.client import classify

    response = FacebookResponse(body=text, http_status=status, headers=headers or {}, call={"method": "GET"})
    assert response.is_failure()
    return classify(response.error())


@check("meta", "airbyte_expected_records_country_region_dma.jsonl")
def _meta_airbyte_breakdowns(path: Path) -> None:
    from tower.connectors import geo
    from tower.connectors.meta.records import parse_insights_row

    rows = {
        json.loads(line)["stream"]: json.loads(line)["data"] for line in path.read_text().splitlines() if line
    }
    region = parse_insights_row(rows["ads_insights_region"], "region")
    country = parse_insights_row(rows["ads_insights_country"], "country")
    dma = parse_insights_row(rows["ads_insights_dma"], "dma")
    assert (region.geo, geo.meta_region(region.geo).iso_code) == ("Wisconsin", "US-WI")  # type: ignore[union-attr]
    assert (country.geo, country.spend, country.impressions) == ("US", Decimal("0.95"), 725)
    assert geo.meta_region(dma.geo) is None  # a DMA is not a subdivision: it stays at country level
    assert region.stat_date == date(2021, 2, 21) and region.purchases == 0  # no actions on region rows


@check("meta", "docs_async_post_insights_response.txt")
def _meta_async_post(path: Path) -> None:
    from facebook_business.adobjects.adreportrun import AdReportRun
    from facebook_business.adobjects.objectparser import ObjectParser

    from tower.connectors.meta.streams import report_run_id

    run = ObjectParser(api=None, target_class=AdReportRun).parse_single(lenient_json(path.read_text()))
    assert report_run_id(run) == "6023920149050"


@check("meta", "docs_async_report_run_status_completed.json")
def _meta_async_status(path: Path) -> None:
    from facebook_business.adobjects.adreportrun import AdReportRun
    from facebook_business.adobjects.objectparser import ObjectParser

    from tower.connectors.meta.streams import ASYNC_DONE

    run = ObjectParser(api=None, target_class=AdReportRun).parse_single(json.loads(path.read_text()))
    assert run.export_all_data()["async_status"] == ASYNC_DONE
    assert run.export_all_data()["async_percent_completion"] == 100


@check("meta", "docs_async_report_run_insights_result.json")
def _meta_async_result(path: Path) -> None:
    from tower.connectors.meta.records import parse_insights_row

    body = json.loads(path.read_text())
    rows = _insights(body)
    assert [r["impressions"] for r in rows] == ["9708", "18841"]
    assert "next" not in body["paging"]  # the SDK's Cursor stops on a page without paging.next
    with pytest.raises(ValueError, match="campaign_id"):  # an account-level sample, not our campaign rows
        parse_insights_row(rows[0], "region")


@check("meta", "docs_error_response_example_code190.json")
def _meta_190(path: Path) -> None:
    from tower.connectors.retry import NeedsReauth

    err = _meta_error(path.read_text())
    assert isinstance(err, NeedsReauth) and err.code == 190


@check("meta", "docs_insights_breakdown_gender_response.txt")
def _meta_gender(path: Path) -> None:
    from tower.connectors.meta.records import parse_insights_row

    rows = _insights(lenient_json(path.read_text()))
    assert [r["gender"] for r in rows] == ["female", "male", "unknown"]
    with pytest.raises(ValueError, match="campaign_id"):
        parse_insights_row(rows[0], "gender")


@check("meta", "docs_insights_campaign_default_response.json")
def _meta_default(path: Path) -> None:
    from tower.connectors.meta.records import parse_insights_row

    [row] = _insights(json.loads(path.read_text()))
    parsed = parse_insights_row(row, "region")
    assert (parsed.spend, parsed.impressions, parsed.stat_date) == (
        Decimal("5339.5"),
        361324,
        date(2025, 3, 14),
    )


@check("meta", "docs_rate_limit_error_samples.txt")
def _meta_rate_limit_errors(path: Path) -> None:
    from tower.connectors.retry import RetriableError

    bodies = [b for b in re.split(r"^===.*===\s*$", path.read_text(), flags=re.MULTILINE) if b.strip()]
    codes = []
    for body in bodies:
        err = _meta_error(body)
        assert isinstance(err, RetriableError) and err.kind == "throttle"
        codes.append(err.code)
    assert codes == [32, 80001]


@check("meta", "docs_rate_limit_header_samples.txt")
def _meta_rate_limit_headers(path: Path) -> None:
    from tower.connectors.meta.client import usage_from_headers

    blocks = {}
    for block in re.split(r"^===.*===\s*$", path.read_text(), flags=re.MULTILINE):
        m = re.match(r"\s*([A-Za-z-]+):\s*(.*)", block, flags=re.DOTALL)
        if m:
            value = m.group(2).strip().replace("\n...\n", "\n")
            blocks[m.group(1).lower()] = value
    assert usage_from_headers({"x-app-usage": blocks["x-app-usage"]}) == (28.0, 0.0)
    assert usage_from_headers({"x-ad-account-usage": blocks["x-ad-account-usage"]}) == (9.67, 0.0)
    assert usage_from_headers({"x-business-use-case-usage": blocks["x-business-use-case-usage"]}) == (
        100.0,
        19 * 60.0,
    )
    assert (
        usage_from_headers({"x-fb-ads-insights-throttle": blocks["x-fb-ads-insights-throttle"]})[0] == 100.0
    )


@check("meta", "error_80004_ad_account_rate_limit_airbyte_issue8773.json")
def _meta_80004(path: Path) -> None:
    from tower.connectors.retry import RetriableError

    err = _meta_error(path.read_text())
    assert isinstance(err, RetriableError) and (err.code, err.kind) == (80004, "throttle")


@check("meta", "error_code1_reduce_amount_of_data_php_sdk_issue441.json")
def _meta_code1(path: Path) -> None:
    from tower.connectors.meta.client import ReduceData

    assert isinstance(_meta_error(path.read_text(), status=500), ReduceData)


@check("meta", "error_code4_application_request_limit_nodejs_sdk_issue97.json")
def _meta_code4(path: Path) -> None:
    from tower.connectors.retry import RetriableError

    err = _meta_error(path.read_text())
    assert isinstance(err, RetriableError) and err.code == 4


@check("meta", "fivetran_seed_basic_ad_action_values_trimmed.csv")
def _meta_fivetran_action_values(path: Path) -> None:
    from tower.connectors.meta.records import PURCHASE_ACTION_TYPE, action_value

    rows = list(csv.DictReader(path.open()))
    items = [{"action_type": r["action_type"], "value": r["value"]} for r in rows]
    purchase_like = [i for i in items if i["action_type"].endswith("purchase")]
    assert len(purchase_like) == 2  # the same purchase, twice: summing them would double count
    assert action_value(items) == 0 and PURCHASE_ACTION_TYPE not in {i["action_type"] for i in items}
    assert action_value(items, "offsite_conversion.fb_pixel_purchase") == Decimal("29324.84")


@check("meta", "insights_ad_level_with_purchase_actions_restfb.json")
def _meta_restfb(path: Path) -> None:
    from tower.connectors.meta.records import PURCHASE_ACTION_TYPE, parse_insights_row

    body = json.loads(path.read_text())
    for row in _insights(body):
        parsed = parse_insights_row(row, "region")
        types = [a["action_type"] for a in row["actions"]]
        omni = next(a["value"] for a in row["actions"] if a["action_type"] == PURCHASE_ACTION_TYPE)
        assert sum("purchase" in t for t in types) >= 5  # Meta repeats the purchase under many types
        assert parsed.purchases == Decimal(omni)  # we read it once
        assert parsed.purchase_value == 0  # no action_values in this body
    assert body["paging"]["cursors"]["after"] and "next" in body["paging"]


@check("meta", "insights_ads_action_product_id_airbyte.json")
def _meta_airbyte_product_id(path: Path) -> None:
    from tower.connectors.meta.records import parse_insights_row

    rows = [parse_insights_row(r, "product_id") for r in _insights(json.loads(path.read_text()))]
    assert [(r.spend, r.purchases) for r in rows][-1] == (Decimal("8.53"), 0)
    assert rows[-1].geo == "6023934044385671"


@check("meta", "rate_limit_headers_recorded_grouparoo_nock.txt")
def _meta_grouparoo_headers(path: Path) -> None:
    from tower.connectors.meta.client import usage_from_headers

    text = path.read_text()
    headers = dict(
        re.findall(r'"(x-business-use-case-usage|x-ad-account-usage|x-app-usage)",\s*\'([^\']*)\'', text)
    )
    assert usage_from_headers({"x-business-use-case-usage": headers["x-business-use-case-usage"]}) == (
        32.0,
        0.0,
    )
    assert usage_from_headers({"x-ad-account-usage": headers["x-ad-account-usage"]}) == (100.0, 0.0)


# --- TikTok ---------------------------------------------------------------------------------------


@check("tiktok", "airbyte_expected_records_campaigns_by_country_daily.jsonl")
def _tiktok_country_daily(path: Path) -> None:
    from tower.connectors.tiktok.records import join_country_province, parse_report_row

    rows = [
        parse_report_row(json.loads(line)["data"], "country_code") for line in path.read_text().splitlines()
    ]
    assert rows[0].stat_date == date(2021, 10, 19) and rows[0].spend == Decimal("20.000")
    assert (rows[0].impressions, rows[0].clicks, rows[0].geo) == (4874, 65, "US")
    out = join_country_province(rows, [], account_id="a", currency="USD")
    assert {(r.region_code, r.region_name) for r in out} == {("", "")}  # country only: said so in the row


@check("tiktok", "airbyte_expected_records_ads_reports_daily_one.jsonl")
def _tiktok_ad_daily(path: Path) -> None:
    from tower.connectors.tiktok.records import parse_report_row

    data = json.loads(path.read_text())["data"]
    with pytest.raises(ValueError, match="campaign_id"):  # an ad-level BASIC row, not our campaign report
        parse_report_row(data, "country_code")
    row = parse_report_row(
        {
            "dimensions": {**data["dimensions"], "campaign_id": data["metrics"]["campaign_id"]},
            "metrics": data["metrics"],
        },
        "country_code",
    )
    assert (row.spend, row.impressions, row.clicks, row.purchases) == (Decimal("20.000"), 3765, 53, 0)


@check("tiktok", "airbyte_expected_records_campaigns_budget.jsonl")
def _tiktok_campaigns(path: Path) -> None:
    from tower.connectors.tiktok.records import campaign_record

    records = [
        campaign_record(json.loads(line)["data"], account_id="a", currency="USD", timezone="UTC")
        for line in path.read_text().splitlines()
    ]
    budgets = {r.campaign_id: r.daily_budget_amount for r in records}
    assert budgets["1714073078669329"] == Decimal("50.00")  # BUDGET_MODE_DAY
    assert budgets["1728545382536225"] is None  # BUDGET_MODE_INFINITE
    assert {r.status for r in records} == {"DISABLE"}


@check("tiktok", "campaign_get_page_info_singer_test_mock.json")
def _tiktok_campaign_pages(path: Path) -> None:
    from tower.connectors.tiktok.client import check_envelope
    from tower.connectors.tiktok.records import campaign_record

    pages = [check_envelope(envelope) for envelope in json.loads(path.read_text())]
    assert [p["page_info"]["total_page"] for p in pages] == [3, 3]
    ids = [
        campaign_record(item, account_id="a", currency="USD", timezone="UTC").campaign_id
        for p in pages
        for item in p["list"]
    ]
    assert ids == ["12345", "67890"]


@check("tiktok", "errors_collected_from_tests.jsonl")
def _tiktok_errors(path: Path) -> None:
    from tower.connectors.retry import FatalError, NeedsReauth, RetriableError
    from tower.connectors.tiktok.client import check_envelope

    expected = {
        40105: NeedsReauth,
        40100: RetriableError,
        40200: FatalError,
        40201: FatalError,
        40202: RetriableError,
        40700: FatalError,
        50000: RetriableError,
        50002: RetriableError,
        40001: NeedsReauth,
        51008: RetriableError,
    }
    for line in path.read_text().splitlines():
        body = json.loads(line)
        with pytest.raises(expected[body["code"]]):
            check_envelope(body)


@check("tiktok", "report_envelope_audience_lifetime_airbyte_fixture.json")
def _tiktok_lifetime_envelope(path: Path) -> None:
    from tower.connectors.tiktok.client import check_envelope
    from tower.connectors.tiktok.records import parse_report_row

    data = check_envelope(json.loads(path.read_text()))
    assert len(data["list"]) == 2 and data["list"][0]["metrics"]["spend"] == "31.56"
    with pytest.raises(ValueError, match="stat_time_day"):  # a lifetime age × gender report: not ours
        parse_report_row(data["list"][0], "country_code")


@check("tiktok", "report_integrated_get_openapi_official_sdk.yml")
def _tiktok_openapi(path: Path) -> None:
    import yaml

    from tower.config import Settings
    from tower.connectors.tiktok.streams import REPORT_BY_COUNTRY, REPORT_BY_PROVINCE

    spec = yaml.safe_load(path.read_text())["paths"]["/report/integrated/get/"]["get"]
    params = {p["name"]: p for p in spec["parameters"]}

    def enum(name: str) -> set[str]:
        return {e["key"] for e in params[name]["schema"]["x-open-enum"]["enums"]}

    for stream in (REPORT_BY_COUNTRY, REPORT_BY_PROVINCE):
        sent = stream.params("1", date(2026, 1, 1), date(2026, 1, 2))
        assert set(sent) | {"page", "page_size"} <= set(params)
        assert sent["report_type"] in enum("report_type") and sent["data_level"] in enum("data_level")
        assert sent["service_type"] in enum("service_type")
    assert params["report_type"]["required"] is True
    assert Settings().ads_page_size <= params["page_size"]["schema"]["maximum"] == 1000
    response = spec["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert {"code", "message", "request_id", "data"} <= set(response)
    assert set(spec["x-open-rules"]["response_rule"]) >= {"list", "page_info"}


# --- Google Ads -----------------------------------------------------------------------------------


def _iso_by_name() -> dict[str, str]:
    data = json.loads((FIXTURES / "google_ads" / "iso_3166_2_us_subdivisions.json").read_text())
    return {e["name"]: e["code"] for e in data["3166-2"]}


@check("google_ads", "geo_target_constants_us_states.csv")
def _google_states(path: Path) -> None:
    from tower.connectors import geo

    published = list(csv.DictReader(path.open()))
    ours = {int(r["criteria_id"]): r for r in geo.google_geo_targets() if r["target_type"] == "State"}
    iso = _iso_by_name()
    assert len(published) == len(ours) == 51
    for row in published:
        cid = int(row["Id"])
        assert ours[cid]["name"] == row["Name"] and ours[cid]["canonical_name"] == row["Canonical"]
        assert ours[cid]["country_code"] == row["Country Code"].upper()
        sub = geo.google_region(f"geoTargetConstants/{cid}")
        assert sub is not None and sub.iso_code == iso[row["Name"]] == ours[cid]["iso_3166_2"]


@check("google_ads", "geo_target_constant_country_us.csv")
def _google_country(path: Path) -> None:
    from tower.connectors import geo

    [row] = list(csv.DictReader(path.open()))
    assert geo.google_country_code(int(row["Id"])) == row["Country Code"].upper() == "US"
    assert geo.google_country_criterion("US") == int(row["Id"])


@check("google_ads", "iso_3166_2_us_subdivisions.json")
def _google_iso(path: Path) -> None:
    from tower.connectors import geo

    entries = json.loads(path.read_text())["3166-2"]
    states = {e["code"]: e["name"] for e in entries if e["type"] in ("State", "District")}
    assert len(states) == 51
    for code, name in states.items():
        assert geo.subdivisions()[code].name == name
        assert geo.meta_region_code(name) == code
    assert not {e["code"] for e in entries if e["type"] == "Outlying area"} & set(geo.subdivisions())


@check("google_ads", "adx_geo_table_sample_openrtb_doubleclick_trimmed.csv")
def _google_adx(path: Path) -> None:
    from tower.connectors import geo

    rows = list(csv.reader(path.open()))
    states = [(int(r[0]), r[4]) for r in rows if r[6] == "State"]
    assert states == [(21167, "US-NY")]
    for cid, code in states:
        assert geo.google_region(cid).iso_code == code  # type: ignore[union-attr]
    assert all(geo.google_region(int(r[0])) is None for r in rows if r[6] != "State")


def _failure(detail: dict[str, Any]) -> Any:
    from google.ads.googleads.v26.errors.types.errors import GoogleAdsFailure
    from google.protobuf import json_format

    body = {k: v for k, v in detail.items() if k != "@type"}
    return json_format.ParseDict(body, GoogleAdsFailure.pb()())


@check("google_ads", "googleadsfailure_docs_example_required_field_missing.json")
def _google_failure(path: Path) -> None:
    from tower.connectors.google_ads.client import classify_failure
    from tower.connectors.retry import FatalError

    body = json.loads(path.read_text())
    err = classify_failure("INVALID_ARGUMENT", _failure(body["details"][0]))
    assert type(err) is FatalError and "Required field is missing" in str(err)


@check("google_ads", "quota_error_resource_exhausted_rest_pipedream_issue21554.json")
def _google_quota(path: Path) -> None:
    from tower.connectors.google_ads.client import classify_failure
    from tower.connectors.retry import RetriableError

    error = json.loads(path.read_text())["error"]
    err = classify_failure(error["status"], _failure(error["details"][0]))
    assert isinstance(err, RetriableError) and err.kind == "throttle" and err.retry_after == 40591.0


@check("google_ads", "searchstream_rest_daily_clicks_cost_ecommerce_raport.json")
def _google_search_stream(path: Path) -> None:
    from google.ads.googleads.v26.services.types.google_ads_service import SearchGoogleAdsStreamResponse
    from google.protobuf import json_format

    from tower.connectors.ads_records import from_micros

    batches = json.loads(path.read_text())
    rows = [
        row
        for b in batches
        for row in json_format.ParseDict(
            b, SearchGoogleAdsStreamResponse.pb()(), ignore_unknown_fields=True
        ).results
    ]
    assert len(rows) == 13 and rows[0].segments.date == "2024-06-01"
    assert sum((from_micros(r.metrics.cost_micros) for r in rows), Decimal(0)) == sum(
        Decimal(r["metrics"]["costMicros"]) for b in batches for r in b["results"]
    ) / Decimal(1_000_000)


@pytest.mark.parametrize(("platform", "name"), fixture_files())
def test_every_fixture_parses(platform: str, name: str) -> None:
    assert (platform, name) in CHECKS, f"no compatibility check for ../shared/fixtures/{platform}/{name}"
    CHECKS[(platform, name)](FIXTURES / platform / name)


def test_the_suite_sees_the_fixtures() -> None:
    assert len(fixture_files()) >= 30
