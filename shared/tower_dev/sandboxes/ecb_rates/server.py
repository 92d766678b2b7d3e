"""The ECB's euro foreign exchange reference rates, served on 127.0.0.1 in the ECB's own XML.

What it speaks, as ``www.ecb.europa.eu`` does:

* ``GET /stats/eurofxref/eurofxref-daily.xml``: the latest working day on or before the sandbox's
  ``today``; ``GET /stats/eurofxref/eurofxref-hist-90d.xml``: every working day of the 90 days up
  to it, newest first. Both are a ``gesmes:Envelope`` whose ``Cube time='…'`` elements hold one
  ``Cube currency='…' rate='…'`` per currency (1 EUR = rate units), rates to five significant
  digits as the ECB publishes them, and no rate for the euro itself.
* Only TARGET working days carry rates: no weekends, New Year's Day, Good Friday, Easter Monday,
  1 May, 25 and 26 December.
* Faults on demand (:class:`~tower_dev.sandboxes.ad_sandbox.FaultPlan` kinds): ``server_error``
  (HTTP 503), ``drop`` (connection closed), ``not_found`` (HTTP 404).

:func:`world_rates` makes the days from the synthetic world's own currency paths, so converted spend
agrees with the world's rates to the ECB's rounding.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

from tower.connectors.ecb.client import DAILY_PATH, HISTORY_90D_PATH
from tower.connectors.ecb.records import NAMESPACE
from tower_dev.sandboxes.ad_sandbox import FaultPlan, HttpServerThread, drop_connection
from tower_dev.world.fx import USD_LEVELS, usd_paths

HISTORY_DAYS = 90
Days = dict[date, dict[str, Decimal]]


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian computus of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def is_target_working_day(day: date) -> bool:
    """Whether the ECB publishes reference rates on this day."""
    if day.weekday() >= 5:
        return False
    easter = easter_sunday(day.year)
    closed = {date(day.year, 1, 1), easter - timedelta(days=2), easter + timedelta(days=1),
              date(day.year, 5, 1), date(day.year, 12, 25), date(day.year, 12, 26)}
    return day not in closed


def published(rate: float) -> Decimal:
    """A rate as the ECB prints it: five significant digits."""
    return Decimal(f"{rate:.5g}")


def world_rates(seed: int, currencies: Iterable[str], first: date, last: date) -> Days:
    """Reference rates on every working day of ``[first, last]`` from the world's currency paths.

    The world walks each currency against the US dollar (:func:`tower_dev.world.fx.usd_paths`, a
    path depending only on the seed and the currency); 1 EUR in X is then X per USD ÷ EUR per USD.
    """
    wanted = sorted({c for c in currencies if c != "EUR"} & set(USD_LEVELS))
    n_days = (last - first).days + 1
    paths = usd_paths(seed, [*wanted, "EUR"], first, n_days)
    days: Days = {}
    for i in range(n_days):
        day = first + timedelta(days=i)
        if is_target_working_day(day):
            days[day] = {c: published(float(paths[c][i] / paths["EUR"][i])) for c in wanted}
    return days


def render(days: Days) -> bytes:
    """A feed in the ECB's format, newest day first."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="{NAMESPACE}">',
        "\t<gesmes:subject>Reference rates</gesmes:subject>",
        "\t<gesmes:Sender>",
        "\t\t<gesmes:name>European Central Bank</gesmes:name>",
        "\t</gesmes:Sender>",
        "\t<Cube>",
    ]
    for day in sorted(days, reverse=True):
        lines.append(f"\t\t<Cube time='{day.isoformat()}'>")
        lines += [f"\t\t\t<Cube currency='{cur}' rate='{rate}'/>" for cur, rate in days[day].items()]
        lines.append("\t\t</Cube>")
    lines += ["\t</Cube>", "</gesmes:Envelope>", ""]
    return "\n".join(lines).encode()


class EcbSandbox:
    """The two feeds over ``days`` (see the module docstring); ``today`` moves the feeds' end."""

    def __init__(self, days: Days, *, today: date | None = None, host: str = "127.0.0.1") -> None:
        if not days:
            raise ValueError("the ECB sandbox needs at least one day of rates")
        self.days = dict(days)
        self.today = today or max(days)
        self.faults = FaultPlan()
        self.requests: list[str] = []  # paths asked for, in order
        self._server = HttpServerThread(self._wsgi, host)

    @classmethod
    def for_world(cls, world: Any, *, host: str = "127.0.0.1") -> EcbSandbox:
        """Rates for the world's store and ad-account currencies over its whole history."""
        params = world.params
        currencies = {bw.brand["currency"] for bw in world.brands}
        for bw in world.brands:
            currencies |= set(bw.tables["ad_performance"].column("currency").to_pylist())
        first = params.start_date - timedelta(days=14)  # the models look up to a week back for a rate
        return cls(world_rates(params.seed, currencies, first, params.end_date), today=params.end_date, host=host)

    @property
    def origin(self) -> str:
        """The origin to give the connector (``TOWER_ECB_ORIGIN``)."""
        return self._server.origin

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def feed_days(self, path: str) -> Days:
        """The days a feed serves now."""
        served = {d: r for d, r in self.days.items() if d <= self.today}
        if path == DAILY_PATH:
            latest = max(served, default=None)
            return {latest: served[latest]} if latest else {}
        first = self.today - timedelta(days=HISTORY_DAYS)
        return {d: r for d, r in served.items() if d > first}

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(request.path)
        fault = self.faults.draw(request.path)
        if fault == "drop":
            return drop_connection(environ, start_response)
        if fault == "server_error":
            return Response("Service Unavailable", status=503)(environ, start_response)
        if request.method != "GET" or request.path not in (DAILY_PATH, HISTORY_90D_PATH) or fault == "not_found":
            return Response("Not Found", status=404)(environ, start_response)
        body = render(self.feed_days(request.path))
        return Response(body, status=200, content_type="text/xml")(environ, start_response)
