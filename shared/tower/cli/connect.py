"""``tower connect shopify|meta|tiktok|google_ads``: connect a platform account to a brand.

Tokens go to the secret store, never the warehouse. An ad account can also be connected by OAuth
(``--oauth``): the command prints the platform's authorize URL and takes its redirect on this
machine's loopback (:func:`tower.sync.ad_oauth`'s flow, the API's too). Bad input (unknown brand, a bad shop domain, an
empty or rejected token) exits 2 with a one-line message.
"""

from __future__ import annotations

import html
import sys
import threading
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import typer

from tower.cli.inputs import open_runtime, require_brand
from tower.cli.output import PLATFORM_LABELS, console, fail_usage
from tower.connectors.ad_platforms import AdSyncUsageError, normalise_account_id
from tower.names import AD_PLATFORMS
from tower.runtime import Runtime
from tower.sandboxes import note_connection
from tower.sync import ad_oauth
from tower.sync.ad_oauth import app_credentials
from tower.sync.connect import SCOPE_ADVICE, BadConnection, connect_ad_account, connect_shopify
from tower.sync.grants import OAuthRefused, store_grant

app = typer.Typer(help="Connect a platform account to a brand (tokens go to the secret store).",
                  no_args_is_help=True)

_ACCOUNT_HELP = {
    "meta": "Ad account id (act_123... or 123...).",
    "tiktok": "Advertiser id.",
    "google_ads": "Customer id (123-456-7890 or 1234567890).",
}


@app.command("shopify")
def connect_shopify_cmd(
    brand: str = typer.Option(..., "--brand", help="The brand's id (tower brands add)."),
    shop: str = typer.Option(..., "--shop", help="The store's NAME.myshopify.com domain."),
    token: str = typer.Option(..., "--token", help="Admin API access token (stored in the secret store)."),
    scopes: str = typer.Option("", "--scopes", help="Comma-separated scopes granted to the token (recorded)."),
) -> None:
    """Connect a Shopify store to a brand; the token goes to the secret store, never the warehouse."""
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        row = connect_shopify(runtime.warehouse, runtime.secrets, brand_id=brand, shop=shop, token=token,
                              now=datetime.now(UTC), scopes=[s.strip() for s in scopes.split(",") if s.strip()])
        sandbox = note_connection(runtime.settings, runtime.store, brand, "shopify", row["account_id"])
    except BadConnection as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]connected[/] {row['account_id']} to {brand} (token stored as {row['secret_ref']})")
    _say_sandbox(sandbox)
    if "read_all_orders" not in scopes.split(","):
        console.print(f"[yellow]note:[/] {SCOPE_ADVICE}")


def _connect_ads_command(platform: str) -> Callable[..., None]:
    """The ``connect`` command of one ad platform (the three differ only in names and help)."""
    label = PLATFORM_LABELS[platform]

    def connect(
        brand: str = typer.Option(..., "--brand", help="The brand's id (tower brands add)."),
        account: list[str] = typer.Option(
            [], "--account", help=_ACCOUNT_HELP[platform] + " With --oauth: repeat to pick several."),
        token: str = typer.Option(
            "",
            "--token",
            help="Access token ('-' reads it from stdin); goes to the secret store, never the warehouse.",
        ),
        login_customer_id: str = typer.Option(
            "", "--login-customer-id", help="Google Ads: the manager account the token signs in through."
        ),
        oauth: bool = typer.Option(
            False, "--oauth", help="Authorize in a browser instead of pasting a token: prints the platform's "
            "URL and waits for its redirect on this machine's loopback."),
        port: int = typer.Option(0, "--port", min=0, max=65535,
                                 help="With --oauth: the loopback port of the redirect (0: a free one)."),
        wait: float = typer.Option(300.0, "--wait", min=1, help="With --oauth: seconds to wait for the redirect."),
    ) -> None:
        """Seven parameters: one per option of the command, as typer declares them (help: set below)."""
        if oauth:
            if token:
                fail_usage("--oauth and --token exclude each other")
            _connect_by_oauth(platform, brand, account, port=port, wait=wait)
            return
        if len(account) != 1 or not token:
            fail_usage("pass one --account and its --token (or --oauth to authorize in a browser)")
        account_id = account[0]
        if token == "-":
            token = sys.stdin.readline().strip()
        if login_customer_id and platform != "google_ads":
            fail_usage("--login-customer-id is for google_ads only")
        runtime = open_runtime()
        try:
            runtime.warehouse.init_schema()
            require_brand(runtime, brand)
            info = connect_ad_account(
                runtime, platform, brand, account_id, token, login_customer_id=login_customer_id or None
            )
            sandbox = note_connection(runtime.settings, runtime.store, brand, platform,
                                      normalise_account_id(platform, account_id))
        except AdSyncUsageError as e:
            fail_usage(str(e))
        finally:
            runtime.close()
        console.print(
            f"[green]connected[/] {label} account {info.account_id} to {brand} "
            f"({info.currency}, {info.timezone}); token stored in the secret store"
        )
        _say_sandbox(sandbox)

    connect.__doc__ = f"Connect a {label} account to a brand (the token goes to the secret store)."
    return connect


def _connect_by_oauth(platform: str, brand: str, accounts: list[str], *, port: int, wait: float) -> None:
    """Authorize in a browser (redirect to this machine's loopback), then connect the picked accounts.

    Without ``--account`` the one account the grant reaches is connected; when it reaches several the
    command lists them and asks for ``--account`` (the grant stays stored: the next run asks again).
    """
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        require_brand(runtime, brand)
        _authorize_on_loopback(runtime, platform, brand, port=port, wait=wait)
        found = ad_oauth.list_accounts(runtime.settings, runtime.secrets, brand, platform)
        picked = accounts or ([a["id"] for a in found] if len(found) == 1 else [])
        if not picked:
            listed = "; ".join(f"{a['id']} ({a['name']}, {a['currency']}"
                               + (f", through manager {a['manager_id']})" if a.get("manager_id") else ")")
                               for a in found) or "none"
            fail_usage(f"the grant reaches several {PLATFORM_LABELS[platform]} accounts: {listed}. "
                       "Run again with --account ID (repeatable)")
        rows = ad_oauth.connect_accounts(runtime, runtime.tasks, brand, platform, picked, now=datetime.now(UTC))
    except OAuthRefused as e:
        fail_usage(e.message)
    finally:
        runtime.close()
    for r in rows:
        console.print(f"[green]connected[/] {PLATFORM_LABELS[platform]} account {r['account_id']} to {brand} "
                      f"({r['account_currency']}, {r['account_timezone']}); the grant is in the secret store and "
                      "the first sync is queued")


def _authorize_on_loopback(runtime: Runtime, platform: str, brand: str, *, port: int, wait: float) -> None:
    """Print the authorize URL, take the platform's redirect on 127.0.0.1, store the grant.

    Long because: the loopback callback server is a class local to the call (it closes over the brand,
    the platform and the outcome), and starting it, waiting for the redirect and shutting it down belong
    together.

    Raises:
        OAuthRefused: The app is not configured, the person declined, the code was refused, or no
            redirect came within ``wait`` seconds.
    """
    app_creds = app_credentials(runtime.settings, runtime.secrets, platform)
    outcome: dict[str, Any] = {}
    done = threading.Event()
    callback_path = f"/oauth/{platform}/callback"

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != callback_path:
                self._answer(404, "Not the callback.")
                return
            params = dict(urllib.parse.parse_qsl(url.query))
            try:
                state = ad_oauth.consume_state(runtime.store, platform, params.get("state", ""), datetime.now(UTC))
                if state["brand_id"] != brand:
                    raise OAuthRefused(401, "invalid_state", "state was issued for another brand")
            except OAuthRefused as e:
                self._answer(e.status, e.message)  # a stray or forged request: keep waiting for the real one
                return
            try:
                if params.get("error"):
                    raise OAuthRefused(401, "access_denied", f"the authorization was declined ({params['error']})")
                code = params.get("auth_code" if platform == "tiktok" else "code") or params.get("code", "")
                grant = ad_oauth.exchange_code(settings, app_creds, code, now=datetime.now(UTC))
                grant["authorized_by"] = "cli"
                store_grant(runtime.secrets, brand, platform, grant)
                outcome["ok"] = True
                self._answer(200, "Connected: you can close this tab and go back to the terminal.")
            except OAuthRefused as e:
                outcome["error"] = e
                self._answer(e.status, e.message)
            done.set()

        def _answer(self, status: int, text: str) -> None:
            body = f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the request line carries the code."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Callback)
    settings = runtime.settings.model_copy(
        update={"ad_oauth_redirect_base": f"http://127.0.0.1:{server.server_address[1]}"})
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url, _ = ad_oauth.authorize_url(settings, runtime.store, app_creds, brand_id=brand, actor="cli",
                                        now=datetime.now(UTC))
        console.print(f"Open this address to authorize {PLATFORM_LABELS[platform]} (waiting {wait:.0f} s for the "
                      "redirect):", soft_wrap=True)
        typer.echo(url)
        sys.stdout.flush()
        if not done.wait(wait):
            raise OAuthRefused(408, "timeout", f"no redirect came back within {wait:.0f} s; run the command again")
    finally:
        server.shutdown()
        server.server_close()
    if "error" in outcome:
        raise outcome["error"]


def _say_sandbox(sandbox: dict[str, Any] | None) -> None:
    """Tell whoever connected a sandbox account that it is remembered (it comes back after it stops)."""
    if sandbox:
        seed = (sandbox.get("world") or {}).get("params", {}).get("seed")
        console.print(f"[dim]a development sandbox at {sandbox['origin']} (world seed {seed}): remembered, so "
                      "tower serve and every command bring it back once it has stopped[/]", soft_wrap=True)


for _platform in AD_PLATFORMS:
    app.command(_platform, help=f"Connect a {PLATFORM_LABELS[_platform]} account to a brand.")(
        _connect_ads_command(_platform)
    )
