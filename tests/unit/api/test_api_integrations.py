"""``GET /api/brands/{id}/integrations``: each connected account, its status and its last sync, no secret."""

from __future__ import annotations

from datetime import UTC, datetime

from api_seed import BRAND, OTHER, bearer
from flask.testing import FlaskClient

from tower.runtime import Runtime
from tower.sync.outcomes import record_outcome

CONNECTED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SYNCED = datetime(2026, 11, 24, 17, 0, 3, tzinfo=UTC)


def _connect(runtime: Runtime, brand: str, platform: str, account: str, status: str) -> None:
    runtime.warehouse.merge("integrations", [{
        "brand_id": brand, "platform": platform, "account_id": account, "secret_ref": f"secret-{brand}-{platform}",
        "status": status, "scopes": None, "account_timezone": "America/New_York", "account_currency": "USD",
        "login_customer_id": None, "connected_at": CONNECTED, "last_synced_at": None, "updated_at": CONNECTED,
    }], ["brand_id", "platform", "account_id"])


def test_each_account_with_its_status_and_last_sync(client: FlaskClient, runtime: Runtime,
                                                    keys: dict[str, str]) -> None:
    _connect(runtime, BRAND, "meta", "act_77", "active")
    _connect(runtime, BRAND, "tiktok", "adv_5", "needs_reauth")
    _connect(runtime, OTHER, "meta", "act_99", "active")
    record_outcome(runtime.store, BRAND, "meta", {"accounts": [{"account_id": "act_77", "status": "ok", "rows": 40}]},
                   SYNCED)
    record_outcome(runtime.store, BRAND, "tiktok",
                   {"accounts": [{"account_id": "adv_5", "status": "failed", "error": "token expired"}]}, SYNCED)
    r = client.get(f"/api/brands/{BRAND}/integrations", headers=bearer(keys["agency"]))
    assert r.status_code == 200, r.json
    rows = {row["platform"]: row for row in r.json["integrations"]}
    assert set(rows) == {"meta", "tiktok"}  # not the other brand's
    assert rows["meta"]["status"] == "connected" and rows["meta"]["last_sync_status"] == "ok"
    assert rows["meta"]["last_sync_at"] == SYNCED.isoformat() and rows["meta"]["last_success_at"] == SYNCED.isoformat()
    assert rows["tiktok"]["status"] == "needs_reconnect" and rows["tiktok"]["state"] == "needs_reauth"
    assert rows["tiktok"]["error"] == "token expired" and rows["tiktok"]["last_success_at"] is None
    assert "secret" not in r.get_data(as_text=True)


def test_no_integration_is_an_empty_list_and_bad_input_is_refused(client: FlaskClient, keys: dict[str, str]) -> None:
    r = client.get(f"/api/brands/{BRAND}/integrations", headers=bearer(keys["agency"]))
    assert r.status_code == 200 and r.json == {"integrations": []}
    assert client.get(f"/api/brands/{BRAND}/integrations?x=1", headers=bearer(keys["agency"])).status_code == 400
    assert client.get(f"/api/brands/{BRAND}/integrations", headers=bearer(keys["outsider"])).status_code == 403
    assert client.get("/api/brands/nope/integrations", headers=bearer(keys["agency"])).status_code in (403, 404)


def test_the_decision_history_lists_every_action_newest_first(client: FlaskClient, keys: dict[str, str]) -> None:
    auth = bearer(keys["agency"])
    cards = client.get(f"/api/brands/{BRAND}/recommendations", headers=auth).json["recommendations"]
    assert len(cards) >= 2
    first, second = cards[0]["id"], cards[1]["id"]
    assert client.post(f"/api/brands/{BRAND}/recommendations/{first}/dismiss", json={"reason": "on sale"},
                       headers=auth).status_code == 200
    assert client.post(f"/api/brands/{BRAND}/recommendations/{second}/dismiss", json={"reason": "seasonal"},
                       headers=auth).status_code == 200
    r = client.get(f"/api/brands/{BRAND}/decisions", headers=auth)
    assert r.status_code == 200, r.json
    got = [(d["recommendation_id"], d["action"], d["reason"]) for d in r.json["decisions"]]
    assert sorted(got) == sorted([(first, "dismiss", "on sale"), (second, "dismiss", "seasonal")])
    assert all(d["requested_by"] and d["requested_at"] and d["status"] == "done" for d in r.json["decisions"])
    assert len(client.get(f"/api/brands/{BRAND}/decisions?limit=1", headers=auth).json["decisions"]) == 1
    for bad in ("0", "x", "500"):
        assert client.get(f"/api/brands/{BRAND}/decisions?limit={bad}", headers=auth).status_code == 400
    # another brand's key sees none of it
    assert client.get(f"/api/brands/{BRAND}/decisions", headers=bearer(keys["other_brand"])).status_code == 403
