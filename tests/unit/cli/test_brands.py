"""``tower brands add``: bad input exits 2 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from cli_run import tower


@pytest.mark.parametrize("args,problem", [
    (["--id", "acme", "--name", "Acme", "--timezone", "Mars/Olympus", "--currency", "USD"], "IANA"),
    (["--id", "Acme Co", "--name", "Acme", "--timezone", "America/Chicago", "--currency", "USD"], "brand id"),
    (["--id", "acme", "--name", "Acme", "--timezone", "America/Chicago", "--currency", "dollars"], "ISO 4217"),
])
def test_brands_add_rejects_bad_input_with_exit_2(shopify_env: Any, args: list[str], problem: str) -> None:
    r = tower("brands", "add", *args)
    assert r.exit_code == 2 and problem in r.output
