"""R3: webhook deliveries with a bad HMAC, and replays, are all rejected or deduplicated.

The deliveries are the Shopify sandbox's own, signed with the app secret as Shopify signs them, for
real changes of a synced shop (an order created, updated, refunded, cancelled, a product deleted,
stock moved, the privacy topics). Each goes to the ``shopify_webhooks`` Cloud Function through
functions-framework, preceded by forged copies of itself and followed by replays:

* forged: the body changed after signing, signed with another secret, no signature, an empty one, the
  signature of an empty body, the hex digest instead of base64, a truncated one, another delivery's;
  each must answer 401 and leave the warehouse as it was;
* replays: the same delivery again (must answer ``duplicate``), the same signed body under a new
  webhook id (the id is not signed, so anyone holding one delivery can do this; the MERGEs must leave
  the warehouse as it was), and, at the end, each order's oldest delivery again under a new id (stale:
  it must not overwrite the newer row).

``r3_accepted_bad`` counts forged deliveries answered 2xx or that changed the warehouse, and replays
answered ``processed`` under their own id or that changed it. OAuth callbacks are probed the same way
(every route naming ``oauth`` or ``callback``, the ad platforms' callback once per platform): a forged
HMAC or state must not be answered 2xx or 3xx, nor a real ad-OAuth state used a second time, past its
expiry, or at another platform's callback; and the embedded token exchange with forged session tokens
(another secret, another audience, expired, not yet valid, unsigned) must be refused, as must sign-ins
(``POST /api/session``, an invitation's accept) with those session tokens or with forged Firebase ID tokens
(:mod:`reliability_checks.sign_in`): ``r3_forged_id_tokens``, ``r3_forged_session_sign_ins``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reliability_checks import fingerprint as fp
from reliability_checks import sign_in
from reliability_checks.faults import sync_to_completion
from reliability_checks.world import connect_everything, local_settings, start_platforms
from tower.runtime import Runtime, set_default_runtime

SECRET = "reliability-app-secret"
CLIENT_ID = "reliability-client"
#: What a webhook may write: the Shopify tables and the integration's status.
_STATE_TABLES = {**{t: k for t, k in fp.SYNCED_TABLES.items() if not t.startswith("ad_")},
                 "integrations": ("brand_id", "platform", "account_id")}


def _state(runtime: Runtime) -> dict[str, str]:
    return {t: fp.table_figures(runtime.warehouse, t, k).content for t, k in _STATE_TABLES.items()}


def forgeries(body: bytes, headers: dict[str, str], other_body: bytes) -> list[tuple[str, bytes, dict[str, str]]]:
    """Forged copies of a delivery: (what, body, headers)."""
    good = headers["X-Shopify-Hmac-Sha256"]
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256)

    def with_sig(sig: str | None) -> dict[str, str]:
        h = {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}
        if sig is not None:
            h["X-Shopify-Hmac-Sha256"] = sig
        return {**h, "X-Shopify-Webhook-Id": str(uuid.uuid4())}

    other = base64.b64encode(hmac.new(b"not-the-app-secret", body, hashlib.sha256).digest()).decode()
    empty = base64.b64encode(hmac.new(SECRET.encode(), b"", hashlib.sha256).digest()).decode()
    swapped = base64.b64encode(hmac.new(SECRET.encode(), other_body, hashlib.sha256).digest()).decode()
    tampered = body.replace(b"1", b"2", 1) if b"1" in body else body + b" "
    return [
        ("tampered body", tampered, with_sig(good)),
        ("body with a trailing space", body + b" ", with_sig(good)),
        ("another secret", body, with_sig(other)),
        ("no signature", body, with_sig(None)),
        ("empty signature", body, with_sig("")),
        ("signature of an empty body", body, with_sig(empty)),
        ("hex digest", body, with_sig(digest.hexdigest())),
        ("truncated signature", body, with_sig(good[:-4])),
        ("another delivery's signature", body, with_sig(swapped)),
    ]


def _make_changes(state: Any, clock: Any) -> None:
    """Real changes of the shop a minute apart (Shopify's timestamps have whole seconds: two changes in
    one second cannot be told apart by anyone), each producing its webhook deliveries."""
    orders = sorted(state.orders.values(), key=lambda o: o.created_at)
    live = [o for o in orders if o.cancelled_at is None and not o.refunds]
    doomed = next(p for p in state.live_products() if p.id not in state.deleted_before_open)
    made: list[Any] = []
    for change in (
        lambda: state.add_order(like=live[0].id, quantity=2),
        lambda: state.update_order_address(made[0].id, zip_code="73301", province_code="TX"),
        lambda: state.refund_line(live[1].id, live[1].line_items[0].id, 1),
        lambda: state.cancel_order(live[2].id),
        lambda: state.update_order_address(live[3].id, zip_code="10001", province_code="NY"),
        lambda: state.delete_product(doomed.id),
        lambda: state.move_stock(*next(iter(state.levels)), available=-2),
    ):
        clock.advance(60)
        made.append(change())


def run(world: Any, *, include_privacy: bool = True) -> dict[str, Any]:
    """R3's figures."""
    import functions_framework

    from tower_dev.sandboxes.shopify_store.testing import clock_after

    root_dir = Path(__file__).resolve().parents[2]
    clock = clock_after(world)
    platforms = start_platforms(world, shop_clock=clock)
    accepted_bad: list[str] = []
    counts = {"forged": 0, "replays": 0, "stale": 0, "valid": 0, "valid_rejected": 0}
    try:
        with tempfile.TemporaryDirectory(prefix="tower-r3-") as tmp:
            runtime = Runtime(local_settings(Path(tmp), platforms, shopify_api_secret=SECRET,
                                             shopify_bulk_min_orders=10**9, shopify_client_id=CLIENT_ID,
                                             shopify_app_url="http://127.0.0.1:8080"))
            now = clock.now()
            brand_ids = connect_everything(runtime, platforms, now)
            sync_to_completion(runtime, brand_ids[0], "shopify", now=now, today=world.params.end_date, seed=0)
            set_default_runtime(runtime)
            try:
                from tower_dev.sandboxes.shopify_store.webhooks import WebhookSender

                shop_state = platforms.shop.shop(brand_ids[0]).state
                sender = WebhookSender(shop_state, SECRET).attach()
                _make_changes(shop_state, clock)
                if include_privacy:
                    order = next(o for o in shop_state.orders.values()
                                 if o.cancelled_at is None and o.customer_id)
                    clock.advance(60)
                    sender.customers_data_request(int(order.customer_id), [order.id], 9001)
                    clock.advance(60)
                    sender.customers_redact(int(order.customer_id), [order.id])
                client = functions_framework.create_app(
                    target="shopify_webhooks", source=str(root_dir / "main.py"),
                ).test_client()
                deliveries = list(sender.outbox)
                for i, d in enumerate(deliveries):
                    other = deliveries[(i + 1) % len(deliveries)].body
                    for what, body, headers in forgeries(d.body, dict(d.headers), other):
                        counts["forged"] += 1
                        before = _state(runtime)
                        r = client.post("/", data=body, headers=headers)
                        if r.status_code < 300 or _state(runtime) != before:
                            accepted_bad.append(f"{d.topic}: {what} answered {r.status_code}")
                    r = client.post("/", data=d.body, headers=d.headers)
                    counts["valid"] += 1
                    if r.status_code != 200:
                        counts["valid_rejected"] += 1
                    after_first = _state(runtime)
                    counts["replays"] += 2
                    r = client.post("/", data=d.body, headers=d.headers)
                    if (r.get_json() or {}).get("status") != "duplicate" or _state(runtime) != after_first:
                        accepted_bad.append(f"{d.topic}: exact replay answered {r.status_code} {r.get_json()}")
                    fresh = {**d.headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())}
                    r = client.post("/", data=d.body, headers=fresh)
                    if _state(runtime) != after_first:
                        accepted_bad.append(f"{d.topic}: replay under a new id changed the warehouse")
                settled = _state(runtime)
                seen: set[str] = set()
                for d in deliveries:
                    if not d.topic.startswith("orders/") or d.topic == "orders/edited":
                        continue
                    order_id = str(json.loads(d.body).get("id"))
                    if order_id in seen:
                        continue
                    seen.add(order_id)
                    counts["stale"] += 1
                    client.post("/", data=d.body, headers={**d.headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())})
                    if _state(runtime) != settled:
                        accepted_bad.append(f"{d.topic}: an old delivery replayed late overwrote newer rows")
                        settled = _state(runtime)
                oauth = _oauth_probe(runtime, accepted_bad)
                sign_ins = sign_in.probe(runtime, _forged_session_tokens(), accepted_bad)
            finally:
                set_default_runtime(None)
                runtime.close()
    finally:
        platforms.stop()
    return {
        "r3_accepted_bad": len(accepted_bad),
        "r3_forged": counts["forged"],
        "r3_replays": counts["replays"] + counts["stale"],
        "r3_valid_deliveries": counts["valid"],
        "r3_valid_rejected": counts["valid_rejected"],
        "r3_oauth_routes": oauth,
        "r3_forged_id_tokens": sign_ins["id_tokens"],
        "r3_forged_session_sign_ins": sign_ins["session_tokens"],
        "r3_details": accepted_bad[:10],
    }


def _oauth_probe(runtime: Runtime, accepted_bad: list[str]) -> int:
    """Forged OAuth callbacks against every API route naming oauth or callback; returns how many exist."""
    from tower.api.app import create_app
    from tower.names import AD_PLATFORMS

    app = create_app(runtime)
    routes: list[str] = []
    for r in app.url_map.iter_rules():
        if ("oauth" in r.rule.lower() or "callback" in r.rule.lower()) and "GET" in (r.methods or set()):
            # The ad platforms' callback names its platform in the path: probe each platform's.
            if r.rule.count("<") == 1 and "<platform>" in r.rule:
                routes += [r.rule.replace("<platform>", p) for p in AD_PLATFORMS]
            elif "<" not in r.rule:
                routes.append(r.rule)
    client = app.test_client()
    forged = [
        {"code": "x", "shop": "acme-candles.myshopify.com", "state": "forged", "timestamp": "1", "hmac": "00"},
        {"code": "x", "shop": "acme-candles.myshopify.com", "timestamp": "1"},
        {"code": "x", "shop": "evil.example.com", "state": "forged", "timestamp": "1", "hmac": "0" * 64},
        {"code": "x", "auth_code": "x", "state": "A" * 43},
    ]
    for rule in routes:
        for params in forged:
            r = client.get(rule, query_string=params)
            if r.status_code < 400:
                accepted_bad.append(f"OAuth {rule} answered {r.status_code} to a forged callback")
    for platform in AD_PLATFORMS:
        _ad_state_probe(runtime, client, platform, accepted_bad)
    exchanges = [r.rule for r in app.url_map.iter_rules() if r.rule.endswith("/token-exchange")]
    for rule in exchanges:
        for what, token in _forged_session_tokens():
            r = client.post(rule, headers={"Authorization": f"Bearer {token}"})
            if r.status_code < 400:
                accepted_bad.append(f"{rule} answered {r.status_code} to a session token with {what}")
    return len(routes) + len(exchanges) + _app_home_probe(client, accepted_bad)


def _app_home_probe(client: Any, accepted_bad: list[str]) -> int:
    """The embedded app's load (``/shopify/install?id_token=…``) with each forged session token: refused,
    or bounced to shopifyapp's patch-id-token page (where App Bridge fetches a genuine token); never a
    session, never an install."""
    from tower.sync.install import PATCH_ID_TOKEN_PATH

    for what, token in _forged_session_tokens():
        r = client.get("/shopify/install", query_string={"embedded": "1", "shop": "acme-candles.myshopify.com",
                                                          "id_token": token})
        bounced = r.status_code == 302 and PATCH_ID_TOKEN_PATH in r.headers.get("Location", "")
        if r.headers.getlist("Set-Cookie") or (r.status_code < 400 and not bounced):
            accepted_bad.append(f"the App Home load answered {r.status_code} to a session token with {what}")
    return 1


def _ad_state_probe(runtime: Runtime, client: Any, platform: str, accepted_bad: list[str]) -> None:
    """A real ad-OAuth state used twice, another platform's, one past its expiry, one finished in another
    browser than the one it was bound to, one finished by someone else signed in, and an embedded app's
    finished by a stranger (back into the starting shop's admin only): each must be refused.

    The first use of a fresh state may answer anything but a 5xx (without the platform's app configured
    the code is not traded, and the browser goes back to the wizard with the error).
    """
    from datetime import timedelta

    from tower.names import AD_PLATFORMS
    from tower.sync import ad_oauth
    from tower.sync.grants import AppCredentials

    settings = runtime.settings.model_copy(update={"ad_oauth_redirect_base": "https://tower.example.test"})
    now = datetime.now(UTC)
    url, _ = ad_oauth.authorize_url(settings, runtime.store, AppCredentials(platform, "probe", "probe-secret"),
                                    brand_id="acme-candles", actor="api:r3", now=now)
    state = next(v for k, v in _query(url) if k == "state")
    path = f"/oauth/{platform}/callback"
    first = client.get(path, query_string={"code": "x", "auth_code": "x", "state": state})
    if first.status_code >= 500:
        accepted_bad.append(f"{path} answered {first.status_code} to a fresh state")
    again = client.get(path, query_string={"code": "x", "auth_code": "x", "state": state})
    if again.status_code < 400:
        accepted_bad.append(f"{path} answered {again.status_code} to a reused state")
    other = next(p for p in AD_PLATFORMS if p != platform)
    url, _ = ad_oauth.authorize_url(settings, runtime.store, AppCredentials(other, "probe", "probe-secret"),
                                    brand_id="acme-candles", actor="api:r3", now=now)
    r = client.get(path, query_string={"code": "x", "state": next(v for k, v in _query(url) if k == "state")})
    if r.status_code < 400:
        accepted_bad.append(f"{path} answered {r.status_code} to another platform's state")
    url, _ = ad_oauth.authorize_url(settings, runtime.store, AppCredentials(platform, "probe", "probe-secret"),
                                    brand_id="acme-candles", actor="api:r3", now=now - timedelta(hours=2))
    r = client.get(path, query_string={"code": "x", "state": next(v for k, v in _query(url) if k == "state")})
    if r.status_code < 400:
        accepted_bad.append(f"{path} answered {r.status_code} to an expired state")
    # A state bound to the browser that started the flow, finished by another: back to the wizard refused.
    url, _ = ad_oauth.authorize_url(settings, runtime.store, AppCredentials(platform, "probe", "probe-secret"),
                                    brand_id="acme-candles", actor="api:r3", now=now, browser="r3-" + "b" * 40)
    r = client.get(path, query_string={"code": "x", "auth_code": "x",
                                       "state": next(v for k, v in _query(url) if k == "state")})
    if "error=other_browser" not in r.headers.get("Location", ""):
        accepted_bad.append(f"{path} answered {r.status_code} to a state finished in another browser")
    # The starting browser's cookie, but signed in as someone other than who started: refused as well.
    from tower.api.ad_oauth import BROWSER_COOKIE
    from tower.identity.roles import Principal
    from tower.identity.sessions import COOKIE, create_session

    browser = "r3" + "c" * 41
    url, _ = ad_oauth.authorize_url(settings, runtime.store, AppCredentials(platform, "probe", "probe-secret"),
                                    brand_id="acme-candles", actor="api:r3", now=now, browser=browser)
    someone_else = Principal("r3-other", "", None, frozenset({"acme-candles"}), subject="r3-someone-else")
    session_id, _ = create_session(runtime.store, someone_else, now=now)
    other = client.application.test_client()
    other.set_cookie(BROWSER_COOKIE, browser)
    other.set_cookie(COOKIE, session_id)
    r = other.get(path, query_string={"code": "x", "auth_code": "x",
                                      "state": next(v for k, v in _query(url) if k == "state")})
    if "error=other_person" not in r.headers.get("Location", ""):
        accepted_bad.append(f"{path} answered {r.status_code} to a state finished by another signed-in person")
    # Started by the embedded app (confirm in the app): whoever finishes it is sent into the starting shop's
    # admin, never to the wizard on our origin, and nothing becomes the brand's grant there.
    from tower.sync.grants import grant_secret_id

    url, _ = ad_oauth.authorize_url(settings, runtime.store, AppCredentials(platform, "probe", "probe-secret"),
                                    brand_id="acme-candles", actor="user:r3.myshopify.com", now=now,
                                    confirm_shop="r3.myshopify.com")
    had = runtime.secrets.exists(grant_secret_id("acme-candles", platform))
    r = client.application.test_client().get(path, query_string={
        "code": "x", "auth_code": "x", "state": next(v for k, v in _query(url) if k == "state")})
    if "/store/r3/apps/" not in r.headers.get("Location", "") or (
            not had and runtime.secrets.exists(grant_secret_id("acme-candles", platform))):
        accepted_bad.append(f"{path} answered {r.status_code} to an embedded flow's state finished by a stranger")


def _query(url: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return parse_qsl(urlsplit(url).query)


def _forged_session_tokens() -> list[tuple[str, str]]:
    """App Bridge session tokens that must be refused: another app's secret, another audience, expired."""
    from datetime import timedelta

    from tower_dev.sandboxes.shopify_store.oauth import session_token

    now = datetime.now(UTC)
    shop = "acme-candles.myshopify.com"
    return [
        ("another secret", session_token(CLIENT_ID, "not-the-app-secret-but-32-bytes-long", shop, now)),
        ("another audience", session_token(CLIENT_ID, SECRET, shop, now, audience="another-app")),
        ("an expired exp", session_token(CLIENT_ID, SECRET, shop, now - timedelta(minutes=10))),
        ("a future nbf", session_token(CLIENT_ID, SECRET, shop, now + timedelta(minutes=10))),
        ("no signature", "eyJhbGciOiJub25lIn0.eyJhdWQiOiJyZWxpYWJpbGl0eS1jbGllbnQifQ."),
    ]
