"""Google's click_view through the real google-ads SDK against the gRPC sandbox: which campaign each gclid was on.

click_view answers one day per query and only for the last 90 days; the sandbox refuses anything else as Google
documents, so these tests also prove the connector never asks for more.
"""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta
from typing import Any

import pytest

from tower.connectors.google_ads.streams import CLICK_VIEW_DAYS, GoogleAdsConnector
from tower.connectors.retry import FatalError, RetryPolicy
from tower.sync import click_views
from tower.sync.ads import sync_ads
from tower.sync.outcomes import standing_warnings
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    connect_sandbox_account,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.google_ads_grpc.server import VERSION, GoogleAdsSandbox

TODAY = date(2026, 10, 10)
PLATFORM = "google_ads"


class _Sandboxes(AdSandboxes):
    def settings_overrides(self) -> dict[str, str]:
        return {"google_ads_endpoint": self.google_ads.endpoint}


def _policy() -> RetryPolicy:
    return RetryPolicy(sleep=lambda s: None, rng=random.Random(0), attempts=2)


@pytest.fixture
def google() -> Any:
    [account] = [a for a in sample_accounts(seed=5, start=TODAY - timedelta(days=20), days=21)
                 if a.platform == PLATFORM]
    account.today = TODAY
    first, second = sorted(account.campaigns)
    # one click a day on alternating campaigns over 120 days: the first 30 are beyond click_view's 90 days
    for back in range(120):
        day = TODAY - timedelta(days=back)
        campaign = first if back % 2 else second
        account.clicks[day] = [{"gclid": f"G-{back:03d}", "campaign_id": campaign, "ad_group_id": f"{campaign}01"}]
    sandbox = GoogleAdsSandbox([account])
    yield sandbox, account
    sandbox.stop()


def _connector(sandbox: GoogleAdsSandbox, account: Any) -> GoogleAdsConnector:
    token = sandbox.issue_token(account.account_id)
    connector = GoogleAdsConnector(token, account.account_id, developer_token="dev", login_customer_id=None,
                                   endpoint=sandbox.endpoint, version=VERSION, policy=_policy())
    connector.today = TODAY
    return connector


def _click_queries(sandbox: GoogleAdsSandbox) -> list[str]:
    return [q for _, q in sandbox.queries if "FROM click_view" in q]


def test_the_connector_asks_one_day_at_a_time_and_never_beyond_90_days(google: Any) -> None:
    sandbox, account = google
    connector = _connector(sandbox, account)
    try:
        found = connector.click_views(TODAY - timedelta(days=119), TODAY + timedelta(days=1))
    finally:
        connector.close()
    assert len(_click_queries(sandbox)) == CLICK_VIEW_DAYS
    asked = sorted(q.rsplit("'", 2)[1] for q in _click_queries(sandbox))
    assert asked[0] == (TODAY - timedelta(days=89)).isoformat() and asked[-1] == TODAY.isoformat()
    assert {(c.gclid, c.campaign_id, c.ad_group_id, c.click_date) for c in found} == {
        (c["gclid"], c["campaign_id"], c["ad_group_id"], day)
        for day, clicks in account.clicks.items() if day >= TODAY - timedelta(days=89) for c in clicks}


@pytest.mark.parametrize("where", [
    f"segments.date BETWEEN '{TODAY - timedelta(days=1)}' AND '{TODAY}'",  # more than one day
    f"segments.date = '{TODAY - timedelta(days=91)}'",  # older than 90 days
])
def test_google_refuses_click_view_over_several_days_or_older_than_90_days(google: Any, where: str) -> None:
    sandbox, account = google
    connector = _connector(sandbox, account)
    try:
        with pytest.raises(FatalError, match="INVALID_ARGUMENT"):
            connector.client.search(account.account_id,
                                    f"SELECT click_view.gclid, campaign.id FROM click_view WHERE {where}")
    finally:
        connector.close()


def test_the_sync_merges_gclids_on_their_campaign_and_a_rerun_changes_nothing(tmp_path: Any, google: Any) -> None:
    sandbox, account = google
    sandboxes = _Sandboxes(None, None, sandbox)
    runtime = sandbox_runtime(tmp_path, sandboxes, ads_history_days=120)
    connect_sandbox_account(runtime, sandboxes, account)
    options = RunOptions(today=TODAY, policy=_policy())

    assert sync_ads(runtime, PLATFORM, account.brand_id, options=options).status == "ok"
    sql = "SELECT gclid, account_id, campaign_id, ad_group_id, click_date FROM google_click_views ORDER BY gclid"
    stored = runtime.warehouse.rows(sql)
    assert [(r["gclid"], r["campaign_id"], r["click_date"]) for r in stored] == sorted(
        (c["gclid"], c["campaign_id"], day) for day, clicks in account.clicks.items()
        if day >= TODAY - timedelta(days=89) for c in clicks)
    assert {r["account_id"] for r in stored} == {account.account_id}

    # the trailing re-pull reads its days' clicks again: MERGEd on the gclid, nothing doubles
    assert sync_ads(runtime, PLATFORM, account.brand_id, options=options).status == "ok"
    assert runtime.warehouse.rows(sql) == stored


def test_a_refused_click_view_leaves_the_spend_synced_and_the_gclids_to_the_click_id_rule(
        tmp_path: Any, google: Any) -> None:
    sandbox, account = google
    sandbox.faults.deny("permission_denied", ("search_stream:click_view",))
    sandboxes = _Sandboxes(None, None, sandbox)
    runtime = sandbox_runtime(tmp_path, sandboxes, ads_history_days=30)
    connect_sandbox_account(runtime, sandboxes, account)

    result = sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    assert result.status == "ok"
    assert runtime.warehouse.rows("SELECT COUNT(*) AS n FROM ad_performance")[0]["n"] > 0
    assert runtime.warehouse.rows("SELECT COUNT(*) AS n FROM google_click_views")[0]["n"] == 0
    assert _click_queries(sandbox)  # asked, and refused


def _second_account(account: Any, account_id: str) -> Any:
    """The same brand's second Google account: another customer id, its own clicks."""
    other = copy.deepcopy(account)
    other.account_id = account_id
    for rows in (list(other.campaigns.values()), *other.performance.values(), *other.products.values()):
        for row in rows:
            if "account_id" in row:
                row["account_id"] = account_id
    other.clicks = {day: [dict(c, gclid=f"H-{c['gclid']}") for c in clicks] for day, clicks in account.clicks.items()}
    return other


def test_a_refused_click_view_stands_as_the_accounts_warning_until_a_sync_reads_it(tmp_path: Any) -> None:
    # Two accounts of a brand in Denver; the sandbox refuses click_view to the second alone.
    accounts = [a for a in sample_accounts(seed=23, brand_id="peak-supply", start=TODAY - timedelta(days=20), days=21,
                                           timezone="America/Denver") if a.platform == PLATFORM]
    [first] = accounts
    first.today = TODAY
    first.clicks = {TODAY - timedelta(days=back): [{"gclid": f"P-{back:02d}", "campaign_id": cid,
                                                    "ad_group_id": f"{cid}01"}]
                    for back, cid in enumerate(sorted(first.campaigns) * 5)}
    second = _second_account(first, "2345678901")
    sandbox = GoogleAdsSandbox([first, second])
    try:
        sandbox.refuse_click_view(second.account_id)
        sandboxes = _Sandboxes(None, None, sandbox)
        runtime = sandbox_runtime(tmp_path, sandboxes, ads_history_days=14, ads_chunk_days=7)
        for account in (first, second):
            connect_sandbox_account(runtime, sandboxes, account)
        options = RunOptions(today=TODAY, policy=_policy())

        result = sync_ads(runtime, PLATFORM, first.brand_id, options=options)
        assert result.status == "ok"
        by_account = {a.account_id: a for a in result.accounts}
        assert by_account[first.account_id].warnings == []
        [warning] = by_account[second.account_id].warnings
        assert warning["code"] == click_views.WARNING == "click_view_unavailable"
        assert "PERMISSION_DENIED" in warning["message"] and second.account_id in warning["fix"]
        assert standing_warnings(runtime.store, first.brand_id, PLATFORM, first.account_id) == []
        [standing] = standing_warnings(runtime.store, first.brand_id, PLATFORM, second.account_id)
        assert (standing["code"], standing["message"]) == (warning["code"], warning["message"])
        # the refused account's spend is stored; only the first account's gclids are
        spend = "SELECT account_id, COUNT(*) AS n FROM ad_performance GROUP BY account_id ORDER BY account_id"
        assert [r["account_id"] for r in runtime.warehouse.rows(spend)] == [first.account_id, second.account_id]
        clicks = runtime.warehouse.rows("SELECT DISTINCT account_id FROM google_click_views")
        assert [r["account_id"] for r in clicks] == [first.account_id]

        # a second refused sync keeps one warning, dated from its first time
        assert sync_ads(runtime, PLATFORM, first.brand_id, options=options).status == "ok"
        [again] = standing_warnings(runtime.store, first.brand_id, PLATFORM, second.account_id)
        assert again["since"] == standing["since"]

        # access restored: the next sync reads click_view and clears the warning
        sandbox.faults.clear()
        result = sync_ads(runtime, PLATFORM, first.brand_id, options=options)
        assert [a.warnings for a in result.accounts] == [[], []]
        assert standing_warnings(runtime.store, first.brand_id, PLATFORM, second.account_id) == []
        gclids = runtime.warehouse.rows("SELECT COUNT(*) AS n FROM google_click_views WHERE account_id = @a",
                                        {"a": second.account_id})
        assert gclids[0]["n"] == len(second.clicks)
    finally:
        sandbox.stop()
