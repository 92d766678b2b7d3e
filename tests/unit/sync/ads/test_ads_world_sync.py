"""Meta, TikTok and Google Ads synced from the synthetic world's sandboxes equal the world's truth."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tower.analytics.models import compose
from tower.connectors.retry import RetryPolicy
from tower.sync.ads import sync_ads
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    accounts_from_brand_world,
    connect_sandbox_account,
    performance_mismatches,
    sandbox_runtime,
    start_world_ad_sandboxes,
)

PLATFORMS = ("meta", "tiktok", "google_ads")


@pytest.fixture(scope="module")
def world() -> Any:
    from tower_dev.world import WorldParams, generate_world

    return generate_world(WorldParams(seed=7, brands=1, days=30, orders_per_day=40))


def test_meta_tiktok_and_google_sync_equal_the_world(tmp_path: Any, world: Any) -> None:
    bw = world.brands[0]
    end = max(r["stat_date"] for r in bw.tables["ad_performance"].to_pylist())
    with start_world_ad_sandboxes(world) as sandboxes:
        runtime = sandbox_runtime(tmp_path, sandboxes, ads_history_days=40)
        for account in accounts_from_brand_world(bw):
            connect_sandbox_account(runtime, sandboxes, account)
            policy = RetryPolicy(sleep=lambda s: None, rng=random.Random(0))
            result = sync_ads(runtime, account.platform, bw.brand["brand_id"],
                              options=RunOptions(today=end, policy=policy))
            assert result.status == "ok"

        # Google's click_view: every planted gclid the world says Google still holds, on its campaign
        cols = ("gclid", "account_id", "campaign_id", "ad_group_id", "click_date")
        clicks = runtime.warehouse.rows(f"SELECT {', '.join(cols)} FROM google_click_views ORDER BY gclid")
        assert clicks and clicks == sorted(({c: r[c] for c in cols} for r in bw.tables["google_click_views"].to_pylist()),
                                           key=lambda r: r["gclid"])

        stored = runtime.warehouse.rows("SELECT * EXCEPT (synced_at) FROM ad_performance")
        truth = [
            {k: v for k, v in r.items() if k != "synced_at"} for r in bw.tables["ad_performance"].to_pylist()
        ]
        for p in PLATFORMS:
            mine = [r for r in stored if r["platform"] == p]
            theirs = [r for r in truth if r["platform"] == p]
            assert len(mine) == len(theirs) > 0
            # Meta's region rows carry no purchases (Type 1 breakdown): those match per country.
            assert performance_mismatches(mine, theirs, purchases_by_country=p == "meta") == []

        def key(r: dict[str, Any]) -> tuple[Any, ...]:
            return (r["platform"], r["campaign_id"], r["stat_date"], r["country_code"], r["region_code"])

        by_key = {key(r): r for r in stored}
        for (
            r
        ) in truth:  # names and ids as the platforms report them (Meta names, Google resources, TikTok ids)
            s = by_key[key(r)]
            assert (s["campaign_name"], s["region_name"], s["currency"], s["account_id"]) == (
                r["campaign_name"],
                r["region_name"],
                r["currency"],
                r["account_id"],
            )

        cols = [
            "platform",
            "account_id",
            "campaign_id",
            "campaign_name",
            "status",
            "objective",
            "daily_budget_amount",
            "budget_id",
            "currency",
            "account_timezone",
        ]
        assert sorted(
            tuple(r[c] for c in cols) for r in runtime.warehouse.rows("SELECT * FROM ad_campaigns")
        ) == sorted(tuple(r[c] for c in cols) for r in bw.tables["ad_campaigns"].to_pylist())
        # The Shopify sync's products arrive after the ad syncs (the first hour of a new brand can go
        # either way): the destination URLs the ad syncs kept are matched to them when the models read them.
        runtime.warehouse.merge("products", bw.tables["products"], ["brand_id", "product_id"])
        product_cols = ["platform", "campaign_id", "product_id"]
        promoted = runtime.warehouse.rows(compose("int_ads__promoted_products"), {"brand_id": bw.brand["brand_id"]})
        assert sorted(tuple(r[c] for c in product_cols) for r in promoted) == sorted(
            {tuple(r[c] for c in product_cols) for r in bw.tables["ad_campaign_products"].to_pylist()})
        runtime.close()
