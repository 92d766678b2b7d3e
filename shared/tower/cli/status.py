"""``tower status``: how every brand and integration stands, what the product runs on, and what to fix.

Per integration: its status, last successful sync, the latest day of data and how far behind today
that is, rows held, last error, warnings, whether it needs reconnecting, and the sandbox it was
connected to. Per brand: when its models were last built, this week's recommendations and open
alerts, and its warnings. Then the adapters and data directory in use, the local queues, and one line
per problem, each with the command that fixes it. It changes nothing and reaches no platform.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from tower.brand_warnings import list_warnings
from tower.brands import local_date
from tower.cli.inputs import open_runtime
from tower.cli.output import PLATFORM_LABELS, console, fail_usage, print_json
from tower.decisions.scoring import iso_week
from tower.decisions.store import list_alerts, list_recommendations
from tower.notify.deliveries import dead_letters, status_counts
from tower.redact import redact
from tower.runtime import Runtime
from tower.sandboxes import providers, sandbox_connections
from tower.sync.health import IntegrationHealth, integration_health, problems, reconnect_reason


def status_cmd(
    brand: str = typer.Option(None, "--brand", help="Only this brand."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """How every brand and integration stands, the adapters in use, and one line per problem with its fix."""
    now = datetime.now(UTC)
    runtime = open_runtime()
    try:
        runtime.warehouse.init_schema()
        known = {r["brand_id"]: r for r in runtime.warehouse.rows(
            "SELECT brand_id, brand_name, timezone, currency FROM brands ORDER BY brand_id")}
        if brand and brand not in known:
            fail_usage(f"unknown brand {brand!r}: register it first (tower brands add --id {brand} ...)")
        brand_ids = [brand] if brand else list(known)
        healths = integration_health(runtime.warehouse, runtime.store, brand_ids=brand_ids, now=now)
        brands = [_brand(runtime, b, known[b]["timezone"], healths) for b in brand_ids]
        setup = _setup(runtime)
        notifications = status_counts(runtime.store)
        lines = (problems(healths, now) + [p for b in brands for p in b.pop("problems")] + _sandbox_problems(runtime)
                 + _notification_problems(runtime))
    finally:
        runtime.close()
    if as_json:
        print_json({"setup": setup, "integrations": [_integration_row(h) for h in healths], "brands": brands,
                    "notifications": notifications, "problems": lines})
        return
    _print(setup, healths, brands, lines, notifications)


def _brand(runtime: Runtime, brand_id: str, timezone: str, healths: list[IntegrationHealth]) -> dict[str, Any]:
    """One brand's models, decisions and warnings, with its problems."""
    wh = runtime.warehouse
    built = wh.rows("SELECT MAX(built_at) AS at, MAX(window_end) AS window_end FROM model_runs "
                    "WHERE brand_id = @b", {"b": brand_id})[0]
    today = local_date(timezone)
    recs = list_recommendations(runtime.store, brand_id, iso_week(today))
    alerts = list_alerts(runtime.store, brand_id)
    warnings = list_warnings(runtime.store, brand_id)
    mine = [h for h in healths if h.brand_id == brand_id]
    out: dict[str, Any] = {"brand_id": brand_id, "models_built_at": built["at"], "recommendations": len(recs),
                           "open_alerts": len(alerts), "warnings": [w.get("message") for w in warnings]}
    found: list[str] = []
    if not mine:
        found.append(f"{brand_id}: no platform connected. Fix: tower connect shopify --brand {brand_id} --shop "
                     "NAME.myshopify.com --token T (then the ad accounts), then tower run --brand " + brand_id)
    synced = [h.last_success_at for h in mine if h.last_success_at]
    if synced and built["at"] is None:
        found.append(f"{brand_id}: synced but its models were never built. Fix: tower build --brand {brand_id}")
    elif synced and built["at"] is not None and _utc(built["at"]) < max(synced):
        found.append(f"{brand_id}: models built {_utc(built['at']):%Y-%m-%d %H:%M} UTC, before the last sync. "
                     f"Fix: tower build --brand {brand_id}")
    for w in warnings:
        found.append(f"{brand_id}: warning: {w.get('message')}. Fix: {w.get('fix')}")
    out["problems"] = found
    return out


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _setup(runtime: Runtime) -> dict[str, Any]:
    """The adapters and data directory in use, and the local queues' backlog."""
    s = runtime.settings
    out: dict[str, Any] = {name: redact(str(getattr(s, name))) for name in ("warehouse", "store", "bus", "tasks",
                                                                            "secrets")}
    out["data_dir"] = str(s.data_dir.resolve())
    for name, port, waiting, parked in (("tasks", runtime.tasks, "pending", "dead_tasks"),
                                        ("bus", runtime.bus, "pending", "dead_letters")):
        if hasattr(port, waiting) and hasattr(port, parked):
            out[f"{name}_waiting"] = getattr(port, waiting)()
            out[f"{name}_dead"] = len(getattr(port, parked)())
    return out


def _sandbox_problems(runtime: Runtime) -> list[str]:
    """Sandbox connections no installed provider can bring back."""
    installed = providers()
    return [f"{c.brand_id} {c.platform} {c.account_id}: connected to a development sandbox at {c.origin}, and no "
            f"sandbox provider {c.provider!r} is installed. Fix: pip install -e '.[dev]', or tower connect "
            f"{c.platform} --brand {c.brand_id} ... with the real account"
            for c in sandbox_connections(runtime.store, runtime.secrets) if c.provider not in installed]


def _notification_problems(runtime: Runtime) -> list[str]:
    """One line per dead-lettered notification (every attempt failed), newest first."""
    return [f"notification {d['delivery_id']} to {d.get('recipient_id')} ({d.get('channel')}) failed "
            f"{d.get('attempts')} times: {d.get('last_error')}. Fix: check the recipient and the SMTP / Slack "
            f"settings (tower notify log --agency {d.get('agency_id')})" for d in dead_letters(runtime.store)]


def _integration_row(h: IntegrationHealth) -> dict[str, Any]:
    return {"brand_id": h.brand_id, "platform": h.platform, "account_id": h.account_id, "status": h.status,
            "last_success_at": h.last_success_at, "latest_data": h.latest_data, "lag_days": h.lag_days,
            "rows": h.rows, "last_error": h.last_error, "warnings": h.warnings, "needs_reconnect": h.needs_reconnect,
            "reconnect_reason": reconnect_reason(h.status, h.last_error) if h.needs_reconnect else None,
            "sandbox": h.sandbox_origin}


def _print(setup: dict[str, Any], healths: list[IntegrationHealth], brands: list[dict[str, Any]],
           lines: list[str], notifications: dict[str, int]) -> None:
    table = Table(title="integrations", show_lines=False)
    for col in ("brand", "platform", "account", "status", "last successful sync", "data up to", "rows",
                "last error", "warnings", "reconnect"):
        table.add_column(col, overflow="fold")
    for h in healths:
        fresh = f"{h.latest_data} ({h.lag_days} d behind)" if h.latest_data else "none"
        table.add_row(h.brand_id, PLATFORM_LABELS.get(h.platform, h.platform),
                      h.account_id + (f"\n[dim]sandbox {h.sandbox_origin}[/]" if h.sandbox_origin else ""),
                      h.status, f"{h.last_success_at:%Y-%m-%d %H:%M} UTC" if h.last_success_at else "never",
                      fresh, f"{h.rows:,}", h.last_error or "", str(len(h.warnings)) if h.warnings else "",
                      "[red]yes[/]" if h.needs_reconnect else "")
    console.print(table)
    btable = Table(title="brands")
    for col in ("brand", "models built", "recommendations this week", "open alerts", "warnings"):
        btable.add_column(col, overflow="fold")
    for b in brands:
        at = b["models_built_at"]
        btable.add_row(b["brand_id"], f"{_utc(at):%Y-%m-%d %H:%M} UTC" if at else "never", str(b["recommendations"]),
                       str(b["open_alerts"]), str(len(b["warnings"])) if b["warnings"] else "")
    console.print(btable)
    console.print("[bold]notifications[/]: " + " · ".join(f"{n} {k}" for k, n in notifications.items()),
                  soft_wrap=True)
    console.print("[bold]running on[/]: " + " · ".join(f"{k} {v}" for k, v in setup.items()), soft_wrap=True)
    if not lines:
        console.print("[green]No problems.[/]")
        return
    console.print(f"[bold]{len(lines)} problem(s):[/]")
    for line in lines:
        console.print(f"- {line}", soft_wrap=True)
