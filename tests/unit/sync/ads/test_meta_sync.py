"""The Meta connector through the real facebook-business SDK against the Meta sandbox.

Full sync, incremental re-pull with late conversions, pagination, async report runs cut off by the
deadline, every fault kind, usage-header pacing, expired tokens and seeded random faults.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tower.connectors.retry import RetriesExhausted, RetryPolicy
from tower.sync.ads import sync_ads
from tower.sync.run import RunOptions
from tower_dev.sandboxes.ad_sandbox import (
    AdSandboxes,
    connect_sandbox_account,
    performance_mismatches,
    sample_accounts,
    sandbox_runtime,
)
from tower_dev.sandboxes.meta_graph.server import MetaSandbox

TODAY = date(2026, 10, 10)  # the sample accounts run 2026-09-17 .. 2026-10-10
START = date(2026, 9, 17)
PLATFORM = "meta"


class _Sandboxes(AdSandboxes):
    """Only the Meta sandbox (the others are not needed here)."""

    def settings_overrides(self) -> dict[str, str]:
        return {"meta_api_origin": self.meta.origin}


@pytest.fixture
def meta() -> Any:
    [account] = [a for a in sample_accounts(seed=11, start=START, days=24) if a.platform == PLATFORM]
    sandbox = MetaSandbox([account])
    yield sandbox, account
    sandbox.stop()


def _runtime(tmp_path: Any, sandbox: MetaSandbox, **overrides: Any) -> Any:
    settings = {"ads_history_days": 24, "ads_page_size": 25, "meta_async_min_days": 8, **overrides}
    return sandbox_runtime(tmp_path, _Sandboxes(sandbox, None, None), **settings)


def _policy(
    sleeps: list[float] | None = None, sandbox: MetaSandbox | None = None, attempts: int = 6
) -> RetryPolicy:
    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        if sandbox is not None:
            sandbox.advance(seconds)  # time passes for Meta's rate limiter, not for the test

    return RetryPolicy(sleep=sleep, rng=random.Random(0), attempts=attempts)


def _stored(runtime: Any) -> list[dict[str, Any]]:
    return runtime.warehouse.rows(
        "SELECT * EXCEPT (synced_at) FROM ad_performance WHERE platform = 'meta' "
        "ORDER BY campaign_id, stat_date, country_code, region_code"
    )


def _connect(runtime: Any, sandbox: MetaSandbox, account: Any) -> str:
    return connect_sandbox_account(runtime, _Sandboxes(sandbox, None, None), account)


def test_full_sync_equals_what_meta_served(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox)
    _connect(runtime, sandbox, account)

    result = sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    assert result.status == "ok"
    stored = _stored(runtime)
    assert performance_mismatches(stored, account.performance_rows(), purchases_by_country=True) == []
    assert {r["currency"] for r in stored} == {"USD"}
    # Every region row is mapped to ISO 3166-2 or explicitly country-level, with Meta's own name kept.
    names = {(r["region_code"], r["region_name"]) for r in stored}
    assert ("US-DC", "Washington, District of Columbia") in names
    assert ("US-TX", "Texas") in names and ("CA-ON", "Ontario") in names and ("", "") in names
    campaigns = runtime.warehouse.rows(
        "SELECT * FROM ad_campaigns WHERE platform = 'meta' ORDER BY campaign_id"
    )
    truth = sorted(account.campaign_rows(), key=lambda c: c["campaign_id"])
    assert [
        (c["campaign_id"], c["campaign_name"], c["status"], c["daily_budget_amount"]) for c in campaigns
    ] == [(c["campaign_id"], c["campaign_name"], c["status"], c["daily_budget_amount"]) for c in truth]
    products = runtime.warehouse.rows(
        "SELECT campaign_id, product_id, source FROM ad_campaign_products "
        "WHERE platform = 'meta' ORDER BY 1, 2"
    )
    assert products == sorted(
        (
            {"campaign_id": cid, "product_id": p["product_id"], "source": "product_set"}
            for cid, ps in account.products.items()
            for p in ps
        ),
        key=lambda r: (r["campaign_id"], r["product_id"]),
    )
    state = runtime.warehouse.rows("SELECT * FROM sync_state WHERE platform = 'meta'")[0]
    assert (state["status"], state["cursor_value"], state["checkpoint"]) == ("idle", "2026-10-11", None)


def test_purchases_are_read_from_one_action_type_only(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    stored = runtime.warehouse.rows("SELECT SUM(purchases) p FROM ad_performance")[0]["p"]
    served = sum(r["purchases"] for r in account.performance_rows())
    # The sandbox reports every purchase under five overlapping action types, as Meta does.
    assert stored == pytest.approx(served) and served > 0


def test_second_run_changes_nothing(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    first = _stored(runtime)

    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    assert _stored(runtime) == first


def test_trailing_repull_counts_late_conversions_once(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox, meta_trailing_days=14)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id,
             options=RunOptions(today=TODAY - timedelta(days=2), policy=_policy()))
    before = {
        (r["campaign_id"], r["stat_date"], r["country_code"], r["region_code"]): r for r in _stored(runtime)
    }

    # Meta restates conversions: late purchases land on days inside the 28-day window...
    changed = account.add_late_conversions(TODAY - timedelta(days=12), seed=5)
    assert changed > 0
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    stored = _stored(runtime)
    assert performance_mismatches(stored, account.performance_rows(), purchases_by_country=True) == []
    assert sum(r["purchases"] for r in stored) == pytest.approx(
        sum(r["purchases"] for r in account.performance_rows())
    )
    # ...and the days before the re-pulled window were not touched.
    window_start = TODAY - timedelta(days=2) + timedelta(days=1) - timedelta(days=14)
    for r in stored:
        if r["stat_date"] < window_start:
            assert r == before[(r["campaign_id"], r["stat_date"], r["country_code"], r["region_code"])]
    calls = [json.loads(p["time_range"])["since"] for m, path, p in sandbox.calls if "time_range" in p]
    assert min(calls[-2:]) == window_start.isoformat()


def test_restatements_older_than_the_trailing_window_are_not_pulled(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox, meta_trailing_days=5)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    old = runtime.warehouse.rows(
        "SELECT SUM(purchases) p FROM ad_performance WHERE stat_date < '2026-10-06'"
    )[0]

    account.add_late_conversions(START, seed=6)
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    assert (
        runtime.warehouse.rows("SELECT SUM(purchases) p FROM ad_performance WHERE stat_date < '2026-10-06'")[
            0
        ]
        == old
    )


def test_pagination_across_many_pages(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox, ads_page_size=7, meta_async_min_days=100, ads_chunk_days=30)
    _connect(runtime, sandbox, account)

    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    pages = [p for m, path, p in sandbox.calls if path.endswith("/insights") and m == "GET"]
    assert len(pages) > 40  # hundreds of rows at 7 a page
    assert sum(1 for p in pages if "after" in p) == len(pages) - 2  # every page but the first of each report
    assert (
        performance_mismatches(_stored(runtime), account.performance_rows(), purchases_by_country=True) == []
    )


def test_long_ranges_run_as_async_report_runs(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox, meta_async_min_days=8, ads_chunk_days=12, meta_async_poll_seconds=2.0)
    _connect(runtime, sandbox, account)
    sleeps: list[float] = []

    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy(sleeps)))

    starts = [p for m, path, p in sandbox.calls if m == "POST" and path.endswith("/insights")]
    assert len(starts) == 4  # 2 chunks × (region, country)
    assert any(path.endswith("/insights") and path.split("/")[2].isdigit() for _m, path, _p in sandbox.calls)
    assert sleeps.count(2.0) >= 4  # polled with TOWER_META_ASYNC_POLL_SECONDS between polls
    assert (
        performance_mismatches(_stored(runtime), account.performance_rows(), purchases_by_country=True) == []
    )


def test_a_sync_cut_off_while_polling_resumes_the_same_report_run(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    sandbox.polls_to_complete = 3
    runtime = _runtime(tmp_path, sandbox, meta_async_min_days=8, ads_chunk_days=30)
    _connect(runtime, sandbox, account)
    ticks = iter(range(1000))

    first = sync_ads(runtime, PLATFORM, account.brand_id,
                     options=RunOptions(today=TODAY, policy=_policy(), deadline_seconds=2,
                                        monotonic=lambda: float(next(ticks))))

    assert first.status == "partial"
    state = runtime.warehouse.rows("SELECT * FROM sync_state WHERE platform = 'meta'")[0]
    runs = json.loads(state["checkpoint"])["chunk"]["report_runs"]
    assert state["status"] == "running" and len(runs) == 1
    posts_before = sum(1 for m, path, _ in sandbox.calls if m == "POST")

    second = sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    assert second.status == "ok"
    polled = [
        path.strip("/").split("/")[1] for m, path, _ in sandbox.calls[len(sandbox.calls) // 2 :] if m == "GET"
    ]
    assert (
        next(iter(runs.values())) in polled
    )  # the run started before the cut-off was finished, not restarted
    assert (
        sum(1 for m, path, _ in sandbox.calls if m == "POST") == posts_before + 1
    )  # only the country report
    assert (
        performance_mismatches(_stored(runtime), account.performance_rows(), purchases_by_country=True) == []
    )


RETRIED_KINDS = ("throttle", "app_limit", "user_limit", "server_error", "drop")


def test_every_fault_kind_ends_in_the_same_tables(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox, ads_chunk_days=12)
    _connect(runtime, sandbox, account)
    for i, kind in enumerate(RETRIED_KINDS + ("usage_high",)):
        sandbox.faults.add(kind, after=2 * i + 1, times=1)
    sandbox.faults.add("reduce_data", endpoint="insights_async_start", times=1)
    sandbox.faults.add("async_failed", endpoint="insights_async_start", after=1, times=1)
    sleeps: list[float] = []

    result = sync_ads(runtime, PLATFORM, account.brand_id,
                      options=RunOptions(today=TODAY, policy=_policy(sleeps, sandbox)))

    assert result.status == "ok"
    assert {k for _e, k in sandbox.faults.served} == set(RETRIED_KINDS) | {
        "usage_high",
        "reduce_data",
        "async_failed",
    }
    assert (
        performance_mismatches(_stored(runtime), account.performance_rows(), purchases_by_country=True) == []
    )
    assert len(sleeps) >= len(RETRIED_KINDS)  # each retried after a backoff (or a usage pause)
    assert 60.0 in sleeps  # the throttle: Meta said "1 minute" in estimated_time_to_regain_access
    spans = [json.loads(p["time_range"]) for _m, _path, p in sandbox.calls if "time_range" in p]
    first = spans[0]
    # Code 1 ("reduce the amount of data"): the range was asked for again in two adjacent halves.
    assert any(
        a["since"] == first["since"]
        and b["until"] == first["until"]
        and date.fromisoformat(a["until"]) + timedelta(days=1) == date.fromisoformat(b["since"])
        for a in spans[1:]
        for b in spans[1:]
    )


def test_usage_headers_make_the_connector_pause_before_the_limit(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    sandbox.usage_budget = 12  # Meta refuses (80000) past 12 calls without a pause
    runtime = _runtime(tmp_path, sandbox, meta_usage_threshold_pct=75)
    _connect(runtime, sandbox, account)
    sandbox.advance(60)
    sleeps: list[float] = []

    result = sync_ads(runtime, PLATFORM, account.brand_id,
                      options=RunOptions(today=TODAY, policy=_policy(sleeps, sandbox)))

    assert result.status == "ok"
    assert sandbox.over_budget_errors == 0  # it never hit the limit...
    assert len(sleeps) >= 3  # ...because it paused as utilisation crossed 75 %
    assert (
        performance_mismatches(_stored(runtime), account.performance_rows(), purchases_by_country=True) == []
    )


def test_an_expired_token_stops_the_brand_cleanly_and_reconnecting_resumes(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox, ads_chunk_days=6, meta_async_min_days=100)
    _connect(runtime, sandbox, account)
    sandbox.faults.add("token_expired", endpoint="insights", after=5, times=1)

    result = sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))

    assert result.status == "needs_reauth"
    integ = runtime.warehouse.rows("SELECT status FROM integrations WHERE platform = 'meta'")[0]
    state = runtime.warehouse.rows("SELECT * FROM sync_state WHERE platform = 'meta'")[0]
    assert integ["status"] == "needs_reauth" and state["status"] == "needs_reauth"
    resume_from = json.loads(state["checkpoint"])["next"]
    assert START.isoformat() < resume_from < "2026-10-11"
    assert (
        sync_ads(runtime, PLATFORM, account.brand_id,
                 options=RunOptions(today=TODAY, policy=_policy())).status == "needs_reauth"
    )

    _connect(runtime, sandbox, account)  # the merchant reconnects: a fresh token
    n = len(sandbox.calls)
    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy())).status == "ok"

    first_since = next(
        json.loads(p["time_range"])["since"] for _m, _path, p in sandbox.calls[n:] if "time_range" in p
    )
    assert first_since == resume_from
    assert (
        performance_mismatches(_stored(runtime), account.performance_rows(), purchases_by_country=True) == []
    )


def test_a_platform_that_keeps_failing_raises_and_the_rerun_resumes(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox, ads_chunk_days=6, meta_async_min_days=100)
    _connect(runtime, sandbox, account)
    sandbox.faults.add("server_error", endpoint="insights", after=4, times=3)

    with pytest.raises(RetriesExhausted):
        sync_ads(runtime, PLATFORM, account.brand_id,
                 options=RunOptions(today=TODAY, policy=_policy(attempts=3)))

    state = runtime.warehouse.rows("SELECT * FROM sync_state WHERE platform = 'meta'")[0]
    assert state["status"] == "failed" and "still failing" in state["error"]
    assert sync_ads(runtime, PLATFORM, account.brand_id,
                    options=RunOptions(today=TODAY, policy=_policy())).status == "ok"
    assert (
        performance_mismatches(_stored(runtime), account.performance_rows(), purchases_by_country=True) == []
    )


def test_random_faults_end_in_the_same_tables_as_a_fault_free_run(tmp_path: Any, meta: Any) -> None:
    seed = 7
    sandbox, account = meta
    clean = _runtime(tmp_path / "clean", sandbox, ads_chunk_days=15)
    _connect(clean, sandbox, account)
    sync_ads(clean, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    faulty = _runtime(tmp_path / "faulty", sandbox, ads_chunk_days=15, ads_page_size=11)
    _connect(faulty, sandbox, account)
    sandbox.faults.randomize(
        seed,
        0.25,
        ["throttle", "app_limit", "server_error", "drop", "reduce_data", "async_failed", "usage_high"],
    )

    for _attempt in range(6):  # a task queue would redeliver after RetriesExhausted
        try:
            if (
                sync_ads(faulty, PLATFORM, account.brand_id,
                         options=RunOptions(today=TODAY, policy=_policy(sandbox=sandbox))).status
                == "ok"
            ):
                break
        except RetriesExhausted:
            continue
    sandbox.faults.clear()

    assert sandbox.faults.count() > 5
    assert _stored(faulty) == _stored(clean)


def test_budget_values_are_in_major_units(tmp_path: Any, meta: Any) -> None:
    sandbox, account = meta
    runtime = _runtime(tmp_path, sandbox)
    _connect(runtime, sandbox, account)
    sync_ads(runtime, PLATFORM, account.brand_id, options=RunOptions(today=TODAY, policy=_policy()))
    cid = min(account.campaigns)
    served = next(p for _m, path, p in sandbox.calls if path.endswith("/campaigns"))
    assert "daily_budget" in served["fields"]
    stored = runtime.warehouse.rows(
        "SELECT daily_budget_amount FROM ad_campaigns WHERE campaign_id = @c", {"c": cid}
    )[0]["daily_budget_amount"]
    assert (
        stored == account.campaigns[cid]["daily_budget_amount"] == Decimal(stored).quantize(Decimal("0.01"))
    )
