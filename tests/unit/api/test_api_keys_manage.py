"""API keys managed from the API and the CLI: create, list (with last use, throttled), rotate, revoke;
roles of keys (old keys keep their rights) and who manages which keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from api_seed import AGENCY, BRAND, NOW, OTHER, bearer
from flask.testing import FlaskClient
from typer.testing import CliRunner

from tower.api.app import create_app
from tower.api.auth import create_api_key, hash_key
from tower.cli import app as cli_app
from tower.config import get_settings
from tower.identity.keys import LAST_USE_EVERY
from tower.runtime import Runtime


def test_keys_issued_before_roles_keep_their_rights(client: FlaskClient, keys: dict[str, str],
                                                   runtime: Runtime) -> None:
    docs = {k: runtime.store.get(f"api_keys/{hash_key(v)}") for k, v in keys.items()}
    for doc in docs.values():
        doc.pop("role", None)
    for k, doc in docs.items():
        runtime.store.set(f"api_keys/{hash_key(keys[k])}", doc)
    me = client.get("/api/session", headers=bearer(keys["agency"])).json["principal"]
    assert me["role"] == "agency_admin"
    assert client.get("/api/session", headers=bearer(keys["other_brand"])).json["principal"]["role"] == \
        "merchant_owner"
    # the agency key still manages its recipients, the brand key still decides
    r = client.post("/api/agency/recipients", headers=bearer(keys["agency"]),
                    json={"recipient_id": "ops", "channel": "email", "address": "ops@northstar.example"})
    assert r.status_code in (200, 201), r.json


def test_an_agency_admin_creates_lists_rotates_and_revokes_its_keys(client: FlaskClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["agency"])
    r = client.post("/api/api-keys", headers=admin, json={"name": "looker", "role": "agency_member"})
    assert r.status_code == 201, r.json
    new, prefix = r.json["api_key"], r.json["key"]["key_prefix"]
    assert new.startswith(prefix) and len(prefix) == len("tower_") + 8
    assert r.json["key"]["agency_id"] == AGENCY and r.json["key"]["role"] == "agency_member"
    # the member key reads and decides, but manages no keys
    assert client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(new)).status_code == 200
    assert client.get("/api/api-keys", headers=bearer(new)).status_code == 403
    listed = client.get("/api/api-keys", headers=admin).json["api_keys"]
    assert {k["name"] for k in listed} == {"northstar", "looker"}  # not the brand keys
    assert all("hash" not in str(k) and new not in str(k) for k in listed)
    assert next(k for k in listed if k["name"] == "looker")["last_used_at"] is not None
    rotated = client.post(f"/api/api-keys/{prefix}/rotate", headers=admin)
    assert rotated.status_code == 200 and rotated.json["key"]["name"] == "looker"
    assert client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(new)).status_code == 401
    newer = rotated.json["api_key"]
    assert client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(newer)).status_code == 200
    gone = client.delete(f"/api/api-keys/{rotated.json['key']['key_prefix']}", headers=admin)
    assert gone.status_code == 200 and gone.json["removed"] is True
    assert client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(newer)).status_code == 401
    assert client.delete(f"/api/api-keys/{rotated.json['key']['key_prefix']}", headers=admin).status_code == 404


def test_keys_of_another_scope_are_unknown(client: FlaskClient, keys: dict[str, str], runtime: Runtime) -> None:
    other = create_api_key(runtime.store, brand_ids=[OTHER], name="urban-viewer", role="merchant_viewer")
    prefix = runtime.store.get(f"api_keys/{hash_key(other)}")["key_prefix"]
    # the agency admin does not manage the merchant's own keys, the outsider neither
    for who in ("agency", "outsider"):
        assert client.delete(f"/api/api-keys/{prefix}", headers=bearer(keys[who])).status_code == 404
        assert client.post(f"/api/api-keys/{prefix}/rotate", headers=bearer(keys[who])).status_code == 404
    # the merchant owner does
    assert client.delete(f"/api/api-keys/{prefix}", headers=bearer(keys["other_brand"])).status_code == 200


@pytest.mark.parametrize("who, body, status", [
    ("other_brand", {"name": "x", "brand_ids": [BRAND]}, 403),  # a brand the merchant does not own
    ("other_brand", {"name": "x", "role": "agency_member"}, 400),  # a role that does not fit
    ("other_brand", {"name": "x", "operator": True}, 403),
    ("agency", {"name": "x", "agency_id": "agency_other"}, 403),
    ("agency", {"name": "x", "role": "owner"}, 400),
    ("agency", {"name": ""}, 400),
])
def test_a_key_is_issued_only_inside_the_callers_scope(client: FlaskClient, keys: dict[str, str], who: str,
                                                      body: dict, status: int) -> None:
    r = client.post("/api/api-keys", headers=bearer(keys[who]), json=body)
    assert r.status_code == status, r.json


def test_a_merchant_viewer_reads_but_does_not_decide_or_change_settings(client: FlaskClient,
                                                                        runtime: Runtime) -> None:
    viewer = bearer(create_api_key(runtime.store, brand_ids=[OTHER], name="viewer", role="merchant_viewer"))
    assert client.get(f"/api/brands/{OTHER}/recommendations", headers=viewer).status_code == 200
    assert client.post(f"/api/brands/{OTHER}/ask", headers=viewer, json={"question": "How did Meta do?"}).status_code == 200
    for method, path, body in (("POST", f"/api/brands/{OTHER}/recommendations/x/dismiss", {"reason": "no"}),
                               ("POST", f"/api/brands/{OTHER}/recommendations/x/accept", {}),
                               ("PUT", f"/api/brands/{OTHER}/settings", {}),
                               ("GET", "/api/api-keys", None)):
        r = client.open(path, method=method, headers=viewer, json=body)
        assert r.status_code == 403 and "merchant_viewer" in r.json["error"]["message"], (path, r.json)


def test_last_use_costs_a_write_every_few_minutes_not_every_request(runtime: Runtime, keys: dict[str, str]) -> None:
    now = [NOW]
    client = create_app(runtime, clock=lambda: now[0]).test_client()
    writes: list[str] = []
    merge = runtime.store.merge
    runtime.store.merge = lambda path, data: (writes.append(path), merge(path, data))[1]  # type: ignore[method-assign]
    for _ in range(20):
        assert client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(keys["agency"])).status_code == 200
    assert len([w for w in writes if w.startswith("api_keys/")]) == 1
    now[0] = NOW + LAST_USE_EVERY + timedelta(seconds=1)
    client.get(f"/api/brands/{BRAND}/alerts", headers=bearer(keys["agency"]))
    assert len([w for w in writes if w.startswith("api_keys/")]) == 2
    assert runtime.store.get(f"api_keys/{hash_key(keys['agency'])}")["last_used_at"] == now[0]


@pytest.fixture
def cli_env(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    s = runtime.settings
    for name in ("warehouse", "store", "bus", "tasks", "secrets"):
        monkeypatch.setenv(f"TOWER_{name.upper()}", getattr(s, name))
    get_settings.cache_clear()
    yield runtime
    get_settings.cache_clear()


def test_the_cli_lists_rotates_and_revokes(cli_env: Runtime, client: FlaskClient) -> None:
    made = CliRunner().invoke(cli_app, ["api-key", "create", "--brand", OTHER, "--name", "ci", "--role",
                                        "merchant_viewer"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    listed = CliRunner().invoke(cli_app, ["api-key", "list", "--json"])
    assert listed.exit_code == 0 and key not in listed.stdout
    prefix = key[: len("tower_") + 8]
    assert '"merchant_viewer"' in listed.stdout and prefix in listed.stdout
    rotated = CliRunner().invoke(cli_app, ["api-key", "rotate", prefix])
    assert rotated.exit_code == 0, rotated.output
    fresh = rotated.stdout.strip().splitlines()[-1]
    assert client.get(f"/api/brands/{OTHER}/alerts", headers=bearer(key)).status_code == 401
    assert client.get(f"/api/brands/{OTHER}/alerts", headers=bearer(fresh)).status_code == 200
    revoked = CliRunner().invoke(cli_app, ["api-key", "revoke", fresh[: len("tower_") + 8]])
    assert revoked.exit_code == 0, revoked.output
    assert client.get(f"/api/brands/{OTHER}/alerts", headers=bearer(fresh)).status_code == 401


@pytest.mark.parametrize("args, message", [
    (["revoke", "tower_nope1234"], "no API key 'tower_nope1234'"),
    (["revoke", "abc"], "prefix"),
    (["rotate", "tower_nope1234"], "no API key"),
    (["create", "--brand", OTHER, "--role", "agency_admin"], "does not fit"),
])
def test_cli_bad_input_exits_2(cli_env: Runtime, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli_app, ["api-key", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
