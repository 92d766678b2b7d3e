"""The warehouse on BigQuery (google-cloud-bigquery), imported only when ``TOWER_WAREHOUSE=bigquery://``.

Same interface as :class:`~tower.adapters.duckdb_warehouse.DuckDBWarehouse`; the SQL is the same
BigQuery-dialect text, run as is with the dataset as default dataset and typed ``@named`` query
parameters inferred from the Python values.

Loads are columnar: rows become one Arrow table, cast to the target table's column types, written
as Parquet and sent in one load job (multipart upload when small, resumable when large) into a
staging table; a single multi-statement query then dedupes the batch (last row per key wins, like
the DuckDB adapter) and MERGEs it, and the staging table is dropped. ``replace_window`` is one
multi-statement transaction (DELETE the window, INSERT from staging), so readers never see the
window half replaced.
"""

from __future__ import annotations

import concurrent.futures
import io
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from tower import sql as sqlfiles
from tower.adapters.warehouse_common import as_arrow, dedupe_sql, ident, merge_sql, window_delete_sql
from tower.ports import Confinement, PortError, QueryTimeout

STORAGE_ORIGIN = "https://storage.googleapis.com"
#: A file loaded as lines: each line, whole, is the one CSV field. JSON escapes every control
#: character inside its strings, so this one never occurs in a line of JSON; quoting is off.
LINE_DELIMITER = "\x1f"
_UPLOAD_CHUNK = 16 * 1024 * 1024  # a multiple of 256 KiB, as Cloud Storage's resumable uploads require
ORDER_COLUMN = "_tower_ord"  # position of a row in its batch, so the last duplicate wins
# Decimal values beyond NUMERIC's range or scale travel as BIGNUMERIC.
_NUMERIC_MAX = Decimal("99999999999999999999999999999.999999999")

# BigQuery column type (standard and legacy spellings) -> the Arrow type loads are cast to.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "INTEGER": pa.int64(),
    "FLOAT64": pa.float64(),
    "FLOAT": pa.float64(),
    "NUMERIC": pa.decimal128(38, 9),
    "BIGNUMERIC": pa.decimal256(76, 38),
    "BOOL": pa.bool_(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATETIME": pa.timestamp("us"),
    "BYTES": pa.binary(),
    "JSON": pa.string(),
}


def _scalar_type(value: Any, name: str) -> str:
    # bool before int (bool is an int) and datetime before date (datetime is a date).
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        fits = abs(value) <= _NUMERIC_MAX and isinstance(exponent, int) and exponent >= -9
        return "NUMERIC" if fits else "BIGNUMERIC"
    if isinstance(value, datetime):
        return "TIMESTAMP"
    if isinstance(value, date):
        return "DATE"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bytes):
        return "BYTES"
    raise PortError(f"query parameter @{name}: no BigQuery type for {type(value).__name__}")


def query_parameter(name: str, value: Any) -> Any:
    """A typed BigQuery query parameter for a Python value (lists become ARRAY parameters).

    None has no type of its own; it is sent as a NULL STRING (most parameters here are ids).
    Naive datetimes are read as UTC, like everywhere else in the product.
    """
    from google.cloud import bigquery

    if isinstance(value, (list, tuple)):
        items = [v for v in value if v is not None]
        if len(items) != len(value):
            raise PortError(f"query parameter @{name}: BigQuery arrays cannot hold NULL")
        types = {_scalar_type(v, name) for v in items}
        if types == {"INT64", "FLOAT64"}:
            types = {"FLOAT64"}
        if len(types) > 1:
            raise PortError(f"query parameter @{name}: mixed element types {sorted(types)}")
        elem = types.pop() if types else "STRING"
        if elem == "TIMESTAMP":
            items = [v if v.tzinfo else v.replace(tzinfo=UTC) for v in items]
        return bigquery.ArrayQueryParameter(name, elem, items)
    if value is None:
        return bigquery.ScalarQueryParameter(name, "STRING", None)
    kind = _scalar_type(value, name)
    if kind == "TIMESTAMP" and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return bigquery.ScalarQueryParameter(name, kind, value)


def used_parameters(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The params the statement names (BigQuery rejects a parameter the query does not use)."""
    return {k: v for k, v in (params or {}).items() if re.search(rf"@{re.escape(k)}\b", sql)}


class BigQueryWarehouse:
    """Warehouse port on one BigQuery dataset."""

    engine = "bigquery"

    def __init__(self, project: str, dataset: str, *, location: str | None = None, client: Any = None,
                 staging_bucket: str = "", storage_origin: str = STORAGE_ORIGIN) -> None:
        if not project or not dataset:
            raise PortError("bigquery warehouse needs TOWER_WAREHOUSE=bigquery://PROJECT/DATASET")
        from google.cloud import bigquery

        self.project = project
        self.dataset = ident(dataset)
        self.location = location
        self.staging_bucket = staging_bucket.removeprefix("gs://").strip("/")
        self.storage_origin = storage_origin.rstrip("/")
        self._client = client or bigquery.Client(project=project, location=location)
        self._dataset_ref = bigquery.DatasetReference(project, self.dataset)

    # -- plumbing -------------------------------------------------------------------------------
    def _table_ref(self, table: str) -> Any:
        return self._dataset_ref.table(ident(table))

    def _run(self, sql: str, params: Mapping[str, Any] | None = None, *, timeout_s: float | None = None,
             **job: Any) -> Any:
        """Run a query job; ``job`` adds QueryJobConfig fields (dry_run, maximum_bytes_billed...)."""
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            default_dataset=self._dataset_ref,
            use_legacy_sql=False,
            query_parameters=[query_parameter(k, v) for k, v in used_parameters(sql, params).items()],
            **job,
        )
        if timeout_s is not None:
            config.job_timeout_ms = int(timeout_s * 1000)  # BigQuery cancels the job itself
        try:
            running = self._client.query(sql, job_config=config, location=self.location)
            if job.get("dry_run"):
                return running
            return running.result(timeout=timeout_s)
        except GoogleAPICallError as e:
            raise PortError(f"{type(e).__name__}: {e.message}\n-- in --\n{sql}") from e
        except concurrent.futures.TimeoutError as e:
            raise QueryTimeout(f"the query ran longer than {timeout_s:g} s and was stopped") from e

    def _schema(self, table: str) -> list[Any]:
        from google.api_core.exceptions import NotFound

        try:
            return list(self._client.get_table(self._table_ref(table)).schema)
        except NotFound as e:
            raise PortError(f"no such table: {table}") from e

    def _prepare(self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]]) -> tuple[pa.Table, list[Any]]:
        """Rows as Arrow with exactly the target's column types, and the matching load schema."""
        data = as_arrow(rows)
        schema = {f.name: f for f in self._schema(table)}
        unknown = [c for c in data.column_names if c not in schema]
        if unknown:
            raise PortError(f"{table}: unknown columns {unknown}")
        fields = [schema[c] for c in data.column_names]
        arrow = pa.schema([pa.field(f.name, _ARROW_TYPES[f.field_type]) for f in fields])
        try:
            data = data.select(arrow.names).cast(arrow)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            raise PortError(f"{table}: rows do not fit the table's column types: {e}") from e
        return data, fields

    def _load(self, data: pa.Table, fields: list[Any], destination: str, disposition: str) -> None:
        import pyarrow.parquet as pq
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud import bigquery

        buf = io.BytesIO()
        pq.write_table(data, buf)
        size = buf.tell()
        buf.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=disposition,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            # Nullable copies of the target's fields: a staging table holds one batch, checked by
            # the MERGE into the real table; the schema stops BigQuery guessing types.
            schema=[bigquery.SchemaField(f.name, f.field_type, mode="NULLABLE") for f in fields],
        )
        try:
            self._client.load_table_from_file(
                buf, self._table_ref(destination), size=size, job_config=config, location=self.location
            ).result()
        except GoogleAPICallError as e:
            raise PortError(f"load into {destination} failed: {type(e).__name__}: {e.message}") from e

    def _drop(self, table: str) -> None:
        self._client.delete_table(self._table_ref(table), not_found_ok=True)

    # -- the port -------------------------------------------------------------------------------
    def init_schema(self) -> list[str]:
        """Create the dataset if needed and every DDL table (CREATE TABLE IF NOT EXISTS)."""
        from google.cloud import bigquery

        dataset = bigquery.Dataset(self._dataset_ref)
        if self.location:
            dataset.location = self.location
        self._client.create_dataset(dataset, exists_ok=True)
        names = []
        for f in sqlfiles.schema_files():
            self.execute(f.read_text())
            names.append(f.stem)
        return names

    def table_exists(self, table: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self._client.get_table(self._table_ref(table))
        except NotFound:
            return False
        return True

    def columns(self, table: str) -> list[str]:
        return [f.name for f in self._schema(table)]

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        result = self._run(sql, params).to_arrow(create_bqstorage_client=False)
        assert isinstance(result, pa.Table)
        return result

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.query(sql, params).to_pylist()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, params)

    def read(self, sql: str, params: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = None) -> list[dict[str, Any]]:
        """Every BigQuery job runs on its own; the timeout becomes the job's own timeout."""
        result = self._run(sql, params, timeout_s=timeout_s).to_arrow(create_bqstorage_client=False)
        return result.to_pylist()

    def read_confined(self, sql: str, params: Mapping[str, Any] | None,
                      confinement: Confinement) -> list[dict[str, Any]]:
        """Run an untrusted SELECT after BigQuery itself has said what it reads.

        A dry run first: BigQuery's own list of referenced tables must be within this dataset and
        ``confinement.tables``, independently of the SQL guard's parse. Then the job runs with
        ``maximum_bytes_billed`` (BigQuery fails it rather than scan more) and the job timeout.
        """
        dry = self._run(sql, params, dry_run=True, use_query_cache=False)
        for ref in dry.referenced_tables or []:
            if ref.dataset_id != self.dataset or ref.table_id not in confinement.tables:
                raise PortError(f"the query reads {ref.dataset_id}.{ref.table_id}, which it may not")
        result = self._run(sql, params, timeout_s=confinement.timeout_s,
                           maximum_bytes_billed=int(confinement.max_bytes_billed))
        return result.to_arrow(create_bqstorage_client=False).to_pylist()

    def merge(self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]], keys: Sequence[str]) -> int:
        """Upsert rows on keys: load to staging, dedupe (last row per key wins), MERGE, drop."""
        from google.cloud import bigquery

        data, fields = self._prepare(table, rows)
        if data.num_rows == 0:
            return 0
        cols = data.column_names
        tag = uuid.uuid4().hex[:12]
        stage, dedup = f"_stage_{ident(table)}_{tag}", f"_dedup_{tag}"
        merge = merge_sql(table, dedup, cols, keys)  # checks the keys before any job runs
        data = data.append_column(ORDER_COLUMN, pa.array(range(data.num_rows), pa.int64()))
        fields = [*fields, bigquery.SchemaField(ORDER_COLUMN, "INT64")]
        self._load(data, fields, stage, bigquery.WriteDisposition.WRITE_TRUNCATE)
        try:
            # One script: BigQuery's MERGE refuses two source rows for one target row.
            self.execute(
                f"CREATE TEMP TABLE {dedup} AS {dedupe_sql(stage, cols, keys, ORDER_COLUMN)};\n"
                f"{merge};\nDROP TABLE {dedup};"
            )
        finally:
            self._drop(stage)
        return data.num_rows

    def insert(self, table: str, rows: pa.Table | Sequence[Mapping[str, Any]]) -> int:
        """Append rows without key matching (one load job straight into the table)."""
        from google.cloud import bigquery

        data, fields = self._prepare(table, rows)
        if data.num_rows == 0:
            return 0
        self._load(data, fields, table, bigquery.WriteDisposition.WRITE_APPEND)
        return data.num_rows

    def replace_window(
        self,
        table: str,
        rows: pa.Table | Sequence[Mapping[str, Any]],
        *,
        date_column: str,
        start: date,
        end: date,
        where: Mapping[str, Any] | None = None,
    ) -> int:
        """In one transaction, delete ``[start, end)`` on date_column (and ``where``) and insert rows."""
        from google.cloud import bigquery

        data, fields = self._prepare(table, rows)
        params: dict[str, Any] = {"window_start": start, "window_end": end}
        params.update({f"w_{k}": v for k, v in (where or {}).items()})
        script = ["BEGIN TRANSACTION", window_delete_sql(table, date_column, where)]
        stage = ""
        if data.num_rows:
            stage = f"_stage_{ident(table)}_{uuid.uuid4().hex[:12]}"
            self._load(data, fields, stage, bigquery.WriteDisposition.WRITE_TRUNCATE)
            cols = ", ".join(ident(c) for c in data.column_names)
            script.append(f"INSERT INTO {ident(table)} ({cols}) SELECT {cols} FROM {stage}")
        script.append("COMMIT TRANSACTION")
        try:
            self.execute(";\n".join(script) + ";", params)
        finally:
            if stage:
                self._drop(stage)
        return data.num_rows

    def load_file(self, path: str, statements: Sequence[str],
                  params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Copy the local file to Cloud Storage, load its lines with a load job, run the statements.

        The file goes to ``gs://<staging bucket>/tower-load/<uuid>`` by a resumable upload; a CSV
        load job with no quoting and a delimiter JSON never holds unescaped puts each line, whole,
        in the STRING column ``line`` of a staging table; the statements run as one script (they
        name the staging table ``{lines}``; the last one's rows are returned). Nothing is parsed
        here. The staging table and object go afterwards, whatever happened.

        Raises:
            PortError: No staging bucket is set, or the upload, the load or the script failed.
        """
        from google.api_core.exceptions import GoogleAPICallError
        from google.cloud import bigquery

        if not self.staging_bucket:
            raise PortError("loading a file into BigQuery needs a Cloud Storage bucket to stage it in: "
                            "set TOWER_WAREHOUSE_STAGING_BUCKET")
        if not statements:
            raise PortError("load_file needs at least one statement")
        tag = uuid.uuid4().hex[:12]
        name, stage = f"tower-load/{tag}.jsonl", f"_lines_{tag}"
        self._upload(path, name)
        try:
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.CSV, field_delimiter=LINE_DELIMITER, quote_character="",
                schema=[bigquery.SchemaField("line", "STRING")], write_disposition="WRITE_TRUNCATE",
                create_disposition="CREATE_IF_NEEDED", max_bad_records=0, encoding="UTF-8",
            )
            try:
                self._client.load_table_from_uri(f"gs://{self.staging_bucket}/{name}", self._table_ref(stage),
                                                 job_config=config, location=self.location).result()
            except GoogleAPICallError as e:
                raise PortError(f"loading {path} into {stage} failed: {type(e).__name__}: {e.message}") from e
            script = ";\n".join(st.replace("{lines}", stage) for st in statements) + ";"
            rows: list[dict[str, Any]] = self._run(script, params).to_arrow(create_bqstorage_client=False).to_pylist()
            return rows
        finally:
            self._drop(stage)
            self._delete_object(name)

    def _storage(self) -> Any:
        # The client's own authorised session: the same credentials reach Cloud Storage.
        return self._client._http

    def _upload(self, path: str, name: str) -> None:
        """A resumable upload of the file to the staging bucket, in 16 MiB chunks."""
        from google.resumable_media import InvalidResponse
        from google.resumable_media.requests import ResumableUpload

        url = f"{self.storage_origin}/upload/storage/v1/b/{self.staging_bucket}/o?uploadType=resumable"
        upload = ResumableUpload(url, _UPLOAD_CHUNK)
        try:
            with open(path, "rb") as stream:
                upload.initiate(self._storage(), stream, {"name": name}, "application/x-ndjson")
                while not upload.finished:
                    upload.transmit_next_chunk(self._storage())
        except InvalidResponse as e:
            raise PortError(f"uploading {path} to gs://{self.staging_bucket} failed: HTTP "
                            f"{e.response.status_code}") from e

    def _delete_object(self, name: str) -> None:
        from urllib.parse import quote

        url = f"{self.storage_origin}/storage/v1/b/{self.staging_bucket}/o/{quote(name, safe='')}"
        self._storage().request("DELETE", url)

    def close(self) -> None:
        self._client.close()
