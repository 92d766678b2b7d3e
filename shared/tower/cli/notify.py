"""``tower notify``: an agency's recipients, their alert control, its branding, the digest and the log.

``add`` (e-mail or Slack; quiet hours, daily budget, minimum severity), ``list``, ``remove``; ``mute`` and
``snooze`` a brand's alert type, ``unmute``; ``branding`` (the white label: name, logo, colours, from
address); ``digest`` (preview it, or ``--send`` it now); ``log`` (the delivery log: sent, held, retried,
dead letters); ``secret`` (the SMTP password, Slack's bot token and signing secret, into the secret store).
Bad input exits 2 with a message naming it.
"""

from __future__ import annotations

import re
import secrets as pysecrets
from datetime import UTC, datetime, timedelta

import typer

from tower import names
from tower.agencies import BadAgency
from tower.cli.inputs import open_runtime
from tower.cli.output import console, fail_usage, print_json, print_rows
from tower.config import parse_adapter_url
from tower.notify import deliveries
from tower.notify.recipients import (
    BadRecipient,
    add_recipient,
    list_recipients,
    mute,
    remove_recipient,
    set_branding,
    unmute,
)
from tower.runtime import Runtime

app = typer.Typer(help="E-mail and Slack notifications: recipients, alert control, branding, digests.",
                  no_args_is_help=True)

SECRET_NAMES = {"smtp-password": names.SECRET_SMTP_PASSWORD, "slack-bot-token": names.SECRET_SLACK_BOT_TOKEN,
                "slack-signing-secret": names.SECRET_SLACK_SIGNING_SECRET, "link-key": names.SECRET_NOTIFY_LINK_KEY}
_DURATION = re.compile(r"^(\d{1,4})([mhd])$")


def ensure_link_key(runtime: Runtime) -> None:
    """Make the key that signs unsubscribe links on the embedded default (an operator adds it on GCP)."""
    local = parse_adapter_url(runtime.settings.secrets, ("local", "secretmanager"), "TOWER_SECRETS").scheme == "local"
    if local and not runtime.secrets.exists(names.SECRET_NOTIFY_LINK_KEY):
        runtime.secrets.put(names.SECRET_NOTIFY_LINK_KEY, pysecrets.token_urlsafe(32))


def parse_duration(text: str) -> timedelta:
    """``30m``, ``8h`` or ``3d``; anything else exits 2."""
    m = _DURATION.match(text or "")
    if not m or int(m.group(1)) == 0:
        fail_usage(f"--for must be a duration like 30m, 8h or 3d, not {text!r}")
    n = int(m.group(1))
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[m.group(2)]


@app.command("add")
def add_cmd(
    agency: str = typer.Option(..., "--agency", help="The agency's id."),
    recipient_id: str = typer.Option(..., "--id", help="Recipient id: lower-case letters, digits, '-' or '_'."),
    email: str = typer.Option(None, "--email", help="E-mail address (an e-mail recipient)."),
    slack_channel: str = typer.Option(None, "--slack-channel", help="Slack channel the bot posts to (#growth)."),
    slack_webhook: bool = typer.Option(False, "--slack-webhook",
                                       help="Post by incoming webhook; its URL is asked for (hidden) and kept "
                                            "in the secret store."),
    timezone: str = typer.Option("UTC", "--timezone", help="The recipient's IANA time zone (quiet hours, budget)."),
    quiet: str = typer.Option(None, "--quiet", help="Quiet hours on the recipient's clock, e.g. 22:00-07:00."),
    budget: int = typer.Option(None, "--budget", help="Alerts a day at most (default TOWER_NOTIFY_DAILY_BUDGET); "
                               "the rest go into the next digest."),
    min_severity: str = typer.Option("low", "--min-severity", help="critical, high, medium or low."),
    alerts: bool = typer.Option(True, "--alerts/--no-alerts", help="Send alerts as they are raised."),
    digest: bool = typer.Option(True, "--digest/--no-digest", help="Send the weekly digest."),
) -> None:
    """Add a recipient to an agency, or change it (its mutes and unsubscriptions are kept).

    Eleven parameters: one per option of the command, as typer declares them.
    """
    if sum(bool(x) for x in (email, slack_channel, slack_webhook)) != 1:
        fail_usage("give exactly one of --email, --slack-channel or --slack-webhook")
    webhook = typer.prompt("Slack incoming-webhook URL", hide_input=True) if slack_webhook else ""
    runtime = open_runtime(read_only=True)
    try:
        ensure_link_key(runtime)
        doc, created = add_recipient(
            runtime.store, runtime.secrets, agency_id=agency, recipient_id=recipient_id,
            channel="email" if email else "slack", address=email or slack_channel or "", timezone=timezone,
            now=datetime.now(UTC), quiet=quiet, min_severity=min_severity, alerts=alerts, digest=digest,
            daily_budget=runtime.settings.notify_daily_budget if budget is None else budget, webhook_url=webhook)
    except BadRecipient as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]recipient {'added' if created else 'updated'}[/] {recipient_id} ({doc['channel']}"
                  f"{', webhook' if doc['slack_via'] == 'webhook' else ''}) for {agency}")


@app.command("list")
def list_cmd(
    agency: str = typer.Option(None, "--agency", help="Only this agency's recipients."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The recipients and what they receive."""
    runtime = open_runtime(read_only=True)
    try:
        docs = list_recipients(runtime.store, agency)
    finally:
        runtime.close()
    if as_json:
        print_json(docs)
        return
    print_rows([{"recipient": d["recipient_id"], "agency": d["agency_id"], "channel": d["channel"],
                 "to": d["address"] or d.get("slack_via"), "time zone": d["timezone"],
                 "quiet": f"{d['quiet_hours']['start']}-{d['quiet_hours']['end']}" if d.get("quiet_hours") else "",
                 "budget": d["daily_budget"], "min severity": d["min_severity"],
                 "gets": ", ".join(k for k in ("alerts", "digest") if d.get(k) and k not in d.get("unsubscribed", [])),
                 "mutes": len(d.get("mutes") or [])} for d in docs], title="recipients")


@app.command("remove")
def remove_cmd(recipient_id: str = typer.Option(..., "--id", help="The recipient's id.")) -> None:
    """Remove a recipient (and its webhook URL from the secret store)."""
    runtime = open_runtime(read_only=True)
    try:
        remove_recipient(runtime.store, runtime.secrets, recipient_id)
    except BadRecipient as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]removed[/] {recipient_id}")


@app.command("mute")
def mute_cmd(
    recipient_id: str = typer.Option(..., "--id", help="The recipient's id."),
    brand: str = typer.Option("*", "--brand", help="Brand id (* = every brand)."),
    alert_type: str = typer.Option("*", "--type", help="Alert type, e.g. stockout_risk (* = every type)."),
    for_: str = typer.Option(None, "--for", help="Snooze for 30m, 8h, 3d (default: mute until unmuted)."),
) -> None:
    """Mute (or with --for, snooze) a brand's alerts of one type for a recipient."""
    now = datetime.now(UTC)
    until = now + parse_duration(for_) if for_ else None
    runtime = open_runtime(read_only=True)
    try:
        mute(runtime.store, recipient_id, brand_id=brand, alert_type=alert_type, until=until, now=now)
    except BadRecipient as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    what = f"snoozed until {until:%Y-%m-%d %H:%M} UTC" if until else "muted"
    console.print(f"[green]{what}[/]: {alert_type} alerts of {brand} for {recipient_id}")


@app.command("unmute")
def unmute_cmd(
    recipient_id: str = typer.Option(..., "--id", help="The recipient's id."),
    brand: str = typer.Option("*", "--brand", help="Brand id (* = every brand)."),
    alert_type: str = typer.Option("*", "--type", help="Alert type (* = every type)."),
) -> None:
    """Lift a mute or snooze."""
    runtime = open_runtime(read_only=True)
    try:
        unmute(runtime.store, recipient_id, brand_id=brand, alert_type=alert_type, now=datetime.now(UTC))
    except BadRecipient as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[green]unmuted[/]: {alert_type} alerts of {brand} for {recipient_id}")


@app.command("branding")
def branding_cmd(
    agency: str = typer.Option(..., "--agency", help="The agency's id."),
    name: str = typer.Option(None, "--name", help="Name shown in e-mails and Slack (default: the agency's)."),
    logo: str = typer.Option(None, "--logo", help="Logo URL (http or https)."),
    color: str = typer.Option(None, "--color", help="Primary colour, #rrggbb."),
    accent: str = typer.Option(None, "--accent", help="Accent colour (buttons), #rrggbb."),
    from_address: str = typer.Option(None, "--from", help="From address of the agency's e-mails."),
) -> None:
    """The agency's white label: name, logo, colours and from address (an empty value resets one)."""
    runtime = open_runtime(read_only=True)
    try:
        brand = set_branding(runtime.store, agency, datetime.now(UTC), display_name=name, logo_url=logo,
                             primary_color=color, accent_color=accent, from_address=from_address)
    except BadRecipient as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    console.print(f"[bold]{agency}: branding[/]")
    for key, value in brand.items():
        console.print(f"  {key}: {value or '(none)'}", soft_wrap=True)


@app.command("digest")
def digest_cmd(
    agency: str = typer.Option(..., "--agency", help="The agency's id."),
    send: bool = typer.Option(False, "--send", help="Send it to the agency's recipients now (once a week each)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The agency's weekly digest: shown (brands most urgent first, the dashboard's figures), or sent."""
    from tower.digests import build_digest, send_digest  # lazy: the dashboard's reads

    runtime = open_runtime(read_only=True)
    try:
        out = send_digest(runtime, agency) if send else build_digest(runtime, agency)
    except BadAgency as e:
        fail_usage(str(e))
    finally:
        runtime.close()
    if as_json or send:
        print_json(out)
        return
    console.print(f"[bold]{out['branding']['display_name']}[/]: weekly digest, {out['period_label']}")
    print_rows([{"brand": b["brand_name"], "status": b["status"], "health": b["health_score"],
                 **{f["label"]: f["value"] for f in b["figures"]}, "alerts": len(b["alerts"]),
                 "actions": len(b["actions"])} for b in out["brands"]], title="most urgent first")


@app.command("log")
def log_cmd(
    agency: str = typer.Option(..., "--agency", help="The agency's id."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="How many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The delivery log: what was sent, held for the digest, skipped (and why), retried or dead-lettered."""
    runtime = open_runtime(read_only=True)
    try:
        docs = deliveries.of_agency(runtime.store, agency, limit=limit)
    finally:
        runtime.close()
    if as_json:
        print_json(docs)
        return
    print_rows([{"when": d.get("updated_at"), "kind": d.get("kind"), "to": d.get("recipient_id"),
                 "channel": d.get("channel"), "status": d.get("status"), "reason": d.get("reason"),
                 "what": d.get("title"), "attempts": d.get("attempts"), "error": d.get("last_error") or ""}
                for d in docs], title=f"{agency}: deliveries")


@app.command("secret")
def secret_cmd(
    name: str = typer.Argument(..., help=f"One of: {', '.join(SECRET_NAMES)}."),
) -> None:
    """Put a notification secret into the secret store (the value is asked for, hidden)."""
    if name not in SECRET_NAMES:
        fail_usage(f"unknown secret {name!r}; known: {', '.join(SECRET_NAMES)}")
    value = typer.prompt(name, hide_input=True)
    if not value.strip():
        fail_usage("the value must not be empty")
    runtime = open_runtime(read_only=True)
    try:
        runtime.secrets.put(SECRET_NAMES[name], value.strip())
    finally:
        runtime.close()
    console.print(f"[green]stored[/] {SECRET_NAMES[name]}")
