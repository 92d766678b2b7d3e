"""A Canadian store's provincial spend lands on its provinces on every platform, not on Canada.

The accounts here spend only in Canada, in six provinces and territories and at country level: Meta
names them ("British Columbia", "Quebec", "Newfoundland and Labrador", "Yukon"...), TikTok gives
location ids (GeoNames: 5909050 British Columbia...), Google geo target constants (20114 British
Columbia, 20121 Ontario...). Each platform's real client against its sandbox; every stored row must
carry the province the platform reported, as ISO 3166-2.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tower.connectors.retry import RetryPolicy
from tower.names import AD_PLATFORMS
from tower.sync.ads import sync_ads
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    SandboxAccount,
    connect_sandbox_account,
    performance_mismatches,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.google_ads_grpc.server import GoogleAdsSandbox
from tower_dev.sandboxes.meta_graph.server import MetaSandbox
from tower_dev.sandboxes.tiktok_business.server import TikTokSandbox

BRAND = "prairie-kitchen"
START = date(2026, 6, 1)
TODAY = date(2026, 6, 10)
# The sample's regions moved to Canada: each US state becomes a province or territory.
PROVINCE_OF = {"US-CA": "CA-BC", "US-TX": "CA-QC", "US-NY": "CA-NL", "US-DC": "CA-YT", "US-IL": "CA-NS",
               "CA-ON": "CA-ON"}
PROVINCES = set(PROVINCE_OF.values())


def _canadian(account: SandboxAccount) -> SandboxAccount:
    """The account with every row in Canada: provinces, and Canada-level rows (US-level ones dropped)."""
    for key, rows in account.performance.items():
        account.performance[key] = [
            {**r, "country_code": "CA", "region_code": PROVINCE_OF[r["region_code"]]} if r["region_code"] else r
            for r in rows if r["region_code"] or r["country_code"] == "CA"]
    return account


@pytest.fixture(params=AD_PLATFORMS)
def synced(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[str, SandboxAccount, list[dict]]]:
    """(platform, account served, rows stored) after one full sync of a Canadian-only account."""
    platform = request.param
    [account] = [_canadian(a) for a in sample_accounts(seed=61, brand_id=BRAND, start=START, days=10,
                                                       currency="CAD", timezone="America/Winnipeg")
                 if a.platform == platform]
    sandbox = {"meta": MetaSandbox, "tiktok": TikTokSandbox, "google_ads": GoogleAdsSandbox}[platform]([account])
    try:
        where = {"meta": "meta_api_origin", "tiktok": "tiktok_api_origin", "google_ads": "google_ads_endpoint"}
        runtime = sandbox_runtime(tmp_path, None, ads_history_days=10, **{
            where[platform]: sandbox.endpoint if platform == "google_ads" else sandbox.origin})
        connect_sandbox_account(runtime, AdSandboxes(**{p: sandbox if p == platform else None for p in AD_PLATFORMS}),
                                account)
        policy = RetryPolicy(sleep=lambda s: None, rng=random.Random(0))
        result = sync_ads(runtime, platform, BRAND, options=RunOptions(today=TODAY, policy=policy))
        assert result.status == "ok", result.as_dict()
        stored = runtime.warehouse.rows("SELECT * EXCEPT (synced_at) FROM ad_performance")
        runtime.close()
        yield platform, account, stored
    finally:
        sandbox.stop()


def test_every_provincial_row_is_stored_under_its_province(synced: Any) -> None:
    platform, account, stored = synced
    assert performance_mismatches(stored, account.performance_rows(), purchases_by_country=platform == "meta") == []
    assert {r["country_code"] for r in stored} == {"CA"}
    served = {r["region_code"] for r in account.performance_rows()}
    # The sample gives Google no Ontario rows (it skips Canadian provinces there); the other five it has.
    assert served == PROVINCES | {""} if platform != "google_ads" else PROVINCES - {"CA-ON"} | {""}
    assert {r["region_code"] for r in stored} == served


def test_each_platform_keeps_its_own_name_for_the_province(synced: Any) -> None:
    platform, _account, stored = synced
    names = {r["region_code"]: r["region_name"] for r in stored if r["region_code"]}
    if platform == "meta":
        assert names == {"CA-BC": "British Columbia", "CA-QC": "Quebec", "CA-NL": "Newfoundland and Labrador",
                         "CA-YT": "Yukon", "CA-NS": "Nova Scotia", "CA-ON": "Ontario"}
    elif platform == "tiktok":
        assert names == {"CA-BC": "5909050", "CA-QC": "6115047", "CA-NL": "6354959", "CA-YT": "6185811",
                         "CA-NS": "6091530", "CA-ON": "6093943"}
    else:  # geo target constants, which the sync resolves through the API's geo_target_constant resource
        assert names == {"CA-BC": "geoTargetConstants/20114", "CA-QC": "geoTargetConstants/20123",
                         "CA-NL": "geoTargetConstants/20117", "CA-YT": "geoTargetConstants/20125",
                         "CA-NS": "geoTargetConstants/20118"}
