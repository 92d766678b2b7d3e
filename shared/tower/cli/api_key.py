"""``tower api-key create|list|rotate|revoke``: the dashboard API's keys, from the deployment's own store.

* ``create --agency ID | --brand ID [--brand ID…] | --operator [--name N] [--role R]``: issue a key. An
  operator key registers agencies and attaches brands to them and reads no brand's data; agency keys
  (agency_admin, or agency_member) and brand keys (merchant_owner, or merchant_viewer) read their brands.
* ``list [--json]``: every key's prefix, name, role, scope, creation and last use (never the key).
* ``rotate PREFIX``: a new key with the old one's name, role and scope; the old one stops working.
* ``revoke PREFIX``: the key, and every session signed in with it, stop working.

A new key is printed once, alone on stdout (so a script can capture it); the rest goes to stderr. Only
its SHA-256 is stored. Bad input (an unknown agency, brand, role or prefix; two scopes) exits 2. The CLI
runs with the store's own rights: it acts as the operator.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tower.api.auth import BadApiKeyRequest, create_api_key
from tower.cli.inputs import open_runtime
from tower.cli.output import err_console, fail_usage, print_json, print_rows
from tower.identity import keys
from tower.identity.roles import IdentityError, Principal, Role
from tower.runtime import Runtime

#: Who the CLI acts as: whoever holds the deployment's store manages every key.
_OPERATOR = Principal(name="cli", key_hash="", agency_id=None, operator=True, role=Role.OPERATOR, subject="cli")

app = typer.Typer(help="API keys for the dashboard API (stored hashed; shown once).", no_args_is_help=True)


@app.command("create")
def create_cmd(
    agency: Annotated[str | None, typer.Option("--agency", help="Agency id: the key sees every brand of it.")] = None,
    brand: Annotated[list[str] | None, typer.Option("--brand", help="Brand id the key sees (repeatable).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Who or what the key is for (default: its scope).")] = None,
    operator: Annotated[bool, typer.Option("--operator", help="The operator's key: agencies and their brands, "
                                           "no brand's data.")] = False,
    role: Annotated[str | None, typer.Option("--role", help="agency_admin | agency_member (agency keys), "
                                             "merchant_owner | merchant_viewer (brand keys); default the widest.")] = None,
) -> None:
    """Issue an API key for an agency, for brands or for the operator; print it once."""
    brands = list(brand or [])
    if sum((bool(agency), bool(brands), operator)) != 1:
        fail_usage("give either --agency ID or one or more --brand ID, or --operator alone")
    runtime = open_runtime(read_only=True)  # the key goes to the store; brands are only looked up
    try:
        if agency and not runtime.store.get(f"agencies/{agency}"):
            fail_usage(f"unknown agency {agency!r} (no agencies/{agency} document)")
        unknown = [b for b in brands if not _brand_exists(runtime, b)]
        if unknown:
            fail_usage(f"unknown brand {unknown[0]!r} (add it with `tower brands add`)")
        label = name or ("operator" if operator else f"agency-{agency}" if agency
                         else "brands-" + "-".join(sorted(brands)))
        try:
            key = create_api_key(runtime.store, agency_id=agency, brand_ids=brands or None, name=label,
                                 operator=operator, role=role)
        except BadApiKeyRequest as e:
            fail_usage(str(e))
    finally:
        runtime.close()
    scope = "the operator" if operator else f"agency {agency}" if agency else "brand " + ", ".join(sorted(brands))
    err_console.print(f"[green]API key[/] {label!r} for {scope} (shown once; only its hash is stored):")
    sys.stdout.write(key + "\n")


def _brand_exists(runtime: Runtime, brand_id: str) -> bool:
    """A brand registered in the store (a tenant document) or the warehouse."""
    if runtime.store.get(f"brands/{brand_id}"):
        return True
    rows = runtime.warehouse.rows("SELECT brand_id FROM brands WHERE brand_id = @brand_id", {"brand_id": brand_id})
    return bool(rows)


@app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False) -> None:
    """Every key: prefix, name, role, scope, created, last used (recorded at most every five minutes)."""
    runtime = open_runtime(read_only=True)
    try:
        rows = keys.list_keys(runtime.store, _OPERATOR)
    finally:
        runtime.close()
    if as_json:
        print_json(rows)
        return
    print_rows([{"prefix": r["key_prefix"], "name": r["name"], "role": r["role"],
                 "scope": "operator" if r["operator"] else r["agency_id"] or ",".join(r["brand_ids"]),
                 "created": _when(r["created_at"]), "last used": _when(r["last_used_at"]) or "never"} for r in rows],
               title="API keys")


def _when(value: object) -> str:
    return value.isoformat(timespec="minutes") if hasattr(value, "isoformat") else str(value or "")


def _by_prefix(action: str, prefix: str) -> None:
    from datetime import UTC, datetime

    if not prefix.strip().startswith(keys.KEY_PREFIX):
        fail_usage(f"give the key's prefix as `tower api-key list` shows it ({keys.KEY_PREFIX}…)")
    runtime = open_runtime(read_only=True)
    try:
        if action == "rotate":
            key, listed = keys.rotate(runtime.store, _OPERATOR, prefix.strip(), now=datetime.now(UTC))
        else:
            listed, key = keys.revoke(runtime.store, _OPERATOR, prefix.strip()), ""
    except IdentityError as e:
        fail_usage(e.message)
    finally:
        runtime.close()
    if action == "rotate":
        err_console.print(f"[green]API key[/] {listed['name']!r} rotated: {prefix} no longer works; the new key "
                          f"{listed['key_prefix']} (shown once):")
        sys.stdout.write(key + "\n")
    else:
        err_console.print(f"[green]API key[/] {listed['name']!r} ({prefix}) revoked: its requests and sessions "
                          "are refused from now on")


@app.command("rotate")
def rotate_cmd(prefix: Annotated[str, typer.Argument(help="The key's prefix (tower api-key list).")]) -> None:
    """Replace a key by a new one with the same name, role and scope; print the new key once."""
    _by_prefix("rotate", prefix)


@app.command("revoke")
def revoke_cmd(prefix: Annotated[str, typer.Argument(help="The key's prefix (tower api-key list).")]) -> None:
    """Revoke a key: it and the sessions signed in with it stop working."""
    _by_prefix("revoke", prefix)
