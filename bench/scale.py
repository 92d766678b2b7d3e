"""Benchmark: the hourly round at 1,000 brands, and what a deployment costs at 10, 100 and 1,000 brands.

Three parts, one run:

1. **Measured round (the sandbox, the real pipeline).** A few brands of the synthetic world behind the
   sandbox platforms (Shopify, Meta, TikTok, Google Ads, Anthropic), connected and backfilled through the
   local task queue and bus exactly as ``tower demo`` does; then an hour passes, a few new orders arrive
   in each store, and the hourly round runs: ``schedule_syncs`` → one sync task per brand × platform →
   ``tower-sync-completed`` → ``build_models`` → ``tower-models-built`` → ``recommend`` + ``summarize``.
   Every handler of that round is timed (wall and CPU), every warehouse statement is parsed for the
   tables it reads (BigQuery bills each at least 10 MiB), every document read and write is counted, and
   the Claude calls are read back from ``ai_usage``. These are the per-brand figures.
2. **Fan-out at 1,000 brands (the real local task queue and bus).** 1,000 brands × 4 platforms of active
   integrations; the real ``schedule_syncs`` enqueues the round into ``LocalTasks``; worker threads (each
   with its own queue and bus handle on the same SQLite files, as processes would) drain it while the
   handlers publish the next events on ``LocalBus``, as the pipeline's do. The handlers stand in for the
   work (part 1 measured that); what is measured here is the queue and bus: enqueue and handling
   throughput, queue depth over time, and that one brand whose syncs always fail is retried with backoff
   and dead-lettered while the 999 others finish exactly as fast as in a run without it.
3. **Model.** The round on GCP, simulated with main.tf's own sizing (queue rate and concurrency,
   function instance caps, push retries) and part 1's service times plus a per-statement BigQuery
   latency: how long 1,000 brands' round takes, whether anything is throttled into dead letters; and
   the monthly cost for 10, 100 and 1,000 brands (730 hourly rounds) from the measured figures.

Run: ``.venv/bin/python bench/scale.py [--brands 1000] [--sample-brands 2] [--workers 4]``. It prints
a table and ends with one JSON line; ``bench/scale.baseline.json`` holds a recorded run. Prices are
list prices (USD, us multi-region, no free tiers) as of the constants below; change them there.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ROUNDS_PER_MONTH = 730  # hourly

# List prices, USD (no free tier counted).
PRICE = {
    "run_vcpu_s": 0.000024,  # Cloud Run functions (request-based billing), per vCPU-second
    "run_gib_s": 0.0000025,  # per GiB-second
    "run_request": 0.40 / 1e6,
    "bq_tib": 6.25,  # BigQuery on-demand, per TiB billed
    "bq_min_bytes_per_table": 10 * 2**20,  # on-demand bills at least 10 MiB per table a query references
    "bq_storage_gib_month": 0.02,  # active logical storage
    "fs_read": 0.06 / 1e5,  # Firestore (nam5): per document read
    "fs_write": 0.18 / 1e5,
    "fs_delete": 0.02 / 1e5,
    "tasks_op": 0.40 / 1e6,  # Cloud Tasks, per operation
    "pubsub_tib": 40.0,  # Pub/Sub throughput (1 KiB minimum a message, publish and delivery)
}
BQ_LATENCY_S = 1.0  # a BigQuery statement's round trip (job insert, run, results): the service time floor


# --- part 1: the measured round ------------------------------------------------------------------------


@dataclass
class HandlerStats:
    """What one handler did during the measured round."""

    calls: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    statements: int = 0
    table_refs: int = 0
    bytes_billed: float = 0.0
    fs_reads: int = 0
    fs_writes: int = 0
    fs_deletes: int = 0
    errors: int = 0
    first_error: str = ""


class _Meter:
    """Counts warehouse statements and document operations, charged to the handler running now."""

    def __init__(self, row_bytes: dict[str, float]) -> None:
        self.stats: dict[str, HandlerStats] = defaultdict(HandlerStats)
        self.current = threading.local()
        self.row_bytes = row_bytes
        self.brand_rows: dict[str, float] = {}

    def handler(self) -> HandlerStats:
        return self.stats[getattr(self.current, "name", "other")]

    def statement(self, tables: set[str]) -> None:
        st = self.handler()
        st.statements += 1
        st.table_refs += len(tables)
        for t in tables:
            scanned = self.brand_rows.get(t, 0.0) * self.row_bytes.get(t, 64.0)
            st.bytes_billed += max(PRICE["bq_min_bytes_per_table"], scanned)


def _tables_of(sql_text: str, known: set[str]) -> set[str]:
    import sqlglot
    from sqlglot import exp

    try:
        trees = sqlglot.parse(sql_text, read="bigquery")
    except sqlglot.errors.ParseError:
        return {t for t in known if t in sql_text}
    return {t.name for tree in trees if tree is not None for t in tree.find_all(exp.Table) if t.name in known}


class MeteredWarehouse:
    """The warehouse, with each BigQuery statement it would run counted (a load job bills nothing)."""

    def __init__(self, inner: Any, meter: _Meter, known: set[str]) -> None:
        self._inner, self._meter, self._known = inner, meter, known

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _sql(self, sql_text: str) -> None:
        self._meter.statement(_tables_of(sql_text, self._known))

    def query(self, sql_text: str, params: Any = None) -> Any:
        self._sql(sql_text)
        return self._inner.query(sql_text, params)

    def rows(self, sql_text: str, params: Any = None) -> Any:
        self._sql(sql_text)
        return self._inner.rows(sql_text, params)

    def execute(self, sql_text: str, params: Any = None) -> Any:
        self._sql(sql_text)
        return self._inner.execute(sql_text, params)

    def read(self, sql_text: str, params: Any = None, **kw: Any) -> Any:
        self._sql(sql_text)
        return self._inner.read(sql_text, params, **kw)

    def merge(self, table: str, rows: Any, keys: Any) -> Any:
        self._meter.statement({table})  # load to staging (free), then one MERGE reading the target
        return self._inner.merge(table, rows, keys)

    def replace_window(self, table: str, *args: Any, **kw: Any) -> Any:
        self._meter.statement({table})  # DELETE the window, then INSERT it (one script)
        return self._inner.replace_window(table, *args, **kw)


class MeteredStore:
    """The document store, with Firestore's billable operations counted."""

    def __init__(self, inner: Any, meter: _Meter) -> None:
        self._inner, self._meter = inner, meter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get(self, path: str) -> Any:
        self._meter.handler().fs_reads += 1
        return self._inner.get(path)

    def query(self, q: Any) -> Any:
        found = self._inner.query(q)
        self._meter.handler().fs_reads += max(1, len(found))  # an empty query still bills one read
        return found

    def set(self, path: str, data: Any) -> None:
        self._meter.handler().fs_writes += 1
        self._inner.set(path, data)

    def merge(self, path: str, data: Any) -> None:
        self._meter.handler().fs_writes += 1
        self._inner.merge(path, data)

    def create(self, path: str, data: Any) -> Any:
        self._meter.handler().fs_writes += 1
        return self._inner.create(path, data)

    def delete(self, path: str) -> None:
        self._meter.handler().fs_deletes += 1
        self._inner.delete(path)

    def transaction(self, fn: Callable[[Any], Any]) -> Any:
        meter = self._meter

        def counted(txn: Any) -> Any:
            return fn(_MeteredTxn(txn, meter))

        return self._inner.transaction(counted)

    def batch(self) -> Any:
        return _MeteredTxn(self._inner.batch(), self._meter)


class _MeteredTxn:
    """A transaction or a batch, its reads and writes counted."""
    def __init__(self, inner: Any, meter: _Meter) -> None:
        self._inner, self._meter = inner, meter

    def get(self, path: str) -> Any:
        self._meter.handler().fs_reads += 1
        return self._inner.get(path)

    def set(self, path: str, data: Any) -> None:
        self._meter.handler().fs_writes += 1
        self._inner.set(path, data)

    def merge(self, path: str, data: Any) -> None:
        self._meter.handler().fs_writes += 1
        self._inner.merge(path, data)

    def delete(self, path: str) -> None:
        self._meter.handler().fs_deletes += 1
        self._inner.delete(path)

    def commit(self) -> None:
        self._inner.commit()


def _row_bytes() -> dict[str, float]:
    """BigQuery's logical bytes per row of each table, from the schemas Terraform deploys."""
    sizes = {"INTEGER": 8, "INT64": 8, "FLOAT": 8, "FLOAT64": 8, "NUMERIC": 16, "BIGNUMERIC": 32, "BOOLEAN": 1,
             "BOOL": 1, "DATE": 8, "DATETIME": 8, "TIMESTAMP": 8, "TIME": 8, "STRING": 18, "BYTES": 18, "JSON": 64}
    out = {}
    for path in (REPO / "infra" / "modules" / "bigquery" / "schema").glob("*.json"):
        fields = json.loads(path.read_text())
        out[path.stem] = float(sum(sizes.get(f["type"], 16) * (4 if f.get("mode") == "REPEATED" else 1)
                                   for f in fields))
    return out


def _raise_on_errors(meter: _Meter, what: str) -> None:
    failed = {k: v for k, v in meter.stats.items() if v.errors}
    if failed:
        raise RoundFailed(f"{what}: " + "; ".join(f"{k} failed {v.errors} times ({v.first_error})"
                                                    for k, v in sorted(failed.items())))


def _ai_totals(warehouse: Any) -> dict[str, float]:
    row = warehouse.rows(
        "SELECT COUNT(*) AS calls, COALESCE(SUM(input_tokens + cache_creation_input_tokens + cache_read_input_tokens), 0)"
        " AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost_amount), 0) AS cost"
        " FROM ai_usage")[0]
    return {k: float(v) for k, v in row.items()}


@contextmanager
def _sandboxes(world: Any, settings: Any) -> Iterator[tuple[Any, Any, Any]]:
    from tower_dev.sandboxes.ad_sandbox import sandbox_settings, start_world_ad_sandboxes
    from tower_dev.sandboxes.anthropic_messages import AnthropicSandbox
    from tower_dev.sandboxes.shopify_store.server import serve_world

    shop = serve_world(world, host="127.0.0.1", bucket_maximum=10_000, restore_rate=1_000, bulk_polls_to_complete=1)
    ads = start_world_ad_sandboxes(world, host="127.0.0.1")
    claude = AnthropicSandbox()
    url = claude.start()
    try:
        s = sandbox_settings(settings, ads).model_copy(update={
            "shopify_api_origin": shop.origin, "shopify_bulk_poll_seconds": 0.05,
            "anthropic_api_key": "sk-ant-sandbox", "anthropic_base_url": url})
        yield shop, ads, s
    finally:
        claude.stop()
        ads.stop()
        shop.stop()


def _wire_timed(runtime: Any, meter: _Meter) -> None:
    """wiring.wire_local's handlers, each timed and charged to its entry point."""
    from tower.redact import at_edge
    from tower.wiring import of_kind

    def timed(name: str, fn: Callable[..., Any]) -> Callable[[Any], Any]:
        def run(arg: Any) -> Any:
            meter.current.name = name
            st = meter.stats[name]
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(runtime, arg)
            except Exception as e:
                st.errors += 1
                st.first_error = st.first_error or f"{type(e).__name__}: {e}"[:300]
                raise
            finally:
                st.calls += 1
                st.wall_s += time.perf_counter() - wall
                st.cpu_s += time.thread_time() - cpu
                meter.current.name = "other"
        return run

    for entry in of_kind("topic"):
        runtime.bus.subscribe(entry.subscription, entry.target, timed(entry.name, at_edge(entry.handler)))
    for entry in of_kind("queue"):
        runtime.tasks.register(entry.name, timed(entry.name, at_edge(entry.handler)))


class RoundFailed(RuntimeError):
    """A handler of the measured round failed: its figures would describe a broken pipeline."""


def measure_round(sample_brands: int, days: int, orders_per_day: int, new_orders: int,
                  say: Callable[[str], None]) -> dict[str, Any]:
    """Part 1: backfill a few sandbox brands, then run and measure one hourly round.

    Raises:
        RoundFailed: a handler raised during the backfill or the round (each message or task is then
            retried and dead-lettered, and the round's figures would be a broken pipeline's).
    """
    from tower import pipeline, sql
    from tower.config import Settings
    from tower.runtime import Runtime
    from tower_dev.demo import demo_end_date, load_reference_data, register_agency
    from tower_dev.sandboxes.ad_sandbox import connect_world_accounts
    from tower_dev.sandboxes.shopify_store.server import connect_world
    from tower_dev.world import WorldParams, generate_world

    started = time.perf_counter()
    world = generate_world(WorldParams(seed=11, brands=sample_brands, days=days, orders_per_day=orders_per_day,
                                       end_date=demo_end_date()))
    with tempfile.TemporaryDirectory(prefix="tower-scale-") as tmp, _sandboxes(world, Settings()) as (shop, ads, s):
        d = Path(tmp)
        settings = s.model_copy(update={
            "warehouse": f"duckdb:///{d}/warehouse.duckdb", "store": f"local:///{d}/store.sqlite",
            "bus": f"local:///{d}/bus.sqlite", "tasks": f"local:///{d}/tasks.sqlite",
            "secrets": f"local:///{d}/secrets", "data_dir": d / "data"})
        runtime = Runtime(settings)
        meter = _Meter(_row_bytes())
        now = datetime.now(UTC)
        runtime.warehouse.init_schema()
        load_reference_data(runtime, world)
        connect_world(runtime.warehouse, runtime.secrets, world, shop, now)
        register_agency(runtime, world, now)
        connect_world_accounts(runtime, ads, world)
        _wire_timed(runtime, meter)
        say(f"  backfilling {sample_brands} sandbox brands ({days} days, {orders_per_day} orders a day)…")
        pipeline.schedule_syncs(runtime, now)
        backfill = pipeline.run_until_idle(runtime)
        backfill_s = time.perf_counter() - started
        _raise_on_errors(meter, "the backfill")

        # An hour later: a few new orders in every store, then the hourly round, metered.
        for bw in world.brands:
            state = shop.shop(bw.brand["brand_id"]).state
            for _ in range(new_orders):
                state.add_order(at=state.now())
        known = set(sql.table_names())
        per_table = runtime.warehouse.rows(
            " UNION ALL ".join(f"SELECT '{t}' AS t, COUNT(*) AS n FROM {t}" for t in sorted(known)))
        meter.brand_rows = {r["t"]: r["n"] / sample_brands for r in per_table}
        meter.stats.clear()
        ai_before = _ai_totals(runtime.warehouse)
        inner_wh, inner_store = runtime.warehouse, runtime.store
        runtime.__dict__["warehouse"] = MeteredWarehouse(inner_wh, meter, known)
        runtime.__dict__["store"] = MeteredStore(inner_store, meter)
        say("  the hourly round, metered…")
        t = time.perf_counter()
        enqueued = pipeline.schedule_syncs(runtime, now + timedelta(hours=1))
        counts = pipeline.run_until_idle(runtime)
        round_s = time.perf_counter() - t
        runtime.__dict__["warehouse"], runtime.__dict__["store"] = inner_wh, inner_store
        _raise_on_errors(meter, "the hourly round")
        expected = {"build_models", "recommend", "summarize"}
        if missing := sorted(expected - {k for k, v in meter.stats.items() if v.calls}):
            raise RoundFailed(f"the hourly round never ran {', '.join(missing)}")
        ai_after = _ai_totals(runtime.warehouse)
        ai = {k: ai_after[k] - ai_before[k] for k in ai_after}
        storage_bytes = sum(meter.brand_rows.get(t, 0) * meter.row_bytes.get(t, 64.0) for t in known)
        runtime.close()
    return {
        "sample_brands": sample_brands, "days": days, "orders_per_day": orders_per_day, "new_orders": new_orders,
        "backfill": {"seconds": round(backfill_s, 1), **backfill},
        "round": {"seconds": round(round_s, 2), "sync_tasks": len(enqueued), **counts},
        "handlers": {k: vars(v) for k, v in sorted(meter.stats.items())},
        "ai": ai,
        "storage_bytes_per_brand": storage_bytes,
    }


# --- part 2: fan-out through the real local queue and bus -----------------------------------------------


def fan_out(brands: int, workers: int, failing: bool, tmp: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Part 2: one hourly round of ``brands`` × 4 platforms through LocalTasks and LocalBus."""
    from tower import names, pipeline
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse
    from tower.adapters.local_bus import LocalBus
    from tower.adapters.local_tasks import LocalTasks
    from tower.config import Settings
    from tower.runtime import Runtime
    from tower.wiring import of_kind

    platforms = list(names.PLATFORMS)
    bad = "brand-0000" if failing else ""
    run = tmp / ("failing" if failing else "healthy")
    run.mkdir()
    wh = DuckDBWarehouse(":memory:")
    wh.init_schema()
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    ids = [f"brand-{i:04d}" for i in range(brands)]
    wh.insert("integrations", [{"brand_id": b, "platform": p, "account_id": f"{b}-{p}", "status": "active",
                                "secret_ref": names.integration_secret_id(b, p), "connected_at": now,
                                "updated_at": now} for b in ids for p in platforms])
    opened: list[Any] = []

    def queue() -> LocalTasks:
        q = LocalTasks(run / "tasks.sqlite", max_attempts=3, backoff_seconds=0.2)
        opened.append(q)
        return q

    def bus() -> LocalBus:
        b = LocalBus(run / "bus.sqlite", max_attempts=3, backoff_seconds=0.2)
        opened.append(b)
        return b

    runtime = Runtime(Settings())
    runtime.__dict__.update(warehouse=wh, tasks=queue(), bus=bus())
    for entry in of_kind("topic"):
        runtime.bus.declare(entry.subscription, entry.target)
    t0 = time.perf_counter()
    pipeline.schedule_syncs(runtime, now)
    enqueue_s = time.perf_counter() - t0
    done: dict[str, float] = {}
    remaining = {b: 4 * len(platforms) for b in ids}  # per platform: a sync, a build, recommend, summarize
    lock = threading.Lock()
    depth: list[tuple[float, int, int]] = []

    def finished(brand: str) -> None:
        with lock:
            remaining[brand] -= 1
            if remaining[brand] == 0:
                done[brand] = time.perf_counter() - t0

    def worker_handlers(q: LocalTasks, b: LocalBus) -> None:
        def sync(task: Any) -> None:
            brand = task.payload["brand_id"]
            if brand == bad:
                raise RuntimeError("the platform refuses this brand's token")
            b.publish(names.TOPIC_SYNC_COMPLETED, {"brand_id": brand, "platform": task.payload["platform"]})
            finished(brand)

        def build(message: Any) -> None:
            b.publish(names.TOPIC_MODELS_BUILT, {"brand_id": message.data["brand_id"]})
            finished(message.data["brand_id"])

        for entry in of_kind("queue"):
            if entry.name in pipeline.SYNC_TASKS.values():
                q.register(entry.name, sync)
        for entry in of_kind("topic"):
            handler = build if entry.name == "build_models" else (lambda m: finished(m.data["brand_id"]))
            b.subscribe(entry.subscription, entry.target, handler)

    stop = threading.Event()

    def work() -> None:
        q, b = queue(), bus()
        worker_handlers(q, b)
        while not stop.is_set():
            n = q.drain(max_tasks=50) + b.drain(max_messages=50)
            # Done when nothing is left but what other workers hold; retries waiting out their
            # backoff are still pending, so the failing brand is seen through to its dead letters.
            if n == 0 and q.pending() == 0 and b.pending() == 0:
                return
            if n == 0:
                stop.wait(0.05)

    def watch() -> None:
        probe_q, probe_b = queue(), bus()
        while not stop.is_set():
            depth.append((round(time.perf_counter() - t0, 2), probe_q.pending(), probe_b.pending()))
            stop.wait(0.5)

    say(f"  fan-out: {brands} brands x {len(platforms)} platforms{' with one failing brand' if failing else ''}, "
        f"{workers} workers…")
    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    total_s = time.perf_counter() - t0
    dead_tasks = len(runtime.tasks.dead_tasks())
    healthy = sorted(v for k, v in done.items() if k != bad)
    for o in opened:
        o.close()
    wh.close()
    handled = sum(4 * len(platforms) - remaining[b] for b in ids)
    return {
        "brands": brands, "tasks_enqueued": brands * len(platforms), "enqueue_s": round(enqueue_s, 2),
        "enqueue_per_s": round(brands * len(platforms) / enqueue_s, 1), "seconds": round(total_s, 2),
        "handled": handled, "handled_per_s": round(handled / total_s, 1),
        "healthy_brands_done": len(healthy), "healthy_p50_s": round(statistics.median(healthy), 2),
        "healthy_max_s": round(healthy[-1], 2), "failing_brand_dead_tasks": dead_tasks,
        "max_task_depth": max((d[1] for d in depth), default=0), "max_bus_depth": max((d[2] for d in depth), default=0),
        "depth_samples": depth[:: max(1, len(depth) // 12)],
    }


# --- part 3: the model ------------------------------------------------------------------------------------


def terraform_sizing() -> dict[str, Any]:
    """The queues' and functions' sizing, read from main.tf's locals."""
    import hcl2
    from hcl2.utils import SerializationOptions

    opts = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    doc = hcl2.loads((REPO / "main.tf").read_text(), serialization_options=opts)
    loc: dict[str, Any] = {}
    for item in doc["locals"]:
        loc.update(item)
    return {"queues": loc["queues"], "functions": loc["functions"]}


def _gib(memory: str) -> float:
    return float(memory[:-2]) / 1024 if memory.endswith("Mi") else float(memory[:-2])


def service_times(measured: dict[str, Any]) -> dict[str, float]:
    """Seconds a call of each handler takes on GCP: the measured local time plus BigQuery's latency."""
    out = {}
    for name, st in measured["handlers"].items():
        if st["calls"]:
            out[name] = (st["wall_s"] + st["statements"] * BQ_LATENCY_S) / st["calls"]
    return out


def simulate_gcp_round(brands: int, times: dict[str, float], sizing: dict[str, Any]) -> dict[str, Any]:
    """The round on GCP with main.tf's sizing, in simulated time (an event queue; nothing sleeps)."""
    import heapq

    from tower import names, pipeline

    queue_cfg = sizing["queues"][names.QUEUE_SYNC]
    fns = sizing["functions"]
    rate, concurrency = float(queue_cfg["max_dispatches_per_second"]), int(queue_cfg["max_concurrent_dispatches"])
    create_latency = 0.03  # schedule_syncs creates its tasks one after the other
    busy: dict[str, int] = defaultdict(int)
    peak: dict[str, int] = defaultdict(int)
    events: list[tuple[float, int, str, str, int]] = []
    seq = 0
    throttled = dead = 0

    def push(at: float, kind: str, fn: str, attempt: int = 1) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, fn, attempt))

    pending_tasks: list[str] = []
    for i in range(brands):
        for p in names.PLATFORMS:
            pending_tasks.append(pipeline.SYNC_TASKS[p])
    created = [i * create_latency for i in range(len(pending_tasks))]
    next_dispatch, in_flight, task_i, t_end = 0.0, 0, 0, 0.0
    subscribers = {"build_models": ["recommend", "summarize"]}

    wake_at: list[float] = []  # the one pending dispatcher wake-up, if any

    def wake(at: float) -> None:
        if not wake_at or at < wake_at[0]:
            wake_at[:] = [at]
            push(at, "wake", "")

    def dispatch(now: float) -> None:
        nonlocal next_dispatch, in_flight, task_i
        while task_i < len(pending_tasks) and in_flight < concurrency:
            at = max(next_dispatch, created[task_i])
            if at > now:
                wake(at)
                return
            fn = pending_tasks[task_i]
            task_i += 1
            in_flight += 1
            next_dispatch = now + 1.0 / rate
            start(now, fn, task=True)

    def start(now: float, fn: str, task: bool = False, attempt: int = 1) -> None:
        nonlocal throttled, dead, in_flight
        if busy[fn] >= int(fns[fn]["max_instances"]):
            throttled += 1  # every instance busy: 429, retried (a Pub/Sub push counts it as a delivery)
            if attempt >= (int(queue_cfg["max_attempts"]) if task else 15):
                dead += 1
                in_flight -= 1 if task else 0
                return
            push(now + min(600.0, 10.0 * 2 ** (attempt - 1)), "retry" if not task else "taskretry", fn, attempt + 1)
            return
        busy[fn] += 1
        peak[fn] = max(peak[fn], busy[fn])
        push(now + times.get(fn, 1.0), "done_task" if task else "done", fn)

    wake(0.0)
    while events:
        now, _, kind, fn, attempt = heapq.heappop(events)
        t_end = max(t_end, now)
        if kind == "wake":
            if wake_at and wake_at[0] == now:
                wake_at.clear()
            dispatch(now)
        elif kind in ("retry", "taskretry"):
            start(now, fn, task=kind == "taskretry", attempt=attempt)
        else:
            busy[fn] -= 1
            if kind == "done_task":
                in_flight -= 1
                start(now, "build_models")
                dispatch(now)
            for sub in subscribers.get(fn, []):
                start(now, sub)
    return {"brands": brands, "round_s": round(t_end, 1), "inside_the_hour": t_end < 3600,
            "throttled_429": throttled, "dead_lettered": dead, "peak_instances": dict(peak),
            "bq_latency_s": BQ_LATENCY_S}


def per_brand_round(measured: dict[str, Any], sizing: dict[str, Any]) -> dict[str, float]:
    """What one brand's hourly round uses, from the measured sample (function time with BigQuery latency)."""
    fns = sizing["functions"]
    n = measured["sample_brands"]
    per_brand: dict[str, float] = defaultdict(float)
    for name, st in measured["handlers"].items():
        if name not in fns or not st["calls"]:
            continue
        seconds = st["wall_s"] + st["statements"] * BQ_LATENCY_S
        per_brand["requests"] += st["calls"] / n
        per_brand["vcpu_s"] += seconds * float(fns[name]["cpu"]) / n
        per_brand["gib_s"] += seconds * _gib(fns[name]["memory"]) / n
        per_brand["bq_statements"] += st["statements"] / n
        per_brand["bq_bytes"] += st["bytes_billed"] / n
        per_brand["fs_reads"] += st["fs_reads"] / n
        per_brand["fs_writes"] += st["fs_writes"] / n
        per_brand["fs_deletes"] += st["fs_deletes"] / n
    per_brand["tasks"] = measured["round"]["sync_tasks"] / n
    per_brand["messages"] = measured["round"]["messages"] / n
    per_brand["claude_calls"] = measured["ai"]["calls"] / n
    per_brand["claude_tokens"] = (measured["ai"]["input_tokens"] + measured["ai"]["output_tokens"]) / n
    per_brand["ai_usd"] = measured["ai"]["cost"] / n
    return dict(per_brand)


def cost_table(measured: dict[str, Any], sizing: dict[str, Any], brand_counts: list[int]) -> list[dict[str, Any]]:
    """Monthly cost by service for each brand count, from the measured per-brand round."""
    per_brand = per_brand_round(measured, sizing)
    rows = []
    for brands in brand_counts:
        m = ROUNDS_PER_MONTH * brands
        functions = m * (per_brand["requests"] * PRICE["run_request"] + per_brand["vcpu_s"] * PRICE["run_vcpu_s"]
                         + per_brand["gib_s"] * PRICE["run_gib_s"])
        bigquery = m * per_brand["bq_bytes"] / 2**40 * PRICE["bq_tib"] \
            + brands * measured["storage_bytes_per_brand"] / 2**30 * PRICE["bq_storage_gib_month"]
        firestore = m * (per_brand["fs_reads"] * PRICE["fs_read"] + per_brand["fs_writes"] * PRICE["fs_write"]
                         + per_brand["fs_deletes"] * PRICE["fs_delete"])
        plumbing = m * (per_brand["tasks"] * 2 * PRICE["tasks_op"]
                        + per_brand["messages"] * 2 * 1024 / 2**40 * PRICE["pubsub_tib"])
        claude = m * per_brand["ai_usd"]
        rows.append({"brands": brands, "functions": round(functions, 2), "bigquery": round(bigquery, 2),
                     "firestore": round(firestore, 2), "tasks_pubsub": round(plumbing, 2),
                     "claude": round(claude, 2),
                     "total": round(functions + bigquery + firestore + plumbing + claude, 2)})
    return rows


# --- the run ----------------------------------------------------------------------------------------------


@dataclass
class Report:
    measured: dict[str, Any] = field(default_factory=dict)
    fan_out: dict[str, Any] = field(default_factory=dict)
    fan_out_healthy: dict[str, Any] = field(default_factory=dict)
    gcp: dict[str, Any] = field(default_factory=dict)
    costs: list[dict[str, Any]] = field(default_factory=list)
    per_brand: dict[str, float] = field(default_factory=dict)


def print_report(r: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title=f"Measured hourly round, per handler ({r.measured['sample_brands']} sandbox brands)")
    for col in ("handler", "calls", "wall s/call", "CPU s/call", "statements/call", "BQ MiB billed/call",
                "doc reads/call", "doc writes/call"):
        t.add_column(col, justify="right" if col != "handler" else "left")
    for name, st in r.measured["handlers"].items():
        c = max(1, st["calls"])
        t.add_row(name, str(st["calls"]), f"{st['wall_s'] / c:.3f}", f"{st['cpu_s'] / c:.3f}",
                  f"{st['statements'] / c:.1f}", f"{st['bytes_billed'] / c / 2**20:.0f}",
                  f"{st['fs_reads'] / c:.1f}", f"{st['fs_writes'] / c:.1f}")
    console.print(t)
    f, h = r.fan_out, r.fan_out_healthy
    console.print(
        f"Fan-out, {f['brands']} brands: {f['tasks_enqueued']} tasks enqueued at {f['enqueue_per_s']}/s; "
        f"{f['handled']} handler calls at {f['handled_per_s']}/s; the round done in {f['seconds']} s "
        f"(queue depth peak {f['max_task_depth']} tasks, {f['max_bus_depth']} messages). Healthy brands: "
        f"{f['healthy_brands_done']} done, p50 {f['healthy_p50_s']} s, last {f['healthy_max_s']} s with the "
        f"failing brand vs {h['healthy_max_s']} s without it; the failing brand's {f['failing_brand_dead_tasks']} "
        "tasks dead-lettered after their attempts.")
    g = r.gcp
    console.print(
        f"On GCP with main.tf's sizing (BigQuery {g['bq_latency_s']} s a statement): {g['brands']} brands' round "
        f"takes {g['round_s']} s ({'inside' if g['inside_the_hour'] else 'OUTSIDE'} the hour), "
        f"{g['throttled_429']} pushes throttled, {g['dead_lettered']} dead-lettered; peak instances "
        f"{g['peak_instances']}.")
    c = Table(title="Monthly cost, USD (730 hourly rounds, list prices, no free tier)")
    for col in ("brands", "functions", "bigquery", "firestore", "tasks_pubsub", "claude", "total"):
        c.add_column(col, justify="right")
    for row in r.costs:
        c.add_row(*[f"{row[k]:,}" for k in ("brands", "functions", "bigquery", "firestore", "tasks_pubsub",
                                              "claude", "total")])
    console.print(c)
    big = r.costs[-1]
    p = r.per_brand
    shares = ", ".join(f"{k} {100 * big[k] / big['total']:.0f} %" for k in ("bigquery", "claude", "functions"))
    console.print(
        f"At {big['brands']:,} brands: {shares}. A brand's round runs {p['bq_statements']:.0f} BigQuery statements "
        f"({p['bq_bytes'] / 2**30:.1f} GiB billed, mostly the 10 MiB minimum per table read) and "
        f"{p['claude_calls']:.1f} Claude calls ({p['claude_tokens']:,.0f} tokens): every platform's sync "
        "triggers its own build, recommend and summarize.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brands", type=int, default=1000, help="brands in the fan-out and the model")
    parser.add_argument("--sample-brands", type=int, default=2, help="sandbox brands measured for real")
    parser.add_argument("--days", type=int, default=45, help="history of the sample brands")
    parser.add_argument("--orders-per-day", type=int, default=15)
    parser.add_argument("--new-orders", type=int, default=3, help="orders arriving in each store in the hour")
    parser.add_argument("--workers", type=int, default=4, help="threads draining the local queue and bus")
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    started = time.perf_counter()
    report = Report()
    say("part 1: the measured round")
    try:
        report.measured = measure_round(args.sample_brands, args.days, args.orders_per_day, args.new_orders, say)
    except RoundFailed as e:
        print(f"scale: the pipeline failed on the sandbox, so nothing it would cost is worth printing: {e}",
              file=sys.stderr)
        return 2
    say("part 2: fan-out through the local task queue and bus")
    # The failing brand's every attempt logs a warning by design; a thousand of them say nothing here.
    for noisy in ("tower.adapters.local_tasks", "tower.adapters.local_bus"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="tower-fanout-") as tmp:
        report.fan_out_healthy = fan_out(args.brands, args.workers, False, Path(tmp), say)
        report.fan_out = fan_out(args.brands, args.workers, True, Path(tmp), say)
    say("part 3: the model")
    sizing = terraform_sizing()
    report.gcp = simulate_gcp_round(args.brands, service_times(report.measured), sizing)
    report.costs = cost_table(report.measured, sizing, [10, 100, 1000])
    report.per_brand = per_brand_round(report.measured, sizing)
    print_report(report)
    f, h = report.fan_out, report.fan_out_healthy
    by = {row["brands"]: row["total"] for row in report.costs}
    print(json.dumps({
        "bench": "scale", "brands": args.brands, "seconds": round(time.perf_counter() - started, 1),
        "sample_round_s": report.measured["round"]["seconds"],
        "fanout_handled_per_s": f["handled_per_s"], "fanout_round_s": f["seconds"],
        "fanout_max_task_depth": f["max_task_depth"],
        "healthy_last_s_with_failing": f["healthy_max_s"], "healthy_last_s_without": h["healthy_max_s"],
        "failing_dead_tasks": f["failing_brand_dead_tasks"],
        "gcp_round_s": report.gcp["round_s"], "gcp_inside_the_hour": report.gcp["inside_the_hour"],
        "gcp_dead_lettered": report.gcp["dead_lettered"],
        "monthly_usd_10": by[10], "monthly_usd_100": by[100], "monthly_usd_1000": by[1000],
        "cost_1000": report.costs[-1],
        "per_brand_round": {k: round(v, 4) for k, v in report.per_brand.items()},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
