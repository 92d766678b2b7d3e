"""``tower invite`` and ``tower members list|remove|revoke-invitation``: a brand's or an agency's people.

* ``invite EMAIL --brand ID | --agency ID --role R``: e-mail a one-time link (merchant_owner or
  merchant_viewer into a brand; agency_admin or agency_member into an agency), as the API's
  invitations do. An invitation whose e-mail could not be sent is not kept (exit 1, saying why).
* ``members list --brand ID | --agency ID [--json]``: the members (uid, e-mail, role, joined) and the
  pending invitations (id, e-mail, role, until).
* ``members remove WHO --brand ID | --agency ID``: WHO is the member's uid or e-mail; their sessions end.
  A brand's last owner stays (exit 2).
* ``members revoke-invitation ID --brand ID | --agency ID``: the pending invitation's link stops working.

Bad input (no or two targets, an unknown brand, agency, member, invitation or role) exits 2. The
CLI runs with the store's own rights: it acts as the operator.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from tower.brands import UnknownBrand, brand_row
from tower.cli.inputs import open_runtime
from tower.cli.output import err_console, fail, fail_usage, print_json, print_rows
from tower.identity import invitations, memberships, sessions
from tower.identity.memberships import Target
from tower.identity.roles import IdentityError
from tower.runtime import Runtime

app = typer.Typer(help="A brand's or an agency's members and pending invitations.", no_args_is_help=True)

BrandOption = Annotated[str | None, typer.Option("--brand", help="The brand's id.")]
AgencyOption = Annotated[str | None, typer.Option("--agency", help="The agency's id.")]


def _target(runtime: Runtime, brand: str | None, agency: str | None) -> tuple[Target, str]:
    """The one target named, once it exists, and its name (exit 2 otherwise)."""
    if bool(brand) == bool(agency):
        fail_usage("give either --brand ID or --agency ID")
    if brand:
        try:
            return Target("brand", brand), str(brand_row(runtime.warehouse, brand).get("brand_name") or brand)
        except UnknownBrand:
            fail_usage(f"unknown brand {brand!r} (add it with `tower brands add`)")
    agency_doc = runtime.store.get(f"agencies/{agency}")
    if not agency_doc:
        fail_usage(f"unknown agency {agency!r} (add it with `tower agencies add`)")
    return Target("agency", str(agency)), str(agency_doc.get("name") or agency)


def invite_cmd(
    email: Annotated[str, typer.Argument(help="The invitee's e-mail address.")],
    role: Annotated[str, typer.Option("--role", help="merchant_owner | merchant_viewer (a brand), "
                                      "agency_admin | agency_member (an agency).")],
    brand: BrandOption = None,
    agency: AgencyOption = None,
) -> None:
    """Invite someone into a brand or an agency by e-mail (a one-time, expiring link)."""
    runtime = open_runtime(read_only=True)  # invitations go to the store; the brand is only looked up
    try:
        target, name = _target(runtime, brand, agency)
        try:
            token, doc = invitations.create_invitation(runtime.store, target, email=email, role=role, invited_by="cli",
                                                       now=datetime.now(UTC),
                                                       hours=runtime.settings.invitation_hours)
        except IdentityError as e:
            fail_usage(e.message)
        sent, error = invitations.send_invitation(runtime.settings, runtime.secrets, doc, token, name)
        if not sent:
            invitations.revoke_invitation(runtime.store, target, doc["invitation_id"])
    finally:
        runtime.close()
    if not sent:
        fail(f"the invitation e-mail to {doc['email']} could not be sent ({error}); nothing was kept")
    err_console.print(f"[green]Invited[/] {doc['email']} into {name} as {doc['role']} until "
                      f"{doc['expires_at']:%Y-%m-%d %H:%M} UTC (invitation {doc['invitation_id']})")


@app.command("list")
def list_cmd(brand: BrandOption = None, agency: AgencyOption = None,
             as_json: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")] = False) -> None:
    """The members and the pending invitations of a brand or an agency."""
    runtime = open_runtime(read_only=True)
    try:
        target, name = _target(runtime, brand, agency)
        people = memberships.list_members(runtime.store, target)
        pending = invitations.pending_invitations(runtime.store, target, now=datetime.now(UTC))
    finally:
        runtime.close()
    if as_json:
        print_json({**target.as_json(), "members": people, "invitations": pending})
        return
    print_rows([{"uid": m["uid"], "e-mail": m["email"], "role": m["role"], "joined": _when(m["joined_at"])}
                for m in people], title=f"Members of {name}")
    print_rows([{"invitation": i["invitation_id"], "e-mail": i["email"], "role": i["role"],
                 "until": _when(i["expires_at"])} for i in pending], title="Pending invitations")


def _when(value: Any) -> str:
    return value.isoformat(timespec="minutes") if hasattr(value, "isoformat") else str(value or "")


@app.command("remove")
def remove_cmd(who: Annotated[str, typer.Argument(help="The member's uid or e-mail (tower members list).")],
               brand: BrandOption = None, agency: AgencyOption = None) -> None:
    """Remove a member: their membership and every session they signed in end now."""
    runtime = open_runtime(read_only=True)
    try:
        target, name = _target(runtime, brand, agency)
        found = [m["uid"] for m in memberships.list_members(runtime.store, target)
                 if who.strip() in (m["uid"], m["email"]) or who.strip().lower() == m["email"]]
        if not found:
            fail_usage(f"{who!r} is not a member of {name} (tower members list)")
        try:
            gone = memberships.remove_member(runtime.store, target, found[0])
        except IdentityError as e:
            fail_usage(e.message)
        ended = sessions.end_user_sessions(runtime.store, found[0])
    finally:
        runtime.close()
    err_console.print(f"[green]Removed[/] {gone['email']} ({gone['role']}) from {name}; {ended} session(s) ended")


@app.command("revoke-invitation")
def revoke_cmd(invitation_id: Annotated[str, typer.Argument(help="The invitation's id (tower members list).")],
               brand: BrandOption = None, agency: AgencyOption = None) -> None:
    """Revoke a pending invitation: its link stops working."""
    runtime = open_runtime(read_only=True)
    try:
        target, name = _target(runtime, brand, agency)
        try:
            gone = invitations.revoke_invitation(runtime.store, target, invitation_id.strip())
        except IdentityError as e:
            fail_usage(e.message)
    finally:
        runtime.close()
    err_console.print(f"[green]Revoked[/] the invitation of {gone['email']} into {name}")
