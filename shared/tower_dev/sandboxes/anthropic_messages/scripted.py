"""The sandbox's "model": scripted rules that read a Messages API request and write a reply.

It knows only what a real model would be sent: the tools offered (names and input schemas), the
``tool_choice``, the JSON between ``<data>`` tags of the first user turn, the question and the tool
results. It imports nothing from the product, so a test that passes through it proves the product's
own code (prompts, tool loop, grounding check, fallback), not a copy of it answering itself.

The rules:

* **A forced ``write_weekly_summary``**: the summary JSON written by a small template of its own from
  the figures of the data (spend, revenue and blended ROAS of the week and the week before, the
  channel with the most revenue, the biggest ROAS move, per-channel lines, stock versus ads), the
  data's recommendations restated in order.
* **A forced ``write_alert_explanation``**: the alert's title and explanation, then its weakest
  region, largest campaign and low-stock product when the data gives them.
* **Any other forced tool**: an input filled from the tool's ``input_schema`` (required fields only).
* **Q&A** (tools offered, none forced): keyword rules pick a tool ("revenue" with "drop" / "why" →
  ``week_over_week``, "stock" → ``stock_cover``, "campaign" → ``campaign_detail``, "region" →
  ``region_performance``, "best" / "top" / "product" → ``top_products``, "channel" / "spend" →
  ``channel_performance``) and fill its dates from the question's period and the data's ``today``;
  a question starting ``SQL:`` calls ``run_select`` with the rest. Once results come back it answers
  in text quoting the rows' numbers (money rounded to whole units, ROAS to one decimal); when the system
  prompt asks for ``{"answer", "figures"}`` JSON, that object, each figure citing its cell. A later
  user text turn (e.g. a number-check retry) is answered again from the latest results.
* **The gullible model**: a tool result whose text says "ignore previous instructions … SQL: …" makes
  it call ``run_select`` with that SQL (once per SQL), so tests show the product's guard holds even
  when the model obeys data. Real models are told not to; this one is scripted to, on purpose.

Every number it writes is a number of the request it was sent, so an unfaulted reply passes a
grounding check; :data:`WRONG_NUMBER` is what the ``ungrounded`` fault plants.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WRONG_NUMBER = "$987,654"

CANNOT_ANSWER = "I can't answer that from the data I can query here."
_DATA = re.compile(r"<data>\s*(.*?)\s*</data>", re.DOTALL)
_MONEY_TEXT = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?")
_INJECTION = re.compile(r"ignore (?:all )?(?:previous|prior) instructions.*?SQL:\s*(.+)", re.IGNORECASE | re.DOTALL)
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
_CHANNELS = {"meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads"}
# the keys a row is named by, first present wins (product, campaign, region, channel, then the row level)
_LABEL_KEYS = ("product_title", "campaign_name", "region_name", "region_code", "country_code", "channel", "platform", "level")
_MONEY_WORDS = ("revenue", "spend", "profit", "budget", "amount")

Reply = tuple[list[dict[str, Any]], str]


# --- reading the request ------------------------------------------------------------------------


def text_of(content: Any) -> str:
    """The text of a message's content (a string, or the text blocks of a block list)."""
    if isinstance(content, str):
        return content
    return "\n".join(
        str(b.get("text", "")) for b in content or [] if isinstance(b, dict) and b.get("type") == "text"
    )


def data_of(messages: list[dict[str, Any]]) -> Any:
    """The JSON between ``<data>`` tags in the first user turn that has one (None when none does)."""
    for m in messages:
        if m.get("role") == "user":
            found = _DATA.search(text_of(m.get("content")))
            if found:
                try:
                    return json.loads(found.group(1))
                except ValueError:
                    return None
    return None


def _blocks(message: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind]


def _result_text(block: Mapping[str, Any]) -> str:
    raw = block.get("content")
    return text_of(raw) if isinstance(raw, list) else str(raw or "")


# --- writing numbers ------------------------------------------------------------------------------


def money(value: Any, currency: str) -> str:
    """An amount as a merchant reads it: whole units from 100 up, cents below, sign dropped."""
    amount = abs(float(value or 0))
    digits = f"{amount:,.0f}" if amount >= 100 else f"{amount:,.2f}"
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{digits}" if symbol else f"{digits} {currency.upper()}"


def times(value: Any) -> str:
    """A ROAS multiple to one decimal."""
    return f"{float(value):.1f}×"


def percent(value: Any) -> str:
    """A percentage already in percent, to one decimal, sign dropped (the words say up or down)."""
    return f"{abs(float(value)):.1f}%"


def days(value: Any) -> str:
    """Days of cover to one decimal."""
    return f"{float(value):.1f} days"


def channel_label(name: str) -> str:
    """A channel key as a name."""
    return _CHANNELS.get(name, name.replace("_", " ").title())


def _number(value: float) -> str:
    """A figure without a unit: whole numbers as they are, others to two decimals."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


# --- the weekly summary ---------------------------------------------------------------------------


def _currency(data: Mapping[str, Any]) -> str:
    brand = data.get("brand")
    found = brand.get("currency") if isinstance(brand, dict) else None
    return str(found or data.get("currency") or "USD")


def _headline(data: Mapping[str, Any], cur: str) -> list[str]:
    perf = data.get("performance") or {}
    now, before = perf.get("current_week") or {}, perf.get("previous_week") or {}
    period = (data.get("period") or {}).get("current_week") or {}
    when = f"In the week {period['first_day']} to {period['last_day']}" if period.get("first_day") else "Last week"
    if not now.get("total_spend") and not now.get("total_revenue"):
        return [f"{when} there was no ad spend and no revenue to report"]
    first = f"{when} ads cost {money(now.get('total_spend'), cur)} and the store took {money(now.get('total_revenue'), cur)}"
    if now.get("blended_roas") is not None:
        first += f", a blended ROAS of {times(now['blended_roas'])}"
    out = [first]
    if before.get("total_spend") is not None and before.get("total_revenue") is not None:
        out.append(f"The week before, {money(before['total_spend'], cur)} of spend brought "
                   f"{money(before['total_revenue'], cur)}")
    return out


def _channel_sentences(data: Mapping[str, Any], cur: str) -> list[str]:
    perf = data.get("performance") or {}
    channels: Mapping[str, Any] = (perf.get("current_week") or {}).get("by_channel") or {}
    out = []
    earning = [(k, v) for k, v in channels.items() if v.get("revenue")]
    if earning:
        name, ch = max(earning, key=lambda kv: (kv[1]["revenue"], kv[0]))
        out.append(f"{channel_label(name)} brought in the most revenue: {money(ch['revenue'], cur)}")
    moves = [(k, v) for k, v in ((perf.get("changes") or {}).get("by_channel") or {}).items()
             if v.get("roas_pct") is not None and v.get("roas_from") is not None and v.get("roas_to") is not None]
    if moves:
        name, ch = max(moves, key=lambda kv: (abs(kv[1]["roas_pct"]), kv[0]))
        way = "rose" if ch["roas_pct"] > 0 else "fell"
        out.append(f"The biggest move: {channel_label(name)} ROAS {way} {percent(ch['roas_pct'])}, from "
                   f"{times(ch['roas_from'])} to {times(ch['roas_to'])}")
    return out


def _channel_line(name: str, ch: Mapping[str, Any], cur: str) -> str:
    if not ch.get("spend"):
        return f"{channel_label(name)} had no ad spend last week."
    line = f"{channel_label(name)} spent {money(ch['spend'], cur)} for {money(ch.get('revenue'), cur)} of revenue"
    if ch.get("roas") is not None:
        line += f", a ROAS of {times(ch['roas'])}"
    return line + "."


def _inventory(data: Mapping[str, Any], cur: str) -> str:
    inv = data.get("inventory") or {}
    out = []
    for m in (inv.get("misalignments") or [])[:2]:
        line = f"{m.get('product')} drew {money(m.get('ad_spend'), cur)} of ad spend"
        line += f" with {days(m['doc'])} of cover left." if m.get("doc") is not None else " while out of stock."
        out.append(line)
    for r in (inv.get("stock_risks") or [])[:2]:
        if r.get("days_of_cover") is not None:
            out.append(f"{r.get('product')} is still advertised with {days(r['days_of_cover'])} of cover.")
    for o in (inv.get("overstock") or [])[:2]:
        if o.get("doc") is not None:
            out.append(f"{o.get('product')} is overstocked, {days(o['doc'])} of cover, with little ad support.")
    return " ".join(out) or "No advertised product is short of stock, and none is overstocked."


def weekly_summary(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``write_weekly_summary`` input, from the figures of the data it was sent."""
    cur = _currency(data)
    channels: Mapping[str, Any] = ((data.get("performance") or {}).get("current_week") or {}).get("by_channel") or {}
    sentences = _headline(data, cur) + _channel_sentences(data, cur)
    return {
        "summary": ". ".join(sentences) + ".",
        "channel_performance": {name: _channel_line(name, ch, cur) for name, ch in channels.items()},
        "inventory_insights": _inventory(data, cur),
        "recommendations": [
            {key: str(r.get(key) or ("low" if key == "priority" else ""))
             for key in ("action", "reason", "expected_impact", "priority")}
            for r in data.get("recommendations") or [] if isinstance(r, dict)
        ],
    }


def alert_explanation(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``write_alert_explanation`` input: the alert's own words, then what the data relates to it."""
    alert, related = data.get("alert") or {}, data.get("related") or {}
    cur = str(data.get("currency") or "USD")
    parts = [str(p).rstrip(".") + "." for p in (alert.get("title"), alert.get("explanation")) if p]
    regions = [r for r in related.get("regions") or [] if r.get("roas") is not None]
    if regions:
        r = regions[0]
        line = f"The weakest region is {r.get('region_name') or r.get('region')} at {times(r['roas'])} ROAS"
        parts.append(line + (f", down from {times(r['roas_before'])}." if r.get("roas_before") is not None else "."))
    campaigns = related.get("campaigns") or []
    if campaigns:
        c = campaigns[0]
        parts.append(f"The largest campaign involved, {c.get('campaign_name') or c.get('campaign_id')}, spent "
                     f"{money(c.get('spend'), cur)}.")
    low = [s for s in related.get("low_stock") or [] if s.get("doc") is not None]
    if low:
        parts.append(f"It also promotes {low[0].get('product')}, which has {days(low[0]['doc'])} of cover.")
    return {"explanation": " ".join(parts) or "The alert gives no detail beyond its type."}


def fill_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An input for an unfamiliar tool: each required field with a plain value of its type."""
    props: Mapping[str, Any] = schema.get("properties") or {}
    blank = {"string": "The data does not say more.", "integer": 0, "number": 0, "boolean": False,
             "array": [], "object": {}}
    return {name: blank.get(str((props.get(name) or {}).get("type")), "") for name in schema.get("required") or []}


# --- Q&A: choosing a tool -------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A half-open window of dates a question speaks of."""

    start: date
    end: date


def period_of(question: str, today: date) -> Period:
    """The period in a question's words; the last 30 days when it names none."""
    q = question.lower()
    n = re.search(r"\b(?:last|past)\s+(\d{1,3})\s+days?\b", q)
    if n and int(n.group(1)) > 0:
        return Period(today - timedelta(days=int(n.group(1))), today)
    if "yesterday" in q:
        return Period(today - timedelta(days=1), today)
    # As the request's <data> "periods" define them (the product sends its vocabulary): last week is
    # the 7 days ending yesterday, the week before the 7 before those.
    if re.search(r"\b(?:previous\s+week|week\s+before)\b", q):
        return Period(today - timedelta(days=14), today - timedelta(days=7))
    if re.search(r"\b(?:last|this|past)\s+week\b", q):
        return Period(today - timedelta(days=7), today)
    month_start = today.replace(day=1)
    if re.search(r"\b(?:last|previous)\s+month\b", q):
        prev_last = month_start - timedelta(days=1)
        return Period(prev_last.replace(day=1), month_start)
    if re.search(r"\bthis\s+month\b", q):
        if month_start == today:  # the 1st: no whole day of this month yet
            return Period((today - timedelta(days=1)).replace(day=1), today)
        return Period(month_start, today)
    return Period(today - timedelta(days=30), today)


_RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("stock_cover", frozenset({"stock", "inventory", "cover", "stockout", "stockouts", "overstock"})),
    ("campaign_detail", frozenset({"campaign", "campaigns"})),
    ("region_performance", frozenset({"region", "regions", "state", "states", "country", "countries", "where"})),
    ("top_products", frozenset({"best", "top", "product", "products", "sku", "skus", "seller", "sellers"})),
    ("channel_performance", frozenset({"channel", "channels", "meta", "tiktok", "google", "facebook", "spend",
                                       "roas", "ads"})),
)
_MOVED = frozenset({"why", "drop", "dropped", "fell", "fall", "down", "change", "changed", "rise", "rose", "up"})


def pick_tool(question: str, offered: set[str]) -> str | None:
    """The tool the keyword rules choose for a question, among those offered (None: no rule fits)."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    if words & {"revenue", "sales"} and words & _MOVED and "week_over_week" in offered:
        return "week_over_week"
    for tool, keys in _RULES:
        if words & keys and tool in offered:
            return tool
    return None


def tool_input(schema: Mapping[str, Any], question: str, today: date) -> dict[str, Any]:
    """The inputs a question gives a tool, for the properties its schema declares."""
    props: Mapping[str, Any] = schema.get("properties") or {}
    q = question.lower()
    period = period_of(question, today)
    out: dict[str, Any] = {}
    if "start_date" in props:
        out["start_date"] = period.start.isoformat()
        out["end_date"] = period.end.isoformat()
    elif "end_date" in props:  # a point in time: the end of the period, or today for "now" questions
        out["end_date"] = (period.end if re.search(r"\blast\s+week\b", q) else today).isoformat()
    for name, spec in props.items():
        choices = [c for c in spec.get("enum") or [] if c]
        said = next((c for c in choices if c.split("_")[0] in q), None)
        if said is not None:
            out[name] = said
    if "limit" in props:
        out["limit"] = 5
    return out


def _today(data: Any) -> date:
    try:
        return date.fromisoformat(str(data.get("today"))) if isinstance(data, dict) else date.today()
    except ValueError:
        return date.today()


def question_of(text: str) -> str:
    """The question of a user turn: what follows ``Question:``, else the text after the data."""
    if "Question:" in text:
        return text.split("Question:", 1)[1].strip()
    return _DATA.sub("", text).strip()


# --- Q&A: answering from results ------------------------------------------------------------------


def _phrase(key: str, value: float, cur: str) -> str:
    words = key.replace("_", " ")
    if key.endswith("_pct"):
        return f"{words} {'-' if value < 0 else ''}{percent(value)}"
    if any(w in key for w in _MONEY_WORDS):
        return f"{words} {'-' if value < 0 else ''}{money(value, cur)}"
    if key == "roas":
        return f"ROAS {times(value)}"
    if key == "days_of_cover":
        return f"{days(value)} of cover"
    return f"{words} {_number(value)}"


def describe_row(row: Mapping[str, Any], cur: str) -> str:
    """One result row in words: its name, then each figure with its unit."""
    label = next((str(row[k]) for k in _LABEL_KEYS if row.get(k) not in (None, "")), "row")
    figures = [_phrase(k, float(v), cur) for k, v in row.items()
               if isinstance(v, int | float) and not isinstance(v, bool) and not k.endswith("_id")]
    if isinstance(row.get("stock_status"), str):
        figures.append(f"status {row['stock_status']}")
    return f"{label}: {', '.join(figures)}" if figures else label


_HEADINGS = {
    "top_products": "Your top products by {metric} from {start} to {last}:",
    "channel_performance": "Your channels from {start} to {last}:",
    "region_performance": "Your regions from {start} to {last}, most revenue first:",
    "campaign_detail": "Your campaigns from {start} to {last}:",
    "stock_cover": "Stock and days of cover, lowest cover first:",
    "week_over_week": "The 7 days to {last} against the 7 days before:",
}


def describe_result(name: str, tool_input: Mapping[str, Any], rows: list[Any], cur: str) -> str:
    """An answer paragraph from one tool's rows."""
    if not rows:
        return f"The {name} query returned no rows."
    if name not in _HEADINGS:  # a query it wrote itself: the columns as they came back
        lines = ["Here is what the query returned:"]
        lines += ["- " + ", ".join(f"{k}: {v}" for k, v in r.items() if v is not None) for r in rows[:10]]
        return "\n".join(lines)
    end = tool_input.get("end_date")
    try:
        last = (date.fromisoformat(str(end)) - timedelta(days=1)).isoformat() if end else "today"
    except ValueError:
        last = str(end)
    head = _HEADINGS[name].format(metric=tool_input.get("metric") or "revenue", start=tool_input.get("start_date"),
                                  last=last)
    lines = [head] + [f"{i}. {describe_row(r, cur)}." for i, r in enumerate(rows[:5], 1) if isinstance(r, dict)]
    return "\n".join(lines)


@dataclass
class _Result:
    name: str
    tool_input: dict[str, Any]
    rows: list[Any] | None
    error: str | None
    turn: int
    call_id: str = ""


def _results(messages: list[dict[str, Any]]) -> list[_Result]:
    """Every tool result of the conversation with the call it answers, in order."""
    calls = {b.get("id"): b for m in messages if m.get("role") == "assistant" for b in _blocks(m, "tool_use")}
    out = []
    for turn, m in enumerate(messages):
        for b in _blocks(m, "tool_result") if m.get("role") == "user" else []:
            call = calls.get(b.get("tool_use_id")) or {}
            text = _result_text(b)
            rows: list[Any] | None = None
            error = text if b.get("is_error") else None
            if error is None:
                try:
                    parsed = json.loads(text)
                    rows = parsed.get("rows", []) if isinstance(parsed, dict) else parsed
                except ValueError:
                    rows = [{"result": text}]
            out.append(_Result(str(call.get("name") or "tool"), dict(call.get("input") or {}), rows, error, turn,
                               str(b.get("tool_use_id") or "")))
    return out


def _answered(results: list[_Result]) -> tuple[list[_Result], list[_Result]]:
    """The results an answer quotes (the latest turn's, or the last good one) and the latest turn's."""
    latest_turn = results[-1].turn
    latest = [r for r in results if r.turn == latest_turn]
    good = [r for r in latest if r.rows is not None] or [r for r in results if r.rows is not None][-1:]
    return good, latest


def answer(messages: list[dict[str, Any]], data: Any) -> str:
    """The text answer from the latest tool results (earlier ones when the latest all failed)."""
    results = _results(messages)
    if not results:
        return CANNOT_ANSWER
    cur = str(data.get("currency") or "USD") if isinstance(data, dict) else "USD"
    good, latest = _answered(results)
    parts = [describe_result(r.name, r.tool_input, r.rows or [], cur) for r in good]
    parts += [f"I could not run {r.name}: {r.error}" for r in latest if r.error is not None]
    return "\n\n".join(parts)


def answer_figures(messages: list[dict[str, Any]], data: Any) -> list[dict[str, Any]]:
    """The figures :func:`answer` quotes, as a system prompt asking for ``figures`` wants them: each
    numeric cell of the rows it describes, with its tool call id, column and row."""
    results = _results(messages)
    if not results:
        return []
    cur = str(data.get("currency") or "USD") if isinstance(data, dict) else "USD"
    out = []
    for r in _answered(results)[0]:
        shown = (r.rows or [])[:10] if r.name not in _HEADINGS else (r.rows or [])[:5]
        for i, row in enumerate(shown):
            if not isinstance(row, dict):
                continue
            label = next((str(row[k]) for k in _LABEL_KEYS if row.get(k) not in (None, "")), "row")
            for k, v in row.items():
                if isinstance(v, int | float) and not isinstance(v, bool) and not k.endswith("_id"):
                    unit = cur if any(w in k for w in _MONEY_WORDS) else None
                    out.append({"label": f"{k.replace('_', ' ')}, {label}", "value": v, "unit": unit,
                                "tool_use_id": r.call_id, "column": k, "row": i})
    return out


def wants_json(system: Any) -> bool:
    """Whether the system prompt asks for the answer as a JSON object with ``figures``."""
    text = system if isinstance(system, str) else " ".join(
        str(b.get("text") or "") for b in system or [] if isinstance(b, dict))
    return '"answer"' in text and '"figures"' in text


def injected_sql(messages: list[dict[str, Any]]) -> str | None:
    """SQL that the latest tool results tell the model to run, unless it already ran it (the gullible rule)."""
    last = messages[-1]
    done = {str((b.get("input") or {}).get("sql")) for m in messages if m.get("role") == "assistant"
            for b in _blocks(m, "tool_use") if b.get("name") == "run_select"}
    for block in _blocks(last, "tool_result"):
        text = _result_text(block)
        try:
            texts = _strings(json.loads(text))
        except ValueError:
            texts = [text]
        for t in texts:
            found = _INJECTION.search(t)
            if found and found.group(1).strip() not in done:
                return found.group(1).strip()
    return None


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


# --- the turn -------------------------------------------------------------------------------------


def plant_wrong_number(text: str) -> str:
    """The text with its first money figure replaced by a number no data holds (or one added)."""
    if _MONEY_TEXT.search(text):
        return _MONEY_TEXT.sub(WRONG_NUMBER, text, count=1)
    return text + f" That is worth {WRONG_NUMBER}."


def tool_use(name: str, tool_input: dict[str, Any], tool_id: str) -> dict[str, Any]:
    """A ``tool_use`` content block."""
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


def forced_input(name: str, tools: Mapping[str, Mapping[str, Any]], data: Any) -> dict[str, Any]:
    """The input of a forced tool call: the summary and explanation templates, else the schema filler."""
    if name == "write_weekly_summary" and isinstance(data, dict):
        return weekly_summary(data)
    if name == "write_alert_explanation" and isinstance(data, dict):
        return alert_explanation(data)
    return fill_schema(tools[name].get("input_schema") or {})


def qa_turn(messages: list[dict[str, Any]], tools: Mapping[str, Mapping[str, Any]], may_call: bool,
            new_id: Any) -> Reply:
    """One Q&A turn: call a tool the rules choose, or answer in text from the results so far.

    Args:
        messages: The conversation.
        tools: The tools offered, by name.
        may_call: False when ``tool_choice`` is ``none``.
        new_id: Makes a fresh ``tool_use`` id.
    """
    data = data_of(messages)
    last = messages[-1]
    has_results = bool(_blocks(last, "tool_result"))
    if has_results:
        sql = injected_sql(messages)
        if sql and may_call and "run_select" in tools:
            return [tool_use("run_select", {"sql": sql}, new_id())], "tool_use"
    if has_results or _results(messages):  # results in hand: answer (again, after a retry turn)
        return [{"type": "text", "text": answer(messages, data)}], "end_turn"
    question = question_of(text_of(last.get("content")))
    if question.upper().startswith("SQL:") and may_call and "run_select" in tools:
        return [tool_use("run_select", {"sql": question[4:].strip()}, new_id())], "tool_use"
    name = pick_tool(question, set(tools)) if may_call else None
    if name is None:
        return [{"type": "text", "text": CANNOT_ANSWER}], "end_turn"
    schema = tools[name].get("input_schema") or {}
    return [tool_use(name, tool_input(schema, question, _today(data)), new_id())], "tool_use"


def reply(body: Mapping[str, Any], new_id: Any) -> Reply:
    """The scripted model's reply to a validated request: content blocks and a stop reason."""
    messages: list[dict[str, Any]] = body["messages"]
    tools = {str(t["name"]): t for t in body.get("tools") or []}
    choice = body.get("tool_choice") or {"type": "auto"}
    if messages[-1].get("role") == "assistant":  # a prefilled reply: nothing to add
        return [], "end_turn"
    if choice.get("type") == "tool":
        name = str(choice["name"])
        return [tool_use(name, forced_input(name, tools, data_of(messages)), new_id())], "tool_use"
    if tools:
        content, stop = qa_turn(messages, tools, choice.get("type") != "none", new_id)
        if stop == "end_turn" and wants_json(body.get("system")) and _results(messages):
            # the answer as the prompt asks for it: the text and the figures it quotes, where each is
            text = "\n".join(str(b.get("text") or "") for b in content if b.get("type") == "text")
            reply_json = {"answer": text, "figures": answer_figures(messages, data_of(messages))}
            return [{"type": "text", "text": json.dumps(reply_json)}], stop
        if choice.get("type") == "any" and stop != "tool_use":
            # "any" obliges a call: the first tool offered, with what its schema requires
            first = next(iter(tools))
            return [tool_use(first, fill_schema(tools[first].get("input_schema") or {}), new_id())], "tool_use"
        return content, stop
    return [{"type": "text", "text": "Ask me about your ads, sales or stock and offer me tools to look it up."}], \
        "end_turn"

