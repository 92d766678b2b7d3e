"""Warehouse contract: one suite, run on DuckDB and on the BigQuery adapter.

Proven how: ``DuckDBWarehouse`` directly. ``BigQueryWarehouse`` through the real
google-cloud-bigquery client (``client_options.api_endpoint`` + ``AnonymousCredentials``) against a
local fake of the BigQuery REST endpoints it calls (tests/contract/fake_bigquery.py: datasets,
tables get/delete, jobs insert/get/getQueryResults, multipart and resumable uploads of the Parquet
load), which executes the received BigQuery SQL on DuckDB through ``tower.sql.to_duckdb`` — so the
same data assertions hold, and request-level tests pin what the adapter sends (typed parameters,
default dataset, load configuration, the dedupe + MERGE script, the window transaction). BigQuery's
own SQL acceptance is approximated by parsing every statement with sqlglot's BigQuery dialect;
bqemulator is not used (APIS.md: it fails on several constructs).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from fake_bigquery import FakeBigQuery

from tower import sql as sqlfiles
from tower.ports import PortError, Warehouse

PROJECT, DATASET = "tower-test", "tower"
AD_KEYS = ["brand_id", "platform", "account_id", "campaign_id", "stat_date", "country_code", "region_code"]


@pytest.fixture(scope="module")
def bq_module() -> Iterator[tuple[FakeBigQuery, Any]]:
    """One fake and one initialised BigQuery warehouse per module (the schema takes ~40 requests)."""
    from tower.adapters.bigquery_warehouse import BigQueryWarehouse

    fake = FakeBigQuery(PROJECT).start()
    w = BigQueryWarehouse(PROJECT, DATASET, client=fake.client())
    w.init_schema()
    yield fake, w
    w.close()
    fake.stop()


@pytest.fixture
def fake_bq(bq_module: tuple[FakeBigQuery, Any]) -> FakeBigQuery:
    """The module's fake, emptied: every table truncated, leftovers dropped, no requests recorded."""
    fake = bq_module[0]
    fake.reset(keep_tables=sqlfiles.table_names())
    return fake


@pytest.fixture
def bq(bq_module: tuple[FakeBigQuery, Any], fake_bq: FakeBigQuery) -> Any:
    return bq_module[1]


@pytest.fixture(params=["duckdb", "bigquery"])
def wh(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "bigquery":
        yield request.getfixturevalue("bq")
        return
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse

    w = DuckDBWarehouse(":memory:")
    w.init_schema()
    yield w
    w.close()


def ad_row(day: int, region: str = "US-TX", brand: str = "b1", spend: str = "10.50", **kw: Any) -> dict[str, Any]:
    row = {
        "brand_id": brand, "platform": "meta", "account_id": "act_1", "campaign_id": "c1",
        "campaign_name": "Spring", "stat_date": date(2026, 11, day), "country_code": "US",
        "region_code": region, "region_name": "Texas", "spend_amount": Decimal(spend), "impressions": 1000,
        "clicks": 30, "purchases": 2.5, "purchase_value_amount": Decimal("99.999999999"), "currency": "USD",
        "synced_at": datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC),
    }
    row.update(kw)
    return row


def test_is_a_warehouse(wh: Any) -> None:
    assert isinstance(wh, Warehouse)


def test_init_schema_creates_every_ddl_table_and_is_idempotent(wh: Any) -> None:
    names = wh.init_schema()
    assert names == sqlfiles.table_names()
    assert all(wh.table_exists(t) for t in names)
    assert not wh.table_exists("no_such_table")


def test_merge_inserts_then_updates_on_the_natural_keys(wh: Any) -> None:
    assert wh.merge("ad_performance", [ad_row(1), ad_row(2)], AD_KEYS) == 2
    assert wh.merge("ad_performance", [ad_row(2, spend="20.25", campaign_name="Renamed"), ad_row(3)], AD_KEYS) == 2
    got = wh.rows("SELECT stat_date, spend_amount, campaign_name FROM ad_performance ORDER BY stat_date")
    assert got == [
        {"stat_date": date(2026, 11, 1), "spend_amount": Decimal("10.50"), "campaign_name": "Spring"},
        {"stat_date": date(2026, 11, 2), "spend_amount": Decimal("20.25"), "campaign_name": "Renamed"},
        {"stat_date": date(2026, 11, 3), "spend_amount": Decimal("10.50"), "campaign_name": "Spring"},
    ]


def test_merge_keeps_the_last_row_of_a_key_within_one_batch(wh: Any) -> None:
    wh.merge("ad_performance", [ad_row(1, spend="1"), ad_row(1, spend="2"), ad_row(1, spend="3")], AD_KEYS)
    assert wh.rows("SELECT spend_amount FROM ad_performance") == [{"spend_amount": Decimal(3)}]


def test_merge_of_an_arrow_table_round_trips_every_column_type(wh: Any) -> None:
    rows = pa.Table.from_pylist([ad_row(1), ad_row(2, region="US-CA", purchases=None, impressions=None)])
    wh.merge("ad_performance", rows, AD_KEYS)
    out = wh.query(
        "SELECT stat_date, spend_amount, impressions, purchases, synced_at, region_code FROM ad_performance "
        "ORDER BY stat_date"
    )
    types = {f.name: f.type for f in out.schema}
    assert pa.types.is_date(types["stat_date"])
    assert types["spend_amount"] == pa.decimal128(38, 9)
    assert types["impressions"] == pa.int64() and types["purchases"] == pa.float64()
    assert pa.types.is_timestamp(types["synced_at"]) and types["synced_at"].tz in ("UTC", "+00:00")
    first, second = out.to_pylist()
    assert first["synced_at"] == datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)
    assert first["purchases"] == 2.5 and first["impressions"] == 1000
    assert second["purchases"] is None and second["impressions"] is None
    wh.merge("products", [{"brand_id": "b1", "product_id": "p1", "is_active": False}], ["brand_id", "product_id"])
    assert wh.rows("SELECT is_active FROM products") == [{"is_active": False}]


def test_merge_of_some_columns_keeps_the_others_and_of_every_column_replaces_the_row(wh: Any) -> None:
    # Rows with every column may load as delete + insert; rows with some columns must update in place.
    wh.merge("ad_performance", [ad_row(1), ad_row(2)], AD_KEYS)
    partial = {k: v for k, v in ad_row(1).items() if k in (*AD_KEYS, "spend_amount", "currency")}
    wh.merge("ad_performance", [{**partial, "spend_amount": Decimal(7)}], AD_KEYS)
    wh.merge("ad_performance", [ad_row(2, campaign_name=None, clicks=None), ad_row(2, campaign_name="Last")], AD_KEYS)
    got = wh.rows("SELECT stat_date, spend_amount, campaign_name, clicks FROM ad_performance ORDER BY stat_date")
    assert got == [
        {"stat_date": date(2026, 11, 1), "spend_amount": Decimal(7), "campaign_name": "Spring", "clicks": 30},
        {"stat_date": date(2026, 11, 2), "spend_amount": Decimal("10.50"), "campaign_name": "Last", "clicks": 30},
    ]


def test_merge_refuses_unknown_columns_and_missing_keys(wh: Any) -> None:
    with pytest.raises(PortError, match="unknown columns"):
        wh.merge("ad_performance", [{**ad_row(1), "email": "x@example.com"}], AD_KEYS)
    with pytest.raises(PortError, match="platform"):  # the error names the missing key column
        wh.merge("ad_performance", [{"brand_id": "b1", "spend_amount": Decimal(1)}], AD_KEYS)
    assert wh.rows("SELECT count(*) AS n FROM ad_performance") == [{"n": 0}]


def test_merge_of_nothing_is_zero(wh: Any) -> None:
    assert wh.merge("ad_performance", [], AD_KEYS) == 0


@pytest.mark.parametrize(
    ("where", "params", "expected_days"),
    [
        ("brand_id = @brand", {"brand": "b1"}, [1, 2, 3]),
        ("impressions > @n", {"n": 1000}, [2]),
        ("purchases >= @p", {"p": 3.0}, [2]),
        ("spend_amount = @s", {"s": Decimal("10.50")}, [1, 3]),
        ("stat_date >= @d", {"d": date(2026, 11, 2)}, [2, 3]),
        ("synced_at < @t", {"t": datetime(2026, 11, 22, 9, 0, tzinfo=UTC)}, [1, 3]),
        ("(region_code = 'US-CA') = @flag", {"flag": True}, [3]),
        ("region_code IN UNNEST(@regions)", {"regions": ["US-CA", "US-NY"]}, [2, 3]),
        ("impressions IN UNNEST(@ns)", {"ns": [1000]}, [1, 3]),
        ("brand_id = @brand AND stat_date < @end", {"brand": "b1", "end": date(2026, 11, 3), "unused": 1}, [1, 2]),
    ],
)
def test_query_binds_typed_named_parameters(
    wh: Any, where: str, params: dict[str, Any], expected_days: list[int]
) -> None:
    wh.merge("ad_performance", [
        ad_row(1),
        ad_row(2, region="US-NY", impressions=5000, purchases=3.5, spend="7",
               synced_at=datetime(2026, 11, 22, 10, 0, tzinfo=UTC)),
        ad_row(3, region="US-CA"),
    ], AD_KEYS)
    got = wh.rows(f"SELECT EXTRACT(DAY FROM stat_date) AS d FROM ad_performance WHERE {where} ORDER BY d", params)
    assert [r["d"] for r in got] == expected_days


def test_replace_window_replaces_exactly_the_half_open_window_of_one_brand(wh: Any) -> None:
    wh.merge("ad_performance", [ad_row(d) for d in (1, 2, 3, 4)] + [ad_row(2, brand="b2")], AD_KEYS)
    n = wh.replace_window(
        "ad_performance", [ad_row(2, spend="50"), ad_row(3, spend="60", region="US-CA")],
        date_column="stat_date", start=date(2026, 11, 2), end=date(2026, 11, 4), where={"brand_id": "b1"},
    )
    assert n == 2
    got = wh.rows(
        "SELECT brand_id, EXTRACT(DAY FROM stat_date) AS d, region_code, spend_amount FROM ad_performance "
        "ORDER BY brand_id, d"
    )
    assert [(r["brand_id"], r["d"], r["region_code"], r["spend_amount"]) for r in got] == [
        ("b1", 1, "US-TX", Decimal("10.50")),  # before the window: kept
        ("b1", 2, "US-TX", Decimal(50)),
        ("b1", 3, "US-CA", Decimal(60)),  # day 3's old US-TX row went with the window
        ("b1", 4, "US-TX", Decimal("10.50")),  # end is exclusive: kept
        ("b2", 2, "US-TX", Decimal("10.50")),  # another brand: kept
    ]
    assert wh.replace_window("ad_performance", [], date_column="stat_date", start=date(2026, 11, 1),
                             end=date(2026, 11, 30), where={"brand_id": "b2"}) == 0
    assert wh.rows("SELECT count(*) AS n FROM ad_performance WHERE brand_id = 'b2'") == [{"n": 0}]


def test_insert_appends_rows(wh: Any) -> None:
    assert wh.insert("ad_performance", [ad_row(1), ad_row(1)]) == 2
    assert wh.rows("SELECT count(*) AS n FROM ad_performance") == [{"n": 2}]


def test_bad_sql_is_a_port_error(wh: Any) -> None:
    with pytest.raises(PortError):
        wh.query("SELECT no_such_column FROM ad_performance")
    with pytest.raises(PortError):
        wh.query("SELECT * FROM no_such_table")


# --- BigQuery: what goes over the wire ---------------------------------------------------------------


def test_bigquery_query_sends_typed_parameters_and_the_default_dataset(bq: Any, fake_bq: FakeBigQuery) -> None:
    params = {
        "s": "b1", "i": 7, "f": 1.5, "n": Decimal("12.345"), "d": date(2026, 11, 22),
        "t": datetime(2026, 11, 22, 9, 30, tzinfo=UTC), "naive": datetime(2026, 11, 22, 9, 30), "b": True,
        "ids": ["a", "b"], "nums": [1, 2], "none": None, "not_in_sql": "x",
    }
    sql = "SELECT " + ", ".join(f"@{k} AS {k}_" for k in params if k != "not_in_sql")
    row = bq.rows(sql, params)[0]
    assert row["s_"] == "b1" and row["d_"] == date(2026, 11, 22) and row["ids_"] == ["a", "b"]
    assert row["naive_"] == datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    [job] = fake_bq.query_jobs()
    assert job["useLegacySql"] is False and job["parameterMode"] == "NAMED"
    assert job["defaultDataset"] == {"projectId": PROJECT, "datasetId": DATASET}
    types = {p["name"]: p["parameterType"] for p in job["queryParameters"]}
    assert types == {
        "s": {"type": "STRING"}, "i": {"type": "INT64"}, "f": {"type": "FLOAT64"}, "n": {"type": "NUMERIC"},
        "d": {"type": "DATE"}, "t": {"type": "TIMESTAMP"}, "naive": {"type": "TIMESTAMP"}, "b": {"type": "BOOL"},
        "ids": {"type": "ARRAY", "arrayType": {"type": "STRING"}},
        "nums": {"type": "ARRAY", "arrayType": {"type": "INT64"}}, "none": {"type": "STRING"},
    }  # "not_in_sql" is not sent: BigQuery rejects parameters a query does not use


def test_bigquery_merge_loads_parquet_to_staging_then_merges_in_one_script_and_drops_it(
    bq: Any, fake_bq: FakeBigQuery
) -> None:
    bq.merge("ad_performance", [ad_row(1), ad_row(1, spend="2")], AD_KEYS)
    [(upload, load)] = fake_bq.load_jobs()
    assert upload == "multipart"
    assert load["sourceFormat"] == "PARQUET" and load["writeDisposition"] == "WRITE_TRUNCATE"
    stage = load["destinationTable"]
    assert stage["datasetId"] == DATASET and stage["tableId"].startswith("_stage_ad_performance_")
    fields = {f["name"]: f["type"] for f in load["schema"]["fields"]}
    assert fields["spend_amount"] == "NUMERIC" and fields["stat_date"] == "DATE"
    assert fields["synced_at"] == "TIMESTAMP" and fields["_tower_ord"] == "INT64"
    [script] = [q["query"] for q in fake_bq.query_jobs()]
    assert "QUALIFY ROW_NUMBER() OVER (PARTITION BY brand_id, platform" in script
    assert "MERGE ad_performance T USING _dedup_" in script
    for stmt in sqlfiles.parse_bigquery(script):
        assert stmt is not None
    deletes = fake_bq.calls("DELETE", "/tables/")
    assert [d.path.rsplit("/", 1)[1] for d in deletes] == [stage["tableId"]]
    assert not bq.table_exists(stage["tableId"])
    assert bq.rows("SELECT spend_amount FROM ad_performance") == [{"spend_amount": Decimal(2)}]


def test_bigquery_replace_window_is_one_transaction_script(bq: Any, fake_bq: FakeBigQuery) -> None:
    bq.replace_window("ad_performance", [ad_row(2)], date_column="stat_date", start=date(2026, 11, 2),
                      end=date(2026, 11, 3), where={"brand_id": "b1"})
    [job] = fake_bq.query_jobs()
    statements = [s.strip() for s in job["query"].split(";") if s.strip()]
    assert statements[0] == "BEGIN TRANSACTION" and statements[-1] == "COMMIT TRANSACTION"
    assert statements[1].startswith("DELETE FROM ad_performance WHERE stat_date >= @window_start")
    assert statements[2].startswith("INSERT INTO ad_performance (")
    types = {p["name"]: p["parameterType"]["type"] for p in job["queryParameters"]}
    assert types == {"window_start": "DATE", "window_end": "DATE", "w_brand_id": "STRING"}


def test_bigquery_large_loads_use_the_resumable_upload(bq: Any, fake_bq: FakeBigQuery) -> None:
    rng = random.Random(7)
    # ~6 MB of names Parquet cannot shrink much: above the client's 5 MB multipart limit.
    rows = [ad_row(1 + i % 28, campaign_id=f"c{i}", campaign_name=rng.randbytes(300).hex()) for i in range(10_000)]
    assert bq.merge("ad_performance", rows, AD_KEYS) == 10_000
    assert [u for u, _ in fake_bq.load_jobs()] == ["resumable"]
    assert bq.rows("SELECT count(*) AS n FROM ad_performance") == [{"n": 10_000}]


def test_bigquery_query_results_are_read_page_by_page(bq: Any, fake_bq: FakeBigQuery) -> None:
    n = bq.query("SELECT x FROM UNNEST(GENERATE_ARRAY(1, 12000)) AS x").num_rows
    assert n == 12_000
    pages = [r for r in fake_bq.calls("GET", "/queries/") if r.args.get("maxResults") != "0"]
    assert len(pages) >= 3  # the fake serves 5,000 rows a page


# --- every SQL file is BigQuery SQL --------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(sqlfiles.SQL_DIR.rglob("*.sql")), ids=lambda p: p.stem)
def test_every_sql_file_parses_as_bigquery_and_transpiles_to_duckdb(path: Any) -> None:
    text = path.read_text()
    statements = sqlfiles.parse_bigquery(text)
    assert statements, f"{path} holds no statement"
    assert len(sqlfiles.to_duckdb(text)) == len(statements)


# --- the read path and confined reads (issue 12, fix 1) ---------------------------------------------


def test_read_returns_rows_with_parameters(wh: Warehouse) -> None:
    wh.merge("ad_performance", [ad_row(1), ad_row(2, brand="b2")], AD_KEYS)
    rows = wh.read("SELECT brand_id, COUNT(*) AS n FROM ad_performance WHERE brand_id = @b GROUP BY brand_id",
                   {"b": "b1"}, timeout_s=30)
    assert rows == [{"brand_id": "b1", "n": 1}]


def test_a_confined_read_sees_one_brand_of_the_named_tables(wh: Warehouse) -> None:
    from tower.ports import Confinement

    wh.merge("ad_performance", [ad_row(1), ad_row(2, brand="b2")], AD_KEYS)
    only = Confinement(brand_id="b1", tables=frozenset({"ad_performance"}), timeout_s=30)
    sql = "SELECT brand_id FROM (SELECT * FROM ad_performance WHERE brand_id = @brand_id) AS a"
    assert wh.read_confined(sql, {"brand_id": "b1"}, only) == [{"brand_id": "b1"}]
    with pytest.raises(PortError):  # a table it was not given
        wh.read_confined("SELECT brand_id FROM orders", None, only)


def test_bigquery_confined_read_is_dry_run_first_and_capped(bq: Any, fake_bq: FakeBigQuery) -> None:
    from tower.ports import Confinement

    only = Confinement(brand_id="b1", tables=frozenset({"ad_performance"}), timeout_s=30, max_bytes_billed=12345678)
    bq.read_confined("SELECT brand_id FROM ad_performance WHERE brand_id = @brand_id", {"brand_id": "b1"}, only)
    jobs = [r.body["configuration"] for r in fake_bq.calls("POST", "/jobs")]
    assert jobs[0].get("dryRun") is True and "dryRun" not in jobs[1]
    assert jobs[1]["query"]["maximumBytesBilled"] == "12345678"
    assert int(jobs[1]["jobTimeoutMs"]) == 30000
