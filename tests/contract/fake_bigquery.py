"""A local fake of the BigQuery REST endpoints the BigQuery adapter calls, executing on DuckDB.

It answers the real google-cloud-bigquery client (pointed at it with ``client_options``
``api_endpoint`` and ``AnonymousCredentials``) on 127.0.0.1:

* ``datasets.insert`` / ``datasets.get``; ``tables.get`` / ``tables.delete``;
* ``jobs.insert`` for query jobs (named, typed query parameters; default dataset; multi-statement
  scripts with BEGIN/COMMIT TRANSACTION) and load jobs through the upload endpoint, both
  ``uploadType=multipart`` and ``uploadType=resumable`` (session URL, ``Content-Range`` chunks,
  308 until complete), PARQUET only;
* ``jobs.get`` and ``jobs.getQueryResults`` (schema, paging, int64-microsecond timestamps).

The SQL a job carries is BigQuery dialect; the fake transpiles it with ``tower.sql.to_duckdb`` and
runs it in a DuckDB schema named after the dataset, so the contract suite's assertions about data
hold for both warehouses. Every request is recorded (method, path, query string, JSON body) so tests
can assert what the adapter sent. Parameter values are decoded strictly by their declared type; a
type the fake does not know is a 400, like BigQuery's.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tower.sql import parse_bigquery, to_duckdb

_PAGE_ROWS = 5_000


class QuietHandler(WSGIRequestHandler):
    """No access log: a failing test prints its own assertion, not hundreds of request lines."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class BadRequest(Exception):
    """Answered as HTTP 400 with BigQuery's error body."""


def _error(status: int, reason: str, message: str) -> Response:
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason, "message": message}],
                      "status": {400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 409: "ALREADY_EXISTS"}.get(status, "")}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _ok(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=200, content_type="application/json")


# --- types -------------------------------------------------------------------------------------------

def _bq_type(t: pa.DataType) -> tuple[str, str]:
    """(BigQuery REST type, mode) of an Arrow result column."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _bq_type(t.value_type)[0], "REPEATED"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "STRING", "NULLABLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN", "NULLABLE"
    if pa.types.is_integer(t):
        return "INTEGER", "NULLABLE"
    if pa.types.is_floating(t):
        return "FLOAT", "NULLABLE"
    if pa.types.is_decimal(t):
        return ("NUMERIC" if t.scale <= 9 and t.precision <= 38 else "BIGNUMERIC"), "NULLABLE"
    if pa.types.is_date(t):
        return "DATE", "NULLABLE"
    if pa.types.is_timestamp(t):
        return ("TIMESTAMP" if t.tz else "DATETIME"), "NULLABLE"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BYTES", "NULLABLE"
    if pa.types.is_null(t):
        return "STRING", "NULLABLE"
    raise BadRequest(f"fake: no BigQuery type for Arrow {t}")


_DUCK_TO_BQ = {
    "VARCHAR": "STRING", "BIGINT": "INTEGER", "INTEGER": "INTEGER", "DOUBLE": "FLOAT", "BOOLEAN": "BOOLEAN",
    "DATE": "DATE", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "TIMESTAMP": "DATETIME", "BLOB": "BYTES",
}

_BQ_TO_ARROW = {
    "STRING": pa.string(), "INTEGER": pa.int64(), "INT64": pa.int64(), "FLOAT": pa.float64(),
    "FLOAT64": pa.float64(), "NUMERIC": pa.decimal128(38, 9), "BIGNUMERIC": pa.decimal256(76, 38),
    "BOOLEAN": pa.bool_(), "BOOL": pa.bool_(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us", tz="UTC"),
    "DATETIME": pa.timestamp("us"), "BYTES": pa.binary(),
}


def _duck_type(data_type: str) -> str:
    if data_type.startswith("DECIMAL"):
        return "NUMERIC" if data_type in ("DECIMAL(38,9)",) or "38," in data_type else "BIGNUMERIC"
    if data_type not in _DUCK_TO_BQ:
        raise BadRequest(f"fake: no BigQuery type for DuckDB {data_type}")
    return _DUCK_TO_BQ[data_type]


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [{"v": _cell(v, kind)} for v in value]
    if kind == "TIMESTAMP":  # int64 microseconds since the epoch (formatOptions.useInt64Timestamp)
        return str((value - _EPOCH) // timedelta(microseconds=1))
    if kind == "DATETIME":
        return value.isoformat()
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "BYTES":
        return base64.b64encode(value).decode()
    if kind in ("NUMERIC", "BIGNUMERIC"):
        return format(value, "f")
    if kind == "FLOAT":
        return repr(float(value))
    return str(value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _param_value(ptype: dict[str, Any], pvalue: dict[str, Any], name: str) -> Any:
    kind = ptype.get("type")
    if kind == "ARRAY":
        return [_param_value(ptype["arrayType"], v, name) for v in pvalue.get("arrayValues", [])]
    if "value" not in pvalue:
        return None
    raw = pvalue["value"]
    if raw is None:
        return None
    try:
        if kind == "STRING":
            return str(raw)
        if kind == "INT64":
            return int(raw)
        if kind == "FLOAT64":
            return float(raw)
        if kind in ("NUMERIC", "BIGNUMERIC"):
            return Decimal(raw)
        if kind == "BOOL":
            if raw not in ("true", "false", "TRUE", "FALSE"):
                raise ValueError(raw)
            return raw.lower() == "true"
        if kind == "DATE":
            return date.fromisoformat(raw)
        if kind == "TIMESTAMP":
            ts = datetime.fromisoformat(raw)
            if ts.tzinfo is None:
                raise ValueError(f"{raw} has no UTC offset")
            return ts.astimezone(UTC)
        if kind == "DATETIME":
            return datetime.fromisoformat(raw)
        if kind == "BYTES":
            return base64.b64decode(raw)
    except ValueError as e:
        raise BadRequest(f"Invalid value for query parameter @{name} of type {kind}: {e}") from e
    raise BadRequest(f"fake: unsupported query parameter type {kind!r} for @{name}")


# --- the server ----------------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    args: dict[str, str]
    body: Any


@dataclass
class FakeBigQuery:
    project: str
    requests: list[Recorded] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, pa.Table | None] = field(default_factory=dict)
    datasets: set[str] = field(default_factory=set)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)  # Cloud Storage: "bucket/name" -> bytes
    port: int = 0

    def __post_init__(self) -> None:
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET GLOBAL TimeZone = 'UTC'")
        self._lock = threading.RLock()
        p = "/bigquery/v2/projects/<project>"
        self._urls = Map([
            Rule(f"{p}/datasets", methods=["POST"], endpoint="datasets_insert"),
            Rule(f"{p}/datasets/<dataset>", methods=["GET"], endpoint="datasets_get"),
            Rule(f"{p}/datasets/<dataset>/tables/<table>", methods=["GET"], endpoint="tables_get"),
            Rule(f"{p}/datasets/<dataset>/tables/<table>", methods=["DELETE"], endpoint="tables_delete"),
            Rule(f"{p}/jobs", methods=["POST"], endpoint="jobs_insert"),
            Rule(f"{p}/jobs/<job_id>", methods=["GET"], endpoint="jobs_get"),
            Rule(f"{p}/queries/<job_id>", methods=["GET"], endpoint="jobs_query_results"),
            Rule("/upload/bigquery/v2/projects/<project>/jobs", methods=["POST", "PUT"], endpoint="upload"),
            Rule("/upload/storage/v1/b/<bucket>/o", methods=["POST", "PUT"], endpoint="gcs_upload"),
            Rule("/storage/v1/b/<bucket>/o/<path:name>", methods=["DELETE"], endpoint="gcs_delete"),
        ])

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeBigQuery:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._db.close()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=self.project, credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.endpoint),
        )

    def reset(self, keep_tables: list[str]) -> None:
        """Between tests: empty the kept tables, drop every other table, forget requests and jobs."""
        with self._lock:
            for schema, table in self._db.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema <> 'main'"
            ).fetchall():
                verb = "DELETE FROM" if table in keep_tables else "DROP TABLE"
                self._db.execute(f'{verb} "{schema}"."{table}"')
            self.requests.clear()
            self.jobs.clear()
            self.results.clear()
            self.uploads.clear()
            self.objects.clear()

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and contains in r.path]

    def query_jobs(self) -> list[dict[str, Any]]:
        """The configuration.query of every query job inserted, in order."""
        return [r.body["configuration"]["query"] for r in self.calls("POST", "/jobs")
                if isinstance(r.body, dict) and "query" in r.body.get("configuration", {})]

    def load_jobs(self) -> list[tuple[str, dict[str, Any]]]:
        """(uploadType, configuration.load) of every load job started, in order."""
        return [(r.args.get("uploadType", ""), r.body["configuration"]["load"])
                for r in self.calls("POST", "/upload/") if isinstance(r.body, dict)]

    # -- WSGI -----------------------------------------------------------------------------------
    @Request.application  # type: ignore[misc]
    def _wsgi(self, request: Request) -> Response:
        adapter = self._urls.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except HTTPException:
            return _error(404, "notFound", f"fake: no route {request.method} {request.path}")
        raw = request.get_data()
        body: Any = None
        if raw and request.mimetype == "application/json":
            body = json.loads(raw)
        if endpoint == "upload" and request.args.get("uploadType") == "multipart":
            body = self._multipart(request.content_type, raw)[0]
        self.requests.append(Recorded(request.method, request.path, dict(request.args), body))
        if values.pop("project", self.project) != self.project:
            return _error(404, "notFound", "fake: unknown project")
        try:
            with self._lock:
                out: Response = getattr(self, "_" + endpoint)(request, raw, body, **values)
                return out
        except BadRequest as e:
            return _error(400, "invalid", str(e))

    # -- datasets and tables --------------------------------------------------------------------
    def _datasets_insert(self, request: Request, raw: bytes, body: Any) -> Response:
        ds = body["datasetReference"]["datasetId"]
        if ds in self.datasets:
            return _error(409, "duplicate", f"Already Exists: Dataset {self.project}:{ds}")
        self.datasets.add(ds)
        self._db.execute(f'CREATE SCHEMA "{ds}"')
        return self._datasets_get(request, raw, None, ds)

    def _datasets_get(self, request: Request, raw: bytes, body: Any, dataset: str) -> Response:
        if dataset not in self.datasets:
            return _error(404, "notFound", f"Not found: Dataset {self.project}:{dataset}")
        ref = {"projectId": self.project, "datasetId": dataset}
        return _ok({"kind": "bigquery#dataset", "id": f"{self.project}:{dataset}", "datasetReference": ref,
                    "location": "US"})

    def _columns(self, dataset: str, table: str) -> list[tuple[str, str, str]]:
        return self._db.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", [dataset, table]
        ).fetchall()

    def _tables_get(self, request: Request, raw: bytes, body: Any, dataset: str, table: str) -> Response:
        cols = self._columns(dataset, table)
        if not cols:
            return _error(404, "notFound", f"Not found: Table {self.project}:{dataset}.{table}")
        fields = [{"name": n, "type": _duck_type(t), "mode": "NULLABLE" if nullable == "YES" else "REQUIRED"}
                  for n, t, nullable in cols]
        rows = self._db.execute(f'SELECT count(*) FROM "{dataset}"."{table}"').fetchone()
        return _ok({
            "kind": "bigquery#table", "id": f"{self.project}:{dataset}.{table}", "type": "TABLE",
            "tableReference": {"projectId": self.project, "datasetId": dataset, "tableId": table},
            "schema": {"fields": fields}, "numRows": str(rows[0] if rows else 0),
        })

    def _tables_delete(self, request: Request, raw: bytes, body: Any, dataset: str, table: str) -> Response:
        if not self._columns(dataset, table):
            return _error(404, "notFound", f"Not found: Table {self.project}:{dataset}.{table}")
        self._db.execute(f'DROP TABLE "{dataset}"."{table}"')
        return Response(status=204)

    # -- jobs -----------------------------------------------------------------------------------
    def _new_job(self, body: dict[str, Any]) -> dict[str, Any]:
        ref = dict(body.get("jobReference") or {})
        ref.setdefault("projectId", self.project)
        ref.setdefault("jobId", uuid.uuid4().hex)
        ref.setdefault("location", "US")
        now = str(int(datetime.now(UTC).timestamp() * 1000))
        job = {
            "kind": "bigquery#job", "id": f"{self.project}:{ref['location']}.{ref['jobId']}",
            "jobReference": ref, "configuration": body.get("configuration", {}),
            "status": {"state": "DONE"},
            "statistics": {"creationTime": now, "startTime": now, "endTime": now},
        }
        self.jobs[ref["jobId"]] = job
        return job

    @staticmethod
    def _fail(job: dict[str, Any], message: str) -> None:
        err = {"reason": "invalidQuery", "location": "query", "message": message}
        job["status"] = {"state": "DONE", "errorResult": err, "errors": [err]}

    def _jobs_insert(self, request: Request, raw: bytes, body: Any) -> Response:
        job = self._new_job(body)
        config = job["configuration"]
        if "load" in config and config["load"].get("sourceUris"):
            self._run_load_from_storage(job)
            return _ok(job)
        if "query" not in config:
            raise BadRequest("fake: only query jobs and loads from Cloud Storage are inserted without an upload")
        if config.get("dryRun"):
            self._dry_run(job, config["query"])
            return _ok(job)
        self._run_query(job, config["query"])
        return _ok(job)

    def _dry_run(self, job: dict[str, Any], q: dict[str, Any]) -> None:
        """As BigQuery does: validate and list the stored tables the query reads, run nothing."""
        dataset = (q.get("defaultDataset") or {}).get("datasetId")
        try:
            tree = parse_bigquery(q["query"])[0]
        except sqlglot.errors.ParseError as e:
            self._fail(job, f"Syntax error: {e}")
            return
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        refs = sorted({(t.db or dataset, t.name) for t in tree.find_all(exp.Table) if t.name not in ctes})
        job["statistics"]["query"] = {
            "statementType": type(tree).__name__.upper(), "totalBytesProcessed": "0",
            "referencedTables": [{"projectId": self.project, "datasetId": d, "tableId": t} for d, t in refs],
        }

    def _run_query(self, job: dict[str, Any], q: dict[str, Any]) -> None:
        if q.get("useLegacySql", True) is not False:
            self._fail(job, "fake: legacy SQL is not supported; the adapter must set useLegacySql=false")
            return
        dataset = (q.get("defaultDataset") or {}).get("datasetId")
        params = {p["name"]: _param_value(p["parameterType"], p.get("parameterValue", {}), p["name"])
                  for p in q.get("queryParameters", [])}
        if params and q.get("parameterMode") != "NAMED":
            raise BadRequest("fake: parameters must be NAMED")
        sql = q["query"]
        try:
            trees = parse_bigquery(sql)
            statements = to_duckdb(sql)
        except sqlglot.errors.ParseError as e:
            self._fail(job, f"Syntax error: {e}")
            return
        cur = self._db.cursor()  # one connection per job: its temp state ends with the job
        result: pa.Table | None = None
        affected = 0
        try:
            if dataset:
                if dataset not in self.datasets:
                    self._fail(job, f"Not found: Dataset {self.project}:{dataset}")
                    return
                cur.execute(f'USE "{dataset}"')
            for tree, stmt in zip(trees, statements, strict=True):
                used = {k: v for k, v in params.items() if re.search(rf"\${k}\b", stmt)}
                result = None
                if isinstance(tree, exp.Query):
                    result = cur.sql(stmt, params=used or None).to_arrow_table()
                    continue
                res = cur.execute(stmt, used) if used else cur.execute(stmt)
                if isinstance(tree, (exp.Insert, exp.Update, exp.Delete, exp.Merge)):
                    row = res.fetchone()
                    affected += int(row[0]) if row else 0
        except duckdb.Error as e:
            try:
                cur.execute("ROLLBACK")  # a failed script's transaction is rolled back, as in BigQuery
            except duckdb.Error:
                pass
            self._fail(job, f"{type(e).__name__}: {e}")
            return
        finally:
            cur.close()
        kind = "SCRIPT" if len(trees) > 1 else type(trees[0]).__name__.upper()
        job["statistics"]["query"] = {"statementType": kind, "numDmlAffectedRows": str(affected)}
        self.results[job["jobReference"]["jobId"]] = result

    def _jobs_get(self, request: Request, raw: bytes, body: Any, job_id: str) -> Response:
        if job_id not in self.jobs:
            return _error(404, "notFound", f"Not found: Job {self.project}:{job_id}")
        return _ok(self.jobs[job_id])

    def _jobs_query_results(self, request: Request, raw: bytes, body: Any, job_id: str) -> Response:
        job = self.jobs.get(job_id)
        if job is None:
            return _error(404, "notFound", f"Not found: Job {self.project}:{job_id}")
        if "errorResult" in job["status"]:
            err = job["status"]["errorResult"]
            return _error(400, err["reason"], err["message"])
        out: dict[str, Any] = {"kind": "bigquery#getQueryResultsResponse", "jobReference": job["jobReference"],
                               "jobComplete": True}
        stats = job["statistics"].get("query", {})
        if stats.get("statementType") not in ("SELECT", "SCRIPT", None):
            out["numDmlAffectedRows"] = stats.get("numDmlAffectedRows", "0")
        table = self.results.get(job_id)
        if table is None:
            return _ok(out)
        fields = []
        for f in table.schema:
            kind, mode = _bq_type(f.type)
            fields.append({"name": f.name, "type": kind, "mode": mode})
        out["schema"] = {"fields": fields}
        out["totalRows"] = str(table.num_rows)
        start = int(request.args.get("pageToken") or request.args.get("startIndex") or 0)
        size = request.args.get("maxResults")
        size_n = _PAGE_ROWS if size is None else int(size)
        if size_n == 0:
            return _ok(out)
        if request.args.get("formatOptions.useInt64Timestamp", "").lower() != "true" and any(
            f["type"] == "TIMESTAMP" for f in fields
        ):
            raise BadRequest("fake: only int64 timestamps are served (formatOptions.useInt64Timestamp)")
        page = table.slice(start, size_n).to_pylist()
        out["rows"] = [{"f": [{"v": _cell(r[f["name"]], f["type"])} for f in fields]} for r in page]
        if start + size_n < table.num_rows:
            out["pageToken"] = str(start + size_n)
        return _ok(out)

    # -- loads ----------------------------------------------------------------------------------
    @staticmethod
    def _multipart(content_type: str | None, raw: bytes) -> tuple[dict[str, Any], bytes]:
        m = re.search(r'boundary="?([^";]+)"?', content_type or "")
        if not m:
            raise BadRequest("fake: multipart upload without a boundary")
        sep = b"--" + m.group(1).encode()
        parts = [p for p in raw.split(sep) if p not in (b"", b"--", b"--\r\n")]
        if len(parts) < 2:
            raise BadRequest("fake: multipart upload needs metadata and data parts")

        def content(part: bytes) -> bytes:
            _, _, payload = part.partition(b"\r\n\r\n")
            return payload[:-2] if payload.endswith(b"\r\n") else payload

        return json.loads(content(parts[0])), content(parts[1])

    def _upload(self, request: Request, raw: bytes, body: Any) -> Response:
        kind = request.args.get("uploadType")
        if kind == "multipart" and request.method == "POST":
            meta, data = self._multipart(request.content_type, raw)
            return _ok(self._run_load(meta, data))
        if kind == "resumable" and request.method == "POST":
            upload_id = uuid.uuid4().hex
            self.uploads[upload_id] = {"meta": body, "data": bytearray()}
            location = f"{self.endpoint}/upload/bigquery/v2/projects/{self.project}/jobs?uploadType=resumable&upload_id={upload_id}"
            return Response(status=200, headers={"Location": location})
        if kind == "resumable" and request.method == "PUT":
            up = self.uploads.get(request.args.get("upload_id", ""))
            if up is None:
                return _error(404, "notFound", "fake: unknown upload session")
            m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", request.headers.get("Content-Range", ""))
            if raw and not m:
                raise BadRequest("fake: chunk without Content-Range")
            if m:
                if int(m.group(1)) != len(up["data"]):
                    raise BadRequest(f"fake: chunk starts at {m.group(1)}, expected {len(up['data'])}")
                up["data"] += raw
                total = m.group(3)
                if total == "*" or len(up["data"]) < int(total):
                    return Response(status=308, headers={"Range": f"bytes=0-{len(up['data']) - 1}"})
            del self.uploads[request.args["upload_id"]]
            return _ok(self._run_load(up["meta"], bytes(up["data"])))
        raise BadRequest(f"fake: unsupported upload {request.method} uploadType={kind}")

    def _run_load(self, meta: dict[str, Any], data: bytes) -> dict[str, Any]:
        job = self._new_job(meta)
        load = job["configuration"].get("load") or {}
        if load.get("sourceFormat") != "PARQUET":
            self._fail(job, f"fake: sourceFormat {load.get('sourceFormat')!r}; the adapter loads PARQUET")
            return job
        dest = load["destinationTable"]
        dataset, table = dest["datasetId"], dest["tableId"]
        if dataset not in self.datasets:
            self._fail(job, f"Not found: Dataset {self.project}:{dataset}")
            return job
        arrow = pq.read_table(io.BytesIO(data))
        schema = (load.get("schema") or {}).get("fields")
        if schema:
            if [f["name"] for f in schema] != arrow.column_names:
                self._fail(job, f"Provided schema {[f['name'] for f in schema]} != file {arrow.column_names}")
                return job
            try:
                arrow = arrow.cast(pa.schema([pa.field(f["name"], _BQ_TO_ARROW[f["type"]]) for f in schema]))
            except (pa.ArrowInvalid, KeyError) as e:
                self._fail(job, f"Parquet column does not match the schema: {e}")
                return job
        disposition = load.get("writeDisposition", "WRITE_APPEND")
        exists = bool(self._columns(dataset, table))
        cur = self._db.cursor()
        try:
            cur.register("_upload", arrow)
            target = f'"{dataset}"."{table}"'
            if disposition == "WRITE_TRUNCATE" or not exists:
                if exists and disposition == "WRITE_TRUNCATE":
                    cur.execute(f"DELETE FROM {target}")
                    cur.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _upload")
                else:
                    cur.execute(f"CREATE TABLE {target} AS SELECT * FROM _upload")
            elif disposition == "WRITE_APPEND":
                cur.execute(f"INSERT INTO {target} BY NAME SELECT * FROM _upload")
            else:
                self._fail(job, f"fake: writeDisposition {disposition} not supported")
                return job
        except duckdb.Error as e:
            self._fail(job, f"{type(e).__name__}: {e}")
            return job
        finally:
            cur.close()
        job["statistics"]["load"] = {"outputRows": str(arrow.num_rows), "inputFileBytes": str(len(data))}
        return job

    # -- Cloud Storage (the JSON API's resumable upload and delete) and loads from it ------------------
    def _gcs_upload(self, request: Request, raw: bytes, body: Any, bucket: str) -> Response:
        kind = request.args.get("uploadType")
        if kind == "resumable" and request.method == "POST":
            name = (body or {}).get("name") or request.args.get("name")
            if not name:
                raise BadRequest("fake: a resumable upload names its object")
            upload_id = uuid.uuid4().hex
            self.uploads[upload_id] = {"object": f"{bucket}/{name}", "data": bytearray()}
            location = f"{self.endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={upload_id}"
            return Response(status=200, headers={"Location": location})
        if kind == "resumable" and request.method == "PUT":
            up = self.uploads.get(request.args.get("upload_id", ""))
            if up is None:
                return _error(404, "notFound", "fake: unknown upload session")
            m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", request.headers.get("Content-Range", ""))
            if m:
                if int(m.group(1)) != len(up["data"]):
                    raise BadRequest(f"fake: chunk starts at {m.group(1)}, expected {len(up['data'])}")
                up["data"] += raw
                if m.group(3) == "*":
                    return Response(status=308, headers={"Range": f"bytes=0-{len(up['data']) - 1}"})
            elif not re.match(r"bytes \*/\d+", request.headers.get("Content-Range", "")):
                raise BadRequest("fake: chunk without Content-Range")
            del self.uploads[request.args["upload_id"]]
            self.objects[up["object"]] = bytes(up["data"])
            bucket_name, _, name = up["object"].partition("/")
            return _ok({"kind": "storage#object", "bucket": bucket_name, "name": name, "size": str(len(up["data"]))})
        raise BadRequest(f"fake: unsupported storage upload {request.method} uploadType={kind}")

    def _gcs_delete(self, request: Request, raw: bytes, body: Any, bucket: str, name: str) -> Response:
        if self.objects.pop(f"{bucket}/{name}", None) is None:
            return _error(404, "notFound", f"No such object: {bucket}/{name}")
        return Response(status=204)

    def _run_load_from_storage(self, job: dict[str, Any]) -> None:
        """A CSV load from Cloud Storage as the BigQuery adapter asks for it: each line is one row of one
        STRING column (no quoting, a delimiter the lines never hold)."""
        load = job["configuration"]["load"]
        if load.get("sourceFormat") != "CSV" or load.get("quote") != "":
            self._fail(job, "fake: loads from Cloud Storage are CSV without quoting")
            return
        fields = (load.get("schema") or {}).get("fields") or []
        if [f["type"] for f in fields] != ["STRING"]:
            self._fail(job, "fake: loads from Cloud Storage have one STRING column")
            return
        data = b""
        for uri in load["sourceUris"]:
            found = self.objects.get(uri.removeprefix("gs://"))
            if found is None:
                self._fail(job, f"Not found: URI {uri}")
                return
            data += found
        delimiter = load.get("fieldDelimiter", ",").encode("latin-1")
        lines = [line for line in data.decode().split("\n") if line]
        if any(delimiter.decode("latin-1") in line for line in lines):
            self._fail(job, "fake: a line holds the field delimiter (it would be split)")
            return
        dest = load["destinationTable"]
        target = f'"{dest["datasetId"]}"."{dest["tableId"]}"'
        column = fields[0]["name"]
        cur = self._db.cursor()
        try:
            cur.execute(f'CREATE OR REPLACE TABLE {target} ("{column}" VARCHAR)')
            if lines:
                cur.register("_lines", pa.table({column: pa.array(lines, pa.string())}))
                cur.execute(f"INSERT INTO {target} SELECT * FROM _lines")
        finally:
            cur.close()
        job["statistics"]["load"] = {"outputRows": str(len(lines)), "inputFileBytes": str(len(data))}
