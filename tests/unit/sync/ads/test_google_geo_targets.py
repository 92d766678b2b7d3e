"""Google Ads geography past the US: region ids resolved through the API's own geo_target_constant resource
(the gRPC sandbox serves its own table of US states and Canadian provinces), cached in the warehouse."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from tower.connectors.retry import RetryPolicy
from tower.sync.ads import sync_ads
from tower.sync.geo_targets import cached_geo_targets
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    connect_sandbox_account,
    performance_mismatches,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox, region_criterion_ids

TODAY = date(2026, 10, 10)
START = date(2026, 9, 27)
PLATFORM = "google_ads"


class _Sandboxes(AdSandboxes):
    def settings_overrides(self) -> dict[str, str]:
        return {"google_ads_endpoint": self.google_ads.endpoint}


@pytest.fixture
def canadian() -> Any:
    """A Google account whose Canadian spend is by province: Ontario and British Columbia."""
    [account] = [a for a in sample_accounts(seed=17, start=START, days=14) if a.platform == PLATFORM]
    campaigns = sorted(account.campaigns)
    for (cid, _day), rows in account.performance.items():
        for r in rows:
            if r["country_code"] == "CA":
                r["region_code"] = "CA-ON" if cid == campaigns[0] else "CA-BC"
    sandbox = GoogleAdsSandbox([account])
    yield sandbox, account
    sandbox.stop()


def _sync(runtime: Any, account: Any) -> None:
    policy = RetryPolicy(sleep=lambda s: None, rng=random.Random(0))
    assert sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=policy)).status == "ok"


def _geo_queries(sandbox: GoogleAdsSandbox) -> list[str]:
    return [q for _c, q in sandbox.queries if "FROM geo_target_constant" in q]


def test_provinces_are_resolved_once_through_geo_target_constant_and_cached(tmp_path: Any, canadian: Any) -> None:
    sandbox, account = canadian
    runtime = sandbox_runtime(tmp_path, _Sandboxes(None, None, sandbox), ads_history_days=14)
    connect_sandbox_account(runtime, _Sandboxes(None, None, sandbox), account)

    _sync(runtime, account)

    stored = runtime.warehouse.rows("SELECT * EXCEPT (synced_at) FROM ad_performance ORDER BY campaign_id, "
                                    "stat_date, country_code, region_code")
    assert performance_mismatches(stored, account.performance_rows()) == []
    canada = {(r["region_code"], r["region_name"]) for r in stored if r["country_code"] == "CA"}
    assert canada == {("CA-ON", "geoTargetConstants/20121"), ("CA-BC", "geoTargetConstants/20114")}
    # US states come from the shipped seed: only the Canadian ids were asked, in one query.
    [query] = _geo_queries(sandbox)
    assert "geo_target_constant.id IN (20114, 20121)" in query
    cached = cached_geo_targets(runtime.warehouse)
    assert {i: (t.name, t.canonical_name, t.country_code, t.target_type, t.iso_3166_2) for i, t in cached.items()} == {
        20114: ("British Columbia", "British Columbia,Canada", "CA", "Province", "CA-BC"),
        20121: ("Ontario", "Ontario,Canada", "CA", "Province", "CA-ON"),
    }
    assert {r["iso_3166_2"] for r in runtime.warehouse.rows("SELECT iso_3166_2 FROM geo_targets")} == {"CA-BC", "CA-ON"}

    _sync(runtime, account)  # the warehouse's cache answers: no second question to the API

    assert len(_geo_queries(sandbox)) == 1
    again = runtime.warehouse.rows("SELECT * EXCEPT (synced_at) FROM ad_performance ORDER BY campaign_id, "
                                   "stat_date, country_code, region_code")
    assert again == stored


def test_an_id_the_api_does_not_know_stays_at_country_level_and_is_asked_again(tmp_path: Any, canadian: Any,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox, account = canadian
    # The sandbox reports Ontario under an id its own geo_target_constant table lacks.
    monkeypatch.setitem(region_criterion_ids(), "CA-ON", 99999)
    runtime = sandbox_runtime(tmp_path, _Sandboxes(None, None, sandbox), ads_history_days=14)
    connect_sandbox_account(runtime, _Sandboxes(None, None, sandbox), account)

    _sync(runtime, account)
    _sync(runtime, account)

    regions = {r["region_code"] for r in runtime.warehouse.rows(
        "SELECT DISTINCT region_code FROM ad_performance WHERE country_code = 'CA'")}
    assert regions == {"", "CA-BC"}  # Ontario's spend kept, at country level; never dropped
    assert len(_geo_queries(sandbox)) == 2 and all("99999" in q for q in _geo_queries(sandbox))
    assert set(cached_geo_targets(runtime.warehouse)) == {20114}
