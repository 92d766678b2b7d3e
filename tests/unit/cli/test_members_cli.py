"""``tower invite`` and ``tower members list|remove|revoke-invitation`` on a Halifax shop (America/Halifax), with
the SMTP capture as the mail server; bad input exits 2 naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_run import add_brand, run

from tower.config import EMBEDDED_FILES, get_settings
from tower.identity.memberships import Target, join
from tower.identity.sessions import create_session, member_principal, resolve_session
from tower.runtime import Runtime
from tower_dev.sandboxes.mail_capture.server import MailCapture

BRAND = "harbour-soap"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MailCapture]:
    for name in EMBEDDED_FILES:
        monkeypatch.delenv(f"TOWER_{name.upper()}", raising=False)
    mail = MailCapture()
    for name, value in {"DATA_DIR": str(tmp_path / "data"), "NOTIFY_SMTP_HOST": mail.host,
                        "NOTIFY_SMTP_PORT": str(mail.port), "NOTIFY_SMTP_STARTTLS": "false",
                        "NOTIFY_PUBLIC_URL": "http://tower.test"}.items():
        monkeypatch.setenv(f"TOWER_{name}", value)
    get_settings.cache_clear()
    assert add_brand(BRAND, "America/Halifax").exit_code == 0
    yield mail
    mail.stop()
    get_settings.cache_clear()


def _member(uid: str, email: str, role: str) -> None:
    rt = Runtime(get_settings())
    try:
        rt.store.transaction(lambda tx: join(tx, Target("brand", BRAND), uid, email=email, role=role,
                                             now=datetime.now(UTC), invited_by="test"))
    finally:
        rt.close()


def test_invite_list_revoke_and_remove(env: MailCapture) -> None:
    code, out = run("invite", "Ida@HarbourSoap.example", "--brand", BRAND, "--role", "merchant_viewer")
    assert code == 0, out
    (message,) = env.to("ida@harboursoap.example")
    assert "http://tower.test/invitations/" in message.part("plain") and "a viewer (read only)" in message.part("plain")
    _member("uid-owner", "owner@harboursoap.example", "merchant_owner")
    _member("uid-ida", "ida@harboursoap.example", "merchant_viewer")
    code, out = run("members", "list", "--brand", BRAND, "--json")
    listed = json.loads(out)
    assert code == 0 and [m["email"] for m in listed["members"]] == ["ida@harboursoap.example",
                                                                   "owner@harboursoap.example"]
    (pending,) = listed["invitations"]
    assert run("members", "revoke-invitation", pending["invitation_id"], "--brand", BRAND)[0] == 0
    assert json.loads(run("members", "list", "--brand", BRAND, "--json")[1])["invitations"] == []

    rt = Runtime(get_settings())
    try:
        principal = member_principal(rt.store, "uid-ida")
        assert principal is not None
        session_id, _ = create_session(rt.store, principal, now=datetime.now(UTC), uid="uid-ida")
    finally:
        rt.close()
    code, out = run("members", "remove", "IDA@harboursoap.example", "--brand", BRAND)
    assert code == 0 and "1 session(s) ended" in " ".join(out.split()), out
    rt = Runtime(get_settings())
    try:
        assert resolve_session(rt.store, session_id, now=datetime.now(UTC)) is None
    finally:
        rt.close()
    code, out = run("members", "remove", "uid-owner", "--brand", BRAND)
    assert code == 2 and "last owner" in " ".join(out.split())


@pytest.mark.parametrize(("args", "words"), [
    (("invite", "a@b.example", "--role", "merchant_viewer"), "either --brand ID or --agency ID"),
    (("invite", "a@b.example", "--brand", BRAND, "--agency", "x", "--role", "merchant_viewer"), "either --brand"),
    (("invite", "a@b.example", "--brand", "ghost", "--role", "merchant_viewer"), "unknown brand 'ghost'"),
    (("invite", "a@b.example", "--agency", "ghost", "--role", "agency_member"), "unknown agency 'ghost'"),
    (("invite", "a@b.example", "--brand", BRAND, "--role", "agency_admin"), "merchant_owner or merchant_viewer"),
    (("invite", "not-an-address", "--brand", BRAND, "--role", "merchant_owner"), "not an e-mail address"),
    (("members", "list"), "either --brand ID or --agency ID"),
    (("members", "remove", "nobody@x.example", "--brand", BRAND), "not a member"),
    (("members", "revoke-invitation", "0123abcd", "--brand", BRAND), "no pending invitation"),
])
def test_bad_input_exits_2_naming_it(env: MailCapture, args: tuple[str, ...], words: str) -> None:
    code, out = run(*args)
    assert code == 2, out
    assert words in " ".join(out.split())


def test_an_invitation_that_cannot_be_mailed_is_not_kept(env: MailCapture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWER_NOTIFY_SMTP_HOST", "")
    get_settings.cache_clear()
    code, out = run("invite", "jo@harboursoap.example", "--brand", BRAND, "--role", "merchant_owner")
    assert code == 1 and "nothing was kept" in " ".join(out.split()), out
    assert json.loads(run("members", "list", "--brand", BRAND, "--json")[1])["invitations"] == []
