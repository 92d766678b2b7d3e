"""An HTTP load generator cheap enough to measure a server answering thousands of requests a second on
the same small machine: one process of its own, one asyncio event loop, keep-alive connections,
requests encoded once (``bench/api.py`` runs it; :mod:`loadgen` stays R6's in-process generator).

Why a process of its own: a generator in the measuring process shares its interpreter lock with
the bench's threads and counts its own waits as the server's latency. Here each request costs the
generator one ``write`` of bytes built in advance and one header scan of the answer, so at 2,000
answers a second it uses a fraction of a CPU; it reports that fraction (``generator_cpu_share``),
and with ``--cpu`` it is pinned to one CPU so the server's CPUs are measured apart.

Modes, as :mod:`loadgen`'s (the same figures, the same meaning):

* ``closed``: ``--concurrency`` connections each sending its next request when the last answered;
* ``open``: request *i* due at ``start + i / rate`` on a pool of ``--concurrency`` connections,
  latency counted from when it was due (a server that falls behind shows as latency, never as
  requests not made); requests still unsent ``--grace`` seconds after the schedule count as errors.

    python bench/fastload.py --url http://127.0.0.1:8080 --mix mix.json --mode closed --seconds 20

``mix.json`` is a list of ``{"method", "path", "headers", "body"}``; stdout is one JSON object
(``loadgen.Result.summary()``'s keys). An error is any answer but 2xx/304, or none within the timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_S = 10.0


def encode(req: dict[str, Any], host: str) -> tuple[bytes, bool]:
    """One request's bytes (HTTP/1.1, keep-alive) and whether it is a HEAD (its answer has no body)."""
    body = b"" if req.get("body") is None else json.dumps(req["body"]).encode()
    headers = {"Host": host, **(req.get("headers") or {})}
    if body:
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(body))
    head = f"{req['method']} {req['path']} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode("latin-1") + b"\r\n" + body, req["method"] == "HEAD"


class Connection(asyncio.Protocol):
    """One keep-alive connection; :meth:`send` answers the status of the next response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.need: int | None = None
        self.status = 0
        self.head_only = False
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed before the answer"))

    def send(self, data: bytes, head_only: bool) -> asyncio.Future[int]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.head_only = head_only
        self.transport.write(data)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.need is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            self.status = int(head[9:12])
            length = 0
            if not (self.head_only or self.status in (204, 304) or 100 <= self.status < 200):
                at = head.find(b"\r\ncontent-length:")
                if at < 0:  # no length (chunked, or read to close): not what the API sends
                    self._fail(ValueError("answer without Content-Length"))
                    return
                eol = head.find(b"\r\n", at + 2)
                length = int(head[at + 17:eol if eol > 0 else len(head)])
            self.closing = b"\r\nconnection: close" in head
            self.need = end + 4 + length
        if len(self.buf) >= self.need:
            del self.buf[:self.need]
            self.need = None
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(self.status)

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.close()


class Client:
    """A connection that reopens after a failure or a ``Connection: close``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: Connection | None = None

    async def send(self, data: bytes, head_only: bool) -> str | None:
        """None on a 2xx/304, else what went wrong."""
        try:
            if self.conn is None or self.conn.transport is None:
                _, self.conn = await asyncio.get_running_loop().create_connection(Connection, self.host, self.port)
            status = await asyncio.wait_for(self.conn.send(data, head_only), TIMEOUT_S)
            if self.conn.closing:
                self.close()
        except (TimeoutError, OSError, ValueError) as e:
            self.close()
            return type(e).__name__
        return None if 200 <= status < 300 or status == 304 else str(status)

    def close(self) -> None:
        if self.conn is not None and self.conn.transport is not None:
            self.conn.transport.close()
        self.conn = None


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.lateness: list[float] = []
        self.errors: dict[str, int] = {}

    def add(self, latency: float, late: float, outcome: str | None) -> None:
        self.latencies.append(latency)
        self.lateness.append(late)
        if outcome:
            self.errors[outcome] = self.errors.get(outcome, 0) + 1


def pct_ms(values: list[float], p: float) -> float:
    """The ``p`` quantile (nearest rank) in milliseconds, as :mod:`loadgen` computes it."""
    xs = sorted(values)
    if not xs:
        return 0.0
    return round(1000 * xs[min(len(xs) - 1, max(0, math.ceil(p * len(xs)) - 1))], 2)


async def closed(url: str, reqs: list[tuple[bytes, bool]], *, concurrency: int, seconds: float, warmup: int,
                 tally: Tally) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    async def worker(k: int) -> None:
        client = Client(host, port)
        for i in range(warmup):
            await client.send(*reqs[(k + i) % len(reqs)])
        i = k
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            data, head_only = reqs[i % len(reqs)]
            i += 1
            sent = time.perf_counter()
            outcome = await client.send(data, head_only)
            tally.add(time.perf_counter() - sent, 0.0, outcome)
        client.close()

    await asyncio.gather(*(worker(k) for k in range(concurrency)))


async def open_loop(url: str, reqs: list[tuple[bytes, bool]], *, rate: float, seconds: float, concurrency: int,
                    grace: float, tally: Tally) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    idle: asyncio.Queue[Client] = asyncio.Queue()
    for _ in range(concurrency):
        idle.put_nowait(Client(host, port))
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    give_up = start + seconds + grace

    async def one(i: int, due: float) -> None:
        client = await idle.get()
        try:
            if time.perf_counter() > give_up:
                tally.errors["not sent: server behind"] = tally.errors.get("not sent: server behind", 0) + 1
                return
            sent = time.perf_counter()
            outcome = await client.send(*reqs[i % len(reqs)])
            tally.add(time.perf_counter() - due, max(0.0, sent - due), outcome)
        finally:
            idle.put_nowait(client)

    tasks = []
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    host = urlsplit(args.url).netloc
    reqs = [encode(r, host) for r in json.loads(Path(args.mix).read_text())]
    tally = Tally()
    cpu0, t0 = time.process_time(), time.monotonic()
    if args.mode == "closed":
        asyncio.run(closed(args.url, reqs, concurrency=args.concurrency, seconds=args.seconds, warmup=args.warmup,
                           tally=tally))
    else:
        asyncio.run(open_loop(args.url, reqs, rate=args.rate, seconds=args.seconds, concurrency=args.concurrency,
                              grace=args.grace, tally=tally))
    elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
    n = len(tally.latencies)
    return {"requests": n, "errors": sum(tally.errors.values()), "error_kinds": tally.errors,
            "seconds": round(elapsed, 2), "achieved_rps": round(n / elapsed, 1) if elapsed > 0 else 0.0,
            "p50_ms": pct_ms(tally.latencies, 0.50), "p95_ms": pct_ms(tally.latencies, 0.95),
            "p99_ms": pct_ms(tally.latencies, 0.99), "max_ms": pct_ms(tally.latencies, 1.0),
            "send_lag_p99_ms": pct_ms(tally.lateness, 0.99),
            "generator_cpu_share": round(cpu / elapsed, 2) if elapsed > 0 else 0.0,
            "generator_cpu": args.cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--mix", required=True, help="a JSON file: the requests, sent in turn")
    parser.add_argument("--mode", choices=("closed", "open"), default="closed")
    parser.add_argument("--concurrency", type=int, default=20, help="connections")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=int, default=2, help="closed: requests per connection before measuring")
    parser.add_argument("--rate", type=float, default=200.0, help="open: requests a second")
    parser.add_argument("--grace", type=float, default=15.0, help="open: seconds past the schedule to send late ones")
    parser.add_argument("--cpu", type=int, default=None, help="pin the generator to this CPU")
    print(json.dumps(run(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
