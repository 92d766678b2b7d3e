"""Q&A: answer a merchant's question with numbers from read-only queries.

With an API key, Claude answers with tools: the named, parameterised queries of
``tower/sql/queries/qa/`` (top products by revenue / profit / ROAS for a period, channel and region
performance, stock and days of cover, week-over-week changes, campaign detail; channel performance reads the
dashboard's own ``queries/api/range_totals.sql`` and takes its total row from :class:`tower.analytics.ranges.Totals`,
so the blended ROAS has one rule) and, for anything
else, ``run_select`` — a SELECT it writes, accepted only through :mod:`tower.ai.sql_guard` (one
read-only SELECT over the analytics tables, brand filter enforced by rewriting, LIMIT capped) and
run with a timeout. Tool results are JSON; merchant text in them is trimmed, stripped of control
characters and stays data (the system prompt says so). The answer must pass the grounding check
against the tool results; else it is retried once, then replaced by the deterministic answer.

Without a key, the deterministic Q&A maps common questions (the plan's "Which products performed
best last month?", "Why did my revenue drop this week?", "Which regions are performing best this
month?", and stock, channel and campaign questions) to the named queries and answers with numbers,
and says plainly when it cannot answer.

Periods come from the one vocabulary, :mod:`tower.periods` ("last week" is the 7 days ending
yesterday, as on the page and in the weekly summary); the model is handed them resolved for today.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tower import periods
from tower import sql as sqlfiles
from tower.ai import figures, narrator
from tower.ai.claude import ClaudeClient, resolve_client
from tower.ai.context import clean_text
from tower.ai.grounding import GenerationFailed, Grounded, grounded
from tower.ai.prompts import QA_SYSTEM, data_message
from tower.ai.question import AskError, check_question
from tower.ai.sql_guard import ALLOWED_TABLES, UnsafeQuery, guard_select
from tower.ai.tokens import compact_json
from tower.ai.usage import CallUsage, fallback_usage, record
from tower.analytics import ranges
from tower.brands import brand_row
from tower.decisions.formatting import region_name
from tower.names import AD_PLATFORMS
from tower.periods import Period
from tower.ports import Confinement, PortError

if TYPE_CHECKING:  # pragma: no cover
    from tower.config import Settings
    from tower.ports import Warehouse
    from tower.runtime import Runtime

MAX_PERIOD_DAYS = periods.MAX_DAYS
SHOWN_ROWS = 20  # rows of each query an answer shows beside it (the answer quotes from the first ones)


# --- the named queries ----------------------------------------------------------------------------

_DATE = {"type": "string", "format": "date", "description": "ISO date, YYYY-MM-DD"}


@dataclass(frozen=True)
class NamedQuery:
    """A read-only query the model (and the deterministic Q&A) may run, with its typed inputs."""

    name: str
    description: str
    properties: dict[str, dict[str, Any]]
    required: tuple[str, ...] = ()
    #: Another surface's query file this one reads (None: ``queries/qa/<name>.sql``).
    sql_file: str | None = None
    #: Turns the query's rows into the answer's rows (params given), where a rule lives in Python.
    shape: Callable[[list[dict[str, Any]], Mapping[str, Any]], list[dict[str, Any]]] | None = None

    def tool(self) -> dict[str, Any]:
        """The Messages API tool definition."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": {"type": "object", "properties": self.properties, "required": list(self.required)},
        }

    @property
    def sql(self) -> str:
        return sqlfiles.load(self.sql_file or f"queries/qa/{self.name}.sql")

    def rows(self, warehouse: Warehouse, params: Mapping[str, Any], timeout_s: float) -> list[dict[str, Any]]:
        """Run the query on the read path and shape its rows."""
        rows = run_read(warehouse, self.sql, params, timeout_s)
        return self.shape(rows, params) if self.shape is not None else rows


def _channel_table(rows: list[dict[str, Any]], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's range totals as channel rows and their total row (:meth:`ranges.Totals.channel_table`)."""
    return ranges.Totals(rows).channel_table(int(params["row_limit"]))


NAMED_QUERIES: dict[str, NamedQuery] = {
    q.name: q
    for q in (
        NamedQuery(
            "top_products",
            "Products ranked by attributed revenue, profit or ROAS over [start_date, end_date) (end exclusive), "
            "with spend, units and current stock and days of cover.",
            {"start_date": _DATE, "end_date": _DATE,
             "metric": {"type": "string", "enum": ["revenue", "profit", "roas"]},
             "limit": {"type": "integer", "minimum": 1, "maximum": 20}},
            ("start_date", "end_date"),
        ),
        NamedQuery(
            "channel_performance",
            "Spend, attributed revenue, orders, profit and ROAS per ad channel over [start_date, end_date), then "
            "a row with channel 'total': all ad spend, ALL store revenue (ad_revenue: the part credited to ads) "
            "and the blended ROAS (total revenue ÷ total spend).",
            {"start_date": _DATE, "end_date": _DATE},
            ("start_date", "end_date"),
            # the dashboard's own per-channel query, and its total row by the dashboard's rule
            sql_file="queries/api/range_totals.sql",
            shape=_channel_table,
        ),
        NamedQuery(
            "region_performance",
            "Spend, revenue, profit and ROAS per country and region (ISO 3166-2) over [start_date, end_date), "
            "best revenue first; optionally one channel.",
            {"start_date": _DATE, "end_date": _DATE, "channel": {"type": "string", "enum": ["", *AD_PLATFORMS]}},
            ("start_date", "end_date"),
        ),
        NamedQuery(
            "stock_cover",
            "Each product's units available, sales velocity, days of cover, stock status, locations and "
            "locations out of stock and the lowest cover at any one location, on the day before end_date; "
            "stock-out risk first (products out, then out at a location, then lowest cover); optionally "
            "products whose title contains `product`.",
            {"end_date": _DATE, "product": {"type": "string", "maxLength": 100}},
            ("end_date",),
        ),
        NamedQuery(
            "advertised_stockouts",
            "Products that ads spend on where they have no stock (the alignment model's latest day before "
            "end_date): spend over its window, channels, regions, and units left across all locations.",
            {"end_date": _DATE},
            ("end_date",),
        ),
        NamedQuery(
            "week_over_week",
            "Revenue and spend of the 7 days before end_date against the 7 days before those: the total, per "
            "channel and per product (biggest changes first), with each product's stock now.",
            {"end_date": _DATE},
            ("end_date",),
        ),
        NamedQuery(
            "campaign_detail",
            "Per campaign over [start_date, end_date): spend, attributed revenue, ROAS, profit, orders, daily "
            "budget and status; optionally one channel or one campaign id.",
            {"start_date": _DATE, "end_date": _DATE, "channel": {"type": "string", "enum": ["", *AD_PLATFORMS]},
             "campaign_id": {"type": "string", "maxLength": 100}},
            ("start_date", "end_date"),
        ),
    )
}

RUN_SELECT_TOOL: dict[str, Any] = {
    "name": "run_select",
    "description": (
        "Run one read-only BigQuery SELECT when no named query fits. Allowed tables: "
        + ", ".join(sorted(ALLOWED_TABLES))
        + ". Every table is already limited to this brand and a row limit is applied; DDL, DML, several "
        "statements and file or external functions are refused. Spend per product comes from top_products "
        "(unified_performance keeps a day's spend that earned nothing on product_id NULL; do not sum its spend "
        "by product)."
    ),
    "input_schema": {"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]},
}


def tools() -> list[dict[str, Any]]:
    """Every tool of the Q&A loop."""
    return [q.tool() for q in NAMED_QUERIES.values()] + [RUN_SELECT_TOOL]


def _as_date(value: Any, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as e:
        raise AskError(f"{name} must be a date like 2026-11-01, not {value!r}") from e


def bind_params(query: NamedQuery, given: Mapping[str, Any], brand_id: str, settings: Settings) -> dict[str, Any]:
    """Check a named query's inputs and add the fixed ones (brand, attribution model, limits).

    Raises:
        AskError: Unknown or missing inputs, wrong types, an empty or too long period.
    """
    unknown = sorted(set(given) - set(query.properties))
    if unknown:
        raise AskError(f"{query.name}: unknown inputs {unknown}")
    missing = [r for r in query.required if given.get(r) in (None, "")]
    if missing:
        raise AskError(f"{query.name}: missing inputs {missing}")
    params: dict[str, Any] = {
        "brand_id": brand_id,
        "attribution_model": settings.attribution_model,
        "row_limit": settings.qa_row_limit,
        "cover_low_days": float(settings.cover_low_days),
        "cover_overstock_days": float(settings.cover_overstock_days),
        "metric": "revenue",
        "channel": "",
        "campaign_id": "",
        "product": "",
    }
    for name, spec in query.properties.items():
        if name not in given or given[name] is None:
            continue
        value = given[name]
        if spec.get("format") == "date":
            params[name] = _as_date(value, name)
        elif spec["type"] == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise AskError(f"{query.name}: {name} must be a whole number")
            params["row_limit"] = max(1, min(int(value), spec.get("maximum", value), settings.qa_row_limit))
        else:
            value = str(value)
            if "enum" in spec and value not in spec["enum"]:
                raise AskError(f"{query.name}: {name} must be one of {spec['enum']}, not {value!r}")
            if len(value) > spec.get("maxLength", 100):
                raise AskError(f"{query.name}: {name} is too long")
            params[name] = value
    if "start_date" in params and "end_date" in params:
        span = (params["end_date"] - params["start_date"]).days
        if span <= 0:
            raise AskError(f"{query.name}: start_date must be before end_date")
        if span > MAX_PERIOD_DAYS:
            raise AskError(f"{query.name}: a period may span at most {MAX_PERIOD_DAYS} days")
    return params


def json_safe(value: Any) -> Any:
    """A query value as JSON data: numbers as floats, dates as ISO text, text trimmed and cleaned."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return clean_text(value, 200)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def readable(row: Mapping[str, Any]) -> dict[str, Any]:
    """A result row made JSON-safe, with ``region_name`` beside a ``region_code`` (``US-TX`` → ``Texas``):
    the model and the page then name a region as the charts do, and the code stays for the record."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        out[k] = json_safe(v)
        if k == "region_code" and "region_name" not in row:
            out["region_name"] = region_name(str(v)) if v else None
    return out


def run_read(warehouse: Warehouse, sql: str, params: Mapping[str, Any], timeout_s: float) -> list[dict[str, Any]]:
    """Run one of our own named queries on the warehouse's read path (never behind the pipeline's
    writes or another reader; a timeout stops only this query) and make the rows readable."""
    return [readable(r) for r in warehouse.read(sql, params, timeout_s=timeout_s)]


def run_model_select(warehouse: Warehouse, sql: str, brand_id: str, settings: Settings) -> list[dict[str, Any]]:
    """Guard a model-written SELECT, then run it confined to the brand's rows of the tables it reads.

    Two independent walls: the guard's scope-resolved rewrite (every real table read through
    ``WHERE brand_id = @brand_id``), and the warehouse's confinement (on DuckDB a throwaway database
    holding only that brand's rows of those tables; on BigQuery BigQuery's own referenced-table list
    checked by a dry run, and a bytes-billed cap).

    Raises:
        UnsafeQuery: The guard refused the SQL.
        PortError: The SQL failed where it ran (unknown column, bad cast, a timeout, a refused table).
    """
    guarded = guard_select(sql, row_limit=settings.qa_row_limit)
    confinement = Confinement(
        brand_id=brand_id, tables=guarded.tables, timeout_s=settings.qa_timeout_seconds,
        memory_limit_mb=settings.qa_memory_limit_mb, max_bytes_billed=settings.qa_max_bytes_billed,
    )
    rows = warehouse.read_confined(guarded.sql, {"brand_id": brand_id}, confinement)
    return [readable(r) for r in rows]


# --- periods and the deterministic planner ----------------------------------------------------------


def parse_period(question: str, today: date) -> Period:
    """The period a question speaks of, by the one vocabulary (:mod:`tower.periods`)."""
    return periods.in_text(question, today)


@dataclass(frozen=True)
class Plan:
    """Which named query answers a question, with which inputs."""

    query: str
    params: dict[str, Any]
    period: Period


def _channel_in(q: str) -> str:
    if "tiktok" in q:
        return "tiktok"
    if "google" in q:
        return "google_ads"
    if "meta" in q or "facebook" in q or "instagram" in q:
        return "meta"
    return ""


def plan_question(question: str, today: date) -> Plan | None:
    """Map a common question to a named query (None: the deterministic Q&A cannot answer it)."""
    q = question.lower()
    period = parse_period(question, today)
    dates = {"start_date": period.start.isoformat(), "end_date": period.end.isoformat()}
    words = set(re.findall(r"[a-z]+", q))
    moved = {"drop", "dropped", "down", "fall", "fell", "decline", "declined", "lower", "change", "changed", "why",
             "rise", "rose", "up", "increase", "increased"}
    if words & {"revenue", "sales"} and words & moved:
        end = period.end if period.name in ("last_week", "week_before", "yesterday") else today
        wow = periods.week_to(end)
        return Plan("week_over_week", {"end_date": end.isoformat()}, wow)
    stock_words = {"stock", "inventory", "cover", "stockout", "stockouts", "overstock", "overstocked", "sold"}
    if words & stock_words or "run out" in q:
        advertised = words & {"advertised", "advertising", "advertise", "ads", "ad", "promoted", "promoting",
                              "spend", "spending", "campaign", "campaigns"}
        already_out = "out of stock" in q or "sold out" in q or bool(words & {"stockout", "stockouts"})
        future = bool(words & {"about", "soon", "will", "risk", "going", "next", "running"}) or "run out" in q
        if advertised and already_out and not future:
            return Plan("advertised_stockouts", {"end_date": today.isoformat()}, period)
        return Plan("stock_cover", {"end_date": today.isoformat()}, period)
    if words & {"campaign", "campaigns"}:
        return Plan("campaign_detail", {**dates, "channel": _channel_in(q)}, period)
    if words & {"region", "regions", "state", "states", "geo", "geography", "where"}:
        return Plan("region_performance", {**dates, "channel": _channel_in(q)}, period)
    if words & {"product", "products", "sku", "skus", "seller", "sellers", "item", "items"}:
        metric = "revenue"
        if words & {"profit", "profitable", "margin", "margins"}:
            metric = "profit"
        elif words & {"roas", "return", "efficient"}:
            metric = "roas"
        return Plan("top_products", {**dates, "metric": metric, "limit": 5}, period)
    if words & {"channel", "channels", "platform", "platforms", "meta", "tiktok", "google", "facebook", "ads",
                "roas", "spend", "spent"}:
        return Plan("channel_performance", dates, period)
    return None


def describe_period(params: Mapping[str, Any]) -> str:
    """A period label from a query's inputs (for answers to calls the planner did not make)."""
    start, end = params.get("start_date"), params.get("end_date")
    if start and end:
        last = _as_date(end, "end_date") - timedelta(days=1)
        return periods.range_words(_as_date(start, 'start_date'), last)
    if end:
        return f"the week to {periods.day_words(_as_date(end, 'end_date') - timedelta(days=1))}"
    return "the period asked"


def compose_answer(query: str, params: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], currency: str,
                   period_label: str | None = None) -> str:
    """The deterministic answer from one query's rows (every number is one of the rows')."""
    label = period_label or describe_period(params)
    if query == "top_products":
        return narrator.answer_top_products(rows, str(params.get("metric") or "revenue"), label, currency)
    if query == "channel_performance":
        return narrator.answer_channels(rows, label, currency)
    if query == "region_performance":
        return narrator.answer_regions(rows, label, currency)
    if query == "stock_cover":
        return narrator.answer_stock(rows, currency)
    if query == "advertised_stockouts":
        return narrator.answer_advertised_stockouts(rows, currency)
    if query == "campaign_detail":
        return narrator.answer_campaigns(rows, label, currency)
    if query == "week_over_week":
        totals = next((r for r in rows if r.get("level") == "total"), None)
        return narrator.answer_revenue_change(totals, [r for r in rows if r.get("level") == "channel"],
                                              [r for r in rows if r.get("level") == "product"], currency)
    if not rows:
        return "The query returned no rows."
    lines = ["Here is what the data shows:"]
    for r in rows[:10]:
        lines.append("- " + ", ".join(f"{k}: {v}" for k, v in r.items() if v is not None))
    return "\n".join(lines)


# --- asking -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    """An answer with how it was made."""

    question: str
    answer: str
    author: str  # claude | narrator
    grounding: str
    queries: list[dict[str, Any]] = field(default_factory=list)
    #: each figure the answer states, from the queries' cells (:mod:`tower.ai.figures`)
    figures: list[dict[str, Any]] = field(default_factory=list)
    #: figures Claude listed that no cell of the data holds (left out of ``figures``)
    dropped_figures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "author": self.author,
                "grounding": self.grounding, "queries": self.queries, "figures": self.figures,
                "dropped_figures": self.dropped_figures}


@dataclass
class Written:
    """An answer's text and the figures its writer listed (None: it listed none; the narrator never does)."""

    text: str
    claimed: list[Any] | None = None


def parse_reply(text: str) -> Written:
    """Claude's final reply: the JSON object the prompt asks for, or plain text when it wrote prose.

    A fenced block (```json … ```) is read too; anything else that is not that object is the answer itself.
    """
    raw = text.strip()
    if raw.startswith("```"):
        raw = raw.strip("`").removeprefix("json").strip()
    try:
        obj = json.loads(raw)
    except ValueError:
        return Written(text.strip())
    if not isinstance(obj, dict) or not isinstance(obj.get("answer"), str) or not obj["answer"].strip():
        return Written(text.strip())
    figures = obj.get("figures")
    return Written(obj["answer"].strip(), figures if isinstance(figures, list) else None)


class ToolRunner:
    """Runs the tools the model calls, for one brand, and keeps every result (the grounding sources)."""

    def __init__(self, warehouse: Warehouse, settings: Settings, brand_id: str) -> None:
        self.warehouse = warehouse
        self.settings = settings
        self.brand_id = brand_id
        self.results: list[Any] = []
        self.log: list[dict[str, Any]] = []
        #: each query that returned rows: its place in ``log``, every row, and the model's call id
        self.sources: list[figures.Query] = []

    def run(self, name: str, tool_input: Mapping[str, Any],
             call_id: str | None = None) -> tuple[list[dict[str, Any]] | str, bool]:
        """Run one tool call (``call_id``: the model's ``tool_use`` id); return (rows or an error message, is_error)."""
        try:
            if name == "run_select":
                sql = str(tool_input.get("sql") or "")
                rows = run_model_select(self.warehouse, sql, self.brand_id, self.settings)
            elif name in NAMED_QUERIES:
                q = NAMED_QUERIES[name]
                params = bind_params(q, tool_input, self.brand_id, self.settings)
                sql = q.sql
                rows = q.rows(self.warehouse, params, self.settings.qa_timeout_seconds)
            else:
                raise AskError(f"unknown tool {name!r}")
        except (UnsafeQuery, AskError) as e:
            self.log.append({"tool": name, "input": dict(tool_input), "error": str(e)})
            return f"refused: {e}", True
        except PortError as e:
            # The SQL ran and failed (unknown column, bad cast, timeout): the model reads why and may
            # try again; the first line only, with no engine internals such as file paths.
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            self.log.append({"tool": name, "input": dict(tool_input), "error": message})
            return f"error: {message}", True
        self.results.append(rows)
        # What the answer's figures come from, for the page's "figures and queries behind them": the SQL as
        # written (our named query, or the model's before the guard's brand filter) and the rows it returned.
        self.sources.append(figures.Query(len(self.log), name, rows, call_id))
        self.log.append({"tool": name, "input": dict(tool_input), "rows": len(rows), "sql": sql,
                         "columns": list(rows[0]) if rows else [], "data": rows[:SHOWN_ROWS]})
        return rows, False


def deterministic_answer(runner: ToolRunner, question: str, today: date, currency: str) -> str:
    """The answer of the deterministic Q&A (a named query and a template, or a plain "cannot")."""
    plan = plan_question(question, today)
    if plan is None:
        return narrator.CANNOT_ANSWER
    rows, is_error = runner.run(plan.query, plan.params)
    if is_error:
        return f"I could not run the query for that question: {rows}"
    assert isinstance(rows, list)
    return compose_answer(plan.query, plan.params, rows, currency, plan.period.label)


def _claude_loop(client: ClaudeClient, runner: ToolRunner, brand_id: str, messages: list[dict[str, Any]],
                 max_turns: int, usages: list[CallUsage]) -> Written:
    """Let Claude call tools until it answers in text (or the turns run out)."""
    for _ in range(max_turns + 1):
        message, usage = client.create(brand_id=brand_id, purpose="answer", system=QA_SYSTEM,
                                       messages=messages, tools=tools())
        usages.append(usage)
        content = [b.model_dump(exclude_none=True) if hasattr(b, "model_dump") else dict(b) for b in message.content]
        calls = [b for b in message.content if getattr(b, "type", None) == "tool_use"]
        if message.stop_reason != "tool_use" or not calls:
            text = "\n".join(getattr(b, "text", "") for b in message.content if getattr(b, "type", None) == "text")
            if not text.strip():
                raise GenerationFailed(f"empty answer (stop_reason {message.stop_reason})")
            messages.append({"role": "assistant", "content": content})
            return parse_reply(text)
        messages.append({"role": "assistant", "content": content})
        results = []
        for call in calls:
            out, is_error = runner.run(call.name, call.input if isinstance(call.input, dict) else {}, str(call.id))
            # results travel as JSON: whatever a product name says, it is a string value, not an instruction
            results.append({"type": "tool_result", "tool_use_id": call.id,
                            "content": out if isinstance(out, str) else compact_json({"rows": out}),
                            "is_error": is_error})
        messages.append({"role": "user", "content": results})
    raise GenerationFailed(f"no answer after {max_turns} tool turns")


def ask(
    runtime: Runtime,
    brand_id: str,
    question: str,
    today: date,
    *,
    client: ClaudeClient | None | Callable[[], ClaudeClient | None] = None,
    brand_name: str = "",
    currency: str = "",
) -> Answer:
    """Answer a question about one brand with numbers from the warehouse.

    Seven parameters: the question and its brand and day, then keywords a caller that already knows them
    passes to save a lookup (the brand's name and currency) or to choose the writer (``client``).

    Args:
        runtime: Ports and settings (the warehouse is read; usage rows are written).
        brand_id: The brand; every query is limited to it.
        question: The merchant's question (data, never instructions).
        today: Store-local date of the question (periods end before it).
        client: A Claude client; ``None`` → :func:`tower.ai.claude.client_for` (the narrator without a key).
            Pass a callable returning None to force the deterministic Q&A.
        brand_name: For the prompt.
        currency: Store currency (looked up when empty).

    Returns:
        The answer, its author, the grounding outcome and the queries run.

    Raises:
        AskError: The question is empty or too long.
    """
    q = check_question(question)
    settings = runtime.settings
    if not currency:
        b = brand_row(runtime.warehouse, brand_id)
        currency, brand_name = b["currency"], brand_name or b["brand_name"]
    claude = resolve_client(runtime, client)
    runner = ToolRunner(runtime.warehouse, settings, brand_id)
    data = {"today": today.isoformat(), "brand": clean_text(brand_name or brand_id, 60), "currency": currency,
            # the words for time as the page and the summary mean them: tool dates follow these
            "periods": periods.vocabulary(today)}

    def fallback() -> Written:
        return Written(deterministic_answer(runner, q, today, currency))

    def finished(written: Written, author: str, status: str) -> Answer:
        """The answer with its figures: Claude's listed ones checked, else the text's found in the cells."""
        dropped: list[dict[str, Any]] = []
        if author == "claude" and written.claimed is not None:
            shown, dropped = figures.check_claimed(written.claimed, runner.sources, currency)
        else:
            shown = figures.from_text(written.text, runner.sources, currency)
        return Answer(q, written.text, author, status, runner.log, shown, dropped)

    if claude is None:
        return finished(fallback(), "narrator", "narrator")

    usages: list[CallUsage] = []
    messages: list[dict[str, Any]] = [{"role": "user", "content": data_message(data, f"Question: {q}")}]
    checks: list[bool] = []

    def generate(feedback: str | None) -> Written:
        if feedback:
            messages.append({"role": "user", "content": f"Your answer failed the number check. {feedback}"})
        return _claude_loop(claude, runner, brand_id, messages, settings.qa_max_tool_turns, usages)

    outcome: Grounded[Written] = grounded(
        generate, fallback, lambda: [data, q, runner.results], texts_of=lambda w: [w.text], on_check=checks.append
    )
    _record_answer_usage(runtime, usages, checks, outcome, brand_id)
    return finished(outcome.value, outcome.author, outcome.status)


def _record_answer_usage(runtime: Runtime, usages: list[CallUsage], checks: list[bool],
                         outcome: Grounded[Any], brand_id: str) -> None:
    """Mark the calls whose text was checked (the last call of each attempt) and add any fallback row."""
    # each generate() attempt ends with the call whose text was checked; checks are in attempt order
    finals = [u for u in usages if u.stop_reason != "tool_use"]
    for u, ok in zip(finals, checks, strict=False):
        u.grounding = "pass" if ok else "fail"
    calls = list(usages)
    if outcome.author == "narrator" and outcome.status != "narrator":
        calls.append(fallback_usage(brand_id, "answer", usages, datetime.now(UTC)))
    record(runtime.warehouse, runtime.settings, calls)
