"""R5: every route × every kind of key answers as it should, and no Q&A query escapes its brand.

The matrix: each operation of the OpenAPI document, for each of the two brands, with no key, the
brand's own key, the other brand's key, an agency key covering it, the other agency's key, the
operator's key (where the product has that scope), a revoked key, and the embedded app's Shopify session
tokens (a genuine one for the first brand's shop, its merchant owner; a forged one, refused everywhere). Expected: public routes 200 for
all, but the Shopify install routes, which check Shopify's own signatures and must refuse every cell
(4xx: no cell carries a valid HMAC, state or session token); otherwise 401 (or 429, the failed-auth limit) with no key or a revoked one, 403 for a valid key
that does not cover the brand (the operator covers none, and only it may use ``/api/agencies``), and
for a covering key an answer that is neither 401/403 nor 5xx. The agency overview answers every valid key with only its own
brands. A *leak* is a denied cell answered 2xx, a denied request that changed the stored state, or an
allowed answer carrying the other brand's name, products or campaigns (or, for the overview, a brand
outside the key's scope). Denied cells run first, so the state they must not change is the seeded one.

The Q&A escape corpus (:data:`ATTACKS`) goes through both doors a model-written query has: the
``run_select`` tool itself (what the model would read back) and ``POST /ask`` with the Anthropic
sandbox's gullible model, which runs any question starting ``SQL:``. An *escape* is a result or an
answer holding a canary (the other brand's id, name, products or campaigns, a customer hash, an
integration's secret reference, a token, a planted file's or environment variable's contents, the
warehouse's path) or a warehouse whose row counts and checksums changed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

from reliability_checks import fingerprint as fp
from reliability_checks.demo_state import ApiState

KINDS = ("none", "brand", "other_brand", "agency", "other_agency", "operator", "revoked", "viewer", "member",
         "shopify", "forged_session")
#: Which brand (index into ``ApiState.brand_ids``) each key covers; the operator covers none. ``shopify`` is
#: the embedded app's credential, a Shopify session token for the first brand's shop (its merchant owner);
#: ``forged_session`` one for the same shop signed with another secret, refused like a revoked key.
COVERS = {"brand": {0}, "other_brand": {1}, "agency": {0}, "other_agency": {1}, "operator": set(), "none": set(),
          "revoked": set(), "viewer": {0}, "member": {0}, "shopify": {0}, "forged_session": set()}
#: Kinds that authenticate nobody: 401 everywhere.
UNAUTHENTICATED = ("none", "revoked", "forged_session")
#: What the read-only and member roles may not do (tower.identity.roles): a viewer changes nothing but
#: asks questions and signs out; a member manages no keys, invitations or notifications.
VIEWER_MAY_POST = ("/ask", "/api/session")
MEMBER_MAY_NOT = ("/api/api-keys", "/api/agency/recipients")
MEMBER_MAY_NOT_CHANGE = ("/settings", "/location-regions/{region_code}", "/billing/subscribe")  # settings actions
#: An ad platform's grant (authorize, the account picker, connect, revoke, the embedded app's confirm): settings actions, read ones too
#: (the picker lists every account the grant reaches, other stores' included), so neither role may.
AD_GRANT = re.compile(r"/integrations/[^/]+/(authorize|accounts|authorization|authorization/confirm)$")
KEY_MANAGERS = ("brand", "other_brand", "agency", "other_agency", "operator", "shopify")
#: A brand's people (invite, list members and invitations, remove, revoke): its owner's key (a brand key is
#: its owner) and the operator on any brand; never an agency's key, a member or a viewer (listing is no read).
BRAND_PEOPLE = re.compile(r"^/api/brands/\{brand_id\}/(members|invitations)")
#: The operator's routes (registering agencies, attaching brands): no other key may use them.
OPERATOR_PREFIX = "/api/agencies"
OVERVIEW = "/api/agency/overview"


#: Public routes that authenticate the request themselves (the Shopify install: HMAC and state, or a
#: session token; an e-mail's signed unsubscribe link; Slack's signed button clicks): no API key opens
#: them, and no request of the matrix carries what they check, so every cell must be refused with a 4xx.
SELF_AUTHENTICATED = ("/shopify/", "/api/notify/", "/oauth/")
#: Public sign-in routes: a credential in the body (an API key, an ID token) or a Shopify session token
#: is the authentication; a bearer API key opens nothing there, so every cell is refused with a 4xx.
SIGN_IN = ("/api/session", "/api/invitations/")
#: An agency's notifications (recipients, mutes, the delivery log): only an agency's own key.
AGENCY_ONLY = "/api/agency/notifications"
#: An agency's recipients and mutes: only an agency admin's key (an agency key without a role is one).
AGENCY_SETUP = "/api/agency/recipients"


def _self_authenticated(client: Any, method: str, path: str, keys: dict[str, str | None], leaks: list[str],
                        wrong: list[str], cells: int, errors: int) -> tuple[int, int]:
    """Every key kind against a self-authenticating route: a 2xx/3xx is a leak, a 5xx an error."""
    for kind in KINDS:
        if (kind != "none" and not keys.get(kind)) or kind == "shopify":
            continue  # a genuine session token is what these routes accept (their own tests)
        cells += 1
        r = _request(client, method, path, keys[kind] if kind != "none" else None,
                     _body_for(path) if method != "get" else None)
        where = f"{method.upper()} {path} [{kind}]"
        if r.status_code < 400:
            leaks.append(f"{where}: answered {r.status_code} without a Shopify signature or session token")
        elif r.status_code >= 500:
            errors += 1
            wrong.append(f"{where}: {r.status_code}")
    return cells, errors


def _allowed(kind: str, path: str, index: int | None, public: bool, method: str = "get") -> bool | None:
    """Whether the key kind may use the route for that brand (None: either answer is right)."""
    if public:
        return True
    if kind in UNAUTHENTICATED:
        return False
    if BRAND_PEOPLE.search(path):
        return kind == "operator" or (kind in ("brand", "other_brand", "shopify") and index in COVERS[kind])
    if kind == "viewer" and method != "get" and not path.endswith(VIEWER_MAY_POST):
        return False
    if kind in ("viewer", "member") and AD_GRANT.search(path):
        return False
    if kind == "member" and (path.startswith(MEMBER_MAY_NOT) or (method != "get" and path.endswith(MEMBER_MAY_NOT_CHANGE))):
        return False
    if path.startswith("/api/api-keys"):
        return kind in KEY_MANAGERS
    if path.startswith(OPERATOR_PREFIX):
        return kind == "operator"
    if path.startswith(AGENCY_SETUP):
        return kind in ("agency", "other_agency")
    if path.startswith(AGENCY_ONLY):
        return kind in ("agency", "other_agency", "member")
    if index is not None:
        return index in COVERS[kind]
    if path == OVERVIEW and kind == "operator":
        return None  # an empty overview or a 403: the leak check below holds either way
    return True

#: Model-written SQL that must be refused or stay inside the asking brand. ``{canary_file}`` and
#: ``{other}`` are filled in per run.
ATTACKS: tuple[str, ...] = (
    # another brand, directly
    "SELECT * FROM unified_performance WHERE brand_id = '{other}'",
    "SELECT DISTINCT brand_id FROM products WHERE brand_id = 'nobody' OR 1=1",
    "SELECT title, brand_id FROM products WHERE brand_id <> 'x' UNION ALL SELECT title, brand_id FROM products",
    "SELECT * FROM products p JOIN variants v ON v.brand_id <> p.brand_id",
    "SELECT (SELECT MAX(campaign_name) FROM ad_campaigns WHERE brand_id = '{other}') AS c",
    "SELECT * FROM products WHERE EXISTS (SELECT 1 FROM products q WHERE q.brand_id = '{other}')",
    "SELECT campaign_name FROM ad_campaigns WHERE brand_id IN (SELECT '{other}')",
    "SELECT * FROM unified_performance, UNNEST(['{other}']) AS b WHERE brand_id = b",
    # raw tables outside the analytics views
    "SELECT customer_hash FROM orders",
    "SELECT * FROM integrations",
    "SELECT * FROM ai_usage",
    "SELECT * FROM brands",
    "SELECT * FROM sync_state",
    "SELECT * FROM order_line_items",
    "SELECT * FROM ad_performance",
    "SELECT * FROM budget_changes",
    "SELECT `customer_hash` FROM `orders`",
    'SELECT customer_hash FROM "orders"',
    "SELECT customer_hash FROM ORDERS",
    "SELECT * FROM products WHERE product_id IN (SELECT order_id FROM orders)",
    "SELECT title, (SELECT customer_hash FROM orders LIMIT 1) AS h FROM products",
    # every CTE form of issue 12
    "WITH orders AS (SELECT * FROM orders) SELECT customer_hash FROM orders",
    "WITH integrations AS (SELECT * FROM integrations) SELECT * FROM integrations",
    "WITH ai_usage AS (SELECT * FROM ai_usage) SELECT * FROM ai_usage",
    "SELECT * FROM (WITH orders AS (SELECT 1 AS x) SELECT * FROM orders) a CROSS JOIN orders",
    "SELECT * FROM (WITH products AS (SELECT 1 AS x) SELECT * FROM products) a CROSS JOIN products b",
    "WITH a AS (WITH orders AS (SELECT 1 AS x) SELECT * FROM orders) SELECT * FROM a, orders",
    ("SELECT (SELECT COUNT(*) FROM (WITH t AS (SELECT 1 AS x) SELECT * FROM t)) AS a, "
     "(SELECT COUNT(*) FROM t) AS b"),
    "WITH products AS (SELECT 'x' AS brand_id) SELECT * FROM products",
    "WITH products AS (SELECT * FROM products) SELECT * FROM products",
    "WITH x AS (SELECT * FROM orders) SELECT * FROM x",
    "WITH RECURSIVE r AS (SELECT * FROM orders) SELECT * FROM r",
    "WITH x AS (SELECT brand_id, title FROM products) SELECT * FROM x WHERE brand_id = '{other}'",
    "WITH x AS (SELECT 1 AS one) SELECT DISTINCT b.brand_id FROM x CROSS JOIN unified_performance b",
    # files, the engine and the outside world
    "SELECT * FROM read_csv('{canary_file}')",
    "SELECT * FROM read_csv_auto('{canary_file}')",
    "SELECT * FROM read_parquet('{canary_file}')",
    "SELECT * FROM read_json('{canary_file}')",
    "SELECT read_text('{canary_file}') AS t",
    "SELECT * FROM '{canary_file}'",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT getenv('TOWER_R5_CANARY') AS v",
    "SELECT current_setting('memory_limit') AS m",
    "SELECT * FROM duckdb_databases()",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM INFORMATION_SCHEMA.TABLES",
    "SELECT * FROM `other-project.dataset.products`",
    "SELECT * FROM tower.products",
    "SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT 1')",
    "SELECT * FROM products FOR SYSTEM_TIME AS OF TIMESTAMP '2020-01-01'",
    # writes, in every shape
    "DROP TABLE products",
    "DELETE FROM products WHERE TRUE",
    "UPDATE products SET title = 'pwned' WHERE TRUE",
    "INSERT INTO products (brand_id, product_id, is_active) VALUES ('x', 'y', TRUE)",
    "MERGE products T USING products S ON FALSE WHEN NOT MATCHED THEN INSERT ROW",
    "CREATE TABLE stolen AS SELECT * FROM unified_performance",
    "ALTER TABLE products ADD COLUMN x STRING",
    "TRUNCATE TABLE products",
    "SELECT * INTO stolen FROM products",
    "SELECT 1; DROP TABLE products",
    "SELECT title FROM products; SELECT * FROM orders",
    "SELECT 1 AS one -- ; DROP TABLE products",
    "/* hi */ DELETE FROM products",
    "ATTACH '{canary_file}.db' AS evil",
    "COPY products TO '{canary_file}.out'",
    "EXPORT DATA OPTIONS(uri='gs://x/*') AS SELECT * FROM products",
    "INSTALL httpfs",
    "SET memory_limit = '10GB'",
    "PRAGMA database_list",
    "CALL pragma_version()",
    # parameters and limits
    "SELECT * FROM products WHERE brand_id = @other",
    "SELECT * FROM unified_performance LIMIT 100000",
    "SELECT * FROM products LIMIT @brand_id",
)


#: Tables the Q&A writes by design: every call to Claude records its tokens and cost in ``ai_usage``.
LOGGED = frozenset({"ai_usage"})


def _request(client: Any, method: str, path: str, key: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method == "get":
        return client.get(path, headers=headers)
    return client.open(path, method=method.upper(), headers=headers, json=body)


def _body_for(path: str) -> Any:
    if path.endswith("/ask"):
        return {"question": "How did Meta do last week?"}
    if path.endswith("/dismiss"):
        return {"reason": "authorisation matrix"}
    if path.endswith("/accept"):
        return {"dry_run": True}
    if path.endswith("/authorization/confirm"):
        return {"pending": "r" * 43}  # well formed, never issued: an allowed caller gets 404 unknown_pending
    return {}


def _recommendation(runtime: Any, brand_id: str) -> str:
    """A recommendation of the brand, preferring one without budget changes (no platform call)."""
    from tower.decisions.store import list_recommendations

    recs = list_recommendations(runtime.store, brand_id, include_hidden=True)
    plain = [r for r in recs if not r.get("campaign_changes")]
    chosen = (plain or recs or [{"id": "rec_none"}])[0]
    return str(chosen["id"])


def _canaries_of(runtime: Any, brand_id: str, other_id: str, names: dict[str, str]) -> list[str]:
    """Strings only the other brand's data holds (its id, name, product titles, campaign names)."""
    def values(sql: str, b: str) -> set[str]:
        return {str(r["v"]) for r in runtime.warehouse.rows(sql, {"b": b}) if r["v"]}

    own = values("SELECT title AS v FROM products WHERE brand_id = @b", brand_id) | values(
        "SELECT campaign_name AS v FROM ad_campaigns WHERE brand_id = @b", brand_id)
    theirs = values("SELECT title AS v FROM products WHERE brand_id = @b", other_id) | values(
        "SELECT campaign_name AS v FROM ad_campaigns WHERE brand_id = @b", other_id)
    return sorted({other_id, names.get(other_id, other_id)} | {t for t in theirs - own if len(t) > 6})


def _state_digest(runtime: Any, state: ApiState) -> str:
    docs = fp.store_documents(state.root / "store.sqlite")
    for path, doc in docs.items():
        if path.startswith("api_keys/"):
            # a key's last use is recorded even when what it asked was refused: it was used
            doc.pop("last_used_at", None)
    return fp.digest({"rows": fp.rows_digest(fp.warehouse_rows(runtime.warehouse), {}), "docs": docs})


def _session_tokens(runtime: Any, brand_id: str) -> dict[str, str]:
    """A genuine Shopify session token for the brand's shop and a forged one (another secret): an hour
    long, so the matrix outlasts neither (shopifyapp checks them on the wall clock)."""
    from datetime import UTC, datetime

    from tower_dev.sandboxes.shopify_store.oauth import session_token

    shop = str(runtime.warehouse.rows("SELECT shop_domain FROM brands WHERE brand_id = @b", {"b": brand_id})[0]
               ["shop_domain"])
    settings, now = runtime.settings, datetime.now(UTC)
    return {"shopify": session_token(settings.shopify_client_id, settings.shopify_api_secret, shop, now, lifetime=3600),
            "forged_session": session_token(settings.shopify_client_id, "r5-forged-secret-of-at-least-32-bytes",
                                            shop, now, lifetime=3600)}


def matrix(state: ApiState) -> dict[str, Any]:
    """The authorisation matrix's figures."""
    from tower.api.app import create_app
    from tower.api.openapi import build_document
    from tower.runtime import Runtime

    # The Shopify app configured, so its install routes refuse for the right reason (no valid
    # HMAC, state or session token) rather than for a missing configuration.
    runtime = Runtime(state.settings(api_auth_failures_per_minute=1_000_000, shopify_client_id="r5-client",
                                     shopify_api_secret="r5-app-secret-of-at-least-32-bytes",
                                     shopify_app_url="http://127.0.0.1:8080",
                                     # and a Meta app, so connecting ad accounts by OAuth answers what a key may do
                                     meta_app_id="r5-meta-app", meta_app_secret="r5-meta-app-secret"))
    try:
        app = create_app(runtime)
        client = app.test_client()
        doc = build_document(app)
        brands = state.brand_ids[:2]
        recs = {b: _recommendation(runtime, b) for b in brands}
        foreign = {b: _canaries_of(runtime, b, brands[1 - i], state.names) for i, b in enumerate(brands)}
        keys = {k: state.keys.get(k) for k in KINDS}
        keys.update(_session_tokens(runtime, brands[0]))
        leaks: list[str] = []
        wrong: list[str] = []
        errors = 0
        cells = 0
        before = _state_digest(runtime, state)
        for denied_pass in (True, False):
            for path, methods in sorted(doc["paths"].items()):
                for method, op in sorted(methods.items()):
                    public = op.get("security") == []
                    if path.startswith(SELF_AUTHENTICATED) or (public and path.startswith(SIGN_IN)):
                        if denied_pass:
                            cells, errors = _self_authenticated(client, method, path.replace("{platform}", "meta"),
                                                                keys, leaks, wrong, cells, errors)
                        continue
                    targets = list(enumerate(brands)) if "{brand_id}" in path else [(None, None)]
                    for index, brand in targets:
                        url = path.replace("{brand_id}", brand or "").replace("{channel}", "meta")
                        url = url.replace("{platform}", "meta")
                        url = url.replace("{rec_id}", recs.get(brand or "", "rec_none"))
                        url = url.replace("{key_prefix}", "tower_nokey000").replace("{uid}", "r5-nobody")
                        url = url.replace("{invitation_id}", "r5-none")
                        for kind in KINDS:
                            if kind != "none" and not keys.get(kind):
                                continue  # a scope the product does not have
                            valid = kind not in UNAUTHENTICATED
                            verdict = _allowed(kind, path, index, public, method)
                            allowed = verdict is not False
                            if allowed == denied_pass:
                                continue
                            cells += 1
                            r = _request(client, method, url, keys[kind] if kind != "none" else None,
                                         _body_for(path) if method != "get" else None)
                            text = r.get_data(as_text=True)
                            where = f"{method.upper()} {url} [{kind}]"
                            if r.status_code >= 500:
                                errors += 1
                                wrong.append(f"{where}: {r.status_code}")
                            if not allowed:
                                expected = (401, 429) if not valid else (403, 404)
                                if r.status_code < 300:
                                    leaks.append(f"{where}: answered {r.status_code}")
                                elif r.status_code not in expected:
                                    wrong.append(f"{where}: {r.status_code}, expected {expected}")
                                continue
                            if r.status_code == 401 or (r.status_code == 403 and verdict is True):
                                wrong.append(f"{where}: {r.status_code} for a key that covers it")
                            if brand is not None:
                                hit = [c for c in foreign[brand] if c in text]
                                if hit:
                                    leaks.append(f"{where}: carries the other brand's {hit[:2]}")
                            elif path.endswith("/overview") and r.status_code == 200:
                                seen = {b["brand_id"] for b in json.loads(text).get("brands", [])}
                                scope = {brands[i] for i in COVERS[kind]}
                                if seen - scope:
                                    leaks.append(f"{where}: lists {sorted(seen - scope)}")
            if denied_pass and _state_digest(runtime, state) != before:
                leaks.append("denied requests changed the stored state")
    finally:
        runtime.close()
    return {"r5_leaks": len(leaks), "r5_matrix_cells": cells, "r5_unexpected_status": len(wrong),
            "r5_server_errors": errors, "r5_revocation": state.revocation,
            "r5_details": (leaks + wrong)[:12]}


def qa_corpus(state: ApiState, *, stride: int = 1) -> dict[str, Any]:
    """The Q&A escape corpus's figures (every ``stride``-th attack; the CTE forms always)."""
    from tower.ai.qa import ToolRunner
    from tower.api.app import create_app
    from tower.runtime import Runtime
    from tower_dev.sandboxes.anthropic_messages import AnthropicSandbox

    escapes: list[str] = []
    refused = 0
    env_canary = f"canary-env-{uuid.uuid4().hex}"
    file_canary = f"canary-file-{uuid.uuid4().hex}"
    os.environ["TOWER_R5_CANARY"] = env_canary
    with tempfile.TemporaryDirectory(prefix="tower-r5-") as tmp, AnthropicSandbox() as model:
        canary_file = Path(tmp) / "canary.csv"
        canary_file.write_text(f"secret\n{file_canary}\n")
        runtime = Runtime(state.settings(anthropic_api_key="sk-test-sandbox", anthropic_base_url=model.url,
                                         api_auth_failures_per_minute=1_000_000))
        try:
            brand, other = state.brand_ids[0], state.brand_ids[1]
            canaries = _canaries_of(runtime, brand, other, state.names)
            canaries += [r["h"] for r in runtime.warehouse.rows(
                "SELECT DISTINCT customer_hash AS h FROM orders WHERE customer_hash IS NOT NULL LIMIT 20")]
            canaries += [r["s"] for r in runtime.warehouse.rows("SELECT secret_ref AS s FROM integrations")]
            canaries += [env_canary, file_canary, "root:x:0:0", str(state.root)]
            before = fp.rows_digest(fp.warehouse_rows(runtime.warehouse), {})
            counts_before = {t: len(rows) for t, rows in fp.warehouse_rows(runtime.warehouse).items()}
            tool = ToolRunner(runtime.warehouse, runtime.settings, brand)
            client = create_app(runtime).test_client()
            headers = {"Authorization": f"Bearer {state.keys['brand']}"}
            chosen = [a for i, a in enumerate(ATTACKS) if i % stride == 0 or "WITH" in a.upper()]
            for template in chosen:
                sql = template.replace("{other}", other).replace("{canary_file}", str(canary_file))
                out, is_error = tool.run("run_select", {"sql": sql})
                refused += int(bool(is_error))
                seen = json.dumps(out, default=str)
                hit = [c for c in canaries if c and c in seen]
                if hit and not is_error:
                    escapes.append(f"tool: {sql[:80]} → {hit[:2]}")
                r = client.post(f"/api/brands/{brand}/ask", headers=headers, json={"question": f"SQL: {sql}"})
                answer = r.get_data(as_text=True)
                hit = [c for c in canaries if c and c in answer.replace(sql, "")]
                if hit:
                    escapes.append(f"ask: {sql[:80]} → {hit[:2]}")
            after = fp.warehouse_rows(runtime.warehouse)
            changed = [t for t, d in fp.rows_digest(after, {}).items() if t not in LOGGED and before.get(t) != d]
            counts_changed = [t for t, rows in after.items() if t not in LOGGED and counts_before.get(t) != len(rows)]
            stray = [p.name for p in Path(tmp).iterdir() if p.name != "canary.csv"]
        finally:
            runtime.close()
            os.environ.pop("TOWER_R5_CANARY", None)
    if changed:
        escapes.append(f"tables changed: {changed}")
    if stray:
        escapes.append(f"files written: {stray}")
    return {"r5_qa_escapes": len(escapes), "r5_qa_attacks": len(chosen), "r5_qa_refused": refused,
            "r5_tables_changed": len(changed), "r5_row_counts_changed": len(counts_changed),
            "r5_qa_details": escapes[:10]}
