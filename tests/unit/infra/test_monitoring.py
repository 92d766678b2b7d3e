"""The monitoring Terraform declares reads the log lines the code really writes.

Each log-based metric's filter and extractors are evaluated, as Cloud Logging would, on the very lines
tower.logs formats for the code's calls: ``ai usage`` from :func:`tower.ai.usage.record` and ``task
refused`` from ``functions/_http.respond``, both run here; ``sync finished`` from the ``log.info`` call
in :func:`tower.pipeline.finish_sync` (every sync ends there), read from its source (its message, its extra fields) and formatted
the same way. A line becomes a LogEntry the way Cloud Run's agent makes one of a structured line:
``severity`` and ``logging.googleapis.com/*`` lifted out, everything else under ``jsonPayload``.

The alert policies and the dashboard must name declared metrics and the labels those extract; the
thresholds are the issue's (5 % for 5 minutes, p95 over 1 s, 3 hours, any dead letter, a daily AI budget).
"""

from __future__ import annotations

import ast
import inspect
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_terraform import REPO, Config, Instance, render

from tower import pipeline
from tower.logs import JsonLineFormatter

SERVICE = "tower-summarize"

# --- Cloud Logging, as far as these filters need it ------------------------------------------------------


def log_entry(line: str, service: str = SERVICE) -> dict[str, Any]:
    """The LogEntry Cloud Logging makes of one structured JSON line a Cloud Run function writes."""
    payload = json.loads(line)
    entry: dict[str, Any] = {
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": service, "revision_name": f"{service}-1"}},
        "severity": payload.pop("severity", "DEFAULT"),
    }
    labels = payload.pop("logging.googleapis.com/labels", None)
    if labels:
        entry["labels"] = labels
    for special in [k for k in payload if k.startswith("logging.googleapis.com/")]:
        entry[special] = payload.pop(special)
    entry["jsonPayload"] = payload
    return entry


def _get(entry: dict[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


_CLAUSE = re.compile(r'^([A-Za-z_][\w.]*)\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"$')


def matches(log_filter: str, entry: dict[str, Any]) -> bool:
    """Cloud Logging's query language for ``A AND B``, each ``field="value"`` or ``field=~"regex"``."""
    for clause in (c.strip() for c in log_filter.split(" AND ")):
        m = _CLAUSE.match(clause)
        if not m:
            raise ValueError(f"filter clause not modelled: {clause!r}")
        path, op, literal = m.group(1), m.group(2), json.loads(f'"{m.group(3)}"')
        value = _get(entry, path)
        if value is None:
            return False
        if op == "=" and str(value) != literal or op == "=~" and not re.search(literal, str(value)):
            return False
    return True


def extract(extractor: str, entry: dict[str, Any]) -> Any:
    m = re.fullmatch(r"EXTRACT\(([\w.]+)\)", extractor)
    assert m, f"extractor not modelled: {extractor}"
    return _get(entry, m.group(1))


# --- the lines the code writes ---------------------------------------------------------------------------


def _formatted(records: list[logging.LogRecord]) -> list[str]:
    formatter = JsonLineFormatter()
    return [formatter.format(r) for r in records]


@pytest.fixture
def ai_usage_lines(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    from tower.adapters.duckdb_warehouse import DuckDBWarehouse
    from tower.ai.usage import CallUsage, record
    from tower.config import Settings

    wh = DuckDBWarehouse(":memory:")
    wh.init_schema()
    calls = [CallUsage(brand_id="b1", purpose="summarize", model="claude-test", input_tokens=1200,
                       output_tokens=300, cache_read_input_tokens=800)]
    with caplog.at_level(logging.INFO, logger="tower.ai.usage"):
        record(wh, Settings(), calls)
    yield _formatted([r for r in caplog.records if r.getMessage() == "ai usage"])
    wh.close()


@pytest.fixture
def task_refused_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    from flask import Flask

    from functions._http import respond
    from tower.pipeline import PipelineError

    def refuse() -> None:
        raise PipelineError("brand_id is missing")

    with Flask(__name__).test_request_context("/", method="POST", headers={"X-CloudTasks-TaskName": "t1"}), \
            caplog.at_level(logging.ERROR, logger="tower.functions"):
        respond(refuse)
    return _formatted([r for r in caplog.records if r.getMessage() == "task refused"])


def _log_call(function: Any, message: str) -> tuple[ast.Call, str]:
    """The ``log.<level>(message, extra={...})`` call in a function's source, and that source."""
    source = inspect.getsource(function)
    for node in ast.walk(ast.parse(source.lstrip())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == message):
            return node, source
    raise AssertionError(f"{function.__qualname__} no longer logs {message!r}")


def sync_finished_line(status: str = "ok") -> str:
    """The line finish_sync writes, built from its own log call: its message, level and extra keys."""
    call, source = _log_call(pipeline.finish_sync, "sync finished")
    [extra] = [k.value for k in call.keywords if k.arg == "extra"]
    assert isinstance(extra, ast.Dict)
    keys = [k.value for k in extra.keys if isinstance(k, ast.Constant)]
    assert f'"{status}"' in source, f"finish_sync never logs status {status!r}"
    sample = {"brand_id": "b1", "platform": "shopify", "status": status}
    record = logging.getLogger("tower.pipeline").makeRecord(
        "tower.pipeline", getattr(logging, call.func.attr.upper()), __file__, 1, "sync finished", (), None,
        extra={k: sample.get(k, "x") for k in keys},
    )
    return _formatted([record])[0]


# --- what Terraform declares -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config() -> Config:
    return Config.from_repo()


def _metrics(config: Config) -> dict[str, Instance]:
    return {str(m.attr("name")): m for m in config.instances("google_logging_metric")}


def _labels(metric: Instance) -> set[str]:
    return {str(b.attr("key")) for b in metric.first("metric_descriptor").blocks("labels")}


def _policies(config: Config) -> dict[str, Instance]:
    return {i.rname: i for i in config.instances("google_monitoring_alert_policy")}


def _condition(policy: Instance) -> tuple[str, Any]:
    [cond] = policy.blocks("conditions")
    for kind in ("condition_threshold", "condition_absent"):
        if cond.blocks(kind):
            return kind, cond.first(kind)
    raise AssertionError(f"{policy.rname}: no threshold or absence condition")


def _check_metric_on(metric: Instance, entry: dict[str, Any]) -> None:
    assert matches(str(metric.attr("filter")), entry), f"{metric.attr('name')} does not match the line {entry}"
    extractors = metric.attr("label_extractors") or {}
    assert set(extractors) == _labels(metric)
    for label, extractor in extractors.items():
        assert extract(extractor, entry) not in (None, ""), f"{metric.attr('name')}: label {label} extracts nothing"
    if metric.attr("value_extractor"):
        assert isinstance(extract(metric.attr("value_extractor"), entry), (int, float))


# --- tests --------------------------------------------------------------------------------------------------


def test_the_sync_metric_counts_the_success_line_and_only_it(config: Config) -> None:
    metric = _metrics(config)["tower_sync_succeeded"]
    ok = log_entry(sync_finished_line("ok"), service="tower-sync-shopify")
    _check_metric_on(metric, ok)
    assert extract(metric.attr("label_extractors")["platform"], ok) == "shopify"
    partial = log_entry(sync_finished_line("partial"), service="tower-sync-shopify")
    assert not matches(str(metric.attr("filter")), partial)
    assert not matches(str(metric.attr("filter")), log_entry(sync_finished_line("ok"), service="someone-else"))


def test_the_ai_metrics_read_the_usage_line_record_writes(config: Config, ai_usage_lines: list[str]) -> None:
    [line] = ai_usage_lines
    entry = log_entry(line)
    ai = {n: m for n, m in _metrics(config).items() if n.startswith("tower_ai_")}
    assert sorted(ai) == ["tower_ai_cost_usd", "tower_ai_input_tokens", "tower_ai_output_tokens"]
    for metric in ai.values():
        _check_metric_on(metric, entry)
    assert extract(ai["tower_ai_input_tokens"].attr("value_extractor"), entry) == 1200
    assert extract(ai["tower_ai_cost_usd"].attr("value_extractor"), entry) > 0
    # Counts and money only: neither a prompt nor an answer rides on the line.
    assert set(entry["jsonPayload"]) <= {"message", "logger", "brand_id", "purpose", "model", "input_tokens",
                                          "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
                                          "cost_usd"}


def test_the_refused_task_metric_reads_the_line_respond_writes(config: Config, task_refused_lines: list[str]) -> None:
    [line] = task_refused_lines
    _check_metric_on(_metrics(config)["tower_task_refused"], log_entry(line, service="tower-sync-meta"))


def test_every_alert_and_dashboard_chart_reads_a_declared_metric_and_its_labels(config: Config) -> None:
    metrics = _metrics(config)
    filters: list[tuple[str, str, list[str]]] = []
    for name, policy in _policies(config).items():
        _, cond = _condition(policy)
        groups = [list(a.attr("group_by_fields") or []) for a in cond.blocks("aggregations")]
        filters.append((name, render(cond.attr("filter")), [g for gs in groups for g in gs]))
    dashboard = json.loads((REPO / "infra" / "modules" / "monitoring" / "dashboard.json").read_text())
    for tile in dashboard["mosaicLayout"]["tiles"]:
        for ds in tile["widget"]["xyChart"]["dataSets"]:
            q = ds["timeSeriesQuery"]["timeSeriesFilter"]
            filters.append((tile["widget"]["title"], q["filter"], q["aggregation"].get("groupByFields", [])))
    for where, text, groups in filters:
        user = re.findall(r'metric\.type="logging\.googleapis\.com/user/([\w-]+)"', text)
        for name in user:
            assert name in metrics, f"{where}: no log-based metric {name}"
            wanted = {g.split(".", 2)[2] for g in groups if g.startswith("metric.label.")}
            assert wanted <= _labels(metrics[name]), f"{where}: groups by {wanted} not extracted by {name}"
        assert 'metric.type="' in text, f"{where}: no metric type in {text}"


def test_the_alert_thresholds_are_the_ones_asked_for(config: Config) -> None:
    policies = _policies(config)
    assert set(policies) >= {"function_errors", "api_latency", "data_freshness", "dead_letters", "ai_spend", "api_down"}
    _, errors = _condition(policies["function_errors"])
    assert errors.attr("threshold_value") == 0.05 and errors.attr("duration") == "300s"
    assert "5xx" in render(errors.attr("filter")) and "request_count" in render(errors.attr("denominator_filter"))
    _, latency = _condition(policies["api_latency"])
    assert latency.attr("threshold_value") == 1000 and latency.attr("duration") == "300s"
    assert latency.first("aggregations").attr("cross_series_reducer") == "REDUCE_PERCENTILE_95"
    kind, fresh = _condition(policies["data_freshness"])
    monitoring = config.root.children()["monitoring"]
    # Terraform arithmetic the evaluator leaves symbolic: freshness_hours (3) hours, in seconds.
    assert kind == "condition_absent" and render(fresh.attr("duration")) == "${var.freshness_hours * 3600}s"
    assert monitoring.variables["freshness_hours"]["default"] == 3
    assert set(fresh.first("aggregations").attr("group_by_fields")) == {"metric.label.brand_id",
                                                                       "metric.label.platform"}
    _, dlq = _condition(policies["dead_letters"])
    assert dlq.attr("threshold_value") == 0 and dlq.attr("comparison") == "COMPARISON_GT"
    assert 'ends_with("-dlq-hold")' in render(dlq.attr("filter"))
    _, spend = _condition(policies["ai_spend"])
    assert spend.first("aggregations").attr("alignment_period") == "86400s"
    assert spend.attr("threshold_value") == config.root.variables["ai_daily_budget_usd"]["default"]


def test_the_dead_letter_filter_names_the_subscriptions_terraform_declares(config: Config) -> None:
    holds = [str(s.attr("name")) for s in config.instances("google_pubsub_subscription")
             if str(s.attr("name")).endswith("-dlq-hold")]
    assert holds and all(h.endswith("-dlq-hold") for h in holds)


def test_the_uptime_check_calls_a_route_the_api_serves(config: Config) -> None:
    from flask import Flask

    from tower.api.health import bp

    [check] = config.instances("google_monitoring_uptime_check_config")
    path = check.first("http_check").attr("path")
    app = Flask(__name__)
    app.register_blueprint(bp)
    assert path in {r.rule for r in app.url_map.iter_rules()}
    assert app.test_client().get(path).status_code == 200


def test_a_budget_needs_a_billing_account_and_notifies_the_alert_channels(config: Config) -> None:
    [budget] = config.instances("google_billing_budget")
    assert "var.billing_account" in str(budget.raw["count"])
    rules = [(r.attr("threshold_percent"), r.attr("spend_basis")) for r in budget.blocks("threshold_rules")]
    assert (1.0, None) in rules and (1.0, "FORECASTED_SPEND") in rules
    assert "local.channels" in json.dumps(budget.raw["all_updates_rule"])


def test_a_filter_this_module_cannot_read_is_refused_not_passed() -> None:
    with pytest.raises(ValueError, match="not modelled"):
        matches('jsonPayload.cost_usd>0', {"jsonPayload": {"cost_usd": 1}})
    entry = log_entry(json.dumps({"message": "ai usage", "severity": "INFO", "brand_id": "b1"}))
    assert matches('resource.labels.service_name=~"^tower-" AND jsonPayload.message="ai usage"', entry)
    assert not matches('jsonPayload.message="sync finished"', entry)
    assert entry["severity"] == "INFO" and "severity" not in entry["jsonPayload"]


def test_terraform_exposes_the_monitoring_module(config: Config) -> None:
    assert "monitoring" in config.root.children()
    path = Path(REPO / "infra" / "modules" / "monitoring" / "dashboard.json")
    assert json.loads(path.read_text())["mosaicLayout"]["tiles"]


def test_the_runbooks_run_query_finds_the_lines_of_a_run() -> None:
    # README, "Watch it": gcloud logging read 'labels.run_id="…"' follows one round.
    from tower.logs import run_scope

    def entry(run: str | None) -> dict[str, Any]:
        record = logging.LogRecord("tower.pipeline", logging.INFO, __file__, 1, "sync finished", None, None)
        if run is None:
            return log_entry(JsonLineFormatter().format(record))
        with run_scope(run):
            return log_entry(JsonLineFormatter().format(record))

    assert matches('labels.run_id="run-2026120614-1a2b3c4d"', entry("run-2026120614-1a2b3c4d"))
    assert not matches('labels.run_id="run-2026120614-1a2b3c4d"', entry("run-2026120615-00000000"))
    assert not matches('labels.run_id="run-2026120614-1a2b3c4d"', entry(None))
