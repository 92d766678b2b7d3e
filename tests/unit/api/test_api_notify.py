"""Digests and alerts end to end on the seeded agency: into the SMTP capture and the Slack sandbox.

The digest's figures are compared with what ``GET /api/brands/<id>/dashboard`` answers for the same
brand and moment, and its brand order with ``GET /api/agency/overview``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from api_seed import AGENCY, BRAND, NOW, OTHER, bearer
from flask.testing import FlaskClient

from tower.api.app import create_app
from tower.api.brands import current_recommendations
from tower.digests import build_digest, send_digest
from tower.notify import deliveries
from tower.notify.alerts import notify_alert
from tower.notify.recipients import add_recipient, get_recipient
from tower.runtime import Runtime
from tower_dev.sandboxes.ad_sandbox import HttpServerThread
from tower_dev.sandboxes.notify_standins import Standins, start
from tower_dev.sandboxes.slack_api.server import block_problem

EMAIL = "ops@northstar.example"
CHANNEL = "#growth"
NO_WAIT = {"sleep": lambda _s: None}


@dataclass
class Wired:
    runtime: Runtime
    standins: Standins
    client: FlaskClient


@pytest.fixture
def wired(runtime: Runtime) -> Iterator[Wired]:
    base = runtime.settings.model_copy(update={"notify_public_url": "https://tower.test", "notify_retry_seconds": 0.0})
    standins = start(base, runtime.secrets)
    rt = Runtime(standins.settings)
    for rid, channel, address in (("ops", "email", EMAIL), ("growth", "slack", CHANNEL)):
        add_recipient(rt.store, rt.secrets, agency_id=AGENCY, recipient_id=rid, channel=channel, address=address,
                      timezone="America/New_York", now=NOW, daily_budget=1)
    yield Wired(rt, standins, create_app(rt, clock=lambda: NOW).test_client())
    rt.close()
    standins.stop()


def _dashboard(client: FlaskClient, key: str, brand_id: str) -> dict[str, Any]:
    resp = client.get(f"/api/brands/{brand_id}/dashboard", headers=bearer(key))
    assert resp.status_code == 200, resp.json
    return resp.json


def test_digest_brands_are_in_the_overviews_order_with_the_dashboards_figures(wired: Wired,
                                                                               keys: dict[str, str]) -> None:
    digest = build_digest(wired.runtime, AGENCY, NOW)
    overview = wired.client.get("/api/agency/overview", headers=bearer(keys["agency"])).json["brands"]
    assert [b["brand_id"] for b in digest["brands"]] == [b["brand_id"] for b in overview]
    assert [(b["status"], b["health_score"]) for b in digest["brands"]] == [
        (b["status"], b["health_score"]) for b in overview]
    for b in digest["brands"]:
        dash = _dashboard(wired.client, keys["agency"], b["brand_id"])
        perf, tiles = dash["performance_snapshot"], dash["tiles"]
        got = {f["key"]: (f["value"], f["previous"], f["change_pct"]) for f in b["figures"]}
        prev, changes = perf.get("previous_week") or {}, perf.get("changes") or {}
        assert got["spend"] == (perf["total_spend"], prev.get("total_spend"), changes.get("spend_pct"))
        assert got["revenue"] == (perf["total_revenue"], prev.get("total_revenue"), changes.get("revenue_pct"))
        assert got["roas"] == (perf["blended_roas"], prev.get("blended_roas"), changes.get("roas_pct"))
        for key in ("mer", "new_customer_revenue", "profit"):
            assert got[key] == (tiles[key]["value"], tiles[key]["previous"], tiles[key]["change_pct"])
        assert [a["id"] for a in b["alerts"]] == [a["id"] for a in dash["alerts"]]
        assert [a["id"] for a in b["actions"]] == [r["id"] for r in dash["recommendations"][:3]]
        assert dash["range"]["label"] in b["period_label"]
    # worked by hand: the seeded week is 16-22 November 2026 (today 23 November in New York)
    assert digest["period_label"] == "last week (Nov 16 – Nov 22, 2026)"


def test_the_digest_arrives_by_email_and_slack_once(wired: Wired) -> None:
    out = send_digest(wired.runtime, AGENCY, now=NOW, **NO_WAIT)
    assert sorted(out["sent"]) == ["growth", "ops"]
    [mail] = wired.standins.mail.to(EMAIL)
    msg = mail.message
    assert mail.login == "tower-sandbox"  # the SMTP password came from the secret store
    assert msg["Subject"] == "Northstar Growth: weekly digest, last week (Nov 16 – Nov 22, 2026)"
    assert msg["List-Unsubscribe"].startswith("<https://tower.test/api/notify/unsubscribe?token=")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = mail.part("plain"), mail.part("html")
    digest = build_digest(wired.runtime, AGENCY, NOW)
    positions = [text.index(f"== {b['brand_name']} (") for b in digest["brands"]]
    assert positions == sorted(positions)
    for b in digest["brands"]:
        assert f"https://tower.test/brands/{b['brand_id']}" in html
    [posted] = wired.standins.slack.sent("chat.postMessage", CHANNEL)
    assert block_problem(posted["blocks"]) is None
    assert "last week (Nov 16 – Nov 22, 2026)" in posted["text"]
    again = send_digest(wired.runtime, AGENCY, now=NOW + timedelta(hours=1), **NO_WAIT)
    assert sorted(again["sent"]) == ["growth", "ops"]
    assert len(wired.standins.mail.messages) == 1 and len(wired.standins.slack.messages) == 1


def _link(mail_header: str) -> str:
    url = urlparse(mail_header.strip("<>"))
    return f"{url.path}?{url.query}"


def test_the_unsubscribe_link_and_one_click_unsubscribe(wired: Wired) -> None:
    send_digest(wired.runtime, AGENCY, now=NOW, **NO_WAIT)
    mail = wired.standins.mail.to(EMAIL)[0]
    one_click = _link(mail.message["List-Unsubscribe"])
    page = next(line.split(": ", 1)[1] for line in mail.part("plain").splitlines()
                if line.startswith("Unsubscribe from this digest: "))
    assert page.startswith("https://tower.test/unsubscribe?token=")  # the page's screen, for people
    assert one_click == "/api/notify/unsubscribe?" + page.split("?", 1)[1]  # the same token
    looked = wired.client.get(one_click)  # no API key: the signed token is the authorisation
    assert looked.status_code == 200 and looked.json == {"recipient_id": "ops", "kind": "digest", "unsubscribed": []}
    assert get_recipient(wired.runtime.store, "ops")["unsubscribed"] == []  # a GET (a mail scanner) changes nothing
    done = wired.client.post(one_click, data="List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and done.json["unsubscribed"] == ["digest"]
    assert wired.client.post(one_click).json["unsubscribed"] == ["digest"]  # twice: the same
    out = send_digest(wired.runtime, AGENCY, now=NOW + timedelta(days=7), **NO_WAIT)
    assert out["skipped"] == ["ops"] and out["sent"] == ["growth"]
    tampered = one_click[:-3] + ("AAA" if not one_click.endswith("AAA") else "BBB")
    bad = wired.client.post(tampered)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_token"


def _alert(n: int, severity: str = "high", raised_on: str = "2026-11-23") -> dict[str, Any]:
    return {"brand_id": BRAND, "alert_id": f"alert-{n}", "type": "roas_drop", "severity": severity,
            "title": f"ROAS fell on campaign {n}", "raised_on": raised_on, "recommended_action": "Look at Meta"}


def _statuses(rt: Runtime, rid: str) -> dict[str, tuple[str, str]]:
    return {d["alert_id"]: (d["status"], d["reason"]) for d in deliveries.of_recipient(rt.store, rid)
            if d["kind"] == "alert"}


def test_budget_dedup_and_the_excess_rolled_into_the_next_digest(wired: Wired) -> None:
    rt, mail = wired.runtime, wired.standins.mail
    notify_alert(rt, _alert(1), now=NOW, **NO_WAIT)
    notify_alert(rt, _alert(2), now=NOW + timedelta(minutes=5), **NO_WAIT)
    assert _statuses(rt, "ops") == {"alert-1": ("sent", "ok"), "alert-2": ("held", "budget")}
    assert len(mail.to(EMAIL)) == 1 and "ROAS fell on campaign 1" in mail.to(EMAIL)[0].message["Subject"]
    notify_alert(rt, _alert(1), now=NOW + timedelta(minutes=6), **NO_WAIT)  # Pub/Sub redelivers
    notify_alert(rt, _alert(1, raised_on="2026-11-24"), now=NOW + timedelta(days=1), **NO_WAIT)  # raised again
    assert len(mail.to(EMAIL)) == 1
    assert _statuses(rt, "ops")["alert-1"] == ("skipped", "duplicate")
    send_digest(rt, AGENCY, now=NOW + timedelta(days=1), **NO_WAIT)
    digest_mail = mail.to(EMAIL)[-1]
    assert "Held back since the last digest" in digest_mail.part("plain")
    assert "ROAS fell on campaign 2 (high, raised 2026-11-23)" in digest_mail.part("plain")
    assert _statuses(rt, "ops")["alert-2"] == ("rolled", "budget")


def test_quiet_hours_hold_all_but_critical_alerts(wired: Wired) -> None:
    rt = wired.runtime
    # NOW is 10:00 in New York: quiet hours 09:00-17:00 there cover it
    add_recipient(rt.store, rt.secrets, agency_id=AGENCY, recipient_id="ops", channel="email", address=EMAIL,
                  timezone="America/New_York", now=NOW, daily_budget=5, quiet="09:00-17:00")
    notify_alert(rt, _alert(1), now=NOW, **NO_WAIT)
    notify_alert(rt, _alert(2, severity="critical"), now=NOW, **NO_WAIT)
    assert _statuses(rt, "ops") == {"alert-1": ("held", "quiet_hours"), "alert-2": ("sent", "ok")}
    assert [m.message["Subject"].startswith("[CRITICAL]") for m in wired.standins.mail.to(EMAIL)] == [True]


def test_a_send_that_keeps_failing_is_dead_lettered_and_shown(wired: Wired, keys: dict[str, str]) -> None:
    from tower_dev.sandboxes.mail_capture.server import free_port

    broken = Runtime(wired.runtime.settings.model_copy(update={"notify_smtp_port": free_port("127.0.0.1")}))
    waits: list[float] = []
    try:
        out = send_digest(broken, AGENCY, now=NOW, sleep=waits.append)
    finally:
        broken.close()
    assert out["dead"] == ["ops"] and out["sent"] == ["growth"]
    doc = next(d for d in deliveries.of_recipient(wired.runtime.store, "ops") if d["kind"] == "digest")
    assert doc["status"] == "dead" and doc["attempts"] == wired.runtime.settings.notify_send_attempts
    assert "could not be reached" in doc["last_error"]
    assert len(waits) == wired.runtime.settings.notify_send_attempts - 1
    body = wired.client.get("/api/agency/notifications", headers=bearer(keys["agency"])).json
    assert body["counts"]["dead"] == 1 and body["counts"]["sent"] == 1
    assert {r["recipient_id"] for r in body["recipients"]} == {"ops", "growth"}
    assert deliveries.status_counts(wired.runtime.store)["dead"] == 1


@pytest.fixture
def served(wired: Wired) -> Iterator[str]:
    server = HttpServerThread(create_app(wired.runtime, clock=lambda: NOW))
    yield f"{server.origin}/api/notify/slack/actions"
    server.stop()


def test_slack_buttons_are_verified_then_act(wired: Wired, served: str) -> None:
    slack, rt = wired.standins.slack, wired.runtime
    _, cards = current_recommendations(rt.store, OTHER)
    value = json.dumps({"brand_id": OTHER, "rec_id": cards[0]["id"]})
    ts = int(NOW.timestamp())
    status, body = slack.click(served, action_id="dismiss", value=value, timestamp=ts, signing_secret="not the secret")
    assert status == 401 and body["error"]["code"] == "bad_signature"
    status, body = slack.click(served, action_id="dismiss", value=value, timestamp=ts - 301)
    assert status == 401 and body["error"]["code"] == "stale_request"
    assert current_recommendations(rt.store, OTHER)[1][0]["id"] == cards[0]["id"]  # nothing happened yet
    status, body = slack.click(served, action_id="dismiss", value=value, timestamp=ts - 60, user="U42")
    assert status == 200 and body["action"] == "dismiss"
    _, after = current_recommendations(rt.store, OTHER, include_hidden=True)
    assert next(c for c in after if c["id"] == cards[0]["id"])["status"] == "dismissed"
    [answer] = slack.sent("response_url")
    assert answer["text"].startswith("Dismissed by <@U42>")


def test_recipients_over_the_api(wired: Wired, keys: dict[str, str]) -> None:
    c, h = wired.client, bearer(keys["agency"])
    bad = c.post("/api/agency/recipients", headers=h, json={"recipient_id": "x", "channel": "email",
                                                             "address": "not-an-address"})
    assert bad.status_code == 400 and "not an e-mail address" in bad.json["error"]["message"]
    made = c.post("/api/agency/recipients", headers=h, json={"recipient_id": "cfo", "channel": "email",
                                                              "address": "cfo@example.com", "quiet_hours": "21:00-08:00",
                                                              "timezone": "Europe/Paris", "min_severity": "high"})
    assert made.status_code == 201 and made.json["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    snoozed = c.post("/api/agency/recipients/cfo/mutes", headers=h,
                     json={"brand_id": BRAND, "alert_type": "roas_drop", "snooze_hours": 24})
    assert snoozed.status_code == 200
    assert snoozed.json["mutes"] == [{"brand_id": BRAND, "alert_type": "roas_drop",
                                      "until": (NOW + timedelta(hours=24)).isoformat()}]
    assert c.delete(f"/api/agency/recipients/cfo/mutes?brand_id={BRAND}&alert_type=roas_drop",
                    headers=h).json["mutes"] == []
    other = c.delete("/api/agency/recipients/cfo", headers=bearer(keys["other_brand"]))
    assert other.status_code == 403
    assert c.delete("/api/agency/recipients/cfo", headers=h).json == {"removed": True}
    assert get_recipient(wired.runtime.store, "ops")["channel"] == "email"


def test_a_webhook_recipient_gets_the_alert_through_its_incoming_webhook(wired: Wired) -> None:
    rt, slack = wired.runtime, wired.standins.slack
    hook = slack.add_webhook("#alerts-webhook")
    add_recipient(rt.store, rt.secrets, agency_id=AGENCY, recipient_id="hooked", channel="slack", address="",
                  timezone="UTC", now=NOW, webhook_url=hook)
    out = notify_alert(rt, _alert(7, severity="critical"), now=NOW, **NO_WAIT)
    assert "hooked" in out["sent"]
    [posted] = slack.sent("webhook", "#alerts-webhook")
    assert posted["text"].startswith("🔴 Acme Candles: ROAS fell on campaign 7 (critical, raised 2026-11-23)")
    button = posted["blocks"][-1]["elements"][0]
    assert button["url"] == f"https://tower.test/brands/{BRAND}"
    assert hook not in str(get_recipient(rt.store, "hooked"))  # the URL is a secret: only in the secret store


def test_serve_starts_the_stand_ins_only_without_a_real_smtp_server(runtime: Runtime,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tower import sandboxes
    from tower_dev.sandboxes.notify_standins import provider

    monkeypatch.setattr(sandboxes, "providers", lambda: {"notify": provider})  # the entry point, as installed
    started = sandboxes.notification_standins(runtime.settings, runtime.secrets)
    assert started is not None
    try:
        assert started.settings.notify_smtp_host == "127.0.0.1" and not started.settings.notify_smtp_starttls
        assert started.settings.notify_slack_api_url.startswith("http://127.0.0.1:")
    finally:
        started.stop()
    real = runtime.settings.model_copy(update={"notify_smtp_host": "smtp.example.com"})
    assert sandboxes.notification_standins(real, runtime.secrets) is None


def test_a_connection_that_needs_reconnecting_is_in_the_digest_with_its_reason(wired: Wired) -> None:
    from tower.sync.connect import record_ad_integration
    from tower.sync.outcomes import record_outcome

    rt = wired.runtime
    record_ad_integration(rt, BRAND, "meta", "3300112", by_oauth=True, timezone="UTC",
                          currency="USD", login_customer_id=None, now=NOW)
    rt.warehouse.execute("UPDATE integrations SET status = 'needs_reauth' WHERE brand_id = @b AND account_id = '3300112'",
                         {"b": BRAND})
    record_outcome(rt.store, BRAND, "meta", {"status": "needs_reauth", "accounts": [
        {"account_id": "3300112", "status": "needs_reauth", "error": "Meta Graph error 190: Session has expired"}]}, NOW)
    [section] = [b for b in build_digest(rt, AGENCY, NOW)["brands"] if b["brand_id"] == BRAND]
    assert section["reconnect"] == [{"platform": "meta", "account_id": "3300112", "reason":
                                     "the platform rejected its token: Meta Graph error 190: Session has expired"}]
    assert all(not b["reconnect"] for b in build_digest(rt, AGENCY, NOW)["brands"] if b["brand_id"] != BRAND)
    send_digest(rt, AGENCY, now=NOW, **NO_WAIT)
    [mail] = wired.standins.mail.to(EMAIL)
    assert "meta 3300112: the platform rejected its token: Meta Graph error 190" in mail.part("plain")
    assert "Needs reconnecting" in mail.part("html")
    [posted] = wired.standins.slack.sent("chat.postMessage", CHANNEL)
    assert "needs reconnecting: meta 3300112" in json.dumps(posted["blocks"])
    assert block_problem(posted["blocks"]) is None
