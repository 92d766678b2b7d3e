"""``tower notify``: recipients, alert control, branding, the digest and the log, through the command line;
bad input exits 2 naming the problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import add_brand, run, tower

from tower import names
from tower.config import EMBEDDED_FILES, get_settings
from tower.notify.recipients import get_recipient, webhook_secret_id
from tower.runtime import Runtime


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in EMBEDDED_FILES:
        monkeypatch.delenv(f"TOWER_{name.upper()}", raising=False)
    monkeypatch.setenv("TOWER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    assert add_brand("maple", "America/Toronto").exit_code == 0
    assert run("agencies", "add", "--id", "northstar", "--name", "Northstar Growth")[0] == 0
    assert run("agencies", "attach", "--agency", "northstar", "--brand", "maple")[0] == 0
    yield tmp_path / "data"
    get_settings.cache_clear()


def _runtime() -> Runtime:
    return Runtime(get_settings())


def test_add_list_mute_snooze_unmute_remove(env: Path) -> None:
    code, out = run("notify", "add", "--agency", "northstar", "--id", "ops", "--email", "ops@northstar.example",
                    "--timezone", "America/Toronto", "--quiet", "22:00-07:00", "--budget", "3",
                    "--min-severity", "high")
    assert code == 0, out
    rt = _runtime()
    try:
        doc = get_recipient(rt.store, "ops")
        assert (doc["quiet_hours"], doc["daily_budget"], doc["min_severity"]) == (
            {"start": "22:00", "end": "07:00"}, 3, "high")
        assert rt.secrets.exists(names.SECRET_NOTIFY_LINK_KEY)  # the unsubscribe links can be signed
    finally:
        rt.close()
    assert run("notify", "mute", "--id", "ops", "--brand", "maple", "--type", "stockout_risk")[0] == 0
    code, out = run("notify", "mute", "--id", "ops", "--brand", "maple", "--type", "roas_drop", "--for", "8h")
    assert code == 0 and "snoozed until" in out
    code, out = run("notify", "list", "--agency", "northstar", "--json")
    assert code == 0 and '"recipient_id": "ops"' in out and '"until": null' in out
    assert run("notify", "unmute", "--id", "ops", "--brand", "maple", "--type", "stockout_risk")[0] == 0
    code, out = run("notify", "unmute", "--id", "ops", "--brand", "maple", "--type", "stockout_risk")
    assert code == 2 and "has no mute" in out
    assert run("notify", "remove", "--id", "ops")[0] == 0
    assert run("notify", "remove", "--id", "ops")[0] == 2


def test_a_slack_webhook_url_goes_to_the_secret_store_only(env: Path) -> None:
    url = "https://hooks.slack.com/services/T0/B0/abcdefghijklmnop"
    r = tower("notify", "add", "--agency", "northstar", "--id", "team", "--slack-webhook", stdin=url + "\n")
    assert r.exit_code == 0, r.output
    assert url not in r.output
    rt = _runtime()
    try:
        assert rt.secrets.get(webhook_secret_id("northstar", "team")) == url
        assert url not in str(get_recipient(rt.store, "team"))
    finally:
        rt.close()


@pytest.mark.parametrize(("args", "message"), [
    (["--email", "not-an-address"], "is not an e-mail address"),
    (["--email", "a@b.example", "--quiet", "22-07"], "is not a time of day"),
    (["--email", "a@b.example", "--timezone", "Mars/Olympus"], "unknown time zone"),
    (["--email", "a@b.example", "--min-severity", "urgent"], "minimum severity must be one of"),
    (["--email", "a@b.example", "--slack-channel", "#x"], "exactly one of"),
])
def test_bad_input_exits_2_naming_it(env: Path, args: list[str], message: str) -> None:
    code, out = run("notify", "add", "--agency", "northstar", "--id", "x", *args)
    assert code == 2 and message in out, out


def test_unknown_agency_and_bad_branding(env: Path) -> None:
    code, out = run("notify", "add", "--agency", "nobody", "--id", "x", "--email", "a@b.example")
    assert code == 2 and "unknown agency 'nobody'" in out
    code, out = run("notify", "branding", "--agency", "northstar", "--color", "blue")
    assert code == 2 and "use #rrggbb" in out
    code, out = run("notify", "branding", "--agency", "northstar", "--name", "Northstar", "--color", "#112233",
                    "--from", "digest@northstar.example")
    assert code == 0 and "#112233" in out and "digest@northstar.example" in out


def test_digest_preview_and_log(env: Path) -> None:
    code, out = run("notify", "digest", "--agency", "northstar", "--json")
    assert code == 0, out
    assert '"brands"' in out and "last week" in out
    code, out = run("notify", "log", "--agency", "northstar")
    assert code == 0
