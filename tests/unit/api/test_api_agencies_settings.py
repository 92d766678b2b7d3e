"""Agencies (operator key), and what only the merchant knows (any key covering the brand), through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_seed import local_settings

from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.brands import add_brand, brand_settings
from tower.runtime import Runtime

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)


@pytest.fixture
def api(tmp_path: Path) -> Any:
    runtime = Runtime(local_settings(tmp_path))
    runtime.warehouse.init_schema()
    for b in ("maple", "cedar", "birch"):
        add_brand(runtime.warehouse, brand_id=b, name=b.title(), timezone="America/Toronto", currency="CAD", now=NOW)
    runtime.warehouse.merge("locations", [
        {"brand_id": "maple", "location_id": "gid://shopify/Location/71", "location_name": "Toronto DC",
         "country_code": "CA", "province_code": "ON", "is_active": True, "updated_at": NOW},
        {"brand_id": "maple", "location_id": "gid://shopify/Location/72", "location_name": "Vancouver DC",
         "country_code": "CA", "province_code": "BC", "is_active": True, "updated_at": NOW},
    ], ["brand_id", "location_id"])
    keys = {"operator": create_api_key(runtime.store, operator=True, name="ops"),
            "maple": create_api_key(runtime.store, brand_ids=["maple"], name="maple-owner")}
    client = create_app(runtime, clock=lambda: NOW).test_client()

    def call(method: str, path: str, key: str, body: Any = None) -> Any:
        return client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {keys[key]}"})

    yield runtime, keys, call
    runtime.close()


def test_the_operator_registers_an_agency_and_attaches_brands_its_key_then_sees(api: Any) -> None:
    runtime, keys, call = api
    created = call("POST", "/api/agencies", "operator", {"agency_id": "northstar", "name": "Northstar Growth"})
    assert created.status_code == 201, created.get_json()
    again = call("POST", "/api/agencies", "operator", {"agency_id": "northstar", "name": "Northstar Growth"})
    assert again.status_code == 200 and again.get_json()["brand_ids"] == []

    attached = call("POST", "/api/agencies/northstar/brands", "operator", {"brand_ids": ["maple", "cedar"]})
    assert attached.status_code == 200, attached.get_json()
    assert attached.get_json()["brand_ids"] == ["cedar", "maple"]
    assert {r["brand_id"]: r["agency_id"] for r in runtime.warehouse.rows("SELECT brand_id, agency_id FROM brands")} \
        == {"maple": "northstar", "cedar": "northstar", "birch": None}
    assert call("GET", "/api/agencies", "operator").get_json()["agencies"][0]["brand_ids"] == ["cedar", "maple"]

    keys["agency"] = create_api_key(runtime.store, agency_id="northstar", name="northstar")
    overview = call("GET", "/api/agency/overview", "agency").get_json()
    assert sorted(b["brand_id"] for b in overview["brands"]) == ["cedar", "maple"]

    # A brand moved to another agency leaves the first one.
    call("POST", "/api/agencies", "operator", {"agency_id": "southwind", "name": "Southwind"})
    call("POST", "/api/agencies/southwind/brands", "operator", {"brand_ids": ["cedar"]})
    assert call("GET", "/api/agency/overview", "agency").get_json()["brands"][0]["brand_id"] == "maple"


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), [
    ("POST", "/api/agencies", {"agency_id": "Bad Id", "name": "x"}, 400, "agency id 'Bad Id'"),
    ("POST", "/api/agencies", {"agency_id": "a1"}, 400, "name"),
    ("POST", "/api/agencies/ghost/brands", {"brand_ids": ["maple"]}, 404, "unknown agency 'ghost'"),
    ("POST", "/api/agencies/northstar/brands", {"brand_ids": ["nobody"]}, 400, "unknown brand 'nobody'"),
    ("POST", "/api/agencies/northstar/brands", {"brand_ids": []}, 400, "brand_ids"),
])
def test_bad_agency_requests_name_the_problem(api: Any, method: str, path: str, body: Any, status: int,
                                              words: str) -> None:
    _runtime, _keys, call = api
    call("POST", "/api/agencies", "operator", {"agency_id": "northstar", "name": "Northstar Growth"})
    r = call(method, path, "operator", body)
    assert r.status_code == status, r.get_json()
    assert words in str(r.get_json()["error"])


def test_only_an_operator_key_registers_agencies_or_attaches_brands(api: Any) -> None:
    runtime, keys, call = api
    call("POST", "/api/agencies", "operator", {"agency_id": "northstar", "name": "Northstar Growth"})
    keys["agency"] = create_api_key(runtime.store, agency_id="northstar", name="northstar")
    for key in ("maple", "agency"):
        refused = call("POST", "/api/agencies/northstar/brands", key, {"brand_ids": ["birch"]})
        assert refused.status_code == 403 and "operator key" in refused.get_json()["error"]["message"]
        assert call("POST", "/api/agencies", key, {"agency_id": "mine", "name": "Mine"}).status_code == 403
    # The operator's key reads no brand's data.
    assert call("GET", "/api/brands/maple/dashboard", "operator").status_code == 403


def test_the_merchant_sets_fulfilment_cost_and_thresholds_checked_together(api: Any) -> None:
    runtime, _keys, call = api
    r = call("PUT", "/api/brands/maple/settings", "maple",
             {"set": {"fulfillment_cost_per_order": 6.5, "cover_low_days": 21, "rules.reduce_roas_below": 2}})
    assert r.status_code == 200, r.get_json()
    view = r.get_json()
    assert view["stored"] == {"cover_low_days": 21, "fulfillment_cost_per_order": 6.5, "rules.reduce_roas_below": 2}
    assert view["effective"]["cover_overstock_days"] == 90.0  # the deployment's default where none was set
    assert brand_settings(runtime.warehouse, "maple") == {"cover_low_days": 21, "fulfillment_cost_per_order": 6.5}
    assert runtime.store.get("brands/maple")["thresholds"] == {"rules": {"reduce_roas_below": 2}, "alerts": {}}

    bad = call("PUT", "/api/brands/maple/settings", "maple", {"set": {"cover_low_days": 120}})
    assert bad.status_code == 400 and "cover_low_days must not exceed cover_overstock_days" in bad.get_json()["error"]["message"]
    assert call("PUT", "/api/brands/maple/settings", "maple", {"set": {"nope": 1}}).status_code == 400
    assert call("PUT", "/api/brands/maple/settings", "maple", {"set": {"alerts.anomaly_z": "high"}}).status_code == 400
    assert brand_settings(runtime.warehouse, "maple")["cover_low_days"] == 21  # nothing written by a refusal

    r = call("PUT", "/api/brands/maple/settings", "maple", {"unset": ["cover_low_days"]})
    assert r.status_code == 200 and "cover_low_days" not in r.get_json()["stored"]
    assert call("GET", "/api/brands/cedar/settings", "maple").status_code == 403


def test_region_rules_through_the_api(api: Any) -> None:
    runtime, _keys, call = api
    r = call("PUT", "/api/brands/maple/location-regions/ca-on", "maple",
             {"location_id": "Toronto DC", "fulfillment_cost": 7.25})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["region_code"], r.get_json()["location_id"]) == ("CA-ON", "gid://shopify/Location/71")
    r = call("PUT", "/api/brands/maple/location-regions/CA-BC", "maple", {"location_id": "72"})
    assert r.status_code == 200
    rules = call("GET", "/api/brands/maple/location-regions", "maple").get_json()["rules"]
    assert [(x["region_code"], x["location_id"], x["fulfillment_cost_amount"]) for x in rules] == [
        ("CA-BC", "gid://shopify/Location/72", None), ("CA-ON", "gid://shopify/Location/71", 7.25)]

    for region, body, words in (("XX", {"location_id": "71"}, "ISO 3166-2"),
                                ("CA-ZZ", {"location_id": "71"}, "not a subdivision of CA"),
                                ("CA-QC", {"location_id": "Montreal"}, "Toronto DC")):
        bad = call("PUT", f"/api/brands/maple/location-regions/{region}", "maple", body)
        assert bad.status_code == 400 and words in bad.get_json()["error"]["message"], bad.get_json()
    assert call("DELETE", "/api/brands/maple/location-regions/CA-BC", "maple").get_json() == {"removed": True}
    assert call("DELETE", "/api/brands/maple/location-regions/CA-BC", "maple").get_json() == {"removed": False}
    assert runtime.warehouse.rows("SELECT region_code FROM location_regions") == [{"region_code": "CA-ON"}]
