"""Running the ``tower`` command in-process, and the steps several command tests start with."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner, Result

from tower.cli import app

BRAND = "acme-candles"  # the brand of the seeded warehouse (seeded_env)


def tower(*args: str, stdin: str | None = None) -> Result:
    """``tower ARGS`` with ``stdin`` as its input; the result has the exit code and the output."""
    return CliRunner().invoke(app, list(args), input=stdin)


def run(*args: str) -> tuple[int, str]:
    """``tower ARGS``: its exit code and its output."""
    result = tower(*args)
    return result.exit_code, result.output


def add_and_connect_shopify(world: Any, handle: Any) -> str:
    """``tower brands add`` and ``tower connect shopify`` for the world's first brand; its id."""
    b = world.brands[0].brand
    r = tower("brands", "add", "--id", b["brand_id"], "--name", b["brand_name"], "--timezone", b["timezone"],
              "--currency", b["currency"])
    assert r.exit_code == 0, r.output
    r = tower("connect", "shopify", "--brand", b["brand_id"], "--shop", b["shop_domain"],
              "--token", handle.tokens[b["brand_id"]])
    assert r.exit_code == 0, r.output
    return str(b["brand_id"])


def add_brand(brand_id: str, timezone: str) -> Result:
    """``tower brands add`` with a sample name in USD."""
    return tower("brands", "add", "--id", brand_id, "--name", "Sample", "--timezone", timezone, "--currency", "USD")
