"""Accept, dismiss and undo over HTTP, through the real budget actions (and, once, a real platform)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from api_seed import BRAND, NOW, OTHER, TODAY, bearer
from flask.testing import FlaskClient

from tower.api.app import create_app, pump_once
from tower.decisions import budget_actions
from tower.decisions.inputs import CampaignRef, PerformanceRow
from tower.decisions.rules import apply_rules
from tower.decisions.scoring import rank
from tower.decisions.store import find_recommendation, save_recommendations
from tower.decisions.thresholds import RuleThresholds
from tower.runtime import Runtime
from tower_dev.sandboxes.ad_sandbox import sample_accounts
from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox


@pytest.fixture
def cards(client: FlaskClient, keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    """BRAND's open recommendations by type."""
    r = client.get(f"/api/brands/{BRAND}/recommendations", headers=bearer(keys["agency"]))
    return {c["type"]: c for c in r.json["recommendations"]}


@pytest.fixture
def post(client: FlaskClient, keys: dict[str, str]) -> Any:
    """POST to a recommendation action of BRAND with the agency's key; returns (status, json)."""

    def _post(rec_id: str, action: str, brand: str = BRAND, **kwargs: Any) -> tuple[int, Any]:
        r = client.post(f"/api/brands/{brand}/recommendations/{rec_id}/{action}", headers=bearer(keys["agency"]),
                        **kwargs)
        return r.status_code, r.json

    return _post


def test_dismiss_hides_the_card_and_records_who(post: Any, cards: dict, client: FlaskClient, runtime: Runtime,
                                                keys: dict[str, str]) -> None:
    rec = cards["promotion"]
    status, body = post(rec["id"], "dismiss", json={"reason": "We run our own promotions"})
    assert status == 200
    assert (body["status"], body["changed"], body["brand_id"]) == ("dismissed", True, BRAND)
    decision = runtime.store.get(f"brands/{BRAND}/decisions/{body['decision_id']}")
    assert decision["requested_by"] == "api:northstar" and decision["reason"] == "We run our own promotions"

    listed = client.get(f"/api/brands/{BRAND}/recommendations", headers=bearer(keys["agency"])).json
    assert rec["id"] not in [c["id"] for c in listed["recommendations"]]
    hidden = client.get(f"/api/brands/{BRAND}/recommendations?include_hidden=true",
                        headers=bearer(keys["agency"])).json
    assert [c["status"] for c in hidden["recommendations"] if c["id"] == rec["id"]] == ["dismissed"]

    assert post(rec["id"], "dismiss", json={"reason": "again"})[1]["changed"] is False
    status, body = post(rec["id"], "accept")
    assert status == 409 and body["error"]["code"] == "action_not_allowed"
    assert "dismissed" in body["error"]["message"]


@pytest.mark.parametrize("kwargs, code, message", [
    ({}, "invalid_json", "the request body must be a JSON object"),
    ({"json": {}}, "invalid_body", "reason: Field required"),
    ({"json": {"reason": "   "}}, "invalid_body", "reason: must not be blank"),
    ({"json": {"reason": "x" * 501}}, "invalid_body", "reason: String should have at most 500 characters"),
    ({"json": {"why": "no"}}, "invalid_body", "reason: Field required"),
])
def test_dismiss_needs_a_reason(post: Any, cards: dict, kwargs: dict, code: str, message: str) -> None:
    status, body = post(cards["promotion"]["id"], "dismiss", **kwargs)
    assert status == 400
    assert body["error"]["code"] == code and message in body["error"]["message"]


def test_accept_queues_the_budget_task_once(post: Any, cards: dict, runtime: Runtime) -> None:
    rec = cards["reduce_spend"]
    status, body = post(rec["id"], "accept", json={"dry_run": False})
    assert status == 200
    assert (body["status"], body["changed"]) == ("accepting", True)
    assert body["task_id"] == body["decision_id"] and body["changes"]
    assert find_recommendation(runtime.store, rec["id"])[1]["status"] == "accepting"
    status, again = post(rec["id"], "accept")  # no body: dry_run defaults to false
    assert (status, again["changed"]) == (200, False)
    # nothing undoable yet: the task has not run
    status, body = post(rec["id"], "undo")
    assert status == 409 and "nothing to undo" in body["error"]["message"]


def test_dry_run_changes_nothing_and_says_why_it_could_not(post: Any, cards: dict, runtime: Runtime) -> None:
    rec = cards["reduce_spend"]
    status, body = post(rec["id"], "accept", json={"dry_run": True})
    assert status == 200 and body["dry_run"] is True
    # the sample campaigns have no ad account connected: the real write path refuses, and says so
    assert {c["status"] for c in body["changes"]} == {"refused"}
    assert all("not connected" in c["detail"] for c in body["changes"])
    assert find_recommendation(runtime.store, rec["id"])[1]["status"] == "open"
    assert runtime.tasks.drain() == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"json": {"dry_run": "yes"}}, "dry_run: Input should be a valid boolean"),
    ({"json": {"dryrun": True}}, "dryrun: Extra inputs are not permitted"),
    ({"data": "{not json", "content_type": "application/json"}, "must be a JSON object"),
])
def test_accept_bad_body_is_400(post: Any, cards: dict, kwargs: dict, message: str) -> None:
    status, body = post(cards["reduce_spend"]["id"], "accept", **kwargs)
    assert status == 400 and message in body["error"]["message"]


def test_unknown_and_other_brands_recommendations_are_404(post: Any, client: FlaskClient,
                                                          keys: dict[str, str]) -> None:
    status, body = post("rec_nobody", "accept")
    assert status == 404 and body["error"]["code"] == "unknown_recommendation"
    other = client.get(f"/api/brands/{OTHER}/recommendations", headers=bearer(keys["agency"])).json
    other_id = other["recommendations"][0]["id"]
    status, body = post(other_id, "dismiss", json={"reason": "not ours"})  # through BRAND's path
    assert status == 404
    assert body["error"]["message"] == f"brand {BRAND!r} has no recommendation {other_id!r}"
    assert post(other_id, "dismiss", brand=OTHER, json={"reason": "ok"})[0] == 200


def test_actions_are_post_only(client: FlaskClient, keys: dict[str, str], cards: dict) -> None:
    r = client.get(f"/api/brands/{BRAND}/recommendations/{cards['promotion']['id']}/accept",
                   headers=bearer(keys["agency"]))
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"]


# --- once through a real platform: the TikTok sandbox, driven by the connector's own HTTP calls --------


@pytest.fixture
def tiktok(runtime: Runtime) -> Iterator[tuple[Runtime, Any]]:
    """The test's runtime pointed at a TikTok sandbox holding one of BRAND's ad accounts, connected."""
    from tower.sync.connect import connect_ad_account

    (account,) = [a for a in sample_accounts(seed=5, brand_id=BRAND, days=3) if a.platform == "tiktok"]
    sandbox = TikTokSandbox([account])
    rt = Runtime(runtime.settings.model_copy(update={"tiktok_api_origin": sandbox.origin}))
    connect_ad_account(rt, "tiktok", BRAND, account.account_id, sandbox.issue_token(account.account_id))
    budget_actions.register(rt)
    yield rt, account
    rt.close()
    sandbox.stop()


def test_accept_and_undo_change_the_platforms_budget(tiktok: tuple[Runtime, Any], keys: dict[str, str]) -> None:
    rt, account = tiktok
    cid = min(account.campaigns)
    before = Decimal(str(account.campaigns[cid]["daily_budget_amount"]))
    camp = CampaignRef("tiktok", account.account_id, cid, "sandbox campaign", float(before), account.currency, 5000.0)
    row = PerformanceRow("gid://shopify/Product/1", "SKU-A", "tiktok", "US-CA", 5000.0, 10500.0, 0.35, 8.0, 120.0,
                         15.0, 12.0, 40.0, "loc-1", (camp,))
    (rec,) = rank(apply_rules([row], BRAND, "USD", RuleThresholds(max_step_pct=50.0)), TODAY)
    card = rec.to_dict()
    save_recommendations(rt.store, BRAND, rec.week, "v2", [card], NOW)
    (change,) = card["campaign_changes"]
    client = create_app(rt, clock=lambda: NOW).test_client()
    path = f"/api/brands/{BRAND}/recommendations/{card['id']}"

    plan = client.post(f"{path}/accept", headers=bearer(keys["agency"]), json={"dry_run": True}).json
    assert [(c["campaign_id"], c["before"], c["status"]) for c in plan["changes"]] == [(cid, float(before), "dry_run")]
    assert Decimal(str(account.campaigns[cid]["daily_budget_amount"])) == before

    assert client.post(f"{path}/accept", headers=bearer(keys["agency"])).json["status"] == "accepting"
    assert pump_once(rt)["tasks"] == 1
    after = Decimal(str(account.campaigns[cid]["daily_budget_amount"]))
    assert after == Decimal(str(change["proposed_daily_budget"])) != before
    listed = client.get(f"/api/brands/{BRAND}/recommendations", headers=bearer(keys["agency"])).json
    assert [c["status"] for c in listed["recommendations"] if c["id"] == card["id"]] == ["applied"]

    assert client.post(f"{path}/undo", headers=bearer(keys["agency"])).json["status"] == "undoing"
    pump_once(rt)
    assert Decimal(str(account.campaigns[cid]["daily_budget_amount"])) == before
    assert find_recommendation(rt.store, card["id"])[1]["status"] == "undone"


def test_undo_after_the_budget_moved_on_the_platform_is_409_with_both_amounts(tiktok: tuple[Runtime, Any],
                                                                              keys: dict[str, str]) -> None:
    rt, account = tiktok
    cid = min(account.campaigns)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("495.00")
    camp = CampaignRef("tiktok", account.account_id, cid, "sandbox campaign", 495.0, account.currency, 5000.0)
    row = PerformanceRow("gid://shopify/Product/1", "SKU-A", "tiktok", "US-CA", 5000.0, 10500.0, 0.35, 8.0, 120.0,
                         15.0, 12.0, 40.0, "loc-1", (camp,))
    (rec,) = rank(apply_rules([row], BRAND, "USD", RuleThresholds(max_step_pct=50.0)), TODAY)
    card = rec.to_dict()
    save_recommendations(rt.store, BRAND, rec.week, "v2", [card], NOW)
    (change,) = card["campaign_changes"]
    client = create_app(rt, clock=lambda: NOW).test_client()
    path = f"/api/brands/{BRAND}/recommendations/{card['id']}"
    assert client.post(f"{path}/accept", headers=bearer(keys["agency"])).status_code == 200
    pump_once(rt)
    account.campaigns[cid]["daily_budget_amount"] = Decimal("512.34")  # someone, in TikTok Ads Manager

    r = client.post(f"{path}/undo", headers=bearer(keys["agency"]))

    assert r.status_code == 409
    err = r.json["error"]
    assert err["code"] == "budget_changed" and "is 512.34 on the platform, not the recorded" in err["message"]
    assert [(k["campaign_id"], k["recorded"], k["current"]) for k in err["conflicts"]] == [
        (cid, change["proposed_daily_budget"], 512.34)]
    assert account.campaigns[cid]["daily_budget_amount"] == Decimal("512.34")
    assert find_recommendation(rt.store, card["id"])[1]["status"] == "applied"
    # a card made on the budget before the change cannot be accepted either
    other = replace(row, product_id="gid://shopify/Product/2", product_title="SKU-B")
    (stale,) = rank(apply_rules([other], BRAND, "USD", RuleThresholds(max_step_pct=50.0)), TODAY)
    save_recommendations(rt.store, BRAND, stale.week, "v3", [stale.to_dict()], NOW)
    r = client.post(f"/api/brands/{BRAND}/recommendations/{stale.id}/accept", headers=bearer(keys["agency"]))
    assert r.status_code == 409 and r.json["error"]["code"] == "budget_changed"
    assert [(k["recorded"], k["current"]) for k in r.json["error"]["conflicts"]] == [(495.0, 512.34)]
    assert rt.tasks.drain() == 0
