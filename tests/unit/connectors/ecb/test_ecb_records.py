"""The ECB's reference-rate XML read into rates: the published shape, and what is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tower.connectors.ecb.records import FeedError, parse_reference_rates

# The shape of https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml (values of 2024-06-28).
DAILY = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
\t\t<Cube time='2024-06-28'>
\t\t\t<Cube currency='USD' rate='1.0705'/>
\t\t\t<Cube currency='JPY' rate='171.94'/>
\t\t\t<Cube currency='GBP' rate='0.84638'/>
\t\t\t<Cube currency='CAD' rate='1.4670'/>
\t\t</Cube>
\t</Cube>
</gesmes:Envelope>
"""

HISTORY = DAILY.replace(
    b"\t</Cube>\n</gesmes",
    b"\t\t<Cube time='2024-06-27'>\n\t\t\t<Cube currency='USD' rate='1.0696'/>\n\t\t</Cube>\n\t</Cube>\n</gesmes",
)


def test_the_daily_feed_gives_one_rate_per_currency_against_the_euro() -> None:
    rates = parse_reference_rates(DAILY)
    assert [(r.rate_date, r.currency, r.rate) for r in rates] == [
        (date(2024, 6, 28), "USD", Decimal("1.0705")), (date(2024, 6, 28), "JPY", Decimal("171.94")),
        (date(2024, 6, 28), "GBP", Decimal("0.84638")), (date(2024, 6, 28), "CAD", Decimal("1.4670")),
    ]
    assert rates[0].row() == {"rate_date": date(2024, 6, 28), "base_currency": "EUR", "quote_currency": "USD",
                              "rate": 1.0705, "source": "ecb"}


def test_the_history_feed_is_read_oldest_day_first() -> None:
    rates = parse_reference_rates(HISTORY)
    assert [(r.rate_date, r.currency) for r in rates][:2] == [(date(2024, 6, 27), "USD"), (date(2024, 6, 28), "USD")]


@pytest.mark.parametrize(("document", "problem"), [
    (b"<html>not found</html>", "no Cube time"),
    (b"{\"rates\": 1}", "not XML"),
    (DAILY.replace(b"rate='1.0705'", b"rate='n/a'"), "'n/a' is not a number"),
    (DAILY.replace(b"rate='1.0705'", b"rate='-1'"), "not a positive number"),
    (DAILY.replace(b"currency='USD'", b"currency='usd'"), "'usd' is not an ISO 4217 code"),
    (DAILY.replace(b"time='2024-06-28'", b"time='yesterday'"), "'yesterday' is not a date"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "document type"),
])
def test_what_is_not_the_feed_is_refused_by_name(document: bytes, problem: str) -> None:
    with pytest.raises(FeedError, match=problem):
        parse_reference_rates(document)
