"""The agency overview: brands sorted by urgency, health from the cached alerts and cards."""

from __future__ import annotations

from typing import Any

import pytest
from api_seed import AGENCY, BRAND, GROWING, OTHER, OUTSIDER, QUIET, bearer
from flask.testing import FlaskClient

from tower.api.agency import brand_health, sort_overview
from tower.ports import DocQuery
from tower.runtime import Runtime


def test_overview_sorts_brands_by_urgency(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.get("/api/agency/overview", headers=bearer(keys["agency"]))
    assert r.status_code == 200
    assert r.json["agency"] == {"agency_id": AGENCY, "name": "Northstar Growth"}
    brands = r.json["brands"]
    assert [(b["brand_id"], b["status"]) for b in brands] == [
        # both need attention with the same alerts and an open high-priority cut: equal health, so by name
        (BRAND, "needs_attention"), (OTHER, "needs_attention"), (GROWING, "opportunity"), (QUIET, "stable")]
    acme = brands[0]
    assert acme == {"brand_id": BRAND, "brand_name": "Acme Candles", "health_score": 45, "alerts": 3,
                    "opportunities": 2, "status": "needs_attention",
                    "top_issue": "SKU-A Vanilla Candle will stock out in 3 days (California)"}
    assert brands[1]["brand_name"] == "Urban Wellness"  # from the warehouse: it has no brands/{id} document
    assert brands[2] == {"brand_id": GROWING, "brand_name": "Pet Paradise", "health_score": 100, "alerts": 0,
                         "opportunities": 1, "status": "opportunity",
                         "top_issue": "Add $500 a week to Meta in US-IL behind SKU-B"}
    assert brands[3] == {"brand_id": QUIET, "brand_name": "Calm Co", "health_score": 100, "alerts": 0,
                         "opportunities": 0, "status": "stable", "top_issue": None}


def test_overview_follows_the_cache(client: FlaskClient, runtime: Runtime, keys: dict[str, str]) -> None:
    for path, _ in runtime.store.query(DocQuery(f"brands/{BRAND}/alerts")):  # acme's alerts resolve
        runtime.store.merge(path, {"status": "resolved"})
    brands = client.get("/api/agency/overview", headers=bearer(keys["agency"])).json["brands"]
    acme = next(b for b in brands if b["brand_id"] == BRAND)
    assert (acme["alerts"], acme["status"]) == (0, "opportunity")
    assert [b["brand_id"] for b in brands] == [OTHER, BRAND, GROWING, QUIET]


def test_a_brand_key_gets_its_own_brands(client: FlaskClient, keys: dict[str, str]) -> None:
    body = client.get("/api/agency/overview", headers=bearer(keys["outsider"])).json
    assert body["agency"] is None and [b["brand_id"] for b in body["brands"]] == [OUTSIDER]


def test_asking_for_another_agency_is_403(client: FlaskClient, keys: dict[str, str]) -> None:
    ok = client.get(f"/api/agency/overview?agency_id={AGENCY}", headers=bearer(keys["agency"]))
    assert ok.status_code == 200
    r = client.get("/api/agency/overview?agency_id=agency_other", headers=bearer(keys["agency"]))
    assert r.status_code == 403 and r.json["error"]["message"] == "this API key does not cover agency 'agency_other'"


def test_a_listed_brand_nobody_registered_is_left_out(client: FlaskClient, runtime: Runtime,
                                                      keys: dict[str, str]) -> None:
    runtime.store.merge(f"agencies/{AGENCY}", {"brand_ids": [QUIET, "ghost-brand"]})
    body = client.get("/api/agency/overview", headers=bearer(keys["agency"])).json
    assert [b["brand_id"] for b in body["brands"]] == [QUIET]


@pytest.mark.parametrize("alerts, cards, expected", [
    ([], [], (100, "stable", None)),
    ([{"severity": "critical", "title": "A"}, {"severity": "low", "title": "B"}], [], (65, "needs_attention", "A")),
    ([{"severity": s, "title": s} for s in ("critical", "critical", "high", "high")], [],
     (0, "needs_attention", "critical")),  # never below 0
    ([], [{"type": "promotion", "status": "open", "action": "Promote C"},
          {"type": "increase_spend", "status": "dismissed", "action": "Scale B"}], (100, "opportunity", "Promote C")),
    ([], [{"type": "reduce_spend", "priority": "high", "status": "open", "action": "Cut A"}], (95, "stable", None)),
    ([], [{"type": "reduce_spend", "priority": "high", "status": "applied", "action": "Cut A"}], (100, "stable", None)),
])
def test_brand_health(alerts: list[dict[str, Any]], cards: list[dict[str, Any]],
                      expected: tuple[int, str, str | None]) -> None:
    h = brand_health(alerts, cards)
    assert (h["health_score"], h["status"], h["top_issue"]) == expected


def test_sort_overview_puts_red_then_green_then_grey() -> None:
    rows = [
        {"brand_id": "c", "brand_name": "C", "status": "stable", "health_score": 100},
        {"brand_id": "b", "brand_name": "B", "status": "opportunity", "health_score": 95},
        {"brand_id": "a2", "brand_name": "A2", "status": "needs_attention", "health_score": 80},
        {"brand_id": "a1", "brand_name": "A1", "status": "needs_attention", "health_score": 40},
    ]
    assert [r["brand_id"] for r in sort_overview(rows)] == ["a1", "a2", "b", "c"]
