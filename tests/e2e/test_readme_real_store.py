"""The README's "A real store, by hand" block, run as written against the sandboxes (issue 14).

Its commands are read from README.md, not copied here, so the README cannot drift from what works: only
the placeholders a merchant would fill in (the shop domain, the account ids, the tokens in the
environment) are swapped for the sandbox world's. Every command must exit 0 in an empty
``TOWER_DATA_DIR``; ``tower serve``, the block's last line, is the serve test's
(tests/e2e/test_real_store_serve.py).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from real_store import Sandboxes, start_sandboxes, tower, tower_json

from tower.config import get_settings

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block() -> list[str]:
    """The shell commands of the README's real-store block, continuation lines joined, comments dropped."""
    section = README.read_text(encoding="utf-8").split("## A real store, by hand", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands, pending = [], ""
    for raw in block.splitlines():
        line = re.sub(r"\s+#.*$", "", raw).rstrip()
        pending += line.removesuffix("\\")
        if not line.endswith("\\") and pending.strip():
            commands.append(" ".join(pending.split()))
            pending = ""
    return commands


def _placeholders(s: Sandboxes) -> dict[str, str]:
    """The README's example values → the sandbox world's (the ids keep the README's own spelling)."""
    acct = {p: a["account_id"] for p, a in s.brand.ad_accounts.items()}
    g = acct["google_ads"]
    return {"my-store.myshopify.com": s.brand.brand["shop_domain"], "act_1234567890": f"act_{acct['meta']}",
            "7012345678901234567": acct["tiktok"], "123-456-7890": f"{g[:3]}-{g[3:6]}-{g[6:]}"}


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    s = start_sandboxes()
    yield s
    s.shop.stop()
    s.ads.stop()


@pytest.fixture
def env(sandboxes: Sandboxes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The merchant's environment: the settings, and the tokens the block reads from variables."""
    for k, v in sandboxes.env(tmp_path / "my-store").items():
        monkeypatch.setenv(k, v)
    for k in ("TOWER_WAREHOUSE", "TOWER_STORE", "TOWER_BUS", "TOWER_TASKS", "TOWER_SECRETS"):
        monkeypatch.delenv(k, raising=False)
    tokens = {"SHOPIFY_ADMIN_TOKEN": sandboxes.shop.tokens[sandboxes.brand.brand_id]}
    for platform, var in (("meta", "META_TOKEN"), ("tiktok", "TIKTOK_TOKEN"), ("google_ads", "GADS_TOKEN")):
        tokens[var] = sandboxes.ads.get(platform).issue_token(sandboxes.brand.ad_accounts[platform]["account_id"])
    get_settings.cache_clear()
    return tokens


def _run(command: str, tokens: dict[str, str], values: dict[str, str]) -> tuple[int, str]:
    """One line of the block: ``tower ARGS`` or ``echo "$VAR" | tower ARGS``, placeholders filled."""
    for example, real in values.items():
        command = command.replace(example, real)
    stdin = None
    if "|" in command:
        feed, command = (part.strip() for part in command.split("|", 1))
        stdin = _expand(" ".join(shlex.split(feed)[1:]), tokens) + "\n"
    args = [_expand(a, tokens) for a in shlex.split(command)]
    assert args[0] == "tower", command
    return tower(*args[1:], stdin=stdin)


def _expand(text: str, tokens: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: tokens.get(m.group(1), m.group(0)), text)


def test_the_readme_block_runs_as_written(env: dict[str, str], sandboxes: Sandboxes) -> None:
    commands = readme_block()
    assert [c.split("|")[-1].split()[1] for c in commands] == ["brands", "connect", "connect", "connect", "connect", "run",
                                                "status", "recommendations", "api-key", "serve"]
    values = _placeholders(sandboxes)
    outputs: dict[str, Any] = {}
    for command in commands[:-1]:
        code, out = _run(command, env, values)
        assert code == 0, (command, out)
        outputs[command.split("|")[-1].split()[1]] = out
        assert not any(t in out for t in env.values()), command  # no token is ever printed back
    assert "my-store: run" in outputs["run"] and "failed" not in outputs["run"]
    status = tower_json("status", "--brand", "my-store")
    assert {i["platform"] for i in status["integrations"]} == {"shopify", "meta", "tiktok", "google_ads"}
    assert all(i["last_success_at"] and not i["warnings"] for i in status["integrations"])
    assert status["problems"] == []
    assert tower_json("recommendations", "--brand", "my-store")
    assert "shown once" in outputs["api-key"]
