"""``Warehouse.load_file``: a local file of lines loaded by the warehouse itself, on both adapters.

DuckDB reads the file where it lies. BigQuery is driven through the real google-cloud-bigquery client
against the local fake (tests/contract/fake_bigquery.py), which here also answers Cloud Storage's
resumable upload and delete and runs CSV load jobs from ``gs://`` URIs: the file goes to the staging
bucket, a load job puts each line in the STRING column ``line`` of a staging table, the script runs
over it, and the table and object go afterwards. The fake runs BigQuery SQL by transpiling it to
DuckDB, so the Shopify bulk script itself (temporary functions, script variables, JSON parsing) is
checked as BigQuery SQL here and run end to end on DuckDB (tests/unit/sync/shopify).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fake_bigquery import FakeBigQuery

from tower import sql as sqlfiles
from tower.connectors.shopify.records import BrandContext
from tower.ports import PortError
from tower.sync.shopify_bulk import block_script

PROJECT, DATASET, BUCKET = "tower-load-test", "tower", "tower-staging"
LINES = [{"day": f"2026-11-0{i}", "base": "EUR", "quote": "USD", "rate": 1 + i / 10} for i in range(1, 5)]
# The same load in each engine's own dialect: the rates, then how many lines there were.
STATEMENTS = {
    "duckdb": [
        ("INSERT INTO fx_rates (rate_date, base_currency, quote_currency, rate, source) "
         "SELECT CAST(day AS DATE), base, quote, rate, $source FROM read_json($path, format = 'newline_delimited', "
         "columns = {'day': 'VARCHAR', 'base': 'VARCHAR', 'quote': 'VARCHAR', 'rate': 'DOUBLE'})"),
        "SELECT count(*) AS n FROM read_json($path, format = 'newline_delimited')",
    ],
    "bigquery": [
        ("INSERT INTO fx_rates (rate_date, base_currency, quote_currency, rate, source) "
         "SELECT CAST(JSON_VALUE(line, '$.day') AS DATE), JSON_VALUE(line, '$.base'), JSON_VALUE(line, '$.quote'), "
         "CAST(JSON_VALUE(line, '$.rate') AS FLOAT64), @source FROM {lines}"),
        "SELECT count(*) AS n FROM {lines}",
    ],
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBigQuery]:
    from tower.adapters.bigquery_warehouse import BigQueryWarehouse

    fake = FakeBigQuery(PROJECT).start()
    w = BigQueryWarehouse(PROJECT, DATASET, client=fake.client())
    w.init_schema()
    yield fake
    fake.stop()


@pytest.fixture(params=["duckdb", "bigquery"])
def wh(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "bigquery":
        from tower.adapters.bigquery_warehouse import BigQueryWarehouse

        fake: FakeBigQuery = request.getfixturevalue("fake")
        fake.reset(keep_tables=sqlfiles.table_names())
        yield BigQueryWarehouse(PROJECT, DATASET, client=fake.client(), staging_bucket=f"gs://{BUCKET}",
                                storage_origin=fake.endpoint)
        return
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse

    w = DuckDBWarehouse(":memory:")
    w.init_schema()
    yield w
    w.close()


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "lines.jsonl"
    # Shopify's bulk files escape "/" and may hold any Unicode: the lines must reach SQL unchanged.
    path.write_text("".join(json.dumps({**x, "note": "a\\/b é \"q\", x"}) + "\n" for x in LINES))
    return path


def test_a_file_of_lines_is_loaded_by_the_warehouse_in_its_own_dialect(wh: Any, tmp_path: Path) -> None:
    rows = wh.load_file(str(_file(tmp_path)), STATEMENTS[wh.engine], {"source": "file"})
    assert rows == [{"n": len(LINES)}]
    got = wh.rows("SELECT rate_date, rate, source FROM fx_rates ORDER BY rate_date")
    assert got == [{"rate_date": date.fromisoformat(x["day"]), "rate": x["rate"], "source": "file"} for x in LINES]


def test_a_failing_statement_loads_nothing(wh: Any, tmp_path: Path) -> None:
    statements = [*STATEMENTS[wh.engine][:1], "SELECT no_such_column FROM fx_rates"]
    with pytest.raises(PortError):
        wh.load_file(str(_file(tmp_path)), statements, {"source": "file"})
    if wh.engine == "duckdb":  # one transaction (BigQuery's script runs the INSERT as its own statement)
        assert wh.rows("SELECT count(*) AS n FROM fx_rates") == [{"n": 0}]


def test_bigquery_stages_the_file_in_cloud_storage_and_loads_its_lines_with_a_load_job(
        fake: FakeBigQuery, tmp_path: Path) -> None:
    from tower.adapters.bigquery_warehouse import LINE_DELIMITER, BigQueryWarehouse

    fake.reset(keep_tables=sqlfiles.table_names())
    wh = BigQueryWarehouse(PROJECT, DATASET, client=fake.client(), staging_bucket=BUCKET, storage_origin=fake.endpoint)
    path = _file(tmp_path)
    wh.load_file(str(path), STATEMENTS["bigquery"], {"source": "file"})
    [upload] = fake.calls("POST", f"/upload/storage/v1/b/{BUCKET}/o")
    assert upload.args["uploadType"] == "resumable" and upload.body["name"].startswith("tower-load/")
    [load_job] = [r.body["configuration"]["load"] for r in fake.calls("POST", "/jobs")
                  if "load" in r.body.get("configuration", {})]
    assert load_job["sourceUris"] == [f"gs://{BUCKET}/{upload.body['name']}"]
    assert load_job["sourceFormat"] == "CSV" and load_job["quote"] == "" and load_job["fieldDelimiter"] == LINE_DELIMITER
    assert load_job["schema"]["fields"] == [{"name": "line", "type": "STRING", "mode": "NULLABLE"}]
    stage = load_job["destinationTable"]["tableId"]
    [script] = [q["query"] for q in fake.query_jobs()]
    assert f"FROM {stage}" in script and "{lines}" not in script
    # Nothing is left behind: the staging table and the object go.
    assert not wh.table_exists(stage) and fake.objects == {}
    assert [d.path for d in fake.calls("DELETE", "/storage/")] == [f"/storage/v1/b/{BUCKET}/o/{upload.body['name']}"]


def test_bigquery_without_a_staging_bucket_says_which_setting_is_missing(fake: FakeBigQuery, tmp_path: Path) -> None:
    from tower.adapters.bigquery_warehouse import BigQueryWarehouse

    wh = BigQueryWarehouse(PROJECT, DATASET, client=fake.client())
    with pytest.raises(PortError, match="TOWER_WAREHOUSE_STAGING_BUCKET"):
        wh.load_file(str(_file(tmp_path)), STATEMENTS["bigquery"], {"source": "file"})


@pytest.mark.parametrize("suppressed", [(set(), False), ({"k1", "k2"}, False), (set(), True)])
@pytest.mark.parametrize("match", [True, False])
def test_the_shopify_bulk_script_for_bigquery_is_bigquery_sql_over_the_staged_lines(suppressed, match) -> None:
    """The statements a bulk block runs on BigQuery: valid BigQuery SQL, reading only the staged lines and
    the warehouse's tables, every parameter they name given, one transaction around the writes."""
    pending = [{"order_id": "gid://shopify/Order/1", "line_item_id": "gid://shopify/LineItem/2", "product_id": None,
                "variant_id": None, "sku": "S", "quantity": 1, "refunded_quantity": 0, "price_amount": "20.0",
                "discount_amount": "0"}]
    statements, params = block_script("bigquery", BrandContext("b", "America/Chicago", "USD", "salt"), suppressed,
                                      pending, match_fulfillment=match)
    script = ";\n".join(s.replace("{lines}", "_lines_x") for s in statements)
    trees = sqlfiles.parse_bigquery(script)
    assert len(trees) == len(statements)
    named = set(re.findall(r"@(\w+)", script))
    assert named == set(params)
    assert statements.index("BEGIN TRANSACTION") < statements.index("COMMIT TRANSACTION") == len(statements) - 2
    writes = [s for s in statements if re.match(r"(INSERT INTO|DELETE FROM) (?!_)", s)]
    assert writes and all(statements.index("BEGIN TRANSACTION") < statements.index(s) for s in writes)
    assert sum("{lines}" in s for s in statements) == 1  # parsed once, into _bulk_raw
    tables = {t for s in writes for t in re.findall(r"(?:INSERT INTO|DELETE FROM) (\w+)", s)}
    assert tables == {"orders", "order_line_items", "fulfillment_orders", "fulfillment_order_line_items"}
