"""R1: seeded fault runs across the four connectors end in the warehouse of a fault-free run.

Each run starts from a copy of one connected state (schema, brands, tokens), draws faults for every
connector from a seed, and syncs the four platforms until each says it is done, as a task queue would
(a call that gives up is called again, at most ``ATTEMPTS`` times). Some runs sync in a child process
that is killed with SIGKILL at a seeded point of its progress (inside or just after its *k*-th
warehouse write, *k* drawn over the writes a clean sync makes: see ``sync_worker``), and the sync is
then run again to completion in this process, on the files the killed one left. The end
state is compared with a fault-free run of the same mode (paged or bulk Shopify backfill): per table,
natural keys lost or added, rows beyond one per key, and the sum of every numeric column.

Fault categories and what each platform's sandbox serves for them (each sandbox's own kinds):

=============== ======================================= ==================================== ======================= =======================================
category        Shopify (GraphQL Admin)                  Meta (Graph)                         TikTok (Business)       Google Ads (gRPC)
=============== ======================================= ==================================== ======================= =======================================
rate limit      THROTTLED                                codes 80000 / 4 / 17                 code 40100              RESOURCE_EXHAUSTED
5xx             HTTP 500/502/503, INTERNAL_SERVER_ERROR  HTTP 500 code 2, failed async run    HTTP 503, code 50000    INTERNAL, UNAVAILABLE
timeout         no answer until the socket times out     code 1 "reduce the amount of data"   code 50002              UNAVAILABLE (the sandbox has no
                (the relay in ``proxy``)                 (Meta's own query timeout)           (TikTok's timeout)      deadline fault; a gRPC client sees a
                                                                                                                      timed-out connection as this)
cut connection  connection reset before any answer       connection dropped                   connection dropped      UNAVAILABLE
cut pagination  half a page sent, then closed; in bulk   a later insights page dropped        a later report page     the stream broken after its first batch
                mode the JSONL download cut halfway                                           dropped
kill -9         the sync process killed at a random point, then the sync run again to completion
=============== ======================================= ==================================== ======================= =======================================

Waits are compressed: every backoff, retry-after and pacing pause sleeps at most ``MAX_WAIT`` seconds
(the policy's ``sleep``, which the connectors take for injection), so hundreds of runs take minutes;
how long the connectors wait is not what R1 measures.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

MAX_WAIT = 0.02
ATTEMPTS = 10
PLATFORMS = ("shopify", "meta", "tiktok", "google_ads")
CATEGORIES = ("rate_limit", "server_error", "timeout", "cut_connection", "cut_pagination")
#: The Shopify client's socket timeout in these runs, and how long a stalled request is held.
SHOPIFY_TIMEOUT = 1.0
STALL_HOLD = 1.5
#: Ad sync settings that give every platform several chunks and pages to cut.
AD_SETTINGS = {"ads_chunk_days": 9, "ads_page_size": 60, "ads_history_days": 18}


def compressed_sleep(seconds: float) -> None:
    """Sleep, but never longer than ``MAX_WAIT`` (see the module docstring)."""
    time.sleep(min(max(seconds, 0.0), MAX_WAIT))


def fast_policy(seed: int) -> Any:
    """The product's retry policy with compressed waits."""
    from tower.connectors.retry import RetryPolicy

    return RetryPolicy(attempts=6, base_seconds=0.005, max_seconds=MAX_WAIT, sleep=compressed_sleep,
                       rng=random.Random(seed))


# --- syncing until done -----------------------------------------------------------------------------


def sync_to_completion(runtime: Any, brand_id: str, platform: str, *, now: datetime, today: date,
                       seed: int) -> dict[str, Any]:
    """Call one platform's sync until it is done, as the task queue redelivers a task that gave up."""
    from tower.connectors.retry import RetriesExhausted
    from tower.sync.ads import sync_ads
    from tower.sync.run import RunOptions
    from tower.sync.shopify import sync_shopify

    status, error = "not_run", ""
    for attempt in range(1, ATTEMPTS + 1):
        options = RunOptions(now=lambda: now, sleep=compressed_sleep, policy=fast_policy(seed * 100 + attempt),
                             today=today)
        try:
            if platform == "shopify":
                result = sync_shopify(runtime, brand_id, options=options)
                status, error = result.status, result.error or ""
                again = status == "incomplete" or (status == "failed" and result.retryable)
            else:
                ads = sync_ads(runtime, platform, brand_id, options=options)
                status = ads.status
                error = "; ".join(a.error or "" for a in ads.accounts if a.error)
                again = status == "partial"
        except RetriesExhausted as e:
            status, error, again = "retries_exhausted", str(e), True
        except Exception as e:  # noqa: BLE001 - a crashing task is redelivered; after the attempts it is a finding
            status, error, again = "crashed", f"{type(e).__name__}: {e}", True
        if status == "ok":
            return {"status": "ok", "attempts": attempt}
        if not again:
            break
    return {"status": status, "attempts": attempt, "error": error[:300]}


def sync_everything(runtime: Any, brand_ids: list[str], *, now: datetime, today: date,
                    seed: int) -> dict[str, dict[str, Any]]:
    """Every platform of every brand to completion (Shopify first: the ad syncs map landing pages to
    the products it stored)."""
    out = {}
    for b in brand_ids:
        for p in PLATFORMS:
            out[f"{b}/{p}"] = sync_to_completion(runtime, b, p, now=now, today=today, seed=seed)
    return out


# --- the faults of one run ----------------------------------------------------------------------------


@dataclass
class Plan:
    """The faults drawn for one run."""

    seed: int
    bulk: bool
    kill: bool
    kill_fraction: float
    kill_delay: float
    shopify: list[tuple[str, int]] = field(default_factory=list)
    stalls: list[int] = field(default_factory=list)
    ads: dict[str, list[tuple[str, str | None, int]]] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)


def draw_plan(seed: int, counts: dict[str, Any], *, kill_share: float, force_kill: bool = False) -> Plan:
    """Draw a run's faults: 1–3 categories per connector, at requests within a clean sync's count."""
    rng = random.Random(seed)
    plan = Plan(seed=seed, bulk=rng.random() < 0.5, kill=force_kill or rng.random() < kill_share,
                kill_fraction=rng.random(), kill_delay=rng.choice([0.0, 0.001, 0.005, 0.02]))
    if plan.kill:
        plan.categories.append("kill")
    n_shop = max(1, counts["shopify"])
    for platform in PLATFORMS:
        for category in rng.choices(CATEGORIES, k=rng.randint(1, 3)):
            plan.categories.append(category)
            if platform == "shopify":
                at = rng.randint(1, n_shop)
                if category == "timeout":
                    plan.stalls.append(at)
                elif category == "cut_pagination" and plan.bulk:
                    plan.shopify.append(("download_drop", 1))
                else:
                    kind = {"rate_limit": "throttle", "cut_connection": "reset", "cut_pagination": "drop",
                            "server_error": rng.choice(["internal_error", "http_500", "http_502", "http_503"]),
                            }[category]
                    plan.shopify.append((kind, at))
            else:
                plan.ads.setdefault(platform, []).append(_ad_fault(rng, platform, category, counts[platform]))
    return plan


def _ad_fault(rng: random.Random, platform: str, category: str, requests: dict[str, int]) -> tuple[str, str | None, int]:
    """(kind, endpoint or None for any, clean requests to let through first)."""
    total = max(1, sum(requests.values()))

    def on(endpoints: list[str]) -> tuple[str | None, int]:
        seen = [e for e in endpoints if requests.get(e)]
        if not seen:
            return None, rng.randrange(total)
        e = rng.choice(seen)
        return e, rng.randrange(requests[e])

    if platform == "meta":
        insights = ["insights", "report_run_insights"]
        if category == "rate_limit":
            return rng.choice(["throttle", "app_limit", "user_limit"]), None, rng.randrange(total)
        if category == "server_error":
            if rng.random() < 0.3:
                return ("async_failed", *on(["report_run"]))
            return "server_error", None, rng.randrange(total)
        if category == "timeout":
            return ("reduce_data", *on(insights))
        if category == "cut_connection":
            return "drop", None, rng.randrange(total)
        endpoint, after = on(insights)
        return "drop", endpoint, max(after, 1 if endpoint else 0)
    if platform == "tiktok":
        kind = {"rate_limit": "throttle", "timeout": "timeout", "cut_connection": "drop",
                "server_error": rng.choice(["server_error", "http_error"])}.get(category)
        if kind is not None:
            return kind, None, rng.randrange(total)
        endpoint, after = on(["report_integrated_get"])
        return "drop", endpoint, max(after, 1 if endpoint else 0)
    kind = {"rate_limit": "quota", "timeout": "unavailable", "cut_connection": "unavailable",
            "server_error": rng.choice(["internal", "unavailable"]), "cut_pagination": "stream_break"}[category]
    endpoint = "search_stream" if category == "cut_pagination" else None
    return kind, endpoint, rng.randrange(requests.get("search_stream", total) if endpoint else total)


# --- the harness around the runs ----------------------------------------------------------------------


@dataclass
class Harness:
    """The sandboxes, the relay, the connected template and the references of an R1 session."""

    platforms: Any
    relay: Any
    root: Path
    template: Path
    brand_ids: list[str]
    now: datetime
    today: date
    _ad_served: dict[str, int] = field(default_factory=dict)

    def settings(self, run_dir: Path, bulk: bool) -> Any:
        """A run's settings: its files, and :meth:`overrides`."""
        from reliability_checks.world import local_settings

        return local_settings(run_dir, None, **self.overrides(bulk))

    def overrides(self, bulk: bool) -> dict[str, Any]:
        """The settings of a run besides its files: the platforms (Shopify behind the relay), the modes."""
        return {**self.platforms.ads.settings_overrides(), "shopify_api_origin": self.relay.origin,
                "shopify_timeout_seconds": SHOPIFY_TIMEOUT, "shopify_bulk_min_orders": 0 if bulk else 10**9,
                **AD_SETTINGS}

    def fresh(self, name: str) -> Path:
        """A new copy of the connected template under the session's folder."""
        from reliability_checks.world import copy_state

        target = self.root / name
        if target.exists():
            shutil.rmtree(target)
        return copy_state(self.template, target)

    def clear_faults(self) -> None:
        """No faults anywhere (what was served stays recorded by the sandboxes)."""
        from tower_dev.sandboxes.shopify_store.faults import FaultPlan

        for b in self.brand_ids:
            self.platforms.shop.shop(b).faults = FaultPlan()
        self.relay.schedule([], STALL_HOLD)
        for p in PLATFORMS[1:]:
            self.platforms.ads.get(p).faults.clear()

    def apply(self, plan: Plan) -> None:
        """Arm every sandbox and the relay with the plan's faults."""
        from tower_dev.sandboxes.shopify_store.faults import FaultPlan

        self.clear_faults()
        self._ad_served = {p: len(self.platforms.ads.get(p).faults.served) for p in PLATFORMS[1:]}
        for b in self.brand_ids:
            self.platforms.shop.shop(b).faults = FaultPlan.of(plan.shopify)
        self.relay.schedule(plan.stalls, STALL_HOLD)
        for platform, faults in plan.ads.items():
            sandbox_faults = self.platforms.ads.get(platform).faults
            for kind, endpoint, after in faults:
                sandbox_faults.add(kind, endpoint=endpoint, after=after, times=1)

    def served(self) -> int:
        """Faults served since the last ``apply`` (stalls included)."""
        n = self.relay.stalled
        n += sum(len(self.platforms.shop.shop(b).faults.fired) for b in self.brand_ids)
        n += sum(len(self.platforms.ads.get(p).faults.served) - self._ad_served.get(p, 0) for p in PLATFORMS[1:])
        return n

    def run_in_process(self, run_dir: Path, bulk: bool, seed: int,
                       writes: list[int] | None = None) -> dict[str, dict[str, Any]]:
        """Sync to completion in this process (``writes``, if given, gets the warehouse writes made)."""
        from reliability_checks.sync_worker import arm
        from tower.runtime import Runtime

        runtime = Runtime(self.settings(run_dir, bulk))
        try:
            count = arm(runtime.warehouse, 0, 0.0)
            out = sync_everything(runtime, self.brand_ids, now=self.now, today=self.today, seed=seed)
            if writes is not None:
                writes.append(count[0])
            return out
        finally:
            runtime.close()

    def figures(self, run_dir: Path, bulk: bool) -> Any:
        """The per-table figures of a run's warehouse."""
        from reliability_checks import fingerprint as fp
        from tower.runtime import Runtime

        runtime = Runtime(self.settings(run_dir, bulk))
        try:
            return fp.warehouse_figures(runtime.warehouse)
        finally:
            runtime.close()

    def _spawn(self, run_dir: Path, bulk: bool, seed: int, kill_at: int = 0,
               kill_delay: float = 0.0) -> subprocess.Popen[str]:
        """The sync in a child process (``sync_worker.py``)."""
        config = {"root": str(run_dir), "overrides": self.overrides(bulk), "brand_ids": self.brand_ids,
                  "now": self.now.isoformat(), "today": self.today.isoformat(), "seed": seed,
                  "kill_at_write": kill_at, "kill_delay": kill_delay}
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")) if p)}
        return subprocess.Popen([sys.executable, str(Path(__file__).with_name("sync_worker.py")),
                                 json.dumps(config, default=str)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def run_killed(self, run_dir: Path, plan: Plan, writes: int) -> dict[str, Any]:
        """Sync in a child process that is SIGKILLed at the plan's write, then finish here."""
        kill_at = 1 + int(plan.kill_fraction * max(1, writes))
        child = self._spawn(run_dir, plan.bulk, plan.seed, kill_at, plan.kill_delay)
        _, err = child.communicate()
        killed = child.returncode == -signal.SIGKILL
        crashed = None if killed or child.returncode == 0 else err.strip().splitlines()[-1:] or ["no output"]
        outcome = self.run_in_process(run_dir, plan.bulk, plan.seed + 1)
        if crashed:
            # the child died of something else than the kill: a finding of its own, whatever the rerun did
            outcome["child"] = {"status": "crashed", "error": f"exit {child.returncode}: {crashed[0][:300]}"}
        return {"killed": killed, "kill_at_write": kill_at, "outcome": outcome}

def _request_counts(platforms: Any, brand_ids: list[str]) -> dict[str, Any]:
    """Requests a clean sync made: Shopify's per shop, the ad sandboxes' per endpoint."""
    counts: dict[str, Any] = {"shopify": max(platforms.shop.shop(b).faults.requests for b in brand_ids)}
    for p in PLATFORMS[1:]:
        counts[p] = dict(platforms.ads.get(p).faults.requests)
    return counts


def run(world: Any, *, runs: int, seed: int, kill_share: float = 0.3, log: Any = None) -> dict[str, Any]:
    """R1's figures over ``runs`` seeded runs."""
    from reliability_checks import fingerprint as fp
    from reliability_checks.proxy import StallingRelay
    from reliability_checks.world import connect_everything, local_settings, start_platforms
    from tower.runtime import Runtime

    say = log or (lambda msg: None)
    platforms = start_platforms(world)
    # several batches per Google Ads stream, so a stream can break after its first one
    platforms.ads.google_ads.batch_size = 50
    relay = StallingRelay(platforms.shop.origin)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="tower-r1-") as tmp:
            root = Path(tmp)
            now = datetime.now(UTC)
            today = world.params.end_date + timedelta(days=1)
            template = root / "template"
            rt = Runtime(local_settings(template, platforms))
            try:
                brand_ids = connect_everything(rt, platforms, now)
            finally:
                rt.close()
            h = Harness(platforms, relay, root, template, brand_ids, now, today)

            refs: dict[bool, Any] = {}
            counts: dict[bool, dict[str, Any]] = {}
            writes: dict[bool, int] = {}
            for bulk in (False, True):
                h.clear_faults()
                for p in PLATFORMS[1:]:
                    platforms.ads.get(p).faults.requests.clear()
                run_dir = h.fresh(f"reference-{'bulk' if bulk else 'paged'}")
                made: list[int] = []
                outcome = h.run_in_process(run_dir, bulk, 0, made)
                writes[bulk] = made[0]
                not_ok = {k: v for k, v in outcome.items() if v["status"] != "ok"}
                if not_ok:
                    raise RuntimeError(f"a fault-free sync did not finish: {not_ok}")
                counts[bulk] = _request_counts(platforms, brand_ids)
                refs[bulk] = h.figures(run_dir, bulk)
                shutil.rmtree(run_dir, ignore_errors=True)
            modes_agree = fp.compare(refs[False], refs[True]).equal
            say(f"R1: references built ({'paged = bulk' if modes_agree else 'paged != bulk'}), "
                f"a clean sync makes {writes[False]} warehouse writes paged, {writes[True]} bulk")

            lost = extra = duplicated = unequal = incomplete = kills = served = 0
            by_category: dict[str, int] = {}
            failures: list[str] = []
            for i in range(runs):
                run_seed = seed * 10_000 + i
                plan = draw_plan(run_seed, counts[False], kill_share=kill_share, force_kill=(i == 0))
                for c in plan.categories:
                    by_category[c] = by_category.get(c, 0) + 1
                run_dir = h.fresh(f"run-{i}")
                h.apply(plan)
                if plan.kill:
                    result = h.run_killed(run_dir, plan, writes[plan.bulk])
                    kills += int(result["killed"])
                    outcome = result["outcome"]
                else:
                    outcome = h.run_in_process(run_dir, plan.bulk, plan.seed)
                served += h.served()
                h.clear_faults()
                not_ok = {k: v for k, v in outcome.items() if v["status"] != "ok"}
                cmp = fp.compare(refs[plan.bulk], h.figures(run_dir, plan.bulk))
                lost += cmp.lost
                extra += cmp.extra
                duplicated += cmp.duplicated
                if not_ok:
                    incomplete += 1
                if not cmp.equal or not_ok:
                    unequal += 1
                    if len(failures) < 10:
                        failures.append(f"seed {run_seed} ({'+'.join(plan.categories)}"
                                        f"{', bulk' if plan.bulk else ''}): tables {cmp.unequal}"
                                        f"{f', not finished {not_ok}' if not_ok else ''}")
                shutil.rmtree(run_dir, ignore_errors=True)
                if (i + 1) % 25 == 0:
                    say(f"R1: {i + 1}/{runs} runs, {unequal} unequal, {time.monotonic() - started:.0f} s")
    finally:
        relay.stop()
        platforms.stop()
    return {
        "r1_runs": runs,
        "r1_lost": lost,
        "r1_duplicated": duplicated,
        "r1_extra": extra,
        "r1_unequal_runs": unequal,
        "r1_incomplete_runs": incomplete,
        "r1_kills": kills,
        "r1_faults_by_category": dict(sorted(by_category.items())),
        "r1_faults_served": served,
        "r1_paged_equals_bulk": modes_agree,
        "r1_seconds": round(time.monotonic() - started, 1),
        "r1_details": failures,
    }
