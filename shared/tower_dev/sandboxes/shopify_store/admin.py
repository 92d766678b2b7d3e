"""The sandbox store's admin around an embedded app, and its stand-in for App Bridge.

What Shopify does and this keeps:

* ``GET /store/<name>/apps/<client_id>[/<path>]`` — the admin page of an installed app (a path: a deep link) (``admin.shopify.com/store/<name>/apps/<app>``
  on Shopify): it frames the app's URL (registered with the app, :meth:`.oauth.OAuthApps.register`) with
  the launch query the admin sends — ``embedded=1``, ``host`` (base64url of the admin's host and store
  path), ``id_token`` (a fresh session token), ``locale``, ``session``, ``shop``, ``timestamp`` and
  ``hmac`` over the rest — and answers App Bridge's requests for fresh session tokens from that frame.
* ``GET /shopifycloud/app-bridge.js`` — **the sandbox's stand-in for Shopify's CDN script**
  (``https://cdn.shopify.com/shopifycloud/app-bridge.js``, which an app in production must load from
  Shopify). It implements the one call the product makes, ``window.shopify.idToken()``: it asks the
  admin page framing it (``postMessage`` to its own origin, which is the admin's), and the admin page
  mints the token as Shopify does — HS256 under the app's secret with ``iss``/``dest``/``aud``/``sub``/
  ``exp``/``nbf``/``iat``/``jti``/``sid`` (:func:`.oauth.session_token`) — for the shop *it* frames the
  app for. The frame never says which shop: a page that is not framed by the admin gets no token.
* ``POST /store/<name>/apps/<client_id>/id-token`` — what the admin page calls to mint it: same-origin
  only (the ``Origin`` header must be the sandbox's own), ``{"id_token"}``.

Session tokens live a minute (Shopify's lifetime) on the wall clock, which is what ``shopifyapp``
checks them against.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tower_dev.sandboxes.shopify_store import oauth

if TYPE_CHECKING:  # pragma: no cover
    from tower_dev.sandboxes.shopify_store.server import ShopifySandbox

APP_BRIDGE_PATH = "/shopifycloud/app-bridge.js"
APP_PAGE = re.compile(r"^/store/(?P<store>[a-z0-9][a-z0-9-]*)/apps/(?P<app>[^/]+)(?P<rest>/.*)?$")
ID_TOKEN = re.compile(r"^/store/(?P<store>[a-z0-9][a-z0-9-]*)/apps/(?P<app>[^/]+)/id-token$")
MESSAGE = "sandbox-app-bridge:idToken"

#: The stand-in's script: ``window.shopify.idToken()`` asks the framing admin (its own origin) for a token.
APP_BRIDGE_JS = """// The Shopify sandbox's stand-in for Shopify's App Bridge (https://cdn.shopify.com/shopifycloud/app-bridge.js):
// only shopify.idToken(), answered by the sandbox admin page that frames this app.
(function () {
  var script = document.currentScript;
  var admin = new URL(script.src).origin;
  var meta = document.querySelector('meta[name="shopify-api-key"]');
  var apiKey = script.getAttribute("data-api-key") || (meta ? meta.getAttribute("content") : "");
  var pending = {};
  var next = 0;
  window.addEventListener("message", function (event) {
    var d = event.data;
    if (event.origin !== admin || event.source !== window.parent || !d || d.type !== "__MESSAGE__") return;
    var waiting = pending[d.id];
    if (!waiting) return;
    delete pending[d.id];
    if (d.idToken) waiting.resolve(d.idToken);
    else waiting.reject(new Error(d.error || "the admin gave no session token"));
  });
  window.shopify = {
    config: { apiKey: apiKey },
    idToken: function () {
      return new Promise(function (resolve, reject) {
        if (window.parent === window) {
          reject(new Error("App Bridge: the app is not embedded in the Shopify admin"));
          return;
        }
        var id = String(++next);
        pending[id] = { resolve: resolve, reject: reject };
        window.parent.postMessage({ type: "__MESSAGE__", id: id, apiKey: apiKey }, admin);
      });
    }
  };
})();
""".replace("__MESSAGE__", MESSAGE)

_ADMIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>%(shop)s · Shopify admin (sandbox)</title></head>
<body style="margin:0;font-family:sans-serif">
<header style="padding:8px 16px;background:#1a1a1a;color:#fff">Shopify admin (sandbox) · <b id="shop">%(shop)s</b></header>
<iframe id="app" name="app-iframe" title="%(app)s" src="%(src)s" style="width:100%%;height:calc(100vh - 40px);border:0"></iframe>
<script>
(function () {
  var frame = document.getElementById("app");
  var appOrigin = new URL(frame.src).origin;
  window.addEventListener("message", function (event) {
    var d = event.data;
    if (event.origin !== appOrigin || event.source !== frame.contentWindow || !d || d.type !== "%(message)s") return;
    fetch(%(token_path)s, { method: "POST" })
      .then(function (r) { return r.json(); })
      .then(function (b) {
        event.source.postMessage({ type: "%(message)s", id: d.id, idToken: b.id_token || null,
                                   error: b.error || null }, event.origin);
      });
  });
})();
</script>
</body></html>
"""


def _html(status: int, text: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/html; charset=utf-8"}, text.encode()


def _app(sandbox: ShopifySandbox, store: str, client_id: str) -> tuple[str, str, str] | None:
    """(shop domain, app secret, app URL) when the store exists and the app is registered with a URL."""
    shop = f"{store}.myshopify.com"
    secret = sandbox.oauth.apps.get(client_id)
    url = sandbox.oauth.app_urls.get(client_id, "")
    if secret is None or not url or not any(s.state.shop_domain == shop for s in sandbox.shops.values()):
        return None
    return shop, secret, url


def host_param(sandbox: ShopifySandbox, store: str) -> str:
    """The launch query's ``host``: base64url of the admin's host and the store's path, unpadded."""
    raw = f"{urlsplit(sandbox.origin).netloc}/store/{store}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def app_page(sandbox: ShopifySandbox, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    """``GET /store/<name>/apps/<client_id>[/<path>][?<query>]``: the admin framing the app with its launch query.

    Without a path the frame opens the app's home (``/shopify/install``, where the launch query installs
    or signs in); with one — a deep link, how Shopify sends a top-level page (a charge approval, a
    platform's consent) back into an embedded app — the frame opens the app's URL plus that path and
    query, the launch query added, as the admin does.
    """
    m = APP_PAGE.match(path)
    found = _app(sandbox, m.group("store"), m.group("app")) if m else None
    if m is None or found is None:
        return _html(404, "<html><body>There is no such app in this store.</body></html>")
    shop, secret, url = found
    client_id = m.group("app")
    now = datetime.now(UTC)  # shopifyapp checks session tokens on the wall clock
    launch = {"embedded": "1", "host": host_param(sandbox, m.group("store")),
              "id_token": oauth.session_token(client_id, secret, shop, now), "locale": "en",
              "session": secrets.token_hex(16), "shop": shop, "timestamp": str(int(now.timestamp()))}
    launch["hmac"] = oauth.query_hmac(secret, launch)
    rest = m.group("rest") or ""
    own = dict(parse_qsl(query)) if rest else {}
    src = f"{url.rstrip('/')}{rest or '/shopify/install'}?{urlencode({**own, **launch})}"
    sandbox.oauth.id_tokens_minted += 1
    base = path[:len(path) - len(rest)]
    return _html(200, _ADMIN_PAGE % {"shop": escape(shop), "app": escape(client_id), "src": escape(src, quote=True),
                                     "message": MESSAGE, "token_path": json.dumps(f"{base}/id-token")})


def id_token(sandbox: ShopifySandbox, path: str, origin: str | None) -> tuple[int, dict[str, Any]]:
    """``POST /store/<name>/apps/<client_id>/id-token``: a fresh session token for the admin page's shop."""
    m = ID_TOKEN.match(path)
    found = _app(sandbox, m.group("store"), m.group("app")) if m else None
    if m is None or found is None:
        return 404, {"error": "there is no such app in this store"}
    if origin != sandbox.origin:
        return 403, {"error": "only the admin page itself may ask for a session token"}
    shop, secret, _ = found
    sandbox.oauth.id_tokens_minted += 1
    return 200, {"id_token": oauth.session_token(m.group("app"), secret, shop, datetime.now(UTC))}
